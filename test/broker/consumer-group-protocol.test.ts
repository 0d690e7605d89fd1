/**
 * The KIP-848 consumer group protocol over real sockets against an in-process broker: ApiVersions advertises
 * ConsumerGroupHeartbeat (68) and ConsumerGroupDescribe (69) v0; heartbeats join, reconcile and leave with the
 * topic ids Metadata reports; ConsumerGroupDescribe; OffsetCommit v9 / OffsetFetch v9 with member epochs; error
 * codes and messages on the wire. Expected behaviour is Apache Kafka's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import {
  type ApiVersionsResponse,
  type ConsumerGroupDescribeResponse,
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResponse,
  ErrorCode,
  type Input,
  type MetadataResponse,
  type OffsetCommitResponse,
  type OffsetFetchResponse,
} from '../../src/protocol/index.js';
import { RawClient } from './raw-client.js';

const TOPIC = 'cg-topic';
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

let kafka: StartedBroker;
let topicId: string;
const clients: RawClient[] = [];

async function connect(): Promise<RawClient> {
  const c = await RawClient.connect(kafka.port);
  clients.push(c);
  return c;
}

function heartbeat(
  c: RawClient,
  body: Partial<Input<ConsumerGroupHeartbeatRequest>>,
  clientId = 'raw-client',
): Promise<ConsumerGroupHeartbeatResponse> {
  return c.request<ConsumerGroupHeartbeatResponse>(
    68,
    0,
    {
      groupId: 'wire-group',
      memberId: '',
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 30_000,
      subscribedTopicNames: [TOPIC],
      serverAssignor: null,
      topicPartitions: [],
      ...body,
    },
    clientId,
  );
}

/** A v0 member: joins, then heartbeats with its epoch and the partitions it was last given. */
class WireMember {
  memberId = '';
  epoch = 0;
  owned: { topicId: string; partitions: number[] }[] = [];

  constructor(
    readonly c: RawClient,
    readonly groupId: string,
  ) {}

  async join(extra: Partial<Input<ConsumerGroupHeartbeatRequest>> = {}): Promise<ConsumerGroupHeartbeatResponse> {
    return this.apply(await heartbeat(this.c, { groupId: this.groupId, ...extra }));
  }

  async beat(): Promise<ConsumerGroupHeartbeatResponse> {
    return this.apply(
      await heartbeat(this.c, {
        groupId: this.groupId,
        memberId: this.memberId,
        memberEpoch: this.epoch,
        rebalanceTimeoutMs: -1,
        subscribedTopicNames: null,
        topicPartitions: this.owned,
      }),
    );
  }

  private apply(r: ConsumerGroupHeartbeatResponse): ConsumerGroupHeartbeatResponse {
    if (r.errorCode === ErrorCode.NONE) {
      this.memberId = r.memberId!;
      this.epoch = r.memberEpoch;
      if (r.assignment !== null)
        this.owned = r.assignment.topicPartitions.map(({ topicId, partitions }) => ({ topicId, partitions }));
    }
    return r;
  }
}

function describeGroups(c: RawClient, groupIds: string[]): Promise<ConsumerGroupDescribeResponse> {
  return c.request<ConsumerGroupDescribeResponse>(69, 0, { groupIds, includeAuthorizedOperations: false });
}

function commit(
  c: RawClient,
  version: number,
  groupId: string,
  epoch: number,
  memberId: string,
  offset: bigint,
): Promise<OffsetCommitResponse> {
  return c.request<OffsetCommitResponse>(8, version, {
    groupId,
    generationIdOrMemberEpoch: epoch,
    memberId,
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [
      {
        name: TOPIC,
        partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }],
      },
    ],
  });
}

const commitCode = (r: OffsetCommitResponse): number => r.topics[0]!.partitions[0]!.errorCode;

function fetchOffsets(
  c: RawClient,
  groupId: string,
  memberId: string | null,
  memberEpoch: number,
): Promise<OffsetFetchResponse> {
  return c.request<OffsetFetchResponse>(9, 9, {
    groupId: '',
    topics: null,
    requireStable: false,
    groups: [{ groupId, memberId, memberEpoch, topics: [{ name: TOPIC, partitionIndexes: [0] }] }],
  });
}

