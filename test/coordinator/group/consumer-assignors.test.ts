/**
 * The KIP-848 server-side assignors (`uniform`, `range`) as pure functions: validity (every partition of a
 * subscribed topic assigned exactly once, only to its subscribers), balance and stickiness for `uniform`, contiguous
 * ranges, co-partitioning and the remainder rule for `range`; example cases plus fast-check properties.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Assignment, assignmentFrom, assignmentSize } from '../../../src/coordinator/group/consumer/assignment.js';
import {
  type AssignmentSpec,
  type AssignorMember,
  rangeAssignor,
  SERVER_ASSIGNORS,
  uniformAssignor,
} from '../../../src/coordinator/group/consumer/assignors.js';

// ---- helpers --------------------------------------------------------------------------------------------------

function member(memberId: string, topics: string[], current: Assignment = new Map()): AssignorMember {
  return { memberId, subscribedTopicIds: new Set(topics), current };
}

function spec(members: AssignorMember[], topics: Record<string, number>): AssignmentSpec {
  return { members, topics: new Map(Object.entries(topics)) };
}

/** "topic:partition" -> owning member id, failing on a partition assigned twice. */
function owners(result: ReadonlyMap<string, Assignment>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [memberId, a] of result) {
    for (const [topicId, parts] of a) {
      for (const p of parts) {
        const key = `${topicId}:${p}`;
        assert.ok(!out.has(key), `${key} assigned to both ${out.get(key)} and ${memberId}`);
        out.set(key, memberId);
      }
    }
  }
  return out;
}

/**
 * The validity every assignor must keep: one entry per member; each partition of a topic with at least one
 * subscriber is assigned exactly once, to a subscriber; nothing else (unsubscribed topics, unknown topics,
 * partitions out of range) is assigned.
 */
function assertValid(s: AssignmentSpec, result: ReadonlyMap<string, Assignment>): Map<string, string> {
  assert.deepEqual([...result.keys()].sort(), s.members.map((m) => m.memberId).sort(), 'one target per member');
  const byId = new Map(s.members.map((m) => [m.memberId, m]));
  const own = owners(result);
  for (const [memberId, a] of result) {
    for (const [topicId, parts] of a) {
      assert.ok(parts.size > 0, 'no empty topic entries');
      assert.ok(byId.get(memberId)!.subscribedTopicIds.has(topicId), `${memberId} got ${topicId} without subscribing`);
      const n = s.topics.get(topicId);
      assert.ok(n !== undefined, `unknown topic ${topicId} assigned`);
      for (const p of parts) assert.ok(Number.isInteger(p) && p >= 0 && p < n, `${topicId}:${p} out of range`);
    }
  }
  let expected = 0;
  for (const [topicId, n] of s.topics) {
    const subscribed = s.members.some((m) => m.subscribedTopicIds.has(topicId));
    for (let p = 0; p < n; p++) {
      if (subscribed) assert.ok(own.has(`${topicId}:${p}`), `${topicId}:${p} unassigned`);
      else assert.ok(!own.has(`${topicId}:${p}`), `${topicId}:${p} assigned without subscribers`);
    }
    if (subscribed) expected += n;
  }
  assert.equal(own.size, expected);
  return own;
}

function counts(result: ReadonlyMap<string, Assignment>): number[] {
  return [...result.values()].map(assignmentSize);
}

function spread(result: ReadonlyMap<string, Assignment>): number {
  const c = counts(result);
  return c.length === 0 ? 0 : Math.max(...c) - Math.min(...c);
}

/** Partitions (of `before`) whose owner changed in `after` (partitions dropped or new are not counted). */
function moved(before: Map<string, string>, after: Map<string, string>): number {
  let n = 0;
  for (const [key, owner] of before) if (after.has(key) && after.get(key) !== owner) n++;
  return n;
}

const sorted = (ps: Iterable<number>): number[] => [...ps].sort((a, b) => a - b);

function isContiguous(ps: ReadonlySet<number>): boolean {
  const s = sorted(ps);
  return s.every((p, i) => i === 0 || p === s[i - 1]! + 1);
}

// ---- arbitraries ----------------------------------------------------------------------------------------------

const TOPIC_IDS = ['tA', 'tB', 'tC', 'tD'];

