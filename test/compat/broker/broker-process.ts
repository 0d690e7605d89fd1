/**
 * A real broker in a child process for the compatibility tests: `samsa start` (dist/src/cli/main.js) on a free
 * loopback port with its own data directory, JSON logs on stdout. The port is read from the "broker started"
 * line, so tests never race for ports. `stop()` sends SIGTERM (a clean shutdown), `kill()` SIGKILL (a crash).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/test/compat/broker -> dist/src/cli/main.js */
const CLI = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
const START_TIMEOUT_MS = 20_000;

export interface BrokerProcess {
  readonly bootstrap: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Every log line so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** SIGTERM and wait; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  /** Removes the data directory (after stop/kill). */
  cleanup(): void;
}

export interface BrokerProcessOptions {
  /** Reuse a data directory (restart tests); default: a new temporary one. */
  dataDir?: string;
  /** Fixed port (restart tests keep the port so clients can reconnect); default 0. */
  port?: number;
  /** Broker settings by Kafka name. */
  config?: Record<string, string>;
}

export async function startBrokerProcess(options: BrokerProcessOptions = {}): Promise<BrokerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'samsa-compat-'));
  const args = [
    CLI,
    'start',
    '--log-format',
    'json',
    '--listeners',
    `PLAINTEXT://127.0.0.1:${options.port ?? 0}`,
    '--log-dirs',
    dataDir,
  ];
  for (const [k, v] of Object.entries(options.config ?? {})) args.push('--override', `${k}=${v}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let pending = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`broker did not start in ${START_TIMEOUT_MS} ms\n${stderr}`)),
      START_TIMEOUT_MS,
    );
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        logs.push(entry);
        if (entry.msg === 'broker started') {
          clearTimeout(timer);
          const listeners = entry.listeners as string[];
          resolve(listeners[0]!.replace(/^[A-Z_]+:\/\//, ''));
        }
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited (${code}) before it started\n${stderr}`));
    });
  });
  const bootstrap = await started;
  const colon = bootstrap.lastIndexOf(':');
  return {
    bootstrap,
    host: bootstrap.slice(0, colon),
    port: Number(bootstrap.slice(colon + 1)),
    dataDir,
    child,
    logs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
