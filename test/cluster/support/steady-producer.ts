/**
 * The steady acks=all load of the fault tests: confluent-kafka-python (Debian's, through /usr/bin/python3) running
 * test/cluster/py/steady_producer.py, an idempotent producer writing sequence numbers at a fixed rate and printing
 * each delivery report as a JSON line the moment librdkafka hands it over. This side collects them (partition,
 * offset, sequence number, send and acknowledgement times), and measures how long the acknowledgements stopped
 * around a fault.
 *
 * A load runs in generations: when the client itself fails (librdkafka 2.0.2 has bugs that faults trigger, see
 * the fault test), the test stops that producer and starts another whose sequence numbers start at the next
 * multiple of GENERATION_SPAN, so every message still has a unique value and the checker knows which producer
 * sent it and whether it was acknowledged.
 *
 * The script stops producing when its stdin closes, so it cannot outlive the test process; `stop()` closes it and
 * waits (bounded) for the flush and the last line, `kill()` is for cleanup. STEADY_PRODUCER_DEBUG sets librdkafka's
 * `debug` contexts and STEADY_PRODUCER_STDERR copies the script's stderr (librdkafka's log) to a file, for
 * investigations (default 'topic').
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PYTHON } from '../../compat/harness.js';

const SCRIPT = fileURLToPath(new URL('../../../../test/cluster/py/steady_producer.py', import.meta.url));
/** Sequence numbers of generation g are g * GENERATION_SPAN and up. */
export const GENERATION_SPAN = 10_000_000;

export interface Ack {
  partition: number;
  offset: number;
  /** The message's sequence number (its value). */
  seq: number;
  /** Wall-clock ms when produce() was called and when the delivery report came. */
  sentAt: number;
  ackedAt: number;
}

export interface SteadyProducerSpec {
  bootstrap: string[];
  topic: string;
  /** Messages per second. */
  rate: number;
  /** Distinct keys (k0..k<keys-1>), spread over the partitions by librdkafka's partitioner. */
  keys: number;
  /** The script gives up producing after this long (and message.timeout.ms is as long). */
  deadlineSeconds: number;
}

export interface Gap {
  /** The longest time without any acknowledgement, across all partitions. */
  anyMs: number;
  /** The longest time one partition went without an acknowledgement (max over partitions). */
  partitionMs: number;
  /** That partition. */
  partition: number;
}

/** What every generation of a load reports into. */
interface Sink {
  acks: Ack[];
  failures: { seq: number; error: string }[];
  errors: { message: string; fatal: boolean; at: number }[];
}

/** One producer process. */
class SteadyProducer {
  done: { next: number; left: number; fatal: string | null } | null = null;
  /** The exit code or signal, once it exited. */
  exit: number | string | null = null;
  private stderr = '';
  private readonly exited: Promise<void>;

