/**
 * Purgatory: operations that wait for an event or a deadline, as in Kafka's DelayedOperationPurgatory. Used for
 * long-poll Fetch (wait for `min_bytes` or `max_wait_ms`) and acks=all Produce (wait for the high watermark).
 *
 * An operation is watched under one or more keys (e.g. a partition); `notify(key)` retries the operations watching
 * that key. Each operation finishes exactly once: either a `tryComplete()` returns true, or its deadline passes and
 * `onExpire()` runs. Finishing removes it from every watch list and clears its timer at once, so nothing lingers.
 *
 * Races (all synchronous, on the one JS thread):
 * - A notify that reaches an operation while its own `tryComplete()` is running (re-entrant notify) does not call
 *   it again inside itself; it marks it, and the running attempt is repeated once it returns false, so the wake-up
 *   is not lost (Kafka's "tryCompletePending").
 * - A notify that happens during the first attempt in `watch()`, before the operation is registered, is detected by
 *   a notify counter and answered with one more attempt after registering.
 * - Expiry from inside a running `tryComplete()` (`expireAll()` during shutdown) wins; the attempt's result is
 *   then ignored.
 * Exceptions thrown by `tryComplete()`/`onExpire()` are caught and given to `onError`; an attempt that throws counts
 * as "not complete", so the operation still gets its `onExpire()` and the client its response.
 */

/** A unit of delayed work. */
export interface DelayedOperation {
  /** Tries to finish; returns true when it completed (it then must not be called again). Called on each notify of one of its keys. */
  tryComplete(): boolean;
  /** Called once when the deadline passes without completion. */
  onExpire(): void;
}

/** Where a callback threw. */
export type PurgatoryPhase = 'tryComplete' | 'onExpire';

export interface PurgatoryOptions {
  /** For error reports (e.g. 'fetch', 'produce'). */
  name?: string;
  /**
   * Upper bound on pending operations. An operation that would exceed it (after its first attempt failed) expires
   * at once, synchronously inside `watch()`: the client gets its answer early instead of the broker growing without
   * bound. Default 1,000,000.
   */
  maxWatched?: number;
  /** Receives exceptions thrown by operations' callbacks; default ignores them. Must not throw (if it does, it is ignored). */
  onError?: (error: unknown, info: { purgatory: string; phase: PurgatoryPhase }) => void;
}

/** Largest delay setTimeout honours; beyond it Node fires after 1 ms instead. */
const MAX_TIMEOUT_MS = 0x7fffffff;
/** Bounds the re-attempts of one operation caused by notifies during its own tryComplete (a self-notifying loop). */
const MAX_RETRIES = 16;

/** One watched operation. */
class Entry {
  /** Monotonic creation number; lets notify skip entries watched while it runs. */
  readonly seq: number;
  readonly op: DelayedOperation;
  readonly keys: readonly string[];
  timer: NodeJS.Timeout | undefined = undefined;
  done = false;
  /** Inside its own tryComplete right now. */
  running = false;
  /** A notify arrived while running: try again afterwards. */
  retry = false;

  constructor(seq: number, op: DelayedOperation, keys: readonly string[]) {
    this.seq = seq;
    this.op = op;
    this.keys = keys;
  }
}

export class Purgatory {
  readonly name: string;
  private readonly maxWatched: number;
  private readonly onError: PurgatoryOptions['onError'];
  /** Watch lists by key; a key is deleted with its last watcher. Sets give O(1) removal of finished operations. */
  private readonly watchers = new Map<string, Set<Entry>>();
  private readonly pending = new Set<Entry>();
  private nextSeq = 0;
  /** Counts notify calls, to detect a notify during the unregistered first attempt in watch(). */
  private notifies = 0;
  private timers = 0;

  constructor(options: PurgatoryOptions = {}) {
    this.name = options.name ?? 'purgatory';
    this.maxWatched = options.maxWatched ?? 1_000_000;
    if (!(this.maxWatched >= 0)) throw new RangeError(`maxWatched must be >= 0, got ${this.maxWatched}`);
    this.onError = options.onError;
  }

  /** Pending operations. */
  get size(): number {
    return this.pending.size;
  }

  /** Keys with at least one watcher (for tests and metrics). */
  get watchedKeys(): number {
    return this.watchers.size;
  }

  /** Watch-list entries summed over all keys (an operation counts once per key). */
  get watcherCount(): number {
    let n = 0;
    for (const set of this.watchers.values()) n += set.size;
    return n;
  }

