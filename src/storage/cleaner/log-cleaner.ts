/**
 * LogCleaner: compacts the logs given to it (`add`) whose cleanup.policy contains `compact`, in the background.
 *
 * One pass at a time (Kafka's `log.cleaner.threads=1`): every `backoffMs` (log.cleaner.backoff.ms) the cleaner
 * plans every log it has, picks the one that must be cleaned now (max.compaction.lag.ms, an expired delete horizon)
 * or else the one with the highest dirty ratio at or above its min.cleanable.dirty.ratio, and runs a pass on it
 * (clean-pass.ts); after a pass that cleaned something it looks again at once. A pass works in chunks of
 * `chunkBytes`: between chunks it yields to the event loop (setImmediate) so appends, reads and fetches keep going,
 * and it sleeps as needed to stay under `ioMaxBytesPerSecond` (log.cleaner.io.max.bytes.per.second, bytes read
 * plus bytes written).
 *
 * State per log: the first dirty offset (persisted in the partition dir, see cleaner-checkpoint.ts) and the
 * earliest delete horizon of the tombstones the last pass kept (in memory: after a restart it is learnt again by
 * the next pass, so expired tombstones may wait for the next dirty-ratio-triggered pass).
 *
 * `remove(log)` (and `stop()`) abandon a running pass at its next chunk and resolve once it ended; call it before
 * closing or deleting a log. A pass abandoned midway keeps the groups it already installed; its checkpoint does
 * not move, so the next pass redoes the work (cleaning is idempotent).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { type Logger, silentLogger } from '../../log/logger.js';
import type { SegmentLog } from '../segment-log.js';
import { CleanAborted, type CleanResult, planClean, runCleanPass, uncleanedResult } from './clean-pass.js';
import { readCleanerCheckpoint, writeCleanerCheckpoint } from './cleaner-checkpoint.js';

export interface LogCleanerOptions {
  /** `log.cleaner.io.max.bytes.per.second`: bytes read + written per second; default unlimited. */
  ioMaxBytesPerSecond?: number;
  /** `log.cleaner.backoff.ms`: sleep when no log needs cleaning; default 15 s. */
  backoffMs?: number;
  /** Bytes read per step between two yields to the event loop; default 256 KiB. */
  chunkBytes?: number;
  /** Most keys in the offset map of one pass (Kafka sizes it by log.cleaner.dedupe.buffer.size); default 2^20. */
  maxMapEntries?: number;
  /** Wall clock (ms) for background passes. */
  now?: () => number;
  logger?: Logger;
}

export interface CleanOnceOptions {
  /** Clean even when the dirty ratio is below min.cleanable.dirty.ratio. Default false. */
  force?: boolean;
  /** Called after each chunk (before pacing): a test hook to act on the log between chunks. */
  onChunk?: (bytes: number) => void | Promise<void>;
  /** Yield to the event loop and throttle between chunks, as background passes do. Default true. */
  pace?: boolean;
}

export interface CleanerStats {
  passes: number;
  /** Chunks processed (each is followed by a yield when pacing). */
  chunks: number;
  /** Times the throttle made a pass sleep. */
  throttleSleeps: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRemoved: number;
}

interface LogState {
  firstDirty: bigint | null;
  earliestHorizon: bigint | null;
  running: Promise<CleanResult> | null;
  abort: boolean;
}

export class LogCleaner {
  readonly stats: CleanerStats = {
    passes: 0,
    chunks: 0,
    throttleSleeps: 0,
    bytesRead: 0,
    bytesWritten: 0,
    recordsRemoved: 0,
  };
  private readonly rate: number;
  private readonly backoffMs: number;
  private readonly chunkBytes: number;
  private readonly maxMapEntries: number;
  private readonly clock: () => number;
  private readonly logger: Logger;
  private readonly logs = new Set<SegmentLog>();
  private readonly states = new Map<SegmentLog, LogState>();
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private loop: Promise<void> | null = null;
  // Throttle window.
  /** Start of the current one-second accounting window; -Infinity so the first chunk opens one. */
  private windowStart = Number.NEGATIVE_INFINITY;
  private windowBytes = 0;

  constructor(options: LogCleanerOptions = {}) {
    const rate = options.ioMaxBytesPerSecond ?? Number.POSITIVE_INFINITY;
    if (!(rate > 0)) throw new RangeError(`ioMaxBytesPerSecond must be > 0, got ${rate}`);
    this.rate = rate;
    this.backoffMs = options.backoffMs ?? 15_000;
    this.chunkBytes = Math.max(1024, options.chunkBytes ?? 256 * 1024);
    this.maxMapEntries = Math.max(1, options.maxMapEntries ?? 1 << 20);
    this.clock = options.now ?? Date.now;
    this.logger = options.logger ?? silentLogger;
  }

  /** Logs cleaned in the background. */
  get size(): number {
    return this.logs.size;
  }

  add(log: SegmentLog): void {
    this.logs.add(log);
    this.state(log).abort = false;
  }

  /** Stops cleaning `log`: a running pass is abandoned at its next chunk; resolves when it ended. */
  async remove(log: SegmentLog): Promise<void> {
    this.logs.delete(log);
    const st = this.states.get(log);
    if (st === undefined) return;
    st.abort = true;
    await st.running?.catch(() => {});
    this.states.delete(log);
  }

