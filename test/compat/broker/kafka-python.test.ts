/**
 * kafka-python (pure Python) against the real broker process: KafkaAdminClient creates a 3-partition topic per
 * codec; 10,000 keyed messages with headers and timestamps, produced with its default partitioner (the Java
 * client's murmur2), come back byte for byte on the partitions partitionForKey picks, in order at offsets 0..n-1,
 * stored with the codec; seeks to an offset and to a timestamp (offsets_for_times + seek) return exactly the records
 * from there; a long-polling fetch is answered when a message arrives; producing to an unknown topic creates it with
 * num.partitions; and KafkaAdminClient administers a topic (create, list, describe, add partitions, alter and
 * describe configs, an impossible replication factor with Kafka's message, delete).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CODECS, requireTool, skipUnless } from '../harness.js';
import { kafkaPythonCodecSkip, kafkaPythonTool } from '../tools.js';
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

const kafkaPython = kafkaPythonTool();

/** Per topic in a response: [error code, error message], or the error raised as [class name, text]. */
type Outcome = [number, string | null][] | [string, string];

interface AdminReport {
  create: Outcome;
  listed: boolean;
  partitionsAfterCreate: number[] | null;
  addPartitions: Outcome;
  partitionsAfterAdd: number[] | null;
  alterConfigs: Outcome;
  /** name -> [value, read_only, source] */
  describeConfigs: { error: [number, string | null]; configs: Record<string, [string | null, boolean, number]> };
  replicationFactor3: Outcome;
  badTopicListed: boolean;
  delete: [number][];
  listedAfterDelete: boolean;
}

const DYNAMIC_TOPIC_CONFIG = 1;
const DEFAULT_CONFIG = 5;

describe('kafka-python against the broker', { skip: skipUnless(kafkaPython) }, () => {
  let broker: BrokerProcess;
  // kafka-python asserts that header values are bytes, so it cannot send a null header value.
  const messages = keyedMessages({ nullHeaderValue: false, baseTimestamp: recentBase() });

  before(async () => {
    if (kafkaPython.missing === undefined) broker = await startTestBroker();
  });
  after(async () => {
    await broker?.stop();
    broker?.cleanup();
  });

  for (const codec of CODECS) {
    it(`${codec}: 10,000 keyed messages round-trip on murmur2 partitions; offset and timestamp seeks`, {
      timeout: TEST_TIMEOUT_MS,
      skip: kafkaPythonCodecSkip(codec),
    }, async (t) => {
      requireTool(kafkaPython);
      t.diagnostic(`kafka-python ${kafkaPython.version}`);
      t.diagnostic(
        await checkPythonRoundTrip(broker, 'kafka_python_roundtrip.py', `kafka-python-${codec}`, codec, messages),
      );
    });
  }

  it('a fetch waiting at the end of the log is answered when a message arrives', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    requireTool(kafkaPython);
    await checkPythonLongPoll(broker, 'kafka_python_long_poll.py', 'kafka-python-long-poll');
  });

  it('producing to an unknown topic creates it with num.partitions partitions', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    requireTool(kafkaPython);
    const report = await runPython<{ delivered: [number, number]; partitions: number[] | null; listed: boolean }>(
      'kafka_python_auto_create.py',
      { bootstrap: broker.bootstrap, topic: 'kafka-python-auto-created' },
    );
    const all = Array.from({ length: PARTITIONS }, (_, p) => p);
    assert.ok(all.includes(report.delivered[0]), `delivered to ${report.delivered}`);
    assert.equal(report.delivered[1], 0);
    assert.deepEqual(report.partitions, all);
    assert.equal(report.listed, true);
  });

  it('KafkaAdminClient: create, describe, add partitions, alter and describe configs, delete', {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    requireTool(kafkaPython);
    const r = await runPython<AdminReport>('kafka_python_admin.py', {
      bootstrap: broker.bootstrap,
      topic: 'kafka_python_user_activity',
      badTopic: 'kafka_python_user_activity_rf3',
    });
    assert.deepEqual(r.create, [[0, null]]);
    assert.equal(r.listed, true);
    assert.deepEqual(r.partitionsAfterCreate, [0, 1, 2]);
    assert.deepEqual(r.addPartitions, [[0, null]]);
    assert.deepEqual(r.partitionsAfterAdd, [0, 1, 2, 3, 4]);
    assert.deepEqual(r.alterConfigs, [[0, null]]);
    assert.deepEqual(r.describeConfigs.error, [0, null]);
    assert.deepEqual(r.describeConfigs.configs['retention.ms'], ['3600000', false, DYNAMIC_TOPIC_CONFIG]);
    assert.deepEqual(r.describeConfigs.configs['cleanup.policy'], ['delete', false, DEFAULT_CONFIG]);
    // kafka-python raises the error class with the whole response in its message.
    assert.equal(r.replicationFactor3[0], 'InvalidReplicationFactorError');
    assert.match(
      String(r.replicationFactor3[1]),
      /error_code=38, error_message='Replication factor: 3 larger than available brokers: 1\.'/,
    );
    assert.equal(r.badTopicListed, false);
    assert.deepEqual(r.delete, [[0]]);
    assert.equal(r.listedAfterDelete, false);
  });
});
