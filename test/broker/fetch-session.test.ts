import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type FetchContext,
  type FetchPartitionRequest,
  FetchSessionCache,
  FetchSessionError,
  type FetchSessionRequest,
  nextEpoch,
  type PartitionResultState,
} from '../../src/broker/fetch-session.js';
import { ErrorCode } from '../../src/protocol/errors.js';

const ZERO = 'AAAAAAAAAAAAAAAAAAAAAA';
const ID_A = 'AAAAAAAAAAAAAAAAAAAAAQ';
const ID_B = 'AAAAAAAAAAAAAAAAAAAAAg';
const ID_X = 'AAAAAAAAAAAAAAAAAAAAAw';
const NAMES = new Map([
  [ID_A, 'a'],
  [ID_B, 'b'],
]);
const resolve = (id: string) => NAMES.get(id);

/** [topic, partition, fetchOffset?] */
type P = [string, number, number?];

interface Req {
  version?: number;
  replicaId?: number;
  sessionId?: number;
  epoch?: number;
  fetch?: P[];
  forget?: [string, number][];
}

/** Builds a request; with v13+ the topic strings are ids. */
function req(r: Req): FetchSessionRequest {
  const version = r.version ?? 12;
  const byId = version >= 13;
  const topics: FetchSessionRequest['topics'][number][] = [];
  for (const [topic, partition, offset] of r.fetch ?? []) {
    let t = topics.at(-1);
    if (t === undefined || (byId ? t.topicId : t.topic) !== topic) {
      t = { topic: byId ? '' : topic, topicId: byId ? topic : ZERO, partitions: [] };
      topics.push(t);
    }
    (t.partitions as FetchSessionRequest['topics'][number]['partitions'][number][]).push({
      partition,
      fetchOffset: BigInt(offset ?? 0),
      partitionMaxBytes: 1024,
      logStartOffset: -1n,
      currentLeaderEpoch: -1,
    });
  }
  const forgotten = (r.forget ?? []).map(([topic, partition]) => ({
    topic: byId ? '' : topic,
    topicId: byId ? topic : ZERO,
    partitions: [partition],
  }));
  return {
    version,
    replicaId: r.replicaId ?? -1,
    sessionId: r.sessionId ?? 0,
    sessionEpoch: r.epoch ?? 0,
    topics,
    forgottenTopicsData: forgotten,
  };
}

function state(hw: number, extra: Partial<PartitionResultState> = {}): PartitionResultState {
  return {
    errorCode: 0,
    highWatermark: BigInt(hw),
    lastStableOffset: BigInt(hw),
    logStartOffset: 0n,
    hasRecords: false,
    ...extra,
  };
}

const names = (ctx: FetchContext) => ctx.partitions.map((p) => `${p.topic}-${p.partition}`);

/** Answers every partition with `st(p)` and returns the names of those included. */
function respond(ctx: FetchContext, st: (p: FetchPartitionRequest) => PartitionResultState): string[] {
  const out: string[] = [];
  for (const p of ctx.partitions) if (ctx.include(p, st(p))) out.push(`${p.topic}-${p.partition}`);
  return out;
}

/** A clock the test moves by hand. */
function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** Creates a session with the given partitions and answers the full fetch with hw 10 everywhere. */
function open(cache: FetchSessionCache, fetch: P[], extra: Req = {}): FetchContext {
  const ctx = cache.newContext(req({ fetch, ...extra, epoch: 0 }), resolve);
  assert.equal(ctx.kind, 'full');
  respond(ctx, () => state(10));
  return ctx;
}