  constructor(
    private readonly child: ChildProcess,
    private readonly sink: Sink,
    readonly base: number,
  ) {
    let pending = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        this.line(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
    });
    const copy = process.env.STEADY_PRODUCER_STDERR;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-32_768);
      if (copy) appendFileSync(copy, d);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = signal ?? code;
        resolve();
      }),
    );
  }

  private line(text: string): void {
    if (text.length === 0) return;
    const o = JSON.parse(text) as Record<string, unknown>;
    if (o.done === true) {
      this.done = { next: o.next as number, left: o.left as number, fatal: (o.fatal as string | null) ?? null };
    } else if (typeof o.err === 'string') {
      this.sink.errors.push({ message: o.err, fatal: o.fatal as boolean, at: o.t as number });
    } else if (typeof o.e === 'string') {
      this.sink.failures.push({ seq: o.v as number, error: o.e });
    } else {
      this.sink.acks.push({
        partition: o.p as number,
        offset: o.o as number,
        seq: o.v as number,
        sentAt: o.s as number,
        ackedAt: o.t as number,
      });
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the script wrote on stderr (the last 32 KiB). */
  get log(): string {
    return this.stderr;
  }

  /** Stops producing, waits for the flush and the last line (at most `ms`, then SIGKILL). */
  async stop(ms: number): Promise<void> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** A generation that ended because the client failed: its unacknowledged messages may or may not be stored. */
export interface AbandonedGeneration {
  base: number;
  /** One past the last sequence number it produced (its whole span when it did not say). */
  next: number;
  why: string;
}

export class SteadyLoad implements Sink {
  readonly acks: Ack[] = [];
  readonly failures: { seq: number; error: string }[] = [];
  readonly errors: { message: string; fatal: boolean; at: number }[] = [];
  readonly abandoned: AbandonedGeneration[] = [];
  private producer: SteadyProducer;
  private generation = 0;
  private startedAt = Date.now();

  constructor(private readonly spec: SteadyProducerSpec) {
    this.producer = this.launch();
  }

  private launch(): SteadyProducer {
    // 'topic' logs leader changes as librdkafka sees them: the evidence when a partition gets stuck.
    const debug = process.env.STEADY_PRODUCER_DEBUG ?? 'topic';
    const base = this.generation * GENERATION_SPAN;
    const json = JSON.stringify({
      ...this.spec,
      bootstrap: this.spec.bootstrap.join(','),
      seqBase: base,
      flushSeconds: 30,
      ...(debug ? { debug } : {}),
    });
    const child = spawn(PYTHON, [SCRIPT, json], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.on('error', () => {});
    return new SteadyProducer(child, this, base);
  }

  /** The current producer process. */
  get current(): SteadyProducer {
    return this.producer;
  }

  /** Whether the current producer runs and has not reported a fatal error. */
  get healthy(): boolean {
    return this.producer.running && !this.errors.some((e) => e.fatal && e.at >= this.startedAt);
  }

  /**
   * Replaces a producer that failed (`why`): stops it (a short flush, then SIGKILL) and starts the next generation
   * with fresh sequence numbers. Messages it had not had acknowledged are written off (at most once in the log).
   */
  async restart(why: string, bootstrap: string[]): Promise<void> {
    const old = this.producer;
    await old.stop(8000);
    this.abandoned.push({ base: old.base, next: old.done?.next ?? old.base + GENERATION_SPAN, why });
    this.generation++;
    this.spec.bootstrap = bootstrap;
    this.startedAt = Date.now();
    this.producer = this.launch();
  }

  /**
   * Acknowledgements of messages sent at or after `since` (ms), by partition (every partition in `partitions`
   * present, possibly with 0).
   */
  ackedSince(since: number, partitions: number): number[] {
    const counts = new Array<number>(partitions).fill(0);
    for (let i = this.acks.length - 1; i >= 0; i--) {
      const a = this.acks[i]!;
      if (a.ackedAt < since) break;
      if (a.sentAt >= since) counts[a.partition]!++;
    }
    return counts;
  }

  /** When each partition last had a message acknowledged (0: never). */
  lastAcked(partitions: number): number[] {
    const last = new Array<number>(partitions).fill(0);
    for (const a of this.acks) if (a.ackedAt > last[a.partition]!) last[a.partition] = a.ackedAt;
    return last;
  }

  /**
   * The longest stretches without acknowledgements between `from` and `to` (ms), counting from the last
   * acknowledgement before `from` (overall, and per partition).
   */
  gap(from: number, to: number, partitions: number): Gap {
    const last = new Array<number>(partitions).fill(Number.NaN);
    let lastAny = Number.NaN;
    let anyMs = 0;
    const longest = new Array<number>(partitions).fill(0);
    // Lines come in the order librdkafka delivered them; sort by the stamps to be safe.
    const acks = this.acks.filter((a) => a.ackedAt <= to).sort((a, b) => a.ackedAt - b.ackedAt);
    for (const a of acks) {
      if (a.ackedAt >= from) {
        if (!Number.isNaN(lastAny)) anyMs = Math.max(anyMs, a.ackedAt - lastAny);
        const prev = last[a.partition]!;
        if (!Number.isNaN(prev)) longest[a.partition] = Math.max(longest[a.partition]!, a.ackedAt - prev);
      }
      lastAny = a.ackedAt;
      last[a.partition] = a.ackedAt;
    }
    let partition = 0;
    for (let p = 1; p < partitions; p++) if (longest[p]! > longest[partition]!) partition = p;
    return { anyMs, partitionMs: longest[partition]!, partition };
  }

  /** Stops the current producer, waits for its flush and last line (at most `ms`). */
  async stop(ms: number): Promise<SteadyProducer['done']> {
    await this.producer.stop(ms);
    return this.producer.done;
  }

  async kill(): Promise<void> {
    await this.producer.kill();
  }
}
