/**
 * KIP-848 groups survive a broker restart: their records in `__consumer_offsets` (group and assignment epochs,
 * member metadata, target and current assignments, in Kafka's formats) bring back the same members at the same
 * epochs with the same partitions, so members keep heartbeating as if nothing happened; a member that left or a
 * group that was deleted before the restart stays gone (tombstones).
 *
 * In-process broker on a real data directory, restarted on it; the group is driven through the coordinator the
 * ConsumerGroupHeartbeat handler calls.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import type { ConsumerGroupHeartbeatResult, WireTopicPartitions } from '../../src/coordinator/group/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';

const TOPIC = 'restart-topic';
const GROUP = 'restart-group';
const CONFIG = { 'group.initial.rebalance.delay.ms': '0' };

let dataDir: string;
let kafka: StartedBroker | undefined;

interface Member {
  memberId: string;
  epoch: number;
  owned: WireTopicPartitions[];
}

async function heartbeat(m: Member | null, extra: { leave?: number } = {}): Promise<ConsumerGroupHeartbeatResult> {
  const joining = m === null;
  return kafka!.broker.groups.consumerGroupHeartbeat({
    groupId: GROUP,
    memberId: m?.memberId ?? '',
    memberEpoch: extra.leave ?? m?.epoch ?? 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: joining ? 30000 : -1,
    subscribedTopicNames: joining ? [TOPIC] : null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: joining ? [] : (m?.owned ?? null),
    clientId: 'restart-test',
    clientHost: '/127.0.0.1',
  });
}

/** Heartbeats like a client: takes the epoch and any assignment it is given, reports what it owns. */
async function step(m: Member): Promise<void> {
  const r = await heartbeat(m);
  assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
  m.epoch = r.memberEpoch;
  if (r.assignment !== null) m.owned = r.assignment;
}

async function join(): Promise<Member> {
  const r = await heartbeat(null);
  assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
  return { memberId: r.memberId!, epoch: r.memberEpoch, owned: r.assignment ?? [] };
}

const count = (owned: WireTopicPartitions[]) => owned.reduce((n, t) => n + t.partitions.length, 0);

async function restart(): Promise<void> {
  await kafka!.stop();
  kafka = await startBroker({ dataDir, config: CONFIG });
}

before(async () => {
  dataDir = mkdtempSync(joinPath(tmpdir(), 'samsa-cg-restart-'));
  kafka = await startBroker({ dataDir, config: CONFIG });
  await kafka.broker.topics.createTopic({
    name: TOPIC,
    numPartitions: 6,
    replicationFactor: 1,
    assignments: [],
    configs: {},
  });
});

after(async () => {
  await kafka?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('KIP-848 consumer group across a broker restart', () => {
  let a: Member;
  let b: Member;

  it('a reconciled group comes back with the same epochs, members and partitions', async () => {
    a = await join();
    b = await join();
    for (let i = 0; i < 6; i++) {
      await step(a);
      await step(b);
    }
    const before = kafka!.broker.groups.inspectConsumerGroup(GROUP)!;
    assert.equal(before.state, 'Stable');
    assert.equal(count(a.owned) + count(b.owned), 6);
    const commit = await kafka!.broker.groups.offsetCommit({
      groupId: GROUP,
      generationId: a.epoch,
      memberId: a.memberId,
      groupInstanceId: null,
      apiVersion: 9,
      offsets: [{ topic: TOPIC, partition: 0, offset: 42n, leaderEpoch: -1, metadata: 'kept' }],
    });
    assert.deepEqual(
      commit.map((c) => c.errorCode),
      [ErrorCode.NONE],
    );
    const [described] = await kafka!.broker.groups.consumerGroupDescribe([GROUP]);

    await restart();

    const [again] = await kafka!.broker.groups.consumerGroupDescribe([GROUP]);
    assert.deepEqual(again, described);
    // The members carry on at their epochs: no fencing, no new assignment, no rebalance.
    const epochBefore = described!.groupEpoch;
    for (const m of [a, b]) {
      const ownedBefore = JSON.stringify(m.owned);
      const r = await heartbeat(m);
      assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
      assert.equal(r.memberEpoch, m.epoch);
      assert.equal(r.assignment, null);
      assert.equal(JSON.stringify(m.owned), ownedBefore);
    }
    const [after] = await kafka!.broker.groups.consumerGroupDescribe([GROUP]);
    assert.equal(after!.groupEpoch, epochBefore);
    assert.equal(after!.groupState, 'Stable');
    const fetched = await kafka!.broker.groups.fetchOffsets(GROUP, [{ topic: TOPIC, partition: 0 }], false, {
      memberId: a.memberId,
      memberEpoch: a.epoch,
    });
    assert.equal(fetched.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      fetched.offsets.map((o) => [o.offset, o.metadata]),
      [[42n, 'kept']],
    );
  });

  it('a member that left before the restart stays gone; the other gets its partitions', async () => {
    const left = await heartbeat(b, { leave: -1 });
    assert.equal(left.errorCode, ErrorCode.NONE);
    for (let i = 0; i < 3; i++) await step(a);
    assert.equal(count(a.owned), 6);

    await restart();

    const g = kafka!.broker.groups.inspectConsumerGroup(GROUP)!;
    assert.deepEqual(
      [...g.members].map((m) => m.memberId),
      [a.memberId],
    );
    assert.equal(g.state, 'Stable');
    const unknown = await heartbeat(b);
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    await step(a);
    assert.equal(count(a.owned), 6);
  });

  it('a group deleted before the restart does not come back, nor do its offsets', async () => {
    assert.equal((await heartbeat(a, { leave: -1 })).errorCode, ErrorCode.NONE);
    const deleted = await kafka!.broker.groups.deleteGroups([GROUP]);
    assert.deepEqual(deleted, [{ groupId: GROUP, errorCode: ErrorCode.NONE }]);

    await restart();

    const [described] = await kafka!.broker.groups.consumerGroupDescribe([GROUP]);
    assert.equal(described!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    const fetched = await kafka!.broker.groups.fetchOffsets(GROUP, [{ topic: TOPIC, partition: 0 }]);
    assert.deepEqual(
      fetched.offsets.map((o) => o.offset),
      [-1n],
    );
  });
});
