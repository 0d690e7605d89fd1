/**
 * Shared pieces of the consumer-group tests that run each group member as its own client process
 * (confluent-group*.test.ts, kafka-python-group.test.ts, platformatic-consumer-protocol.test.ts): a member process
 * driven over stdin that reports its rebalance callbacks (or assignment changes), consumed records and commits as
 * JSON lines (py/*_group_member.py, platformatic-group-member.mjs), bounded waiting for a state, and the
 * at-least-once accounting over every member's report.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { PYTHON } from '../harness.js';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import { pyScript } from './scenario.js';
import { WAIT_MS, waitFor } from './workload.js';

export { WAIT_MS, waitFor };

/**
 * What a member process prints (see py/confluent_group_member.py; platformatic-group-member.mjs adds `joined`,
 * `stray`, `left`, `paused`/`resumed` and, as an admin process, `result`).
 */
export type MemberEvent =
  | { ev: 'assign' | 'revoke' | 'lost'; partitions: number[]; owned: number[] }
  | { ev: 'msgs'; recs: [number, number][] }
  | { ev: 'commit'; ok: [number, number][]; failed: [number, number, string][] }
  | { ev: 'error'; error: string }
  | { ev: 'nocommit' }
  | { ev: 'closed' }
  | { ev: 'joined'; memberId: string }
  | { ev: 'stray'; recs: [number, number][] }
  | { ev: 'left'; memberId: string; memberEpoch?: number; error?: string }
  | { ev: 'paused' | 'resumed' }
  | { ev: 'result'; id: number; ok?: unknown; error?: string };

/** A member process to run: a Python script in py/ (by file name), or any command. */
export type MemberCommand = string | { command: string; args: readonly string[] };

/** One group member: a process reading commands on stdin and printing MemberEvents. */
export class MemberProcess {
  readonly events: MemberEvent[] = [];
  stderr = '';
  /** Called with each event as it arrives (after it is added to `events`). */
  onEvent: ((e: MemberEvent) => void) | undefined;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private pending = '';
  killed = false;