/** Topics with 0..12 partitions (1..4 of them) and 1..7 members with arbitrary (possibly empty) subscriptions. */
const heterogeneousSpec: fc.Arbitrary<AssignmentSpec> = fc
  .record({
    partitionCounts: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: TOPIC_IDS.length }),
    members: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 7 }),
    subscriptionSeeds: fc.array(fc.nat(15), { minLength: 7, maxLength: 7 }),
  })
  .map(({ partitionCounts, members, subscriptionSeeds }) => {
    const topicIds = TOPIC_IDS.slice(0, partitionCounts.length);
    const topics = Object.fromEntries(topicIds.map((t, i) => [t, partitionCounts[i]!]));
    return spec(
      members.map((id, i) =>
        member(
          id,
          topicIds.filter((_, ti) => (subscriptionSeeds[i]! >> ti) & 1),
        ),
      ),
      topics,
    );
  });

/** Every member subscribes to every topic. */
const homogeneousSpec: fc.Arbitrary<AssignmentSpec> = fc
  .record({
    partitionCounts: fc.array(fc.integer({ min: 0, max: 16 }), { minLength: 1, maxLength: 3 }),
    members: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
  })
  .map(({ partitionCounts, members }) => {
    const topicIds = TOPIC_IDS.slice(0, partitionCounts.length);
    return spec(
      members.map((id) => member(id, topicIds)),
      Object.fromEntries(topicIds.map((t, i) => [t, partitionCounts[i]!])),
    );
  });

/** Feeds a result back as the members' current assignment (the coordinator passes the previous target). */
function withCurrent(s: AssignmentSpec, result: ReadonlyMap<string, Assignment>): AssignmentSpec {
  return {
    topics: s.topics,
    members: s.members.map((m) => ({ ...m, current: result.get(m.memberId) ?? new Map() })),
  };
}

// ---- tests ----------------------------------------------------------------------------------------------------

describe('server assignors registry', () => {
  it('knows uniform and range by name (group.consumer.assignors default order)', () => {
    assert.deepEqual([...SERVER_ASSIGNORS.keys()], ['uniform', 'range']);
    assert.equal(SERVER_ASSIGNORS.get('uniform'), uniformAssignor);
    assert.equal(SERVER_ASSIGNORS.get('range'), rangeAssignor);
  });
});