before(async () => {
  kafka = await startBroker({ config: { 'group.initial.rebalance.delay.ms': '0' } });
  await kafka.broker.topics.createTopic({
    name: TOPIC,
    numPartitions: 4,
    replicationFactor: 1,
    assignments: [],
    configs: {},
  });
  const c = await connect();
  const md = await c.metadata(12, {
    topics: [{ topicId: ZERO_UUID, name: TOPIC }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  assert.equal(md.topics[0]!.errorCode, ErrorCode.NONE);
  topicId = (md as MetadataResponse).topics[0]!.topicId;
  assert.notEqual(topicId, ZERO_UUID);
});

after(async () => {
  for (const c of clients) c.close();
  await kafka?.stop();
});

describe('KIP-848 over the wire', () => {
  it('ApiVersions advertises ConsumerGroupHeartbeat v0 and ConsumerGroupDescribe v0', async () => {
    const c = await connect();
    const r = await c.request<ApiVersionsResponse>(18, 3, {
      clientSoftwareName: 'cg-test',
      clientSoftwareVersion: '1',
    });
    assert.equal(r.errorCode, ErrorCode.NONE);
    const ranges = new Map(r.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    assert.deepEqual(ranges.get(68), [0, 0]);
    assert.deepEqual(ranges.get(69), [0, 0]);
  });

  it('a heartbeat round trip: join, assignment with Metadata’s topic ids, steady heartbeats, a second member, leave', async () => {
    const [c1, c2] = [await connect(), await connect()];
    const a = new WireMember(c1, 'round-trip');
    const joined = await a.join();
    assert.equal(joined.errorCode, ErrorCode.NONE);
    assert.equal(joined.errorMessage, null);
    assert.ok(joined.memberId);
    assert.ok(joined.memberEpoch > 0);
    assert.equal(joined.heartbeatIntervalMs, 5000);
    assert.deepEqual(joined.assignment?.topicPartitions, [{ topicId, partitions: [0, 1, 2, 3] }]);

    const steady = await a.beat();
    assert.equal(steady.errorCode, ErrorCode.NONE);
    assert.equal(steady.memberId, a.memberId);
    assert.equal(steady.memberEpoch, joined.memberEpoch);
    assert.equal(steady.assignment, null);

    // A second member: revoke first, then the partitions move.
    const b = new WireMember(c2, 'round-trip');
    const bJoined = await b.join();
    assert.equal(bJoined.errorCode, ErrorCode.NONE);
    assert.equal(bJoined.memberEpoch, joined.memberEpoch + 1);
    for (let i = 0; i < 4; i++) {
      assert.equal((await a.beat()).errorCode, ErrorCode.NONE);
      assert.equal((await b.beat()).errorCode, ErrorCode.NONE);
    }
    const all = [...a.owned, ...b.owned].flatMap((t) => {
      assert.equal(t.topicId, topicId);
      return t.partitions;
    });
    assert.deepEqual(
      all.sort((x, y) => x - y),
      [0, 1, 2, 3],
    );
    assert.equal(a.owned[0]!.partitions.length, 2);
    assert.equal(a.epoch, b.epoch);

    const left = await heartbeat(c2, { groupId: 'round-trip', memberId: b.memberId, memberEpoch: -1 });
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.memberId, b.memberId);
    assert.equal(left.memberEpoch, -1);
    for (let i = 0; i < 3; i++) await a.beat();
    assert.deepEqual(a.owned, [{ topicId, partitions: [0, 1, 2, 3] }]);
  });

  it('ConsumerGroupDescribe reports the group and its members; unknown groups are GROUP_ID_NOT_FOUND', async () => {
    const c = await connect();
    const a = new WireMember(c, 'described');
    await a.join({ serverAssignor: 'range', instanceId: 'inst-1', rackId: 'rack-a' });
    const r = await describeGroups(c, ['described', 'no-such-group']);
    assert.equal(r.groups.length, 2);
    const [g, missing] = r.groups;
    assert.equal(g!.errorCode, ErrorCode.NONE);
    assert.equal(g!.groupId, 'described');
    assert.equal(g!.groupState, 'Stable');
    assert.equal(g!.groupEpoch, a.epoch);
    assert.equal(g!.assignmentEpoch, a.epoch);
    assert.equal(g!.assignorName, 'range');
    assert.equal(g!.members.length, 1);
    const m = g!.members[0]!;
    assert.equal(m.memberId, a.memberId);
    assert.equal(m.instanceId, 'inst-1');
    assert.equal(m.rackId, 'rack-a');
    assert.equal(m.memberEpoch, a.epoch);
    assert.equal(m.clientId, 'raw-client');
    assert.equal(m.clientHost, '/127.0.0.1');
    assert.deepEqual(m.subscribedTopicNames, [TOPIC]);
    assert.deepEqual(m.assignment.topicPartitions, [{ topicId, topicName: TOPIC, partitions: [0, 1, 2, 3] }]);
    assert.deepEqual(m.targetAssignment.topicPartitions, m.assignment.topicPartitions);
    assert.equal(missing!.groupId, 'no-such-group');
    assert.equal(missing!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    const empty = await describeGroups(c, ['']);
    assert.equal(empty.groups[0]!.errorCode, ErrorCode.INVALID_GROUP_ID);
  });

  it('OffsetCommit v9 and OffsetFetch v9 check the member epoch', async () => {
    const c = await connect();
    const a = new WireMember(c, 'offsets');
    await a.join();
    assert.equal(commitCode(await commit(c, 9, 'offsets', a.epoch, a.memberId, 17n)), ErrorCode.NONE);
    assert.equal(commitCode(await commit(c, 9, 'offsets', a.epoch - 1, a.memberId, 18n)), ErrorCode.STALE_MEMBER_EPOCH);
    assert.equal(commitCode(await commit(c, 9, 'offsets', a.epoch, 'nobody', 18n)), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(commitCode(await commit(c, 8, 'offsets', a.epoch, a.memberId, 18n)), ErrorCode.UNSUPPORTED_VERSION);
    assert.equal(commitCode(await commit(c, 9, 'offsets', -1, '', 18n)), ErrorCode.UNKNOWN_MEMBER_ID);

    const ok = await fetchOffsets(c, 'offsets', a.memberId, a.epoch);
    assert.equal(ok.groups[0]!.errorCode, ErrorCode.NONE);
    assert.equal(ok.groups[0]!.topics[0]!.partitions[0]!.committedOffset, 17n);
    const stale = await fetchOffsets(c, 'offsets', a.memberId, a.epoch - 1);
    assert.equal(stale.groups[0]!.errorCode, ErrorCode.STALE_MEMBER_EPOCH);
    const unknown = await fetchOffsets(c, 'offsets', 'nobody', a.epoch);
    assert.equal(unknown.groups[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const admin = await fetchOffsets(c, 'offsets', null, -1);
    assert.equal(admin.groups[0]!.errorCode, ErrorCode.NONE);
    assert.equal(admin.groups[0]!.topics[0]!.partitions[0]!.committedOffset, 17n);
  });

  it('OffsetCommit v9 with an epoch above the member’s is STALE_MEMBER_EPOCH, as for any epoch but its own', async () => {
    // Kafka's ConsumerGroup.validateOffsetCommit -> validateMemberEpoch: receivedMemberEpoch != expectedMemberEpoch.
    const c = await connect();
    const a = new WireMember(c, 'offsets-ahead');
    await a.join();
    assert.equal(
      commitCode(await commit(c, 9, 'offsets-ahead', a.epoch + 1, a.memberId, 1n)),
      ErrorCode.STALE_MEMBER_EPOCH,
    );
  });

  it('OffsetCommit v9 with an epoch to a group that does not exist is GROUP_ID_NOT_FOUND (v8: ILLEGAL_GENERATION)', async () => {
    const c = await connect();
    assert.equal(commitCode(await commit(c, 8, 'never-created', 3, 'm', 1n)), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(commitCode(await commit(c, 9, 'never-created', 3, 'm', 1n)), ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('errors carry Kafka’s codes and messages', async () => {
    const c = await connect();
    const emptyGroup = await heartbeat(c, { groupId: '' });
    assert.equal(emptyGroup.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(emptyGroup.errorMessage, "GroupId can't be empty.");
    assert.equal(emptyGroup.assignment, null);

    const noTimeout = await heartbeat(c, { groupId: 'errors', rebalanceTimeoutMs: -1 });
    assert.equal(noTimeout.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(noTimeout.errorMessage, 'RebalanceTimeoutMs must be provided in first request.');

    const owning = await heartbeat(c, { groupId: 'errors', topicPartitions: [{ topicId, partitions: [0] }] });
    assert.equal(owning.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(owning.errorMessage, 'TopicPartitions must be empty when (re-)joining.');

    const noMember = await heartbeat(c, { groupId: 'errors', memberEpoch: 1, topicPartitions: null });
    assert.equal(noMember.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(noMember.errorMessage, "MemberId can't be empty.");

    const assignor = await heartbeat(c, { groupId: 'errors', serverAssignor: 'cooperative-sticky' });
    assert.equal(assignor.errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);
    assert.equal(
      assignor.errorMessage,
      'ServerAssignor cooperative-sticky is not supported. Supported assignors: uniform, range.',
    );

    const a = new WireMember(c, 'errors');
    assert.equal((await a.join()).errorCode, ErrorCode.NONE);
    const fenced = await heartbeat(c, {
      groupId: 'errors',
      memberId: a.memberId,
      memberEpoch: a.epoch + 5,
      rebalanceTimeoutMs: -1,
      subscribedTopicNames: null,
      topicPartitions: a.owned,
    });
    assert.equal(fenced.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    assert.ok(fenced.errorMessage, 'FENCED_MEMBER_EPOCH carries a message');

    const unknown = await heartbeat(c, {
      groupId: 'errors',
      memberId: 'nobody',
      memberEpoch: 1,
      rebalanceTimeoutMs: -1,
      topicPartitions: null,
    });
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(unknown.errorMessage, 'Member nobody is not a member of group errors.');
  });

  it('a heartbeat to a group that does not exist is GROUP_ID_NOT_FOUND with Kafka’s message', async () => {
    const c = await connect();
    const missingGroup = await heartbeat(c, {
      groupId: 'errors-missing',
      memberId: 'm',
      memberEpoch: 1,
      rebalanceTimeoutMs: -1,
      topicPartitions: null,
    });
    assert.equal(missingGroup.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(missingGroup.errorMessage, 'Consumer group errors-missing not found.');
  });
});