  constructor(
    readonly name: string,
    script: MemberCommand,
    spec: Record<string, unknown>,
  ) {
    const [command, args] =
      typeof script === 'string' ? [PYTHON, ['-B', pyScript(script)]] : [script.command, script.args];
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.on('close', () => resolve()));
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.pending += d;
      let nl = this.pending.indexOf('\n');
      while (nl >= 0) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        nl = this.pending.indexOf('\n');
        let event: MemberEvent;
        try {
          event = JSON.parse(line) as MemberEvent;
        } catch {
          this.stderr += `unparsable stdout line: ${line}\n`;
          continue;
        }
        this.events.push(event);
        this.onEvent?.(event);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
    this.child.stdin!.on('error', () => {});
    this.child.stdin!.write(`${JSON.stringify({ name, ...spec })}\n`);
  }

  /** Partitions owned after the latest rebalance callback; null before the first assignment. */
  get owned(): number[] | null {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.ev === 'assign' || e.ev === 'revoke' || e.ev === 'lost') return e.owned;
    }
    return null;
  }

  get exitedAlready(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Count of rebalance callbacks so far. */
  get rebalances(): number {
    return this.events.filter((e) => e.ev === 'assign' || e.ev === 'revoke' || e.ev === 'lost').length;
  }

  command(cmd: string): void {
    this.child.stdin!.write(`${cmd}\n`);
  }

  /** Consumer.close() and wait for the process to exit (bounded). */
  async close(): Promise<void> {
    if (this.exitedAlready) return;
    this.command('close');
    await this.waitExit();
  }

  /** Waits (bounded) for the process to exit on its own, e.g. after a command that ends it. */
  async waitExit(): Promise<void> {
    // An unref'd bound: it must not keep the test process alive once the member has exited.
    await Promise.race([this.exited, sleep(WAIT_MS, undefined, { ref: false })]);
    if (!this.exitedAlready) {
      this.child.kill('SIGKILL');
      await this.exited;
      assert.fail(`${this.name} did not exit`);
    }
  }

  /** SIGKILL: no LeaveGroup, no commit; the group only notices through the session timeout. */
  async kill(): Promise<void> {
    if (this.exitedAlready) return;
    this.killed = true;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** For failure messages: the last events and stderr. */
  describe(): string {
    const tail = this.events.slice(-15).map((e) => JSON.stringify(e).slice(0, 300));
    return `--- ${this.name}${this.killed ? ' (killed)' : ''}\n${tail.join('\n')}\n--- stderr\n${this.stderr.slice(-3000)}`;
  }
}

/** Partitions owned by the members, or null unless each owns some, none overlap and together they cover 0..n-1. */
export function disjointCover(members: readonly MemberProcess[], partitions: number): boolean {
  const all = members.flatMap((m) => m.owned ?? []);
  return (
    members.every((m) => (m.owned?.length ?? 0) > 0) &&
    all.length === partitions &&
    new Set(all).size === partitions &&
    all.every((p) => p >= 0 && p < partitions)
  );
}

export const owners = (members: readonly MemberProcess[]): string =>
  members.map((m) => `${m.name}=${JSON.stringify(m.owned)}`).join(' ');

/** Records the members consumed so far, on one partition or all. */
export function consumedCount(members: readonly MemberProcess[]): number {
  let n = 0;
  for (const m of members) for (const e of m.events) if (e.ev === 'msgs') n += e.recs.length;
  return n;
}

/** The highest successfully committed next-offset per partition over all members. */
export function committedByMembers(members: readonly MemberProcess[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of members) {
    for (const e of m.events) {
      if (e.ev !== 'commit') continue;
      for (const [p, o] of e.ok) out.set(p, Math.max(out.get(p) ?? 0, o));
    }
  }
  return out;
}

/** One consumption of a record by a member, and whether that member's commit covered it while it owned the partition. */
interface Consumption {
  member: string;
  partition: number;
  offset: number;
  committed: boolean;
  /** Why it stayed uncommitted: 'refused' (a commit covering it failed), 'killed' (the member died first), 'revoked'. */
  why?: 'refused' | 'killed' | 'revoked' | 'closed';
}

export interface Accounting {
  consumptions: number;
  duplicates: number;
  /** Uncommitted consumptions by reason. */
  uncommitted: Record<string, number>;
  /** Last successful commit per partition of each killed member. */
  killedCommits: Record<string, Record<number, number>>;
  refusedCommits: number;
}

/**
 * The at-least-once accounting over every member's event stream. Walking each member's events in order, a consumed
 * record stays open until a successful commit of its partition past its offset (committed) or until the member loses
 * the partition, closes or is killed (uncommitted). Then:
 *  - every offset 0..end-1 of every partition has exactly one committed consumption: nothing skipped, and no record
 *    consumed again after a commit covered it;
 *  - every other consumption is uncommitted and explained: its member was killed (so its offset is at or past that
 *    member's last commit of the partition), or a commit of the partition covering it was refused (the commits
 *    Kafka's at-least-once allows to fail during a rebalance);
 *  - no member read a partition's offsets out of order within one ownership.
 */
export function account(members: readonly MemberProcess[], ends: ReadonlyMap<number, number>): Accounting {
  const all: Consumption[] = [];
  const killedCommits: Record<string, Record<number, number>> = {};
  let refusedCommits = 0;
  for (const m of members) {
    const open = new Map<number, Consumption[]>();
    const refused = new Map<number, number>();
    const lastCommit: Record<number, number> = {};
    const closeOpen = (p: number, why: Consumption['why']): void => {
      for (const c of open.get(p) ?? []) c.why = (refused.get(p) ?? -1) > c.offset ? 'refused' : why;
      open.delete(p);
    };
    for (const e of m.events) {
      if (e.ev === 'msgs') {
        for (const [p, o] of e.recs) {
          const list = open.get(p) ?? [];
          const prev = list.at(-1);
          assert.ok(
            prev === undefined || prev.offset < o,
            `${m.name} read partition ${p} out of order: ${o} after ${prev?.offset}`,
          );
          const c: Consumption = { member: m.name, partition: p, offset: o, committed: false };
          list.push(c);
          open.set(p, list);
          all.push(c);
        }
      } else if (e.ev === 'commit') {
        for (const [p, next] of e.ok) {
          lastCommit[p] = next;
          const list = open.get(p) ?? [];
          for (const c of list) if (c.offset < next) c.committed = true;
          open.set(
            p,
            list.filter((c) => !c.committed),
          );
        }
        for (const [p, next] of e.failed) {
          refusedCommits++;
          refused.set(p, Math.max(refused.get(p) ?? -1, next));
        }
      } else if (e.ev === 'revoke' || e.ev === 'lost') {
        for (const p of e.partitions) closeOpen(p, 'revoked');
      }
    }
    for (const p of [...open.keys()]) closeOpen(p, m.killed ? 'killed' : 'closed');
    if (m.killed) killedCommits[m.name] = lastCommit;
  }

  const byOffset = new Map<string, Consumption[]>();
  for (const c of all) {
    const k = `${c.partition}/${c.offset}`;
    byOffset.set(k, [...(byOffset.get(k) ?? []), c]);
  }
  for (const [p, end] of ends) {
    for (let o = 0; o < end; o++) {
      const cs = byOffset.get(`${p}/${o}`) ?? [];
      assert.ok(cs.length > 0, `partition ${p} offset ${o} was never consumed (skipped)`);
      const committed = cs.filter((c) => c.committed);
      assert.equal(
        committed.length,
        1,
        `partition ${p} offset ${o}: ${committed.length} committed consumptions (${JSON.stringify(cs)})`,
      );
    }
  }
  assert.equal(
    byOffset.size,
    [...ends.values()].reduce((a, b) => a + b, 0),
    'records consumed beyond the log end',
  );
  const uncommitted: Record<string, number> = {};
  for (const c of all) {
    if (c.committed) continue;
    uncommitted[c.why!] = (uncommitted[c.why!] ?? 0) + 1;
    const explained =
      c.why === 'refused' || (c.why === 'killed' && c.offset >= (killedCommits[c.member]?.[c.partition] ?? 0));
    assert.ok(explained, `consumed again without a refused commit or a killed member: ${JSON.stringify(c)}`);
  }
  return {
    consumptions: all.length,
    duplicates: all.length - byOffset.size,
    uncommitted,
    killedCommits,
    refusedCommits,
  };
}

/**
 * The broker process of a group test and a KafkaJS admin on it (topics, DescribeGroups, OffsetFetch, log ends):
 * one broker per test file, with group.initial.rebalance.delay.ms=0 so that groups form at once. KafkaJS's log
 * lines go to `clientLogs` (printed only when a test fails).
 */
export async function startGroupTestBroker(
  clientId: string,
  clientLogs: string[],
): Promise<{ broker: BrokerProcess; kafka: Kafka; admin: Admin }> {
  const broker = await startBrokerProcess({ config: { 'group.initial.rebalance.delay.ms': '0' } });
  const kafka = new Kafka({
    clientId,
    brokers: [broker.bootstrap],
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      clientLogs.push(`${entry.label} [${entry.namespace}] ${entry.log.message}`);
    },
    retry: { retries: 2 },
  });
  const admin = kafka.admin();
  await admin.connect();
  return { broker, kafka, admin };
}

/** Disconnects the admin and stops the broker, which must exit cleanly on SIGTERM. */
export async function stopGroupTestBroker(broker: BrokerProcess | undefined, admin: Admin | undefined): Promise<void> {
  await admin?.disconnect();
  if (broker !== undefined) {
    assert.equal(await broker.stop(), 0, 'the broker exits cleanly on SIGTERM');
    broker.cleanup();
  }
}
