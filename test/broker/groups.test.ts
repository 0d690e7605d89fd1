/**
 * The classic group APIs over real sockets against an in-process broker: JoinGroup (two-step join, KIP-394),
 * SyncGroup, Heartbeat, LeaveGroup (v0 and batch), OffsetCommit / OffsetFetch (one group and several, v8),
 * OffsetDelete, ListGroups, DescribeGroups and DeleteGroups, checked for Kafka's codes and effects. Each member
 * has its own connection: a JoinGroup parks until the round completes, and a connection serves one request at a
 * time, as in Kafka.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import {
  type DeleteGroupsResponse,
  type DescribeGroupsResponse,
  ErrorCode,
  type HeartbeatResponse,
  type JoinGroupResponse,
  type LeaveGroupResponse,
  type ListGroupsResponse,
  type OffsetCommitResponse,
  type OffsetDeleteResponse,
  type OffsetFetchResponse,
  type SyncGroupResponse,
  Writer,
  writeConsumerProtocolSubscription,
} from '../../src/protocol/index.js';
import { RawClient } from './raw-client.js';

const TOPIC = 'group-topic';
const OTHER = 'other-topic';
const SESSION_TIMEOUT_MS = 30_000;

let kafka: StartedBroker;
const clients: RawClient[] = [];

async function connect(): Promise<RawClient> {
  const c = await RawClient.connect(kafka.port);
  clients.push(c);
  return c;
}

/** ConsumerProtocolSubscription v0 bytes (version prefix, topics, no user data). */
function subscription(topics: string[]): Buffer {
  const w = new Writer();
  w.int16(0);
  writeConsumerProtocolSubscription(w, 0, { topics, userData: null });
  return w.toBuffer();
}

interface JoinOptions {
  memberId?: string;
  groupInstanceId?: string | null;
  reason?: string | null;
  topics?: string[];
}

function join(c: RawClient, version: number, groupId: string, o: JoinOptions = {}): Promise<JoinGroupResponse> {
  return c.request<JoinGroupResponse>(11, version, {
    groupId,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    rebalanceTimeoutMs: SESSION_TIMEOUT_MS,
    memberId: o.memberId ?? '',
    groupInstanceId: o.groupInstanceId ?? null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription(o.topics ?? [TOPIC]) }],
    reason: o.reason ?? null,
  });
}

/** The v4+ two-step join: MEMBER_ID_REQUIRED with an id, then the real join with it (may park). */
async function joinTwoStep(
  c: RawClient,
  version: number,
  groupId: string,
): Promise<{ parked: Promise<JoinGroupResponse> }> {
  const first = await join(c, version, groupId);
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  assert.notEqual(first.memberId, '');
  // Wrapped: an async function returning a promise would wait for it.
  return { parked: join(c, version, groupId, { memberId: first.memberId }) };
}

function sync(
  c: RawClient,
  version: number,
  groupId: string,
  generationId: number,
  memberId: string,
  assignments: { memberId: string; assignment: Buffer }[] = [],
): Promise<SyncGroupResponse> {
  return c.request<SyncGroupResponse>(14, version, {
    groupId,
    generationId,
    memberId,
    groupInstanceId: null,
    protocolType: version >= 5 ? 'consumer' : null,
    protocolName: version >= 5 ? 'range' : null,
    assignments,
  });
}

function heartbeat(c: RawClient, groupId: string, generationId: number, memberId: string): Promise<HeartbeatResponse> {
  return c.request<HeartbeatResponse>(12, 4, { groupId, generationId, memberId, groupInstanceId: null });
}

function commit(
  c: RawClient,
  version: number,
  groupId: string,
  generationId: number,
  memberId: string,
  offsets: [topic: string, partition: number, offset: bigint, metadata: string | null][],
): Promise<OffsetCommitResponse> {
  const topics = new Map<
    string,
    { partitionIndex: number; committedOffset: bigint; committedMetadata: string | null }[]
  >();
  for (const [topic, partition, offset, metadata] of offsets) {
    const list = topics.get(topic) ?? [];
    list.push({ partitionIndex: partition, committedOffset: offset, committedMetadata: metadata });
    topics.set(topic, list);
  }
  return c.request<OffsetCommitResponse>(8, version, {
    groupId,
    generationIdOrMemberEpoch: generationId,
    memberId,
    groupInstanceId: null,
    topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
  });
}

/** [topic, partition, errorCode] of an OffsetCommit response, in response order. */
const commitCodes = (r: OffsetCommitResponse): [string, number, number][] =>
  r.topics.flatMap((t) => t.partitions.map((p): [string, number, number] => [t.name, p.partitionIndex, p.errorCode]));

