import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import { harness, joinRequest, startJoin, subscription, track } from './helpers.js';

const syncReq = (
  generationId: number,
  memberId: string,
  assignments: { memberId: string; assignment: Buffer }[] = [],
) => ({
  groupId: 'g',
  generationId,
  memberId,
  groupInstanceId: null,
  protocolType: null,
  protocolName: null,
  assignments,
});

describe('ListGroups / DescribeGroups / DeleteGroups', () => {
  it('lists groups with state (KIP-518) and type (KIP-848) filters, case-insensitively', async () => {
    const h = harness();
    await h.coordinator.commitOffsets('simple', [
      { topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: '' },
    ]);
    const j = await startJoin(h.coordinator);
    await h.clock.advance(0);
    assert.equal(j.join.value().errorCode, 0);
    const all = await h.coordinator.listGroups();
    assert.deepEqual(
      all.groups.map((g) => [g.groupId, g.groupState, g.protocolType, g.groupType]),
      [
        ['simple', 'Empty', '', 'classic'],
        ['g', 'CompletingRebalance', 'consumer', 'classic'],
      ],
    );
    const empty = await h.coordinator.listGroups({ statesFilter: ['empty'] });
    assert.deepEqual(
      empty.groups.map((g) => g.groupId),
      ['simple'],
    );
    assert.equal((await h.coordinator.listGroups({ typesFilter: ['consumer'] })).groups.length, 0);
    assert.equal((await h.coordinator.listGroups({ typesFilter: ['Classic'] })).groups.length, 2);
  });

  it('describes members with metadata and assignment only when Stable; unknown groups are Dead', async () => {
    const h = harness();
    const j = await startJoin(h.coordinator, { protocols: [{ name: 'range', metadata: subscription(['t']) }] });
    await h.clock.advance(0);
    let [d] = await h.coordinator.describeGroups(['g']);
    assert.equal(d!.groupState, 'CompletingRebalance');
    assert.equal(d!.protocolData, '');
    assert.equal(d!.members[0]!.memberMetadata.length, 0);
    await h.coordinator.syncGroup(syncReq(1, j.memberId, [{ memberId: j.memberId, assignment: Buffer.from('A') }]));
    [d] = await h.coordinator.describeGroups(['g']);
    assert.deepEqual(d, {
      groupId: 'g',
      errorCode: 0,
      groupState: 'Stable',
      protocolType: 'consumer',
      protocolData: 'range',
      members: [
        {
          memberId: j.memberId,
          groupInstanceId: null,
          clientId: 'client',
          clientHost: '/127.0.0.1',
          memberMetadata: subscription(['t']),
          memberAssignment: Buffer.from('A'),
        },
      ],
    });
    const [unknown] = await h.coordinator.describeGroups(['nope']);
    assert.deepEqual(unknown, {
      groupId: 'nope',
      errorCode: 0,
      groupState: 'Dead',
      protocolType: '',
      protocolData: '',
      members: [],
    });
  });

  it('deletes Empty groups with their offsets (tombstones); NON_EMPTY_GROUP and GROUP_ID_NOT_FOUND otherwise', async () => {
    const h = harness();
    await h.coordinator.commitOffsets('e', [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: '' }]);
    await startJoin(h.coordinator);
    const r = await h.coordinator.deleteGroups(['e', 'g', 'nope', 'e']);
    assert.deepEqual(r, [
      { groupId: 'e', errorCode: ErrorCode.NONE },
      { groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'nope', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    assert.equal(h.coordinator.inspect('e'), undefined);
    assert.deepEqual(h.store.calls.slice(-2), [
      { kind: 'remove', groupId: 'e', partitions: [{ topic: 't', partition: 0 }] },
      { kind: 'group', groupId: 'e', value: null },
    ]);
    assert.deepEqual((await h.coordinator.fetchOffsets('e', null)).offsets, []);
  });
});

describe('persistence hooks', () => {
  it('SyncGroup answers only after the assignment is stored, with the GroupMetadataValue Kafka writes', async () => {
    const h = harness();
    const a = await startJoin(h.coordinator, { clientId: 'a' });
    const b = await startJoin(h.coordinator, { clientId: 'b', groupInstanceId: null });
    await h.clock.advance(0);
    h.store.hold = true;
    const leader = track(
      h.coordinator.syncGroup(
        syncReq(1, a.memberId, [
          { memberId: a.memberId, assignment: Buffer.from('A') },
          { memberId: b.memberId, assignment: Buffer.from('B') },
        ]),
      ),
    );
    const follower = track(h.coordinator.syncGroup(syncReq(1, b.memberId)));
    await h.clock.advance(0);
    assert.equal(leader.done() || follower.done(), false);
    assert.equal(h.coordinator.inspect('g')?.state, 'CompletingRebalance');
    const value = h.store.groupWrites('g').at(-1)!;
    assert.equal(value.protocolType, 'consumer');
    assert.equal(value.generation, 1);
    assert.equal(value.protocol, 'range');
    assert.equal(value.leader, a.memberId);
    assert.equal(value.currentStateTimestamp, BigInt(h.clock.time));
    assert.deepEqual(
      value.members.map((m) => [m.memberId, m.clientId, m.sessionTimeout, m.rebalanceTimeout, m.assignment.toString()]),
      [
        [a.memberId, 'a', 10_000, 30_000, 'A'],
        [b.memberId, 'b', 10_000, 30_000, 'B'],
      ],
    );
    h.store.release();
    await h.clock.advance(0);
    assert.equal(leader.value().assignment.toString(), 'A');
    assert.equal(follower.value().assignment.toString(), 'B');
    assert.equal(h.coordinator.inspect('g')?.state, 'Stable');
  });

  it('a failed assignment write (e.g. metadata too large) answers everyone and rebalances, state intact', async () => {
    const h = harness();
    const a = await startJoin(h.coordinator, { clientId: 'a' });
    const b = await startJoin(h.coordinator, { clientId: 'b' });
    await h.clock.advance(0);
    h.store.failWith = new KafkaError(ErrorCode.MESSAGE_TOO_LARGE);
    const follower = track(h.coordinator.syncGroup(syncReq(1, b.memberId)));
    const leader = await h.coordinator.syncGroup(
      syncReq(1, a.memberId, [{ memberId: a.memberId, assignment: Buffer.from('A') }]),
    );
    h.store.failWith = null;
    await h.clock.advance(0);
    assert.equal(leader.errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
    assert.equal(follower.value().errorCode, ErrorCode.UNKNOWN_SERVER_ERROR);
    const g = h.coordinator.inspect('g')!;
    assert.equal(g.state, 'PreparingRebalance');
    assert.equal(g.size, 2);
    for (const m of g.members) assert.equal(m.assignment.length, 0);
    // Everyone rejoins and the next generation works.
    const ja = track(h.coordinator.joinGroup(joinRequest({ clientId: 'a', memberId: a.memberId })));
    const jb = track(h.coordinator.joinGroup(joinRequest({ clientId: 'b', memberId: b.memberId })));
    await h.clock.advance(0);
    assert.equal(ja.value().generationId, 2);
    assert.equal(jb.value().generationId, 2);
  });

  it('timeouts store as REBALANCE_IN_PROGRESS for group writes', async () => {
    const h = harness();
    const a = await startJoin(h.coordinator);
    await h.clock.advance(0);
    h.store.failWith = new KafkaError(ErrorCode.REQUEST_TIMED_OUT);
    const r = await h.coordinator.syncGroup(syncReq(1, a.memberId));
    assert.equal(r.errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('a member leaving while the assignment is being stored: waiting syncs are told to rejoin; the late write is ignored', async () => {
    const h = harness();
    const a = await startJoin(h.coordinator, { clientId: 'a' });
    const b = await startJoin(h.coordinator, { clientId: 'b' });
    await h.clock.advance(0);
    h.store.hold = true;
    const leader = track(
      h.coordinator.syncGroup(syncReq(1, a.memberId, [{ memberId: a.memberId, assignment: Buffer.from('A') }])),
    );
    await h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: b.memberId, groupInstanceId: null }] });
    await h.clock.advance(0);
    assert.equal(leader.value().errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
    h.store.release();
    await h.clock.advance(0);
    const g = h.coordinator.inspect('g')!;
    assert.notEqual(g.state, 'Stable');
    assert.equal(g.get(a.memberId)?.assignment.length, 0);
  });
});

describe('loading, ownership and shutdown', () => {
  it('while loading: JoinGroup COORDINATOR_LOAD_IN_PROGRESS, SyncGroup REBALANCE_IN_PROGRESS, Heartbeat NONE', async () => {
    const h = harness();
    h.coordinator.beginLoading();
    assert.equal((await h.coordinator.joinGroup(joinRequest())).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal((await h.coordinator.syncGroup(syncReq(1, 'x'))).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal(
      (await h.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: 'x', groupInstanceId: null }))
        .errorCode,
      ErrorCode.NONE,
    );
    assert.equal((await h.coordinator.fetchOffsets('g', null)).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal((await h.coordinator.listGroups()).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal((await h.coordinator.describeGroups(['g']))[0]!.errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  });

  it('load rebuilds a Stable group with offsets; members must heartbeat within their session timeout', async () => {
    const h = harness();
    h.coordinator.beginLoading();
    h.coordinator.load(
      'g',
      {
        protocolType: 'consumer',
        generation: 5,
        protocol: 'range',
        leader: 'm2',
        currentStateTimestamp: 123n,
        members: ['m1', 'm2'].map((memberId) => ({
          memberId,
          groupInstanceId: memberId === 'm2' ? 'inst-2' : null,
          clientId: 'c',
          clientHost: 'h',
          rebalanceTimeout: 30_000,
          sessionTimeout: 10_000,
          subscription: subscription(['t']),
          assignment: Buffer.from(`as-${memberId}`),
        })),
      },
      [
        {
          topic: 't',
          partition: 0,
          value: { offset: 9n, leaderEpoch: 1, metadata: 'x', commitTimestamp: 5n, expireTimestamp: -1n },
        },
      ],
    );
    h.coordinator.completeLoading();
    const g = h.coordinator.inspect('g')!;
    assert.equal(g.state, 'Stable');
    assert.equal(g.generationId, 5);
    assert.equal(g.leaderId, 'm2');
    assert.equal(g.staticMemberId('inst-2'), 'm2');
    assert.deepEqual(g.subscribedTopics, new Set(['t']));
    const sync = await h.coordinator.syncGroup({
      ...syncReq(5, 'm1'),
      protocolName: 'range',
      protocolType: 'consumer',
    });
    assert.equal(sync.assignment.toString(), 'as-m1');
    assert.equal((await h.coordinator.fetchOffsets('g', null)).offsets[0]!.offset, 9n);
    // m1 heartbeats, m2 does not: m2 is dropped after its session timeout.
    await h.clock.advance(6000);
    await h.coordinator.heartbeat({ groupId: 'g', generationId: 5, memberId: 'm1', groupInstanceId: null });
    await h.clock.advance(4000);
    assert.equal(g.has('m2'), false);
    assert.equal(g.state, 'PreparingRebalance');
  });

  it('a group this broker does not coordinate gets NOT_COORDINATOR', async () => {
    const h = harness({ isCoordinatorFor: (id) => id !== 'elsewhere' });
    assert.equal(
      (await h.coordinator.joinGroup(joinRequest({ groupId: 'elsewhere' }))).errorCode,
      ErrorCode.NOT_COORDINATOR,
    );
    assert.equal(
      h.coordinator.validateCommit({ groupId: 'elsewhere', generationId: -1, memberId: '', groupInstanceId: null }),
      16,
    );
  });

  it('close answers parked requests with NOT_COORDINATOR, stops timers, and refuses later requests', async () => {
    const h = harness({ config: { groupInitialRebalanceDelayMs: 3000 } });
    const a = await startJoin(h.coordinator);
    h.coordinator.close();
    await h.clock.advance(0);
    assert.equal(a.join.value().errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(h.coordinator.timerCount, 0);
    assert.equal(h.clock.pending, 0);
    assert.equal((await h.coordinator.joinGroup(joinRequest())).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    assert.equal((await h.coordinator.listGroups()).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  });
});