  /** The stored first dirty offset of `log` (null before its first completed pass). */
  firstDirtyOffset(log: SegmentLog): bigint | null {
    return this.state(log).firstDirty;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** Stops the background loop; a running pass is abandoned at its next chunk. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    for (const st of this.states.values()) if (st.running !== null) st.abort = true;
    await this.loop?.catch(() => {});
    for (const st of this.states.values()) {
      await st.running?.catch(() => {});
      st.abort = false;
    }
  }

  /**
   * One pass over `log` at `now` (waits for a pass already running on it). Resolves with what it did; a pass
   * abandoned because the log changed under it resolves with `cleaned: false`. Storage errors reject.
   */
  async cleanOnce(log: SegmentLog, now = this.clock(), options: CleanOnceOptions = {}): Promise<CleanResult> {
    const st = this.state(log);
    while (st.running !== null) await st.running.catch(() => {});
    const run = this.pass(log, st, now, options);
    st.running = run;
    try {
      return await run;
    } finally {
      st.running = null;
    }
  }

  // ---- internals ----

  private state(log: SegmentLog): LogState {
    let st = this.states.get(log);
    if (st === undefined) {
      st = { firstDirty: readCleanerCheckpoint(log.dir), earliestHorizon: null, running: null, abort: false };
      this.states.set(log, st);
    }
    return st;
  }

  private async pass(log: SegmentLog, st: LogState, now: number, options: CleanOnceOptions): Promise<CleanResult> {
    const pace = options.pace ?? true;
    const onChunk = options.onChunk;
    const fallback = st.firstDirty ?? log.logStartOffset;
    if (!log.config.cleanupPolicy.includes('compact') || log.storageFailure !== null) {
      return uncleanedResult(fallback, log.storageFailure !== null ? 'log failed' : 'cleanup.policy has no compact');
    }
    try {
      const result = await runCleanPass(log, st.firstDirty, now, {
        chunkBytes: this.chunkBytes,
        maxMapEntries: this.maxMapEntries,
        logger: this.logger,
        force: options.force ?? false,
        earliestHorizon: st.earliestHorizon,
        aborted: () => st.abort,
        pace: (bytes) => {
          this.stats.chunks++;
          const hook = onChunk?.(bytes);
          if (!pace) return hook;
          return hook === undefined ? this.pace(bytes) : hook.then(() => this.pace(bytes));
        },
      });
      this.stats.bytesRead += result.bytesRead;
      this.stats.bytesWritten += result.bytesWritten;
      this.stats.recordsRemoved += result.recordsRemoved;
      if (result.cleaned) {
        this.stats.passes++;
        st.earliestHorizon = result.earliestHorizon;
        if (st.firstDirty !== result.cleanedUpTo) {
          writeCleanerCheckpoint(log.dir, result.cleanedUpTo);
          st.firstDirty = result.cleanedUpTo;
        }
        this.logger.info(
          {
            dir: log.dir,
            reason: result.reason,
            cleanedUpTo: String(result.cleanedUpTo),
            segments: result.segmentsCleaned,
            installed: result.groupsInstalled,
            bytesRead: result.bytesRead,
            bytesWritten: result.bytesWritten,
            recordsRemoved: result.recordsRemoved,
            tombstonesRemoved: result.tombstonesRemoved,
          },
          'log cleaned',
        );
      }
      return result;
    } catch (err) {
      if (err instanceof CleanAborted) {
        this.logger.info({ dir: log.dir, reason: err.message }, 'cleaning pass abandoned');
        return uncleanedResult(fallback, err.message);
      }
      throw err;
    }
  }

  /** Between chunks: yield to the event loop, and sleep when over the I/O rate. */
  private async pace(bytes: number): Promise<void> {
    if (this.rate !== Number.POSITIVE_INFINITY) {
      const t = performance.now();
      if (t - this.windowStart > 1000) {
        this.windowStart = t;
        this.windowBytes = 0;
      }
      this.windowBytes += bytes;
      const due = (this.windowBytes / this.rate) * 1000 - (t - this.windowStart);
      if (due > 0) {
        this.stats.throttleSleeps++;
        await new Promise<void>((resolve) => setTimeout(resolve, Math.ceil(due)));
        return;
      }
    }
    await yieldToLoop();
  }

  private schedule(ms: number): void {
    if (!this.started) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.loop = this.tick().finally(() => {
        this.loop = null;
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let cleaned = false;
    try {
      const log = this.filthiest();
      if (log !== null) {
        const result = await this.cleanOnce(log);
        cleaned = result.cleaned;
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'log cleaner pass failed');
    }
    this.schedule(cleaned ? 0 : this.backoffMs);
  }

  /** The log to clean next: one that must be cleaned now, else the highest eligible dirty ratio. */
  private filthiest(): SegmentLog | null {
    const now = this.clock();
    let best: SegmentLog | null = null;
    let bestScore = -1;
    for (const log of this.logs) {
      if (!log.config.cleanupPolicy.includes('compact') || log.storageFailure !== null) continue;
      const st = this.state(log);
      if (st.running !== null) continue;
      let plan: ReturnType<typeof planClean>;
      try {
        plan = planClean(log, st.firstDirty, now, st.earliestHorizon);
      } catch (err) {
        this.logger.warn({ dir: log.dir, err: (err as Error).message }, 'cannot plan cleaning');
        continue;
      }
      if (plan === null || !plan.eligible) continue;
      const score = plan.urgent !== null ? 2 : plan.dirtyRatio;
      if (score > bestScore) {
        best = log;
        bestScore = score;
      }
    }
    return best;
  }
}
