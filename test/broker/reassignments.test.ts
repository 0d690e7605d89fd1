/**
 * AlterPartitionReassignments and ListPartitionReassignments on a single-node broker (in process, over a real
 * socket), answered as Kafka's controller answers for a cluster of one: the only valid target is this broker
 * (NONE, nothing moves), other brokers are not alive, empty and duplicate lists are invalid, unknown partitions
 * are UNKNOWN_TOPIC_OR_PARTITION, cancelling finds nothing in progress, and nothing is ever listed. The Admin
 * client reports the same codes per partition.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import { Admin, KafkaAdminError } from '../../src/client/admin/index.js';
import { BrokerConnection } from '../../src/client/network/connection.js';
import {
  type AlterPartitionReassignmentsResponse,
  ErrorCode,
  type ListPartitionReassignmentsResponse,
} from '../../src/protocol/index.js';

let kafka: StartedBroker;
let conn: BrokerConnection;
let admin: Admin;

before(async () => {
  kafka = await startBroker();
  conn = await BrokerConnection.connect({ host: kafka.host, port: kafka.port, clientId: 'reassignments-test' });
  admin = new Admin({ bootstrapServers: [kafka.bootstrap] });
  await admin.createTopics([{ name: 'solo', numPartitions: 2, replicationFactor: 1 }]);
});

after(async () => {
  await admin?.close();
  conn?.close();
  await kafka?.stop();
});

describe('partition reassignments on a single-node broker', () => {
  it('AlterPartitionReassignments: per-partition codes as for a cluster of one', async () => {
    const self = kafka.broker.nodeId;
    const res = await conn.send<AlterPartitionReassignmentsResponse>(45, 0, {
      timeoutMs: 10_000,
      topics: [
        {
          name: 'solo',
          partitions: [
            { partitionIndex: 0, replicas: [self] },
            { partitionIndex: 1, replicas: [self, self + 1] },
            { partitionIndex: 1, replicas: [] },
            { partitionIndex: 1, replicas: [self, self] },
            { partitionIndex: 0, replicas: null },
            { partitionIndex: 9, replicas: [self] },
          ],
        },
        { name: 'missing', partitions: [{ partitionIndex: 0, replicas: [self] }] },
      ],
    });
    assert.equal(res.errorCode, ErrorCode.NONE);
    const codes = res.responses.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.errorCode]));
    assert.deepEqual(codes, [
      ['solo', 0, ErrorCode.NONE],
      ['solo', 1, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ['solo', 1, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ['solo', 1, ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ['solo', 0, ErrorCode.NO_REASSIGNMENT_IN_PROGRESS],
      ['solo', 9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['missing', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    const messages = res.responses[0]!.partitions.map((p) => p.errorMessage);
    assert.match(messages[1] ?? '', /not alive: \[\d+\]/);
    assert.match(messages[2] ?? '', /empty/);
    assert.match(messages[3] ?? '', /twice/);
  });

  it('ListPartitionReassignments: nothing in progress, for all or named partitions', async () => {
    for (const topics of [null, [{ name: 'solo', partitionIndexes: [0, 1] }]]) {
      const res = await conn.send<ListPartitionReassignmentsResponse>(46, 0, { timeoutMs: 10_000, topics });
      assert.equal(res.errorCode, ErrorCode.NONE);
      assert.deepEqual(res.topics, []);
    }
  });

  it('the Admin client: accepted partitions resolve, refused ones fail with their own code', async () => {
    const self = kafka.broker.nodeId;
    assert.deepEqual(await admin.alterPartitionReassignments([{ topic: 'solo', partition: 0, replicas: [self] }]), [
      { topic: 'solo', partition: 0 },
    ]);
    const err = await admin
      .alterPartitionReassignments([
        { topic: 'solo', partition: 0, replicas: [self] },
        { topic: 'solo', partition: 1, replicas: null },
        { topic: 'solo', partition: 1, replicas: [7] },
      ])
      .catch((e: unknown) => e);
    assert.ok(err instanceof KafkaAdminError, String(err));
    assert.deepEqual(
      err.failures.map((f) => [f.item, (f.error as { code?: number }).code]),
      [
        ['solo-1', ErrorCode.NO_REASSIGNMENT_IN_PROGRESS],
        ['solo-1', ErrorCode.INVALID_REPLICA_ASSIGNMENT],
      ],
    );
    assert.deepEqual(err.results, [{ topic: 'solo', partition: 0 }]);
    assert.deepEqual(await admin.listPartitionReassignments(), []);
    assert.deepEqual(await admin.listPartitionReassignments([{ topic: 'solo', partition: 0 }]), []);
  });
});