describe('FetchSessionCache: session lifecycle', () => {
  it('0/-1 is a sessionless full fetch', () => {
    const cache = new FetchSessionCache();
    const ctx = cache.newContext(
      req({
        epoch: -1,
        fetch: [
          ['t', 0],
          ['t', 1],
          ['u', 0],
        ],
      }),
      resolve,
    );
    assert.equal(ctx.kind, 'sessionless');
    assert.equal(ctx.sessionId, 0);
    assert.equal(ctx.errorCode, 0);
    assert.deepEqual(names(ctx), ['t-0', 't-1', 'u-0']);
    assert.deepEqual(
      respond(ctx, () => state(1)),
      ['t-0', 't-1', 'u-0'],
    );
    assert.equal(cache.size, 0);
  });

  it('requests below v7 never create sessions', () => {
    const cache = new FetchSessionCache();
    const ctx = cache.newContext(req({ version: 6, epoch: 0, fetch: [['t', 0]] }), resolve);
    assert.equal(ctx.kind, 'sessionless');
    assert.equal(ctx.sessionId, 0);
    assert.equal(cache.size, 0);
  });

  it('0/0 creates a session with a positive id; the next epoch is 1', () => {
    const cache = new FetchSessionCache();
    const ctx = open(cache, [
      ['t', 0],
      ['t', 1],
    ]);
    assert.ok(ctx.sessionId > 0 && ctx.sessionId <= 0x7fffffff);
    assert.equal(cache.size, 1);
    const next = cache.newContext(req({ sessionId: ctx.sessionId, epoch: 1 }), resolve);
    assert.equal(next.kind, 'incremental');
    assert.equal(next.sessionId, ctx.sessionId);
    assert.deepEqual(names(next), ['t-0', 't-1']);
  });

  it('creates a session even for an empty full fetch', () => {
    const cache = new FetchSessionCache();
    const ctx = cache.newContext(req({ epoch: 0 }), resolve);
    assert.equal(ctx.kind, 'full');
    assert.ok(ctx.sessionId > 0);
  });

  it('keeps the first position and the last parameters of a partition listed twice', () => {
    const cache = new FetchSessionCache();
    const ctx = cache.newContext(
      req({
        fetch: [
          ['t', 0, 1],
          ['u', 0, 2],
          ['t', 0, 3],
        ],
      }),
      resolve,
    );
    assert.deepEqual(names(ctx), ['t-0', 'u-0']);
    assert.equal(ctx.partitions[0]!.fetchOffset, 3n);
  });

  it('X/-1 closes X and answers sessionless', () => {
    const cache = new FetchSessionCache();
    const { sessionId } = open(cache, [['t', 0]]);
    const ctx = cache.newContext(req({ sessionId, epoch: -1, fetch: [['t', 0]] }), resolve);
    assert.equal(ctx.kind, 'sessionless');
    assert.equal(ctx.sessionId, 0);
    assert.equal(cache.size, 0);
    const again = cache.newContext(req({ sessionId, epoch: 1 }), resolve);
    assert.equal(again.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });

  it('X/0 closes X and creates a new session', () => {
    const cache = new FetchSessionCache();
    const first = open(cache, [['t', 0]]);
    const second = open(cache, [['u', 0]], { sessionId: first.sessionId });
    assert.notEqual(second.sessionId, first.sessionId);
    assert.equal(cache.size, 1);
    assert.equal(cache.has(first.sessionId), false);
    assert.deepEqual(names(cache.newContext(req({ sessionId: second.sessionId, epoch: 1 }), resolve)), ['u-0']);
  });

  it('unknown session ids and wrong epochs are top-level errors that leave the session alone', () => {
    const cache = new FetchSessionCache();
    const { sessionId } = open(cache, [['t', 0]]);
    const unknown = cache.newContext(req({ sessionId: sessionId + 1, epoch: 1 }), resolve);
    assert.equal(unknown.kind, 'error');
    assert.equal(unknown.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    assert.equal(unknown.sessionId, 0);
    assert.deepEqual(unknown.partitions, []);
    assert.equal(unknown.include({} as FetchPartitionRequest, state(1)), false);
    // Session id 0 with a positive epoch names no session either.
    assert.equal(
      cache.newContext(req({ sessionId: 0, epoch: 3 }), resolve).errorCode,
      ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
    );
    for (const epoch of [2, 5, -2]) {
      const bad = cache.newContext(req({ sessionId, epoch, fetch: [['u', 0]] }), resolve);
      assert.equal(bad.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH, `epoch ${epoch}`);
      assert.equal(bad.sessionId, 0);
    }
    const ok = cache.newContext(req({ sessionId, epoch: 1 }), resolve);
    assert.equal(ok.errorCode, 0);
    assert.deepEqual(names(ok), ['t-0'], 'the rejected request changed nothing');
    assert.equal(
      cache.newContext(req({ sessionId, epoch: 1 }), resolve).errorCode,
      ErrorCode.INVALID_FETCH_SESSION_EPOCH,
    );
    assert.equal(cache.newContext(req({ sessionId, epoch: 2 }), resolve).errorCode, 0);
    assert.equal(cache.newContext(req({ sessionId, epoch: 3 }), resolve).errorCode, 0);
  });

  it('epochs wrap from int32 max to 1', () => {
    assert.equal(nextEpoch(0), 1);
    assert.equal(nextEpoch(1), 2);
    assert.equal(nextEpoch(0x7ffffffe), 0x7fffffff);
    assert.equal(nextEpoch(0x7fffffff), 1);
    assert.equal(nextEpoch(-1), -1);
  });

  it('remove closes a session', () => {
    const cache = new FetchSessionCache();
    const { sessionId } = open(cache, [['t', 0]]);
    assert.equal(cache.remove(sessionId), true);
    assert.equal(cache.remove(sessionId), false);
    assert.equal(cache.size, 0);
  });

  it('gives unique positive ids even when the random source repeats itself', () => {
    for (const r of [0, 0.5, 0.9999999999]) {
      const cache = new FetchSessionCache({ random: () => r });
      const ids = new Set<number>();
      for (let i = 0; i < 50; i++) ids.add(open(cache, [['t', i]]).sessionId);
      assert.equal(ids.size, 50);
      for (const id of ids) assert.ok(Number.isInteger(id) && id >= 1 && id <= 0x7fffffff, `id ${id}`);
    }
  });
});

describe('FetchSessionCache: incremental requests', () => {
  it('adds, updates and forgets partitions', () => {
    const cache = new FetchSessionCache();
    const { sessionId } = open(cache, [
      ['t', 0, 5],
      ['t', 1, 5],
      ['u', 0, 5],
    ]);
    const ctx = cache.newContext(
      req({
        sessionId,
        epoch: 1,
        fetch: [
          ['t', 1, 9],
          ['v', 3, 1],
        ],
        forget: [['u', 0]],
      }),
      resolve,
    );
    assert.deepEqual(names(ctx), ['t-0', 't-1', 'v-3']);
    assert.deepEqual(
      ctx.partitions.map((p) => p.fetchOffset),
      [5n, 9n, 1n],
    );
    // Forgetting what the session does not hold is harmless.
    const next = cache.newContext(req({ sessionId, epoch: 2, forget: [['nope', 0]] }), resolve);
    assert.deepEqual(names(next), ['t-0', 't-1', 'v-3']);
    assert.equal(cache.partitionCount, 3);
  });

  it('updates every request parameter of a known partition', () => {
    const cache = new FetchSessionCache();
    const { sessionId } = open(cache, [['t', 0]]);
    const r = req({ sessionId, epoch: 1 });
    r.topics = [
      {
        topic: 't',
        topicId: ZERO,
        partitions: [
          {
            partition: 0,
            fetchOffset: 42n,
            partitionMaxBytes: 7,
            logStartOffset: 3n,
            currentLeaderEpoch: 9,
            lastFetchedEpoch: 8,
          },
        ],
      },
    ];
    const [p] = cache.newContext(r, resolve).partitions;
    assert.deepEqual(
      { ...p },
      {
        ...p,
        topic: 't',
        partition: 0,
        fetchOffset: 42n,
        partitionMaxBytes: 7,
        logStartOffset: 3n,
        currentLeaderEpoch: 9,
        lastFetchedEpoch: 8,
        errorCode: 0,
      },
    );
  });

  it('answers only partitions with news', () => {
    const cache = new FetchSessionCache();
    const { sessionId } = open(cache, [
      ['t', 0],
      ['t', 1],
      ['t', 2],
      ['t', 3],
      ['t', 4],
    ]);
    let epoch = 1;
    const next = (fetch: P[] = []) => cache.newContext(req({ sessionId, epoch: epoch++, fetch }), resolve);
    const same = () => state(10);
    assert.deepEqual(respond(next(), same), [], 'nothing changed since the full response');
    assert.deepEqual(
      respond(next(), (p) => {
        switch (p.partition) {
          case 0:
            return state(11); // high watermark moved
          case 1:
            return state(10, { lastStableOffset: 9n });
          case 2:
            return state(10, { logStartOffset: 4n });
          case 3:
            return state(10, { hasRecords: true });
          default:
            return same();
        }
      }).sort(),
      ['t-0', 't-1', 't-2', 't-3'],
    );
    assert.deepEqual(
      respond(next(), (p) =>
        p.partition === 0
          ? state(11)
          : p.partition === 1
            ? state(10, { lastStableOffset: 9n })
            : state(10, { logStartOffset: p.partition === 2 ? 4n : 0n }),
      ),
      [],
      'the session remembers what it sent',
    );
    assert.deepEqual(
      respond(next(), (p) =>
        state(p.partition === 0 ? 11 : 10, {
          mustRespond: p.partition === 4,
          lastStableOffset: p.partition === 1 ? 9n : p.partition === 0 ? 11n : 10n,
          logStartOffset: p.partition === 2 ? 4n : 0n,
        }),
      ),
      ['t-4'],
      'forced answers',
    );
  });

  it('answers a partition with an error every time, and once more after the error clears', () => {
    const cache = new FetchSessionCache();
    const { sessionId } = open(cache, [
      ['t', 0],
      ['t', 1],
    ]);
    let epoch = 1;
    const round = (err: number) =>
      respond(cache.newContext(req({ sessionId, epoch: epoch++ }), resolve), (p) =>
        state(10, { errorCode: p.partition === 0 ? err : 0 }),
      );
    assert.deepEqual(round(ErrorCode.NOT_LEADER_OR_FOLLOWER), ['t-0']);
    assert.deepEqual(round(ErrorCode.NOT_LEADER_OR_FOLLOWER), ['t-0']);
    assert.deepEqual(round(0), ['t-0'], 'the client must learn the error is gone');
    assert.deepEqual(round(0), []);
  });

  it('answers a newly added partition even when its state looks unchanged', () => {
    const cache = new FetchSessionCache();
    const { sessionId } = open(cache, [['t', 0]]);
    const ctx = cache.newContext(req({ sessionId, epoch: 1, fetch: [['t', 1]] }), resolve);
    // -1s are what an untouched partition would have remembered; it must still be sent.
    assert.deepEqual(
      respond(ctx, (p) => (p.partition === 1 ? state(-1, { logStartOffset: -1n }) : state(10))),
      ['t-1'],
    );
  });

  it('rotates: partitions answered in an incremental response move to the end', () => {
    const cache = new FetchSessionCache();
    const { sessionId } = open(cache, [
      ['t', 0],
      ['t', 1],
      ['t', 2],
      ['t', 3],
    ]);
    let epoch = 1;
    const next = (fetch: P[] = []) => cache.newContext(req({ sessionId, epoch: epoch++, fetch }), resolve);
    const c1 = next();
    assert.deepEqual(names(c1), ['t-0', 't-1', 't-2', 't-3']);
    assert.deepEqual(
      respond(c1, (p) => state(10, { hasRecords: p.partition <= 1 })),
      ['t-0', 't-1'],
    );
    const c2 = next();
    assert.deepEqual(names(c2), ['t-2', 't-3', 't-0', 't-1']);
    respond(c2, (p) => state(10, { hasRecords: p.partition === 3 }));
    // Updating a partition's request parameters does not move it; adding appends.
    const c3 = next([
      ['t', 2, 99],
      ['u', 0],
    ]);
    assert.deepEqual(names(c3), ['t-2', 't-0', 't-1', 't-3', 'u-0']);
    assert.equal(c3.partitions[0]!.fetchOffset, 99n);
    // Full responses keep the request order.
    const full = cache.newContext(
      req({
        fetch: [
          ['t', 1],
          ['t', 0],
        ],
      }),
      resolve,
    );
    respond(full, () => state(10, { hasRecords: true }));
    assert.deepEqual(names(cache.newContext(req({ sessionId: full.sessionId, epoch: 1 }), resolve)), ['t-1', 't-0']);
  });

  it('a late include for a partition forgotten meanwhile does not bring it back', () => {
    const cache = new FetchSessionCache();
    const { sessionId } = open(cache, [
      ['t', 0],
      ['t', 1],
    ]);
    const parked = cache.newContext(req({ sessionId, epoch: 1 }), resolve); // e.g. a long poll
    cache.newContext(req({ sessionId, epoch: 2, forget: [['t', 0]] }), resolve);
    respond(parked, () => state(10, { hasRecords: true }));
    assert.deepEqual(names(cache.newContext(req({ sessionId, epoch: 3 }), resolve)), ['t-1']);
  });

  it('closes a session that an incremental request leaves empty and answers sessionless', () => {
    const cache = new FetchSessionCache();
    const { sessionId } = open(cache, [
      ['t', 0],
      ['t', 1],
    ]);
    const ctx = cache.newContext(
      req({
        sessionId,
        epoch: 1,
        forget: [
          ['t', 0],
          ['t', 1],
        ],
      }),
      resolve,
    );
    assert.equal(ctx.kind, 'sessionless');
    assert.equal(ctx.sessionId, 0);
    assert.equal(ctx.errorCode, 0);
    assert.deepEqual(ctx.partitions, []);
    assert.equal(cache.size, 0);
  });

  it('rejects partition objects it did not hand out', () => {
    const cache = new FetchSessionCache();
    const ctx = open(cache, [['t', 0]]);
    const fake = { ...ctx.partitions[0]! };
    assert.throws(() => ctx.include(fake, state(1)), FetchSessionError);
  });
});

describe('FetchSessionCache: topic ids (v13+)', () => {
  it('resolves ids to names and marks unknown ids with UNKNOWN_TOPIC_ID until forgotten', () => {
    const cache = new FetchSessionCache();
    const ctx = cache.newContext(
      req({
        version: 13,
        fetch: [
          [ID_A, 0],
          [ID_X, 0],
          [ZERO, 1],
        ],
      }),
      resolve,
    );
    assert.equal(ctx.kind, 'full');
    assert.deepEqual(
      ctx.partitions.map((p) => [p.topic, p.topicId, p.partition, p.errorCode]),
      [
        ['a', ID_A, 0, 0],
        ['', ID_X, 0, ErrorCode.UNKNOWN_TOPIC_ID],
        ['', ZERO, 1, ErrorCode.UNKNOWN_TOPIC_ID],
      ],
    );
    respond(ctx, (p) => state(p.errorCode === 0 ? 10 : -1, { errorCode: p.errorCode }));
    const sessionId = ctx.sessionId;

    const c1 = cache.newContext(req({ version: 13, sessionId, epoch: 1 }), resolve);
    const included = c1.partitions.filter((p) =>
      c1.include(p, state(p.errorCode === 0 ? 10 : -1, { errorCode: p.errorCode })),
    );
    assert.deepEqual(
      included.map((p) => [p.topicId, p.errorCode]),
      [
        [ID_X, ErrorCode.UNKNOWN_TOPIC_ID],
        [ZERO, ErrorCode.UNKNOWN_TOPIC_ID],
      ],
      'the error repeats',
    );

    // The topic appears (metadata caught up): the same session entry is now readable.
    NAMES.set(ID_X, 'x');
    try {
      const c2 = cache.newContext(req({ version: 13, sessionId, epoch: 2, forget: [[ZERO, 1]] }), resolve);
      assert.deepEqual(
        c2.partitions.map((p) => [p.topic, p.topicId, p.errorCode]),
        [
          ['a', ID_A, 0],
          ['x', ID_X, 0],
        ],
      );
    } finally {
      NAMES.delete(ID_X);
    }
    // ...and disappears again (deleted): the error is back.
    const c3 = cache.newContext(req({ version: 13, sessionId, epoch: 3, forget: [[ID_A, 0]] }), resolve);
    assert.deepEqual(
      c3.partitions.map((p) => [p.topic, p.topicId, p.errorCode]),
      [['', ID_X, ErrorCode.UNKNOWN_TOPIC_ID]],
    );
  });

  it('keys v13+ sessions by id: an added partition of an unknown id stays until forgotten by id', () => {
    const cache = new FetchSessionCache();
    const { sessionId } = open(cache, [[ID_A, 0]], { version: 13 });
    const c1 = cache.newContext(req({ version: 13, sessionId, epoch: 1, fetch: [[ID_X, 4]] }), resolve);
    assert.deepEqual(
      c1.partitions.map((p) => [p.topic, p.partition, p.errorCode]),
      [
        ['a', 0, 0],
        ['', 4, ErrorCode.UNKNOWN_TOPIC_ID],
      ],
    );
    const c2 = cache.newContext(req({ version: 13, sessionId, epoch: 2, forget: [[ID_X, 4]] }), resolve);
    assert.deepEqual(names(c2), ['a-0']);
  });

  it('rejects mixing topic-id and topic-name versions in one session', () => {
    const cache = new FetchSessionCache();
    const old = open(cache, [['t', 0]], { version: 12 });
    const byName = cache.newContext(req({ version: 13, sessionId: old.sessionId, epoch: 1 }), resolve);
    assert.equal(byName.errorCode, ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
    assert.equal(byName.sessionId, 0);
    const fresh = open(cache, [[ID_A, 0]], { version: 13 });
    const byId = cache.newContext(req({ version: 7, sessionId: fresh.sessionId, epoch: 1 }), resolve);
    assert.equal(byId.errorCode, ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
    // A full fetch at the other version simply replaces the session.
    const replaced = open(cache, [['t', 0]], { version: 12, sessionId: fresh.sessionId });
    assert.equal(cache.newContext(req({ version: 12, sessionId: replaced.sessionId, epoch: 1 }), resolve).errorCode, 0);
  });
});

describe('FetchSessionCache: cache bound and eviction', () => {
  it('maxSlots 0 disables sessions', () => {
    const cache = new FetchSessionCache({ maxSlots: 0 });
    const ctx = cache.newContext(req({ fetch: [['t', 0]] }), resolve);
    assert.equal(ctx.kind, 'sessionless');
    assert.equal(ctx.sessionId, 0);
    assert.deepEqual(names(ctx), ['t-0']);
  });

  it('when full and nothing is evictable, answers sessionless', () => {
    const c = clock();
    const cache = new FetchSessionCache({ maxSlots: 2, evictionMs: 1000, now: c.now });
    open(cache, [['t', 0]]);
    open(cache, [['t', 1]]);
    c.advance(500);
    const ctx = cache.newContext(req({ fetch: [['t', 2]] }), resolve);
    assert.equal(ctx.kind, 'sessionless');
    assert.equal(ctx.sessionId, 0);
    assert.equal(cache.size, 2);
    assert.equal(cache.evictions, 0);
  });

  it('evicts the least recently used session once it has been idle longer than the eviction time', () => {
    const c = clock();
    const cache = new FetchSessionCache({ maxSlots: 2, evictionMs: 1000, now: c.now });
    const s1 = open(cache, [['t', 0]]).sessionId;
    c.advance(10);
    const s2 = open(cache, [['t', 1]]).sessionId;
    c.advance(600);
    cache.newContext(req({ sessionId: s1, epoch: 1 }), resolve); // s1 used: s2 is now the LRU
    c.advance(600); // s2 idle 1200 ms, s1 600 ms
    const s3 = open(cache, [['t', 2]]).sessionId;
    assert.equal(cache.has(s1), true);
    assert.equal(cache.has(s2), false);
    assert.equal(cache.has(s3), true);
    assert.equal(cache.evictions, 1);
  });

  it('a bigger consumer session replaces a smaller old one that is still in use; equals do not', () => {
    const c = clock();
    const cache = new FetchSessionCache({ maxSlots: 2, evictionMs: 1000, now: c.now });
    const small = open(cache, [['t', 0]]).sessionId;
    const big = open(cache, [
      ['t', 1],
      ['t', 2],
      ['t', 3],
    ]).sessionId;
    c.advance(1500);
    // Both were used recently (not idle), but created long ago.
    let e1 = 1;
    let e2 = 1;
    cache.newContext(req({ sessionId: small, epoch: e1++ }), resolve);
    cache.newContext(req({ sessionId: big, epoch: e2++ }), resolve);
    const tie = cache.newContext(req({ fetch: [['u', 0]] }), resolve);
    assert.equal(tie.sessionId, 0, 'an equally valuable session does not evict');
    const two = open(cache, [
      ['u', 0],
      ['u', 1],
    ]).sessionId;
    assert.equal(cache.has(small), false, 'the least valuable session went');
    assert.equal(cache.has(big), true);
    assert.equal(cache.has(two), true);
    // A new consumer may not evict a session younger than the eviction time, however small: the old bigger one goes.
    cache.newContext(req({ sessionId: big, epoch: e2++ }), resolve);
    const tenParts = () => req({ fetch: Array.from({ length: 10 }, (_, i) => ['v', i] as P) });
    const huge = cache.newContext(tenParts(), resolve);
    assert.ok(huge.sessionId > 0);
    assert.equal(cache.has(big), false);
    assert.ok(cache.has(two));
    // Now both sessions are young: nothing to evict.
    assert.equal(cache.newContext(tenParts(), resolve).sessionId, 0);
    assert.equal(cache.evictions, 2);
  });

  it('a follower may evict a young consumer session; a consumer may never evict a follower for size', () => {
    const c = clock();
    const cache = new FetchSessionCache({ maxSlots: 2, evictionMs: 1000, now: c.now });
    const consumer = open(cache, [
      ['t', 0],
      ['t', 1],
    ]).sessionId;
    const follower1 = open(cache, [['t', 0]], { replicaId: 1 }).sessionId;
    c.advance(10);
    const follower2 = open(cache, [['t', 0]], { replicaId: 2 }).sessionId;
    assert.equal(cache.has(consumer), false, 'followers outrank consumers regardless of size');
    assert.ok(cache.has(follower1) && cache.has(follower2));
    c.advance(2000);
    cache.newContext(req({ sessionId: follower1, epoch: 1 }), resolve);
    cache.newContext(req({ sessionId: follower2, epoch: 1 }), resolve);
    const big = cache.newContext(
      req({
        fetch: Array.from({ length: 10 }, (_, i) => ['v', i] as P),
      }),
      resolve,
    );
    assert.equal(big.sessionId, 0, 'old but active follower sessions stay');
    const follower3 = open(
      cache,
      [
        ['t', 0],
        ['t', 1],
      ],
      { replicaId: 3 },
    ).sessionId;
    assert.equal(cache.size, 2);
    assert.ok(cache.has(follower3), 'a bigger follower session replaces an old smaller one');
  });

  it('never holds more than maxSlots sessions', () => {
    const c = clock();
    const cache = new FetchSessionCache({ maxSlots: 5, evictionMs: 100, now: c.now });
    for (let i = 0; i < 200; i++) {
      c.advance(37);
      open(
        cache,
        Array.from({ length: (i % 7) + 1 }, (_, j) => ['t', j] as P),
        { replicaId: i % 3 === 0 ? 1 : -1 },
      );
      assert.ok(cache.size <= 5);
    }
  });
});

describe('FetchSessionCache: property against a model', () => {
  type Part = { key: string; offset: bigint; hw: bigint | null; must: boolean };
  type ModelSession = { epoch: number; parts: Part[] };

  const partArb = fc.tuple(fc.constantFrom('t', 'u'), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 9 }));
  const actionArb = fc.oneof(
    fc.record({
      t: fc.constant('full' as const),
      create: fc.boolean(),
      target: fc.nat(),
      parts: fc.array(partArb, { maxLength: 5 }),
    }),
    fc.record({
      t: fc.constant('incremental' as const),
      target: fc.nat(),
      epochSkew: fc.constantFrom(0, 0, 0, 1, 2),
      parts: fc.array(partArb, { maxLength: 3 }),
      forget: fc.array(fc.tuple(fc.constantFrom('t', 'u'), fc.integer({ min: 0, max: 3 })), { maxLength: 2 }),
    }),
    fc.record({ t: fc.constant('unknown' as const) }),
  );
  /** Per partition result: high watermark and whether it has records. */
  const resultsArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.boolean(), fc.boolean()), {
    minLength: 1,
    maxLength: 8,
  });

  it('matches the model for random request sequences', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(actionArb, resultsArb), { maxLength: 40 }), (steps) => {
        const cache = new FetchSessionCache();
        const model = new Map<number, ModelSession>();
        const known: number[] = []; // every id ever handed out, for clients that reuse stale ids
        for (const [a, results] of steps) {
          // Mostly the newest session (long runs of incremental requests), sometimes an older or closed one.
          const pick = (n: number) =>
            known.length === 0 ? 12345 : n % 4 !== 0 ? known.at(-1)! : known[n % known.length]!;
          let ctx: FetchContext;
          let expected: { kind: string; error: number; parts: Part[]; session: ModelSession | undefined };
          if (a.t === 'full') {
            const target = a.target % 2 === 0 ? 0 : pick(a.target);
            ctx = cache.newContext(
              req({ sessionId: target, epoch: a.create ? 0 : -1, fetch: a.parts.map(([t, p, o]) => [t, p, o]) }),
              resolve,
            );
            model.delete(target);
            const parts: Part[] = [];
            for (const [t, p, o] of a.parts) {
              const existing = parts.find((x) => x.key === `${t}-${p}`);
              if (existing) existing.offset = BigInt(o);
              else parts.push({ key: `${t}-${p}`, offset: BigInt(o), hw: null, must: true });
            }
            let session: ModelSession | undefined;
            if (a.create) {
              assert.ok(ctx.sessionId > 0 && !model.has(ctx.sessionId));
              session = { epoch: 1, parts };
              model.set(ctx.sessionId, session);
              known.push(ctx.sessionId);
            }
            expected = { kind: a.create ? 'full' : 'sessionless', error: 0, parts, session };
          } else if (a.t === 'unknown') {
            let id = 1;
            while (model.has(id)) id++;
            ctx = cache.newContext(req({ sessionId: id, epoch: 1 }), resolve);
            expected = { kind: 'error', error: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, parts: [], session: undefined };
          } else {
            const id = pick(a.target);
            const s = model.get(id);
            const epoch = (s?.epoch ?? 1) + a.epochSkew;
            ctx = cache.newContext(
              req({ sessionId: id, epoch, fetch: a.parts.map(([t, p, o]) => [t, p, o]), forget: a.forget }),
              resolve,
            );
            if (s === undefined) {
              expected = { kind: 'error', error: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, parts: [], session: undefined };
            } else if (epoch !== s.epoch) {
              expected = { kind: 'error', error: ErrorCode.INVALID_FETCH_SESSION_EPOCH, parts: [], session: undefined };
            } else {
              for (const [t, p, o] of a.parts) {
                const existing = s.parts.find((x) => x.key === `${t}-${p}`);
                if (existing) existing.offset = BigInt(o);
                else s.parts.push({ key: `${t}-${p}`, offset: BigInt(o), hw: null, must: true });
              }
              s.parts = s.parts.filter((x) => !a.forget.some(([t, p]) => x.key === `${t}-${p}`));
              if (s.parts.length === 0) {
                model.delete(id);
                expected = { kind: 'sessionless', error: 0, parts: [], session: undefined };
              } else {
                s.epoch = nextEpoch(s.epoch);
                expected = { kind: 'incremental', error: 0, parts: [...s.parts], session: s };
              }
            }
          }
          assert.equal(ctx.kind, expected.kind);
          assert.equal(ctx.errorCode, expected.error);
          assert.deepEqual(
            ctx.partitions.map((p) => [`${p.topic}-${p.partition}`, p.fetchOffset]),
            expected.parts.map((p) => [p.key, p.offset]),
          );
          assert.equal(ctx.sessionId === 0, expected.session === undefined);
          // Answer and compare the inclusion decisions.
          ctx.partitions.forEach((p, i) => {
            const [hw, hasRecords, failed] = results[i % results.length]!;
            const st = state(hw, { hasRecords, errorCode: failed ? ErrorCode.NOT_LEADER_OR_FOLLOWER : 0 });
            const mp = expected.parts[i]!;
            const news = mp.must || hasRecords || failed || mp.hw !== BigInt(hw);
            const want = expected.kind === 'incremental' ? news : true;
            assert.equal(ctx.include(p, st), want, `include ${mp.key}`);
            if (expected.session !== undefined) {
              mp.hw = BigInt(hw);
              mp.must = failed;
              if (expected.kind === 'incremental' && want) {
                const parts = expected.session.parts;
                parts.splice(parts.indexOf(mp), 1);
                parts.push(mp);
              }
            }
          });
          assert.equal(cache.size, model.size);
        }
      }),
      { numRuns: 300 },
    );
  });
});