const assignment = (text: string): Buffer => Buffer.from(text);

before(async () => {
  kafka = await startBroker({ config: { 'group.initial.rebalance.delay.ms': '0' } });
  for (const [name, numPartitions] of [
    [TOPIC, 3],
    [OTHER, 2],
  ] as const) {
    await kafka.broker.topics.createTopic({ name, numPartitions, replicationFactor: 1, assignments: [], configs: {} });
  }
});

after(async () => {
  for (const c of clients) c.close();
  await kafka?.stop();
});

describe('JoinGroup / SyncGroup / Heartbeat / LeaveGroup', () => {
  it('v4+ makes a new member join twice: MEMBER_ID_REQUIRED with its id, then the join with it', async () => {
    const c = await connect();
    const first = await join(c, 9, 'two-step');
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.match(first.memberId, /^raw-client-/);
    assert.equal(first.generationId, -1);
    const second = await join(c, 9, 'two-step', { memberId: first.memberId, reason: 'test' });
    assert.equal(second.errorCode, ErrorCode.NONE);
    assert.equal(second.memberId, first.memberId);
    assert.equal(second.leader, first.memberId);
    assert.equal(second.generationId, 1);
    assert.equal(second.protocolType, 'consumer');
    assert.equal(second.protocolName, 'range');
    assert.equal(second.skipAssignment, false);
    assert.deepEqual(
      second.members.map((m) => [m.memberId, m.groupInstanceId, m.metadata]),
      [[first.memberId, null, subscription([TOPIC])]],
    );
    const s = await sync(c, 5, 'two-step', 1, first.memberId, [
      { memberId: first.memberId, assignment: assignment('a') },
    ]);
    assert.deepEqual(
      [s.errorCode, s.protocolType, s.protocolName, s.assignment],
      [0, 'consumer', 'range', assignment('a')],
    );
    // Before v7 the protocol type is not sent back.
    const again = await join(c, 6, 'two-step', { memberId: first.memberId });
    assert.equal(again.errorCode, ErrorCode.NONE);
    assert.equal(again.protocolType, null);
    assert.equal(again.protocolName, 'range');
  });

  it('v0-3 join in one step; an unknown member id is UNKNOWN_MEMBER_ID', async () => {
    const c = await connect();
    const r = await join(c, 0, 'one-step');
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.leader, r.memberId);
    assert.equal(r.protocolName, 'range');
    const unknown = await join(c, 3, 'one-step', { memberId: 'nobody' });
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    // An error response before v7 has a protocol name of '' (not nullable there).
    assert.equal(unknown.protocolName, '');
    const empty = await join(c, 5, '');
    assert.equal(empty.errorCode, ErrorCode.INVALID_GROUP_ID);
  });

  it('a two-member group: the leader gets both members, sync hands out its assignments, a third joiner rebalances', async () => {
    const group = 'pair';
    const [a, b, c] = [await connect(), await connect(), await connect()];
    const aJoin = await (await joinTwoStep(a, 5, group)).parked;
    assert.equal(aJoin.errorCode, ErrorCode.NONE);
    const aId = aJoin.memberId;
    assert.equal(
      (await sync(a, 3, group, aJoin.generationId, aId, [{ memberId: aId, assignment: assignment('solo') }])).errorCode,
      0,
    );
    assert.equal((await heartbeat(a, group, aJoin.generationId, aId)).errorCode, ErrorCode.NONE);

    // B joins: the group rebalances; A learns it from its heartbeat and rejoins.
    const bParked = (await joinTwoStep(b, 5, group)).parked;
    assert.equal((await heartbeat(a, group, aJoin.generationId, aId)).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
    const [aRe, bRe] = await Promise.all([join(a, 5, group, { memberId: aId }), bParked]);
    assert.equal(aRe.errorCode, ErrorCode.NONE);
    assert.equal(bRe.errorCode, ErrorCode.NONE);
    const gen = aRe.generationId;
    assert.equal(bRe.generationId, gen);
    assert.equal(gen, aJoin.generationId + 1);
    const bId = bRe.memberId;
    // A stays leader; only the leader's response lists the members.
    assert.equal(aRe.leader, aId);
    assert.equal(bRe.leader, aId);
    assert.deepEqual(aRe.members.map((m) => m.memberId).sort(), [aId, bId].sort());
    assert.deepEqual(bRe.members, []);

    // The follower's sync waits for the leader's.
    const bSync = sync(b, 4, group, gen, bId);
    const aSync = await sync(a, 4, group, gen, aId, [
      { memberId: aId, assignment: assignment('for-a') },
      { memberId: bId, assignment: assignment('for-b') },
    ]);
    assert.deepEqual([aSync.errorCode, aSync.assignment], [0, assignment('for-a')]);
    assert.deepEqual([(await bSync).errorCode, (await bSync).assignment], [0, assignment('for-b')]);
    assert.equal((await heartbeat(b, group, gen, bId)).errorCode, ErrorCode.NONE);
    assert.equal((await heartbeat(b, group, gen - 1, bId)).errorCode, ErrorCode.ILLEGAL_GENERATION);
    assert.equal((await heartbeat(b, group, gen, 'nobody')).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);

    // Describe the Stable group: members with their metadata and assignments, and the host as Kafka prints it.
    const dc = await connect();
    const described = await dc.request<DescribeGroupsResponse>(15, 5, {
      groups: [group],
      includeAuthorizedOperations: true,
    });
    const g = described.groups[0]!;
    assert.deepEqual([g.errorCode, g.groupState, g.protocolType, g.protocolData], [0, 'Stable', 'consumer', 'range']);
    assert.ok(g.authorizedOperations > 0);
    const byId = new Map(g.members.map((m) => [m.memberId, m]));
    assert.deepEqual(byId.get(bId)?.memberAssignment, assignment('for-b'));
    assert.deepEqual(byId.get(aId)?.memberMetadata, subscription([TOPIC]));
    assert.equal(byId.get(aId)?.clientId, 'raw-client');
    assert.equal(byId.get(aId)?.clientHost, '/127.0.0.1');
    // A group with members cannot be deleted.
    const del = await dc.request<DeleteGroupsResponse>(42, 2, { groupsNames: [group] });
    assert.deepEqual(del.results, [{ groupId: group, errorCode: ErrorCode.NON_EMPTY_GROUP }]);

    // A third member: both heartbeats see the rebalance.
    const cParked = (await joinTwoStep(c, 7, group)).parked;
    assert.equal((await heartbeat(a, group, gen, aId)).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
    assert.equal((await heartbeat(b, group, gen, bId)).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
    const listed = await dc.request<ListGroupsResponse>(16, 5, {
      statesFilter: ['preparingrebalance'],
      typesFilter: [],
    });
    assert.deepEqual(
      listed.groups.map((x) => [x.groupId, x.protocolType, x.groupState, x.groupType]),
      [[group, 'consumer', 'PreparingRebalance', 'classic']],
    );
    const [a3, b3, c3] = await Promise.all([
      join(a, 5, group, { memberId: aId }),
      join(b, 5, group, { memberId: bId }),
      cParked,
    ]);
    for (const r of [a3, b3, c3]) assert.deepEqual([r.errorCode, r.generationId], [0, gen + 1]);
    assert.equal(a3.members.length, 3);
    const cId = c3.memberId;
    const syncs = await Promise.all([
      sync(a, 5, group, gen + 1, aId, [
        { memberId: aId, assignment: assignment('a3') },
        { memberId: bId, assignment: assignment('b3') },
        { memberId: cId, assignment: assignment('c3') },
      ]),
      sync(b, 5, group, gen + 1, bId),
      sync(c, 5, group, gen + 1, cId),
    ]);
    assert.deepEqual(
      syncs.map((s) => [s.errorCode, s.assignment.toString()]),
      [
        [0, 'a3'],
        [0, 'b3'],
        [0, 'c3'],
      ],
    );

    // C leaves with v0 (one member, one error code); leaving again is UNKNOWN_MEMBER_ID.
    const left = await c.request<LeaveGroupResponse>(13, 0, { groupId: group, memberId: cId });
    assert.deepEqual([left.errorCode, left.members], [0, []]);
    const again = await c.request<LeaveGroupResponse>(13, 2, { groupId: group, memberId: cId });
    assert.equal(again.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await heartbeat(a, group, gen + 1, aId)).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);

    // A and B leave in one v3+ batch, with an unknown member among them answered per member.
    const batch = await dc.request<LeaveGroupResponse>(13, 5, {
      groupId: group,
      members: [
        { memberId: aId, groupInstanceId: null, reason: 'done' },
        { memberId: bId, groupInstanceId: null, reason: null },
        { memberId: 'nobody', groupInstanceId: null, reason: null },
      ],
    });
    assert.equal(batch.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      batch.members.map((m) => [m.memberId, m.errorCode]),
      [
        [aId, 0],
        [bId, 0],
        ['nobody', ErrorCode.UNKNOWN_MEMBER_ID],
      ],
    );
    const empty = await dc.request<DescribeGroupsResponse>(15, 4, { groups: [group] });
    assert.deepEqual([empty.groups[0]!.groupState, empty.groups[0]!.members], ['Empty', []]);
    // Now it can be deleted; a second delete does not find it.
    const deleted = await dc.request<DeleteGroupsResponse>(42, 0, { groupsNames: [group, 'never-existed'] });
    assert.deepEqual(deleted.results, [
      { groupId: group, errorCode: ErrorCode.NONE },
      { groupId: 'never-existed', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    const gone = await dc.request<DescribeGroupsResponse>(15, 0, { groups: [group] });
    assert.deepEqual([gone.groups[0]!.errorCode, gone.groups[0]!.groupState], [0, 'Dead']);
  });
});

describe('OffsetCommit / OffsetFetch / OffsetDelete', () => {
  it('commits with metadata and fetches back (one group, all partitions, several groups in v8+)', async () => {
    const c = await connect();
    // A standalone commit (generation -1, no member) as simple consumers and admin tools send it.
    const r = await commit(c, 8, 'offsets-a', -1, '', [
      [TOPIC, 0, 10n, 'meta-0'],
      [TOPIC, 2, 12n, null],
      [OTHER, 1, 5n, ''],
    ]);
    assert.deepEqual(commitCodes(r), [
      [TOPIC, 0, 0],
      [TOPIC, 2, 0],
      [OTHER, 1, 0],
    ]);
    assert.deepEqual(commitCodes(await commit(c, 2, 'offsets-b', -1, '', [[TOPIC, 1, 7n, 'b']])), [[TOPIC, 1, 0]]);

    const one = await c.request<OffsetFetchResponse>(9, 7, {
      groupId: 'offsets-a',
      topics: [{ name: TOPIC, partitionIndexes: [0, 1, 2] }],
      requireStable: true,
    });
    assert.equal(one.errorCode, 0);
    assert.deepEqual(
      one.topics.map((t) => [
        t.name,
        t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata, p.errorCode]),
      ]),
      [
        [
          TOPIC,
          [
            [0, 10n, 'meta-0', 0],
            [1, -1n, '', 0],
            [2, 12n, '', 0],
          ],
        ],
      ],
    );
    // topics null: every committed partition (v2+); v1 asks by name.
    const all = await c.request<OffsetFetchResponse>(9, 2, { groupId: 'offsets-a', topics: null });
    assert.deepEqual(
      all.topics
        .flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.committedOffset]))
        .sort((x, y) => String(x).localeCompare(String(y))),
      [
        [TOPIC, 0, 10n],
        [TOPIC, 2, 12n],
        [OTHER, 1, 5n],
      ],
    );
    const v1 = await c.request<OffsetFetchResponse>(9, 1, {
      groupId: 'offsets-b',
      topics: [{ name: TOPIC, partitionIndexes: [1] }],
    });
    assert.deepEqual(
      v1.topics[0]!.partitions.map((p) => [p.committedOffset, p.metadata]),
      [[7n, 'b']],
    );

    // v8: several groups, one unknown (offsets -1, no error), one asking for all topics.
    const many = await c.request<OffsetFetchResponse>(9, 8, {
      groups: [
        { groupId: 'offsets-a', topics: [{ name: OTHER, partitionIndexes: [0, 1] }] },
        { groupId: 'offsets-b', topics: null },
        { groupId: 'no-such-group', topics: [{ name: TOPIC, partitionIndexes: [0] }] },
      ],
      requireStable: false,
    });
    assert.deepEqual(
      many.groups.map((g) => [
        g.groupId,
        g.errorCode,
        g.topics.map((t) => [
          t.name,
          t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata, p.errorCode]),
        ]),
      ]),
      [
        [
          'offsets-a',
          0,
          [
            [
              OTHER,
              [
                [0, -1n, '', 0],
                [1, 5n, '', 0],
              ],
            ],
          ],
        ],
        ['offsets-b', 0, [[TOPIC, [[1, 7n, 'b', 0]]]]],
        ['no-such-group', 0, [[TOPIC, [[0, -1n, '', 0]]]]],
      ],
    );
  });

  it('checks topics, partitions, generation and member', async () => {
    const group = 'commit-checks';
    const c = await connect();
    const joined = await (await joinTwoStep(c, 9, group)).parked;
    assert.equal(joined.errorCode, 0);
    const { generationId: gen, memberId } = joined;
    assert.equal((await sync(c, 5, group, gen, memberId, [{ memberId, assignment: assignment('x') }])).errorCode, 0);

    // Unknown topic and out-of-range partition are refused per partition; the rest is committed.
    const mixed = await commit(c, 9, group, gen, memberId, [
      [TOPIC, 0, 1n, 'ok'],
      [TOPIC, 3, 1n, null],
      ['no-such-topic', 0, 1n, null],
      [TOPIC, -1, 1n, null],
    ]);
    assert.deepEqual(commitCodes(mixed), [
      [TOPIC, 0, 0],
      [TOPIC, 3, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [TOPIC, -1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['no-such-topic', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    assert.deepEqual(commitCodes(await commit(c, 6, group, gen + 1, memberId, [[TOPIC, 1, 1n, null]])), [
      [TOPIC, 1, ErrorCode.ILLEGAL_GENERATION],
    ]);
    assert.deepEqual(commitCodes(await commit(c, 6, group, gen, 'nobody', [[TOPIC, 1, 1n, null]])), [
      [TOPIC, 1, ErrorCode.UNKNOWN_MEMBER_ID],
    ]);
    // A standalone commit to a group with members is refused too (Kafka: UNKNOWN_MEMBER_ID).
    assert.notEqual(commitCodes(await commit(c, 5, group, -1, '', [[TOPIC, 1, 1n, null]]))[0]![2], 0);
    const fetched = await c.request<OffsetFetchResponse>(9, 5, {
      groupId: group,
      topics: [{ name: TOPIC, partitionIndexes: [0, 1] }],
    });
    assert.deepEqual(
      fetched.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata]),
      [
        [0, 1n, 'ok'],
        [1, -1n, ''],
      ],
    );

    // OffsetDelete: refused while the member subscribes to the topic, allowed for a topic it does not.
    assert.equal(
      (await commit(c, 8, group, gen, memberId, [[OTHER, 0, 3n, null]]))!.topics[0]!.partitions[0]!.errorCode,
      0,
    );
    const od = await c.request<OffsetDeleteResponse>(47, 0, {
      groupId: group,
      topics: [
        { name: TOPIC, partitions: [{ partitionIndex: 0 }] },
        { name: OTHER, partitions: [{ partitionIndex: 0 }] },
        { name: 'no-such-topic', partitions: [{ partitionIndex: 0 }] },
      ],
    });
    assert.equal(od.errorCode, 0);
    assert.deepEqual(
      od.topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.errorCode])).sort(),
      [
        [OTHER, 0, 0],
        [TOPIC, 0, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC],
        ['no-such-topic', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ].sort(),
    );
    const afterDelete = await c.request<OffsetFetchResponse>(9, 6, {
      groupId: group,
      topics: [
        { name: OTHER, partitionIndexes: [0] },
        { name: TOPIC, partitionIndexes: [0] },
      ],
    });
    assert.deepEqual(
      afterDelete.topics.map((t) => [t.name, t.partitions[0]!.committedOffset]),
      [
        [OTHER, -1n],
        [TOPIC, 1n],
      ],
    );
    const unknownGroup = await c.request<OffsetDeleteResponse>(47, 0, { groupId: 'no-such-group', topics: [] });
    assert.equal(unknownGroup.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);

    // After leaving, the group is Empty: listed as such, and its offsets can be deleted; once none are left the
    // group is retired (Kafka's cleanup), so deleting it finds nothing.
    const left = await c.request<LeaveGroupResponse>(13, 1, { groupId: group, memberId });
    assert.equal(left.errorCode, 0);
    const listed = await c.request<ListGroupsResponse>(16, 4, { statesFilter: ['Empty'] });
    assert.ok(listed.groups.some((g) => g.groupId === group && g.groupState === 'Empty'));
    const notListed = await c.request<ListGroupsResponse>(16, 4, { statesFilter: ['Stable'] });
    assert.ok(!notListed.groups.some((g) => g.groupId === group));
    const v0 = await c.request<ListGroupsResponse>(16, 0, {});
    assert.ok(v0.groups.some((g) => g.groupId === group && g.protocolType === 'consumer' && g.groupState === ''));
    const od2 = await c.request<OffsetDeleteResponse>(47, 0, {
      groupId: group,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0 }] }],
    });
    assert.deepEqual([od2.errorCode, od2.topics[0]!.partitions[0]!.errorCode], [0, 0]);
    const del = await c.request<DeleteGroupsResponse>(42, 1, { groupsNames: [group] });
    assert.deepEqual(del.results, [{ groupId: group, errorCode: ErrorCode.GROUP_ID_NOT_FOUND }]);
  });
});
