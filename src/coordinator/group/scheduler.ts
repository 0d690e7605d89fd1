/**
 * Time for the group coordinator: an injected clock and timer source, and a table of the coordinator's timers.
 *
 * Every deadline the classic group protocol has (member session expiry, the rebalance timeout of a pending JoinGroup
 * round, the `group.initial.rebalance.delay.ms` window, the SyncGroup deadline after a generation is formed, and the
 * expiry of KIP-394 pending member ids) goes through a `Scheduler`, so tests drive the coordinator with a fake clock
 * and production passes `realScheduler` (unref'd Node timers, so they never keep the process alive).
 *
 * Concurrency: single-threaded. A timer callback runs on the event loop like any request; `TimerTable.set` replaces
 * (and cancels) an existing timer under the same key, and a timer that fires is forgotten before its callback runs,
 * so the callback may re-arm the same key.
 */

/** The clock and timers the coordinator uses. Handles are opaque to the coordinator. */
export interface Scheduler {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Largest delay Node's setTimeout honours; beyond it Node fires after 1 ms instead. */
const MAX_TIMEOUT_MS = 0x7fffffff;

/** Production scheduler: wall clock and unref'd Node timers. */
export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMEOUT_MS));
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Named timers, grouped by group id so that a group's timers can be dropped at once (delete, unload). */
export class TimerTable {
  private readonly byGroup = new Map<string, Map<string, unknown>>();

  constructor(private readonly scheduler: Scheduler) {}

  /** Arms `fn` after `ms` under (groupId, key), cancelling a timer already there. */
  set(groupId: string, key: string, ms: number, fn: () => void): void {
    let timers = this.byGroup.get(groupId);
    if (timers === undefined) {
      timers = new Map();
      this.byGroup.set(groupId, timers);
    }
    const old = timers.get(key);
    if (old !== undefined) this.scheduler.clearTimeout(old);
    const owner = timers;
    const handle = this.scheduler.setTimeout(
      () => {
        if (owner.get(key) !== handle) return;
        owner.delete(key);
        if (owner.size === 0 && this.byGroup.get(groupId) === owner) this.byGroup.delete(groupId);
        fn();
      },
      Math.max(0, ms),
    );
    timers.set(key, handle);
  }

  has(groupId: string, key: string): boolean {
    return this.byGroup.get(groupId)?.has(key) ?? false;
  }

  clear(groupId: string, key: string): void {
    const timers = this.byGroup.get(groupId);
    const handle = timers?.get(key);
    if (timers === undefined || handle === undefined) return;
    this.scheduler.clearTimeout(handle);
    timers.delete(key);
    if (timers.size === 0) this.byGroup.delete(groupId);
  }

  clearGroup(groupId: string): void {
    const timers = this.byGroup.get(groupId);
    if (timers === undefined) return;
    for (const handle of timers.values()) this.scheduler.clearTimeout(handle);
    this.byGroup.delete(groupId);
  }

  clearAll(): void {
    for (const groupId of [...this.byGroup.keys()]) this.clearGroup(groupId);
  }

  /** Number of armed timers (for tests and leak checks). */
  get size(): number {
    let n = 0;
    for (const timers of this.byGroup.values()) n += timers.size;
    return n;
  }
}
