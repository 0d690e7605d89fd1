import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OffsetCommitEntry } from '../../../src/coordinator/group/types.js';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import { type Harness, harness, joinRequest, startJoin, subscription, track } from './helpers.js';

const entry = (topic: string, partition: number, offset: bigint, metadata: string | null = ''): OffsetCommitEntry => ({
  topic,
  partition,
  offset,
  leaderEpoch: 3,
  metadata,
});

/** A group with one dynamic member in the given end state. */
async function groupIn(h: Harness, state: 'CompletingRebalance' | 'Stable' | 'PreparingRebalance', topics = ['t']) {
  const j = await startJoin(h.coordinator, { protocols: [{ name: 'range', metadata: subscription(topics) }] });
  await h.clock.advance(0);
  const generation = j.join.value().generationId;
  if (state !== 'CompletingRebalance') {
    await h.coordinator.syncGroup({
      groupId: 'g',
      generationId: generation,
      memberId: j.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
  }
  if (state === 'PreparingRebalance') {
    await startJoin(h.coordinator, { clientId: 'other' });
  }
  assert.equal(h.coordinator.inspect('g')?.state, state);
  return { memberId: j.memberId, generation };
}

describe('OffsetCommit validation', () => {
  it('a group that does not exist: simple commits create it; generations >= 0 are stale; named members unknown', async () => {
    const h = harness();
    const v = (generationId: number, memberId: string, groupInstanceId: string | null = null) =>
      h.coordinator.validateCommit({ groupId: 'g', generationId, memberId, groupInstanceId });
    assert.equal(v(-1, ''), ErrorCode.NONE);
    assert.equal(v(1, ''), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(v(0, 'm'), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(v(-1, 'm'), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(v(-1, '', 'inst'), ErrorCode.UNKNOWN_MEMBER_ID);
    const r = await h.coordinator.offsetCommit({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      offsets: [entry('t', 0, 5n)],
    });
    assert.deepEqual(r, [{ topic: 't', partition: 0, errorCode: ErrorCode.NONE }]);
    assert.equal(h.coordinator.inspect('g')?.state, 'Empty');
    assert.equal(h.coordinator.inspect('g')?.protocolType, null);
    // The empty group id is allowed for offsets (Kafka keeps it for old clients).
    assert.equal(
      h.coordinator.validateCommit({ groupId: '', generationId: -1, memberId: '', groupInstanceId: null }),
      0,
    );
  });

  it('a group with members: identity, generation and state checks', async () => {
    const h = harness();
    const { memberId, generation } = await groupIn(h, 'CompletingRebalance');
    const v = (generationId: number, id: string, groupInstanceId: string | null = null) =>
      h.coordinator.validateCommit({ groupId: 'g', generationId, memberId: id, groupInstanceId });
    assert.equal(v(generation, memberId), ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(v(-1, ''), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(v(generation, 'nobody'), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(v(generation + 1, memberId), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(v(generation, memberId, 'inst'), ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('commits are accepted in Stable and PreparingRebalance', async () => {
    const h = harness();
    const { memberId, generation } = await groupIn(h, 'Stable');
    assert.equal(
      h.coordinator.validateCommit({ groupId: 'g', generationId: generation, memberId, groupInstanceId: null }),
      0,
    );
    const h2 = harness();
    const p = await groupIn(h2, 'PreparingRebalance');
    const r = await h2.coordinator.offsetCommit({
      groupId: 'g',
      generationId: p.generation,
      memberId: p.memberId,
      groupInstanceId: null,
      offsets: [entry('t', 0, 1n)],
    });
    assert.equal(r[0]!.errorCode, ErrorCode.NONE);
  });

  it('static members: a fenced instance gets FENCED_INSTANCE_ID', async () => {
    const h = harness();
    const j = track(h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst' })));
    await h.clock.advance(0);
    const { memberId, generationId } = j.value();
    assert.equal(
      h.coordinator.validateCommit({ groupId: 'g', generationId, memberId: 'x', groupInstanceId: 'inst' }),
      82,
    );
    assert.equal(
      h.coordinator.validateCommit({ groupId: 'g', generationId, memberId, groupInstanceId: 'inst' }),
      ErrorCode.REBALANCE_IN_PROGRESS,
    );
  });

  it('metadata longer than offset.metadata.max.bytes fails only that partition', async () => {
    const h = harness({ config: { offsetMetadataMaxBytes: 5 } });
    const r = await h.coordinator.offsetCommit({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      offsets: [entry('t', 0, 1n, '123456'), entry('t', 1, 2n, '12345'), entry('t', 2, 3n, null)],
    });
    assert.deepEqual(
      r.map((p) => p.errorCode),
      [ErrorCode.OFFSET_METADATA_TOO_LARGE, ErrorCode.NONE, ErrorCode.NONE],
    );
    const f = await h.coordinator.fetchOffsets('g', null);
    assert.deepEqual(
      f.offsets.map((o) => [o.partition, o.offset, o.metadata]),
      [
        [1, 2n, '12345'],
        [2, 3n, ''],
      ],
    );
  });
});

describe('OffsetCommit persistence', () => {
  const simple = (offsets: OffsetCommitEntry[]) => ({
    groupId: 'g',
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    offsets,
  });

  it('acknowledges only after storeOffsets resolves; the offset is invisible until then', async () => {
    const h = harness();
    h.store.hold = true;
    const commit = track(h.coordinator.offsetCommit(simple([entry('t', 0, 42n, 'meta')])));
    await h.clock.advance(0);
    assert.equal(commit.done(), false);
    assert.equal((await h.coordinator.fetchOffsets('g', [{ topic: 't', partition: 0 }])).offsets[0]!.offset, -1n);
    const unstable = await h.coordinator.fetchOffsets('g', [{ topic: 't', partition: 0 }], true);
    assert.equal(unstable.offsets[0]!.errorCode, ErrorCode.UNSTABLE_OFFSET_COMMIT);
    const call = h.store.calls.at(-1)!;
    assert.equal(call.kind, 'offsets');
    if (call.kind === 'offsets') {
      assert.equal(call.offsets[0]!.value.offset, 42n);
      assert.equal(call.offsets[0]!.value.leaderEpoch, 3);
      assert.equal(call.offsets[0]!.value.metadata, 'meta');
      assert.equal(call.offsets[0]!.value.commitTimestamp, BigInt(h.clock.time));
      assert.equal(call.offsets[0]!.value.expireTimestamp, -1n);
    }
    h.store.release();
    await h.clock.advance(0);
    assert.equal(commit.value()[0]!.errorCode, ErrorCode.NONE);
    const f = await h.coordinator.fetchOffsets('g', [{ topic: 't', partition: 0 }], true);
    assert.deepEqual(f.offsets[0], {
      topic: 't',
      partition: 0,
      offset: 42n,
      leaderEpoch: 3,
      metadata: 'meta',
      errorCode: 0,
    });
  });

  it('a failed write maps to Kafka’s error and leaves the committed offsets unchanged', async () => {
    const cases: [unknown, number][] = [
      [new Error('disk on fire'), ErrorCode.COORDINATOR_NOT_AVAILABLE],
      [new KafkaError(ErrorCode.NOT_ENOUGH_REPLICAS), ErrorCode.COORDINATOR_NOT_AVAILABLE],
      [new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR), ErrorCode.NOT_COORDINATOR],
      [new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER), ErrorCode.NOT_COORDINATOR],
      [new KafkaError(ErrorCode.MESSAGE_TOO_LARGE), ErrorCode.INVALID_COMMIT_OFFSET_SIZE],
      [new KafkaError(ErrorCode.RECORD_LIST_TOO_LARGE), ErrorCode.INVALID_COMMIT_OFFSET_SIZE],
    ];
    for (const [error, expected] of cases) {
      const h = harness();
      await h.coordinator.offsetCommit(simple([entry('t', 0, 1n)]));
      h.store.failWith = error;
      const r = await h.coordinator.offsetCommit(simple([entry('t', 0, 2n), entry('t', 1, 2n)]));
      assert.deepEqual(
        r.map((p) => p.errorCode),
        [expected, expected],
      );
      h.store.failWith = null;
      const f = await h.coordinator.fetchOffsets('g', null);
      assert.deepEqual(
        f.offsets.map((o) => [o.partition, o.offset]),
        [[0, 1n]],
      );
      assert.equal(h.coordinator.inspect('g')?.offsets.isPending('t', 0), false);
    }
  });

  it('concurrent commits are applied in the order they were written', async () => {
    const h = harness();
    h.store.hold = true;
    const first = track(h.coordinator.offsetCommit(simple([entry('t', 0, 10n)])));
    const second = track(h.coordinator.offsetCommit(simple([entry('t', 0, 20n)])));
    assert.equal(h.store.heldCount, 2);
    h.store.release();
    h.store.release();
    await h.clock.advance(0);
    assert.equal(first.value()[0]!.errorCode, 0);
    assert.equal(second.value()[0]!.errorCode, 0);
    assert.equal((await h.coordinator.fetchOffsets('g', null)).offsets[0]!.offset, 20n);
  });

  it('an accepted commit resets the member’s session timer', async () => {
    const h = harness();
    const { memberId, generation } = await groupIn(h, 'Stable');
    for (let i = 0; i < 5; i++) {
      await h.clock.advance(6000);
      await h.coordinator.offsetCommit({
        groupId: 'g',
        generationId: generation,
        memberId,
        groupInstanceId: null,
        offsets: [entry('t', 0, BigInt(i))],
      });
    }
    assert.equal(h.coordinator.inspect('g')?.has(memberId), true);
  });
});

describe('OffsetFetch', () => {
  it('unknown groups and partitions answer -1; null fetches everything; several groups at once', async () => {
    const h = harness();
    const none = await h.coordinator.fetchOffsets('nope', [{ topic: 't', partition: 0 }]);
    assert.deepEqual(none, {
      errorCode: 0,
      offsets: [{ topic: 't', partition: 0, offset: -1n, leaderEpoch: -1, metadata: '', errorCode: 0 }],
    });
    assert.deepEqual((await h.coordinator.fetchOffsets('nope', null)).offsets, []);
    await h.coordinator.commitOffsets('a', [entry('t', 0, 1n), entry('u', 1, 2n)]);
    await h.coordinator.commitOffsets('b', [entry('t', 0, 7n)]);
    const multi = await h.coordinator.fetchOffsetsForGroups([
      { groupId: 'a', partitions: null },
      {
        groupId: 'b',
        partitions: [
          { topic: 't', partition: 0 },
          { topic: 't', partition: 9 },
        ],
      },
    ]);
    assert.deepEqual(
      multi.map((g) => [g.groupId, g.errorCode, g.offsets.map((o) => `${o.topic}-${o.partition}:${o.offset}`)]),
      [
        ['a', 0, ['t-0:1', 'u-1:2']],
        ['b', 0, ['t-0:7', 't-9:-1']],
      ],
    );
  });
});

describe('OffsetDelete (KIP-496)', () => {
  it('Empty group: offsets removed with tombstones; the group goes once nothing is left', async () => {
    const h = harness();
    await h.coordinator.commitOffsets('g', [entry('t', 0, 1n), entry('t', 1, 1n)]);
    const r = await h.coordinator.deleteOffsets('g', [{ topic: 't', partition: 0 }]);
    assert.deepEqual(r, { errorCode: 0, partitions: [{ topic: 't', partition: 0, errorCode: 0 }] });
    assert.deepEqual(h.store.calls.at(-1), {
      kind: 'remove',
      groupId: 'g',
      partitions: [{ topic: 't', partition: 0 }],
    });
    await h.coordinator.deleteOffsets('g', [{ topic: 't', partition: 1 }]);
    assert.equal(h.coordinator.inspect('g'), undefined);
    assert.deepEqual(h.store.calls.at(-1), { kind: 'group', groupId: 'g', value: null });
    assert.equal((await h.coordinator.deleteOffsets('g', [])).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('a consumer group with members: subscribed topics are refused, others deleted', async () => {
    const h = harness();
    const { memberId, generation } = await groupIn(h, 'Stable', ['t']);
    await h.coordinator.offsetCommit({
      groupId: 'g',
      generationId: generation,
      memberId,
      groupInstanceId: null,
      offsets: [entry('t', 0, 1n), entry('old', 0, 1n)],
    });
    const r = await h.coordinator.deleteOffsets('g', [
      { topic: 't', partition: 0 },
      { topic: 'old', partition: 0 },
    ]);
    assert.deepEqual(r.partitions, [
      { topic: 't', partition: 0, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC },
      { topic: 'old', partition: 0, errorCode: 0 },
    ]);
    assert.equal((await h.coordinator.fetchOffsets('g', null)).offsets.length, 1);
  });

  it('a non-consumer group with members: NON_EMPTY_GROUP', async () => {
    const h = harness();
    const j = await startJoin(h.coordinator, { protocolType: 'connect' });
    await h.clock.advance(0);
    assert.equal(j.join.value().errorCode, 0);
    const r = await h.coordinator.deleteOffsets('g', [{ topic: 't', partition: 0 }]);
    assert.deepEqual(r, { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] });
  });
});

describe('offset expiration (offsets.retention.minutes, KIP-211)', () => {
  const DAY = 24 * 3600 * 1000;

  it('simple consumers: offsets expire by commit time, then the group goes', async () => {
    const h = harness();
    await h.coordinator.commitOffsets('g', [entry('t', 0, 1n)]);
    await h.clock.advance(DAY);
    await h.coordinator.commitOffsets('g', [entry('t', 1, 1n)]);
    assert.equal(await h.coordinator.expireOffsets(h.clock.time, DAY), 1);
    assert.deepEqual(
      (await h.coordinator.fetchOffsets('g', null)).offsets.map((o) => o.partition),
      [1],
    );
    assert.equal(await h.coordinator.expireOffsets(h.clock.time + DAY, DAY), 1);
    assert.equal(h.coordinator.inspect('g'), undefined);
  });

  it('consumer groups: retention starts when the group becomes Empty, not at the commit', async () => {
    const h = harness();
    const { memberId, generation } = await groupIn(h, 'Stable');
    await h.coordinator.offsetCommit({
      groupId: 'g',
      generationId: generation,
      memberId,
      groupInstanceId: null,
      offsets: [entry('t', 0, 1n), entry('gone', 0, 1n)],
    });
    // While Stable, only topics nobody subscribes to expire (by commit time).
    const retention = 60_000;
    for (let i = 0; i < 13; i++) {
      await h.clock.advance(5000);
      await h.coordinator.heartbeat({ groupId: 'g', generationId: generation, memberId, groupInstanceId: null });
    }
    assert.equal(await h.coordinator.expireOffsets(h.clock.time, retention), 1);
    assert.deepEqual(
      (await h.coordinator.fetchOffsets('g', null)).offsets.map((o) => o.topic),
      ['t'],
    );
    await h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId, groupInstanceId: null }] });
    assert.equal(h.coordinator.inspect('g')?.state, 'Empty');
    const emptySince = h.clock.time;
    assert.equal(await h.coordinator.expireOffsets(emptySince + retention - 1, retention), 0);
    assert.equal(await h.coordinator.expireOffsets(emptySince + retention, retention), 1);
    assert.equal(h.coordinator.inspect('g'), undefined);
  });

  it('an explicit expire timestamp (OffsetCommit v1-4 retention) wins', async () => {
    const h = harness();
    await h.coordinator.commitOffsets('g', [{ ...entry('t', 0, 1n), expireTimestamp: h.clock.time + 1000 }]);
    assert.equal(await h.coordinator.expireOffsets(h.clock.time + 999, DAY), 0);
    assert.equal(await h.coordinator.expireOffsets(h.clock.time + 1000, DAY), 1);
  });

  it('offsets with a commit in flight do not expire', async () => {
    const h = harness();
    await h.coordinator.commitOffsets('g', [entry('t', 0, 1n)]);
    h.store.hold = true;
    const p = track(h.coordinator.commitOffsets('g', [entry('t', 0, 2n)]));
    assert.equal(await h.coordinator.expireOffsets(h.clock.time + 2 * DAY, DAY), 0);
    h.store.release();
    await h.clock.advance(0);
    assert.equal(p.value()[0]!.errorCode, 0);
    assert.equal(h.coordinator.inspect('g')?.offsets.get('t', 0)?.offset, 2n);
  });
});
