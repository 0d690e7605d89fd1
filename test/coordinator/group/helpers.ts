/**
 * Test helpers for the group coordinator: a fake clock/scheduler, a recording (and optionally failing or blocking)
 * persistence, request builders and consumer-protocol metadata.
 */

import { GroupCoordinator, type GroupCoordinatorOptions } from '../../../src/coordinator/group/group-coordinator.js';
import type { Scheduler } from '../../../src/coordinator/group/scheduler.js';
import type {
  GroupPersistence,
  JoinGroupRequest,
  JoinGroupResult,
  StoredOffset,
  TopicPartition,
} from '../../../src/coordinator/group/types.js';
import { Writer } from '../../../src/protocol/codec/writer.js';
import { writeConsumerProtocolSubscription } from '../../../src/protocol/generated/data/consumer-protocol-subscription.js';
import type { GroupMetadataValue } from '../../../src/protocol/generated/data/group-metadata-value.js';

interface FakeTimer {
  due: number;
  seq: number;
  fn: () => void;
}

/** Settles pending promise continuations (several rounds, for chains). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
}

/** A manual clock: timers fire only inside `advance()`, in due order. */
export class FakeScheduler implements Scheduler {
  time = 1_000_000;
  private seq = 0;
  private readonly timers = new Set<FakeTimer>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const t: FakeTimer = { due: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.add(t);
    return t;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as FakeTimer);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing due timers in order and settling promises after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.timers) {
        if (t.due <= end && (next === undefined || t.due < next.due || (t.due === next.due && t.seq < next.seq))) {
          next = t;
        }
      }
      if (next === undefined) break;
      this.timers.delete(next);
      this.time = Math.max(this.time, next.due);
      next.fn();
      await flush();
    }
    this.time = end;
    await flush();
  }
}

/** A deferred promise. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export type Call =
  | { kind: 'group'; groupId: string; value: GroupMetadataValue | null }
  | { kind: 'offsets'; groupId: string; offsets: readonly StoredOffset[] }
  | { kind: 'remove'; groupId: string; partitions: readonly TopicPartition[] };

/** Records every write; `failWith` makes the next writes reject; `hold` makes them wait for `release()`. */
export class RecordingPersistence implements GroupPersistence {
  readonly calls: Call[] = [];
  failWith: unknown = null;
  hold = false;
  private held: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  private settle(call: Call): Promise<void> {
    this.calls.push(call);
    if (this.failWith !== null) return Promise.reject(this.failWith);
    if (!this.hold) return Promise.resolve();
    const d = deferred();
    this.held.push(d);
    return d.promise;
  }

  storeGroup(groupId: string, value: GroupMetadataValue | null): Promise<void> {
    return this.settle({ kind: 'group', groupId, value });
  }

  storeOffsets(groupId: string, offsets: readonly StoredOffset[]): Promise<void> {
    return this.settle({ kind: 'offsets', groupId, offsets });
  }

  removeOffsets(groupId: string, partitions: readonly TopicPartition[]): Promise<void> {
    return this.settle({ kind: 'remove', groupId, partitions });
  }

  /** Resolves (or rejects with `error`) the oldest held write. */
  release(error?: unknown): void {
    const d = this.held.shift();
    if (d === undefined) throw new Error('nothing held');
    if (error === undefined) d.resolve();
    else d.reject(error);
  }

  get heldCount(): number {
    return this.held.length;
  }

  groupWrites(groupId?: string): (GroupMetadataValue | null)[] {
    return this.calls
      .filter(
        (c): c is Extract<Call, { kind: 'group' }> =>
          c.kind === 'group' && (groupId === undefined || c.groupId === groupId),
      )
      .map((c) => c.value);
  }
}

/** ConsumerProtocolSubscription bytes (version 1 by default) for `topics`. */
export function subscription(topics: string[], version = 1): Buffer {
  const w = new Writer();
  w.int16(version);
  writeConsumerProtocolSubscription(w, version, { topics, userData: null, ownedPartitions: [] });
  return w.toBuffer();
}

export interface Harness {
  clock: FakeScheduler;
  store: RecordingPersistence;
  coordinator: GroupCoordinator;
}

/** A coordinator on a fake clock; initial rebalance delay 0 unless configured. */
export function harness(options: GroupCoordinatorOptions = {}): Harness {
  const clock = new FakeScheduler();
  const store = new RecordingPersistence();
  let n = 0;
  const coordinator = new GroupCoordinator({
    scheduler: clock,
    persistence: store,
    randomId: () => `uuid${++n}`,
    ...options,
    config: { groupInitialRebalanceDelayMs: 0, ...options.config },
  });
  return { clock, store, coordinator };
}

export function joinRequest(overrides: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription(['t']) }],
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    requireKnownMemberId: true,
    ...overrides,
  };
}

/** Tracks whether a promise has settled, without awaiting it. */
export function track<T>(p: Promise<T>): { promise: Promise<T>; done: () => boolean; value: () => T } {
  let settled = false;
  let result: T | undefined;
  p.then((v) => {
    settled = true;
    result = v;
  });
  return {
    promise: p,
    done: () => settled,
    value: () => {
      if (!settled) throw new Error('not settled');
      return result as T;
    },
  };
}

/**
 * KIP-394 two-step join of a new dynamic member; returns the (pending) JoinGroup of the second step. Time is not
 * advanced.
 */
export async function startJoin(
  coordinator: GroupCoordinator,
  overrides: Partial<JoinGroupRequest> = {},
): Promise<{ memberId: string; join: ReturnType<typeof track<JoinGroupResult>> }> {
  const first = await coordinator.joinGroup(joinRequest(overrides));
  if (first.errorCode !== 79) throw new Error(`expected MEMBER_ID_REQUIRED, got ${first.errorCode}`);
  const join = track(coordinator.joinGroup(joinRequest({ ...overrides, memberId: first.memberId })));
  return { memberId: first.memberId, join };
}
