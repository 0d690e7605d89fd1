/**
 * The client-side assignors and the consumer protocol's subscription/assignment encoding, as pure functions:
 * Kafka's range and round-robin layouts (also with members subscribed to different topics), static members ordered
 * by instance id, cooperative-sticky keeping owned partitions, balancing, resolving double claims by generation and
 * withholding partitions that change owner; subscriptions and assignments written by KafkaJS (v0 with user data)
 * and by us (v3) read back, an empty assignment meaning none.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../../src/client/consumer/consumer-protocol.js';
import {
  cooperativeStickyAssignor,
  type GroupMemberSubscription,
  rangeAssignor,
  roundRobinAssignor,
  type TopicPartition,
} from '../../src/client/consumer/index.js';

function member(
  memberId: string,
  topics: string[],
  owned: TopicPartition[] = [],
  generationId = -1,
  groupInstanceId: string | null = null,
): GroupMemberSubscription {
  return {
    memberId,
    groupInstanceId,
    subscription: { topics, userData: null, ownedPartitions: owned, generationId, rackId: null },
  };
}

const show = (result: Map<string, TopicPartition[]>): Record<string, string[]> =>
  Object.fromEntries([...result].map(([id, tps]) => [id, tps.map((tp) => `${tp.topic}-${tp.partition}`)]));

const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition });

describe('range assignor', () => {
  it('gives each member a contiguous range per topic, the first members one more', () => {
    const r = rangeAssignor.assign(
      [member('m1', ['t', 'u']), member('m2', ['t', 'u']), member('m3', ['t'])],
      new Map([
        ['t', 7],
        ['u', 3],
      ]),
    );
    assert.deepEqual(show(r), {
      m1: ['t-0', 't-1', 't-2', 'u-0', 'u-1'],
      m2: ['t-3', 't-4', 'u-2'],
      m3: ['t-5', 't-6'],
    });
  });

  it('orders static members by instance id, before dynamic ones', () => {
    const r = rangeAssignor.assign(
      [member('a', ['t']), member('b', ['t'], [], -1, 'z-instance'), member('c', ['t'], [], -1, 'y-instance')],
      new Map([['t', 3]]),
    );
    assert.deepEqual(show(r), { a: ['t-2'], b: ['t-1'], c: ['t-0'] });
  });

  it('gives nothing for topics that do not exist, and an empty list to members without partitions', () => {
    const r = rangeAssignor.assign([member('a', ['t', 'missing']), member('b', ['t'])], new Map([['t', 1]]));
    assert.deepEqual(show(r), { a: ['t-0'], b: [] });
  });
});

describe('roundrobin assignor', () => {
  it('deals all partitions out in turn, skipping members not subscribed to the topic', () => {
    const r = roundRobinAssignor.assign(
      [member('m1', ['t', 'u']), member('m2', ['t']), member('m3', ['u'])],
      new Map([
        ['t', 3],
        ['u', 3],
      ]),
    );
    assert.deepEqual(show(r), { m1: ['t-0', 't-2', 'u-1'], m2: ['t-1'], m3: ['u-0', 'u-2'] });
  });
});

describe('cooperative-sticky assignor', () => {
  const counts = new Map([['t', 6]]);

  it('balances a fresh group', () => {
    const r = cooperativeStickyAssignor.assign([member('a', ['t']), member('b', ['t']), member('c', ['t'])], counts);
    assert.deepEqual(
      [...r.values()].map((l) => l.length),
      [2, 2, 2],
    );
    assert.equal(new Set([...r.values()].flat().map((x) => x.partition)).size, 6);
  });

  it('keeps owned partitions and withholds the ones that move (they are revoked first)', () => {
    const a = member('a', ['t'], [tp('t', 0), tp('t', 1), tp('t', 2)], 5);
    const b = member('b', ['t'], [tp('t', 3), tp('t', 4), tp('t', 5)], 5);
    const c = member('c', ['t']);
    const r = cooperativeStickyAssignor.assign([a, b, c], counts);
    // a and b each give one partition up; c gets nothing in this round.
    assert.equal(r.get('a')!.length, 2);
    assert.equal(r.get('b')!.length, 2);
    assert.deepEqual(r.get('c'), []);
    for (const p of r.get('a')!) assert.ok(p.partition <= 2);
    for (const p of r.get('b')!) assert.ok(p.partition >= 3);
    // Second round: a and b own what they kept; the two freed partitions go to c.
    const a2 = member('a', ['t'], r.get('a')!, 6);
    const b2 = member('b', ['t'], r.get('b')!, 6);
    const r2 = cooperativeStickyAssignor.assign([a2, b2, member('c', ['t'], [], 6)], counts);
    assert.deepEqual(r2.get('a'), r.get('a'));
    assert.deepEqual(r2.get('b'), r.get('b'));
    assert.equal(r2.get('c')!.length, 2);
  });

  it('a partition claimed twice stays with the newer generation', () => {
    const stale = member('a', ['t'], [tp('t', 0), tp('t', 1)], 3);
    const fresh = member('b', ['t'], [tp('t', 0)], 4);
    const r = cooperativeStickyAssignor.assign([stale, fresh], new Map([['t', 2]]));
    assert.deepEqual(show(r), { a: ['t-1'], b: ['t-0'] });
  });

  it('drops owned partitions of topics no longer subscribed or gone', () => {
    const a = member('a', ['t'], [tp('t', 0), tp('gone', 0), tp('t', 9)], 2);
    const r = cooperativeStickyAssignor.assign([a, member('b', ['t'])], new Map([['t', 2]]));
    assert.deepEqual(show(r), { a: ['t-0'], b: ['t-1'] });
  });
});

describe('consumer protocol', () => {
  it('round-trips our subscription (v3) and assignment', () => {
    const s = decodeSubscription(
      encodeSubscription({
        topics: ['a', 'b'],
        userData: null,
        ownedPartitions: [tp('b', 2), tp('a', 1)],
        generationId: 7,
      }),
    );
    assert.deepEqual(s, {
      topics: ['a', 'b'],
      userData: null,
      ownedPartitions: [tp('a', 1), tp('b', 2)],
      generationId: 7,
      rackId: null,
    });
    const a = decodeAssignment(encodeAssignment({ partitions: [tp('x', 3), tp('x', 1)], userData: null }));
    assert.deepEqual(a.partitions, [tp('x', 1), tp('x', 3)]);
  });

  it("reads KafkaJS's v0 subscription with user data, and an empty assignment as none", () => {
    // int16 version 0, [topics] = ["t"], bytes userData = 0x01 0x02.
    const v0 = Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0, 0, 0, 2, 1, 2]);
    assert.deepEqual(decodeSubscription(v0), {
      topics: ['t'],
      userData: Buffer.from([1, 2]),
      ownedPartitions: [],
      generationId: -1,
      rackId: null,
    });
    assert.deepEqual(decodeAssignment(Buffer.alloc(0)), { partitions: [], userData: null });
  });
});