  /** Live expiry timers; equals `size` (for tests and metrics). */
  get timerCount(): number {
    return this.timers;
  }

  /**
   * Calls op.tryComplete() once first; if not complete, watches it under every key until a notify completes it or
   * timeoutMs passes (then onExpire). Returns true if it completed at once. A negative timeout counts as 0; an
   * operation beyond `maxWatched` expires synchronously before this returns.
   */
  watch(op: DelayedOperation, keys: readonly string[], timeoutMs: number): boolean {
    if (Number.isNaN(timeoutMs)) throw new RangeError('timeoutMs must be a number, got NaN');
    const entry = new Entry(this.nextSeq++, op, keys);
    // First attempt unregistered: the common "data is already there" case costs no set insertions.
    const before = this.notifies;
    if (this.attempt(entry)) return true;
    if (this.pending.size >= this.maxWatched) {
      this.expire(entry);
      return false;
    }
    this.pending.add(entry);
    for (const key of keys) {
      let set = this.watchers.get(key);
      if (set === undefined) {
        set = new Set();
        this.watchers.set(key, set);
      }
      set.add(entry);
    }
    const delay = Math.min(Math.max(0, timeoutMs), MAX_TIMEOUT_MS);
    entry.timer = setTimeout(() => this.onTimer(entry), delay);
    entry.timer.unref();
    this.timers++;
    // A notify while the first attempt ran could not reach the unregistered entry; try again now it is visible.
    if (this.notifies !== before && this.attempt(entry)) {
      this.finish(entry);
      return true;
    }
    return false;
  }

  /**
   * Data or the high watermark changed for `key`: tries to complete the operations watching it. Returns how many
   * completed in this call.
   */
  notify(key: string): number {
    this.notifies++;
    const set = this.watchers.get(key);
    if (set === undefined) return 0;
    // Entries added during this loop (re-entrant watch) had their own first attempt; skip them.
    const limit = this.nextSeq;
    let completed = 0;
    for (const entry of set) {
      if (entry.seq >= limit) continue;
      if (entry.done) continue;
      if (entry.running) {
        entry.retry = true;
        continue;
      }
      if (this.attempt(entry)) {
        this.finish(entry);
        completed++;
      }
    }
    return completed;
  }

  /** Completes nothing; expires every pending operation at once (broker shutdown). */
  expireAll(): void {
    // Snapshot: operations watched by an onExpire during this loop are not part of the shutdown sweep.
    const all = [...this.pending];
    for (const entry of all) {
      if (entry.done) continue;
      this.unregister(entry);
      this.expire(entry);
    }
  }

  /** Runs tryComplete (repeating it for notifies that arrived meanwhile); true if it completed and was not expired. */
  private attempt(entry: Entry): boolean {
    entry.running = true;
    try {
      for (let i = 0; i <= MAX_RETRIES; i++) {
        entry.retry = false;
        let ok = false;
        try {
          ok = entry.op.tryComplete();
        } catch (err) {
          this.report(err, 'tryComplete');
        }
        if (entry.done) return false; // expired from inside tryComplete
        if (ok) return true;
        if (!entry.retry) return false;
      }
      return false;
    } finally {
      entry.running = false;
    }
  }

  /** Marks a completed entry done and forgets it everywhere. */
  private finish(entry: Entry): void {
    entry.done = true;
    this.unregister(entry);
  }

  private onTimer(entry: Entry): void {
    if (entry.done) return;
    entry.timer = undefined;
    this.timers--;
    this.unregister(entry);
    this.expire(entry);
  }

  private expire(entry: Entry): void {
    entry.done = true;
    try {
      entry.op.onExpire();
    } catch (err) {
      this.report(err, 'onExpire');
    }
  }

  private unregister(entry: Entry): void {
    if (entry.timer !== undefined) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
      this.timers--;
    }
    if (!this.pending.delete(entry)) return;
    for (const key of entry.keys) {
      const set = this.watchers.get(key);
      if (set === undefined) continue;
      set.delete(entry);
      if (set.size === 0) this.watchers.delete(key);
    }
  }

  private report(error: unknown, phase: PurgatoryPhase): void {
    if (this.onError === undefined) return;
    try {
      this.onError(error, { purgatory: this.name, phase });
    } catch {
      // An error reporter that throws must not break the other operations.
    }
  }
}