describe('uniform assignor', () => {
  it('assigns every partition exactly once, balanced within one, over several topics', () => {
    const s = spec([member('m1', ['a', 'b']), member('m2', ['a', 'b']), member('m3', ['a', 'b'])], { a: 7, b: 4 });
    const r = uniformAssignor.assign(s);
    assertValid(s, r);
    assert.deepEqual(
      counts(r).sort((x, y) => x - y),
      [3, 4, 4],
    );
  });

  it('gives nothing to members subscribed to nothing and leaves unsubscribed topics unassigned', () => {
    const s = spec([member('m1', ['a']), member('m2', [])], { a: 3, b: 5 });
    const r = uniformAssignor.assign(s);
    assertValid(s, r);
    assert.equal(assignmentSize(r.get('m1')!), 3);
    assert.equal(r.get('m2')!.size, 0);
  });

  it('handles no members, no topics and topics with no partitions', () => {
    assert.equal(uniformAssignor.assign(spec([], { a: 3 })).size, 0);
    const s = spec([member('m1', ['a', 'z'])], { a: 0 });
    const r = uniformAssignor.assign(s);
    assertValid(s, r);
    assert.equal(r.get('m1')!.size, 0);
  });

  it('drops partitions of topics that no longer exist or shrank, and of topics the member left', () => {
    const current = assignmentFrom([
      { topicId: 'gone', partitions: [0, 1] },
      { topicId: 'a', partitions: [0, 1, 2, 3] },
      { topicId: 'b', partitions: [0] },
    ]);
    const s = spec([member('m1', ['a'], current), member('m2', ['a'])], { a: 3, b: 2 });
    const r = uniformAssignor.assign(s);
    assertValid(s, r);
  });

  it('a partition claimed by two members as current goes to one of them only', () => {
    const both = assignmentFrom([{ topicId: 'a', partitions: [0, 1] }]);
    const s = spec([member('m1', ['a'], both), member('m2', ['a'], both)], { a: 2 });
    const r = uniformAssignor.assign(s);
    assertValid(s, r);
    assert.deepEqual(counts(r), [1, 1]);
  });

  it('is sticky: an unchanged group keeps its assignment', () => {
    const s = spec([member('m1', ['a', 'b']), member('m2', ['a']), member('m3', ['a', 'b'])], { a: 5, b: 6 });
    const first = uniformAssignor.assign(s);
    const second = uniformAssignor.assign(withCurrent(s, first));
    assert.equal(moved(owners(first), owners(second)), 0);
    assertValid(s, second);
  });

  it('a member joining takes only its share, from the others (6 partitions, 2 -> 3 members moves 2)', () => {
    const s2 = spec([member('m1', ['a']), member('m2', ['a'])], { a: 6 });
    const r2 = uniformAssignor.assign(s2);
    const s3: AssignmentSpec = { members: [...withCurrent(s2, r2).members, member('m3', ['a'])], topics: s2.topics };
    const r3 = uniformAssignor.assign(s3);
    assertValid(s3, r3);
    assert.deepEqual(counts(r3), [2, 2, 2]);
    assert.equal(moved(owners(r2), owners(r3)), 2);
  });

  it('a member leaving: only its partitions move', () => {
    const members = ['m1', 'm2', 'm3', 'm4'].map((id) => member(id, ['a']));
    const s = spec(members, { a: 10 });
    const r = uniformAssignor.assign(s);
    const before = owners(r);
    const remaining: AssignmentSpec = { topics: s.topics, members: withCurrent(s, r).members.slice(1) };
    const after = uniformAssignor.assign(remaining);
    assertValid(remaining, after);
    assert.ok(spread(after) <= 1);
    const a = owners(after);
    for (const [key, owner] of before) if (owner !== 'm1') assert.equal(a.get(key), owner, `${key} moved`);
  });

  it('heterogeneous subscriptions: valid, and balanced wherever subscriptions allow', () => {
    // m1 alone may take b; a is shared.
    const s = spec([member('m1', ['a', 'b']), member('m2', ['a']), member('m3', ['a'])], { a: 6, b: 3 });
    const r = uniformAssignor.assign(s);
    assertValid(s, r);
    assert.equal(r.get('m1')!.get('b')?.size, 3);
    assert.deepEqual(counts(r), [3, 3, 3]);
  });

  it('property: valid for arbitrary subscriptions; no member could take a partition from one two ahead', () => {
    fc.assert(
      fc.property(heterogeneousSpec, (s) => {
        const r = uniformAssignor.assign(s);
        assertValid(s, r);
        const byId = new Map(s.members.map((m) => [m.memberId, m]));
        for (const [from, fa] of r) {
          for (const [to, ta] of r) {
            if (assignmentSize(fa) < assignmentSize(ta) + 2) continue;
            for (const topicId of fa.keys()) {
              assert.ok(
                !byId.get(to)!.subscribedTopicIds.has(topicId),
                `${to} (${assignmentSize(ta)}) could take ${topicId} from ${from} (${assignmentSize(fa)})`,
              );
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: homogeneous subscriptions are balanced within one', () => {
    fc.assert(
      fc.property(homogeneousSpec, (s) => {
        const r = uniformAssignor.assign(s);
        assertValid(s, r);
        assert.ok(spread(r) <= 1, `counts ${counts(r)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('property: adding or removing one member moves at most what balance requires', () => {
    fc.assert(
      fc.property(
        homogeneousSpec.filter((s) => s.members.length >= 2),
        fc.boolean(),
        fc.nat(),
        (s, add, pick) => {
          const total = [...s.topics.values()].reduce((x, y) => x + y, 0);
          const before = uniformAssignor.assign(s);
          const seeded = withCurrent(s, before);
          const topicIds = [...s.topics.keys()];
          let next: AssignmentSpec;
          if (add) {
            next = { topics: s.topics, members: [...seeded.members, member('\u{10FFFF}new', topicIds)] };
          } else {
            const gone = seeded.members[pick % seeded.members.length]!.memberId;
            next = { topics: s.topics, members: seeded.members.filter((m) => m.memberId !== gone) };
          }
          const after = uniformAssignor.assign(next);
          assertValid(next, after);
          assert.ok(spread(after) <= 1);
          const n = moved(owners(before), owners(after));
          if (add) {
            // The newcomer needs floor or ceil of P/(N+1); nothing else has to move.
            assert.ok(n <= Math.ceil(total / next.members.length), `moved ${n} of ${total} to a newcomer`);
          } else {
            // Only the leaver's partitions (at most ceil(P/N)) have to move.
            assert.ok(n <= Math.ceil(total / s.members.length), `moved ${n} of ${total} after a leave`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: assigning twice from its own result changes nothing (stable fixpoint)', () => {
    fc.assert(
      fc.property(heterogeneousSpec, (s) => {
        const first = uniformAssignor.assign(s);
        const second = uniformAssignor.assign(withCurrent(s, first));
        assert.equal(moved(owners(first), owners(second)), 0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('range assignor', () => {
  it('gives contiguous ranges, the remainder to the first members in member-id order', () => {
    // Input order is not member-id order on purpose.
    const s = spec([member('m3', ['a']), member('m1', ['a']), member('m2', ['a'])], { a: 8 });
    const r = rangeAssignor.assign(s);
    assertValid(s, r);
    assert.deepEqual(sorted(r.get('m1')!.get('a')!), [0, 1, 2]);
    assert.deepEqual(sorted(r.get('m2')!.get('a')!), [3, 4, 5]);
    assert.deepEqual(sorted(r.get('m3')!.get('a')!), [6, 7]);
  });

  it('co-partitions: members get the same partition numbers of topics with the same partition count', () => {
    const s = spec([member('m1', ['a', 'b']), member('m2', ['a', 'b'])], { a: 3, b: 3 });
    const r = rangeAssignor.assign(s);
    assertValid(s, r);
    assert.deepEqual(sorted(r.get('m1')!.get('a')!), [0, 1]);
    assert.deepEqual(sorted(r.get('m1')!.get('b')!), [0, 1]);
    assert.deepEqual(sorted(r.get('m2')!.get('a')!), [2]);
    assert.deepEqual(sorted(r.get('m2')!.get('b')!), [2]);
  });

  it('more members than partitions: the last members in id order get nothing', () => {
    const s = spec([member('m1', ['a']), member('m2', ['a']), member('m3', ['a'])], { a: 2 });
    const r = rangeAssignor.assign(s);
    assertValid(s, r);
    assert.deepEqual(sorted(r.get('m1')!.get('a')!), [0]);
    assert.deepEqual(sorted(r.get('m2')!.get('a')!), [1]);
    assert.equal(r.get('m3')!.size, 0);
  });

  it('heterogeneous subscriptions: each topic is split among its own subscribers in id order', () => {
    const s = spec([member('m1', ['a']), member('m2', ['a', 'b']), member('m3', ['b'])], { a: 4, b: 5 });
    const r = rangeAssignor.assign(s);
    assertValid(s, r);
    assert.deepEqual(sorted(r.get('m1')!.get('a')!), [0, 1]);
    assert.deepEqual(sorted(r.get('m2')!.get('a')!), [2, 3]);
    assert.deepEqual(sorted(r.get('m2')!.get('b')!), [0, 1, 2]);
    assert.deepEqual(sorted(r.get('m3')!.get('b')!), [3, 4]);
  });

  it('property: valid, contiguous, sized floor/ceil in member-id order for every topic', () => {
    fc.assert(
      fc.property(heterogeneousSpec, (s) => {
        const r = rangeAssignor.assign(s);
        assertValid(s, r);
        for (const [topicId, n] of s.topics) {
          const subscribers = s.members
            .filter((m) => m.subscribedTopicIds.has(topicId))
            .map((m) => m.memberId)
            .sort();
          let next = 0;
          subscribers.forEach((id, i) => {
            const parts = r.get(id)!.get(topicId) ?? new Set<number>();
            const size = Math.floor(n / subscribers.length) + (i < n % subscribers.length ? 1 : 0);
            assert.equal(parts.size, size, `${id} gets ${size} of ${topicId}`);
            assert.ok(isContiguous(parts));
            if (size > 0) assert.equal(sorted(parts)[0], next, `${id}'s range of ${topicId} follows the previous one`);
            next += size;
          });
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: homogeneous subscriptions over equally sized topics are co-partitioned', () => {
    fc.assert(
      fc.property(homogeneousSpec, fc.integer({ min: 0, max: 12 }), (s0, n) => {
        const s: AssignmentSpec = { members: s0.members, topics: new Map([...s0.topics.keys()].map((t) => [t, n])) };
        const r = rangeAssignor.assign(s);
        assertValid(s, r);
        for (const a of r.values()) {
          const perTopic = [...s.topics.keys()].map((t) => sorted(a.get(t) ?? []).join(','));
          assert.ok(
            perTopic.every((x) => x === perTopic[0]),
            `same partition numbers in every topic: ${perTopic}`,
          );
        }
      }),
      { numRuns: 200 },
    );
  });
});
