/**
 * confluent-kafka-python (librdkafka) against the real broker process: AdminClient creates a 3-partition topic per
 * codec; 10,000 keyed messages with headers and timestamps, produced with the Java murmur2 partitioner
 * (murmur2_random), come back byte for byte on the partitions partitionForKey picks, in order at offsets 0..n-1;
 * seeks to an offset and to a timestamp (offsets_for_times) return exactly the records from there; a long-polling
 * fetch is answered when a message arrives; producing to an unknown topic creates it with num.partitions; and the
 * AdminClient administers a topic end to end (create, describe, add partitions, alter and describe configs, an
 * impossible replication factor with Kafka's message, delete).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CODECS, requireTool, skipUnless } from '../harness.js';
import { confluentTool } from '../tools.js';
import type { BrokerProcess } from './broker-process.js';
import {
  checkPythonLongPoll,
  checkPythonRoundTrip,
  keyedMessages,
  PARTITIONS,
  recentBase,
  runPython,
  startTestBroker,
  TEST_TIMEOUT_MS,
} from './scenario.js';

const confluent = confluentTool();

/** The KafkaError name and string of a failed admin operation, null on success. */
type Outcome = [string, string] | null;

interface AdminReport {
  create: Outcome;
  partitionsAfterCreate: number[] | null;
  createAgain: Outcome;
  addPartitions: Outcome;
  partitionsAfterAdd: number[] | null;
  alterConfigs: Outcome;
  /** name -> [value, source, is_default, is_read_only] */
  configs: Record<string, [string | null, number, boolean, boolean]>;
  replicationFactor3: Outcome;
  badTopicListed: boolean;
  delete: Outcome;
  listedAfterDelete: boolean;
  deleteAgain: Outcome;
}

const DYNAMIC_TOPIC_CONFIG = 1;
const DEFAULT_CONFIG = 5;

describe('confluent-kafka-python against the broker', { skip: skipUnless(confluent) }, () => {
  let broker: BrokerProcess;
  const messages = keyedMessages({ nullHeaderValue: true, baseTimestamp: recentBase() });

  before(async () => {
    if (confluent.missing === undefined) broker = await startTestBroker();
  });
  after(async () => {
    await broker?.stop();
    broker?.cleanup();
  });

  for (const codec of CODECS) {
    it(`${codec}: 10,000 keyed messages round-trip on murmur2 partitions; offset and timestamp seeks`, {
      timeout: TEST_TIMEOUT_MS,
    }, async (t) => {
      requireTool(confluent);
      t.diagnostic(`confluent-kafka-python ${confluent.version}, librdkafka ${confluent.details.librdkafka}`);
      t.diagnostic(await checkPythonRoundTrip(broker, 'confluent_roundtrip.py', `confluent-${codec}`, codec, messages));
    });
  }

  it('a fetch waiting at the end of the log is answered when a message arrives', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    requireTool(confluent);
    await checkPythonLongPoll(broker, 'confluent_long_poll.py', 'confluent-long-poll');
  });

  it('producing to an unknown topic creates it with num.partitions partitions', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    requireTool(confluent);
    const report = await runPython<{
      delivered: unknown[];
      error: string | null;
      partitions: [number, number, number[], number[]][] | null;
      brokers: number[];
    }>('confluent_auto_create.py', { bootstrap: broker.bootstrap, topic: 'confluent-auto-created' });
    assert.equal(report.delivered.length, 1);
    assert.equal(typeof report.delivered[0], 'object', `delivery failed: ${report.delivered[0]}`);
    assert.equal(report.error, null);
    const [id] = report.brokers;
    assert.deepEqual(report.brokers, [id]);
    assert.deepEqual(
      report.partitions,
      Array.from({ length: PARTITIONS }, (_, p) => [p, id, [id], [id]]),
    );
  });

  it('AdminClient: create, describe, add partitions, alter and describe configs, delete', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    requireTool(confluent);
    const r = await runPython<AdminReport>('confluent_admin.py', {
      bootstrap: broker.bootstrap,
      topic: 'user_activity',
      badTopic: 'user_activity_rf3',
    });
    assert.equal(r.create, null);
    assert.deepEqual(r.partitionsAfterCreate, [0, 1, 2]);
    assert.deepEqual(r.createAgain, ['TOPIC_ALREADY_EXISTS', "Topic 'user_activity' already exists."]);
    assert.equal(r.addPartitions, null);
    assert.deepEqual(r.partitionsAfterAdd, [0, 1, 2, 3, 4]);
    assert.equal(r.alterConfigs, null);
    assert.deepEqual(r.configs['retention.ms'], ['3600000', DYNAMIC_TOPIC_CONFIG, false, false]);
    assert.deepEqual(r.configs['cleanup.policy'], ['delete', DEFAULT_CONFIG, true, false]);
    assert.deepEqual(r.replicationFactor3, [
      'INVALID_REPLICATION_FACTOR',
      'Replication factor: 3 larger than available brokers: 1.',
    ]);
    assert.equal(r.badTopicListed, false);
    assert.equal(r.delete, null);
    assert.equal(r.listedAfterDelete, false);
    assert.equal(r.deleteAgain?.[0], 'UNKNOWN_TOPIC_OR_PART');
  });
});
