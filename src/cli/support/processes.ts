/**
 * Processes this CLI started earlier and no longer holds as children (the detached members of a dev cluster), known
 * only by pid. A pid alone is not proof: after the process ends, or after a reboot, the number can belong to
 * someone else. So a process counts as ours only while its command line contains a marker we gave it (a path only
 * our process has in its arguments), read from /proc on Linux or from `ps` elsewhere; a zombie counts as gone.
 * Stopping sends SIGTERM, waits a bounded time, then SIGKILLs what is left.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const HAS_PROC = existsSync('/proc/self/cmdline');
const POLL_MS = 50;

/** A process started by us: its pid and a string that occurs as one argument of its command line. */
export interface OwnProcess {
  pid: number;
  marker: string;
}

/** Whether `p` is still running (and still the process we started). */
export function isRunning(p: OwnProcess): boolean {
  if (!Number.isInteger(p.pid) || p.pid <= 0) return false;
  if (HAS_PROC) {
    try {
      const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
      // The state letter follows the parenthesised command name, which may itself contain ") ".
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') return false;
      return readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0').includes(p.marker);
    } catch {
      return false;
    }
  }
  try {
    process.kill(p.pid, 0);
  } catch {
    // ESRCH: gone; EPERM: it belongs to another user, so it is not ours.
    return false;
  }
  // -ww: the whole command line, however wide.
  const ps = spawnSync('ps', ['-ww', '-o', 'command=', '-p', String(p.pid)], { encoding: 'utf8', timeout: 5_000 });
  if (ps.status !== 0) return false;
  return ps.stdout.includes(p.marker);
}

function signal(p: OwnProcess, sig: NodeJS.Signals): void {
  try {
    process.kill(p.pid, sig);
  } catch {
    // already gone
  }
}

/** How a process ended under stop(). */
export type StopOutcome = 'not-running' | 'stopped' | 'killed' | 'survived';

/**
 * Stops the processes together: SIGTERM, up to `graceMs` for them to exit, then SIGKILL and a few more seconds.
 * `survived` only if even SIGKILL did not end it (another user's process cannot be signalled, for instance).
 */
export async function stopProcesses(processes: readonly OwnProcess[], graceMs: number): Promise<StopOutcome[]> {
  const outcome: StopOutcome[] = processes.map((p) => (isRunning(p) ? 'stopped' : 'not-running'));
  const pending = () => processes.filter((p, i) => outcome[i] !== 'not-running' && isRunning(p));
  for (const p of pending()) signal(p, 'SIGTERM');
  const termDeadline = Date.now() + graceMs;
  while (pending().length > 0 && Date.now() < termDeadline) await sleep(POLL_MS);
  const stubborn = pending();
  if (stubborn.length === 0) return outcome;
  for (const p of stubborn) {
    signal(p, 'SIGKILL');
    outcome[processes.indexOf(p)] = 'killed';
  }
  const killDeadline = Date.now() + 5_000;
  while (pending().length > 0 && Date.now() < killDeadline) await sleep(POLL_MS);
  for (const p of pending()) outcome[processes.indexOf(p)] = 'survived';
  return outcome;
}
