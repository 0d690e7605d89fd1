/**
 * The admin APIs over a real socket against an in-process broker: CreateTopics, DeleteTopics, CreatePartitions,
 * DescribeConfigs, AlterConfigs, IncrementalAlterConfigs, DescribeCluster, DescribeLogDirs, DeleteRecords and
 * OffsetForLeaderEpoch, checked for Kafka's codes, messages and effects.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import { ZERO_UUID } from '../../src/metadata/uuid.js';
import {
  type AlterConfigsRequest,
  type CreatePartitionsRequest,
  type CreateTopicsRequest,
  type CreateTopicsRequestCreatableTopic,
  type DeleteRecordsRequest,
  type DeleteTopicsRequest,
  type DescribeClusterRequest,
  type DescribeConfigsRequest,
  type DescribeConfigsResponseDescribeConfigsResult,
  type DescribeLogDirsRequest,
  ErrorCode,
  encodeRecordBatch,
  type IncrementalAlterConfigsRequest,
  type Input,
  type OffsetForLeaderEpochRequest,
  type Reader,
  readAlterConfigsResponse,
  readApiVersionsResponse,
  readCreatePartitionsResponse,
  readCreateTopicsResponse,
  readDeleteRecordsResponse,
  readDeleteTopicsResponse,
  readDescribeClusterResponse,
  readDescribeConfigsResponse,
  readDescribeLogDirsResponse,
  readIncrementalAlterConfigsResponse,
  readListOffsetsResponse,
  readMetadataResponse,
  readOffsetForLeaderEpochResponse,
  readProduceResponse,
  type Writer,
  writeAlterConfigsRequest,
  writeApiVersionsRequest,
  writeCreatePartitionsRequest,
  writeCreateTopicsRequest,
  writeDeleteRecordsRequest,
  writeDeleteTopicsRequest,
  writeDescribeClusterRequest,
  writeDescribeConfigsRequest,
  writeDescribeLogDirsRequest,
  writeIncrementalAlterConfigsRequest,
  writeListOffsetsRequest,
  writeMetadataRequest,
  writeOffsetForLeaderEpochRequest,
  writeProduceRequest,
} from '../../src/protocol/index.js';
import { encodeRequest, parseResponse, TestClient } from './helpers.js';

const TOPIC_CONFIG = 1;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;
const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;
const EARLIEST_TIMESTAMP = -2n;

/** One connection; requests are sent one at a time and matched by correlation id. */
class Rpc {
  private correlationId = 0;
  private seen = 0;
  constructor(private readonly client: TestClient) {}

  async call<T>(
    apiKey: number,
    version: number,
    write: (w: Writer, v: number) => void,
    read: (r: Reader, v: number) => T,
  ): Promise<T> {
    const corr = ++this.correlationId;
    this.client.write(encodeRequest(apiKey, version, corr, (w) => write(w, version), 'admin-test'));
    const frames = await this.client.waitFrames(this.seen + 1);
    const { correlationId, r } = parseResponse(frames[this.seen++]!, apiKey, version);
    assert.equal(correlationId, corr);
    const body = read(r, version);
    assert.equal(r.remaining(), 0, 'the whole response was read');
    return body;
  }
}

function topicSpec(name: string, more: Partial<CreateTopicsRequestCreatableTopic> = {}) {
  return { name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [], ...more };
}

describe('admin APIs', () => {
  let kafka: StartedBroker;
  let client: TestClient;
  let rpc: Rpc;
  let nodeId: number;

  before(async () => {
    kafka = await startBroker(process.env.ADMIN_TEST_LOG ? { logger: pino({ level: 'debug' }, process.stderr) } : {});
    nodeId = kafka.broker.nodeId;
    client = await TestClient.connect(kafka.port);
    rpc = new Rpc(client);
  });

  after(async () => {
    client?.end();
    await kafka?.stop();
  });

  const createTopics = (req: Input<CreateTopicsRequest>, v = 7) =>
    rpc.call(19, v, (w, v) => writeCreateTopicsRequest(w, v, { timeoutMs: 5000, ...req }), readCreateTopicsResponse);
  const createOne = async (spec: Input<CreateTopicsRequestCreatableTopic> & { name: string }, validateOnly = false) =>
    (
      await createTopics({
        topics: [topicSpec(spec.name, spec as Partial<CreateTopicsRequestCreatableTopic>)],
        validateOnly,
      })
    ).topics[0]!;
  const deleteTopics = (req: Input<DeleteTopicsRequest>, v = 6) =>
    rpc.call(20, v, (w, v) => writeDeleteTopicsRequest(w, v, { timeoutMs: 5000, ...req }), readDeleteTopicsResponse);
  const describeConfigs = (req: Input<DescribeConfigsRequest>, v = 4) =>
    rpc.call(32, v, (w, v) => writeDescribeConfigsRequest(w, v, req), readDescribeConfigsResponse);
  const describeTopic = async (name: string, keys: string[] | null = null, includeSynonyms = false) =>
    (
      await describeConfigs({
        resources: [{ resourceType: TOPIC, resourceName: name, configurationKeys: keys }],
        includeSynonyms,
      })
    ).results[0]!;
  const alterConfigs = (req: Input<AlterConfigsRequest>, v = 2) =>
    rpc.call(33, v, (w, v) => writeAlterConfigsRequest(w, v, req), readAlterConfigsResponse);
  const incrementalAlter = (req: Input<IncrementalAlterConfigsRequest>, v = 1) =>
    rpc.call(44, v, (w, v) => writeIncrementalAlterConfigsRequest(w, v, req), readIncrementalAlterConfigsResponse);
  const createPartitions = (req: Input<CreatePartitionsRequest>, v = 3) =>
    rpc.call(
      37,
      v,
      (w, v) => writeCreatePartitionsRequest(w, v, { timeoutMs: 5000, ...req }),
      readCreatePartitionsResponse,
    );
  const metadata = (names: string[]) =>
    rpc.call(
      3,
      12,
      (w, v) =>
        writeMetadataRequest(w, v, {
          topics: names.map((name) => ({ topicId: ZERO_UUID, name })),
          allowAutoTopicCreation: false,
        }),
      readMetadataResponse,
    );
  const entryOf = (result: DescribeConfigsResponseDescribeConfigsResult, name: string) =>
    result.configs.find((c) => c.name === name);

  const produce = async (topic: string, batches: number, recordsPerBatch: number) => {
    let bytes = 0;
    for (let b = 0; b < batches; b++) {
      const records = encodeRecordBatch({
        records: Array.from({ length: recordsPerBatch }, (_, i) => ({ key: `k${i}`, value: `value-${b}-${i}` })),
      });
      bytes += records.length;
      const res = await rpc.call(
        0,
        9,
        (w, v) =>
          writeProduceRequest(w, v, {
            transactionalId: null,
            acks: 1,
            timeoutMs: 5000,
            topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
          }),
        readProduceResponse,
      );
      assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NONE);
    }
    return bytes;
  };

  it('advertises the admin APIs in ApiVersions', async () => {
    const res = await rpc.call(
      18,
      3,
      (w, v) => writeApiVersionsRequest(w, v, { clientSoftwareName: 'admin-test', clientSoftwareVersion: '1' }),
      readApiVersionsResponse,
    );
    const ranges = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    assert.deepEqual(ranges.get(19), [2, 7]);
    assert.deepEqual(ranges.get(20), [1, 6]);
    assert.deepEqual(ranges.get(21), [0, 2]);
    assert.deepEqual(ranges.get(23), [2, 4]);
    assert.deepEqual(ranges.get(32), [1, 4]);
    assert.deepEqual(ranges.get(33), [0, 2]);
    assert.deepEqual(ranges.get(35), [1, 4]);
    assert.deepEqual(ranges.get(37), [0, 3]);
    assert.deepEqual(ranges.get(44), [0, 1]);
    assert.deepEqual(ranges.get(60), [0, 1]);
  });

  describe('CreateTopics', () => {
    it('creates a topic with configs and returns its partitions, replication factor, configs and id', async () => {
      const r = await createOne({
        name: 'created',
        numPartitions: 3,
        replicationFactor: 1,
        configs: [
          { name: 'retention.ms', value: '1000' },
          { name: 'cleanup.policy', value: 'compact' },
        ],
      });
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.equal(r.errorMessage, null);
      assert.equal(r.numPartitions, 3);
      assert.equal(r.replicationFactor, 1);
      assert.notEqual(r.topicId, ZERO_UUID);
      const retention = r.configs!.find((c) => c.name === 'retention.ms')!;
      assert.equal(retention.value, '1000');
      assert.equal(retention.configSource, TOPIC_CONFIG);
      assert.equal(r.configs!.find((c) => c.name === 'cleanup.policy')!.value, 'compact');
      const segment = r.configs!.find((c) => c.name === 'segment.bytes')!;
      assert.equal(segment.value, '1073741824');
      assert.equal(segment.configSource, DEFAULT_CONFIG);
      const names = r.configs!.map((c) => c.name);
      assert.deepEqual(names, [...names].sort(), 'configs are sorted by name');

      const md = await metadata(['created']);
      assert.equal(md.topics[0]!.errorCode, ErrorCode.NONE);
      assert.equal(md.topics[0]!.partitions.length, 3);
      assert.equal(md.topics[0]!.topicId, r.topicId);
    });

    it('takes the broker defaults for -1 partitions and replication factor', async () => {
      const r = await createOne({ name: 'defaults', numPartitions: -1, replicationFactor: -1 });
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.equal(r.numPartitions, 1);
      assert.equal(r.replicationFactor, 1);
    });

    it('creates topics with manual replica assignments', async () => {
      const r = await createOne({
        name: 'assigned',
        numPartitions: -1,
        replicationFactor: -1,
        assignments: [
          { partitionIndex: 0, brokerIds: [nodeId] },
          { partitionIndex: 1, brokerIds: [nodeId] },
        ],
      });
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.equal(r.numPartitions, 2);
      const unknownBroker = await createOne({
        name: 'assigned-bad',
        numPartitions: -1,
        replicationFactor: -1,
        assignments: [{ partitionIndex: 0, brokerIds: [nodeId + 7] }],
      });
      assert.equal(unknownBroker.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    });

    it('validates without creating when validateOnly is set', async () => {
      const r = await createOne(
        { name: 'validated', numPartitions: 4, configs: [{ name: 'retention.ms', value: '5' }] },
        true,
      );
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.equal(r.numPartitions, 4);
      assert.equal(r.topicId, ZERO_UUID);
      assert.equal(r.configs!.find((c) => c.name === 'retention.ms')!.value, '5');
      const md = await metadata(['validated']);
      assert.equal(md.topics[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const bad = await createOne({ name: 'validated', configs: [{ name: 'retention.ms', value: 'soon' }] }, true);
      assert.equal(bad.errorCode, ErrorCode.INVALID_CONFIG);
    });

    it('refuses a name given twice in one request, and creates the others', async () => {
      const res = await createTopics({ topics: [topicSpec('dup'), topicSpec('dup-other'), topicSpec('dup')] });
      assert.equal(res.topics.length, 2);
      const dup = res.topics.find((t) => t.name === 'dup')!;
      assert.equal(dup.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(
        dup.errorMessage,
        'Create topics request from client `admin-test` contains multiple entries for the following topics: dup',
      );
      assert.equal(res.topics.find((t) => t.name === 'dup-other')!.errorCode, ErrorCode.NONE);
      assert.equal((await metadata(['dup'])).topics[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    });

    it('refuses illegal and colliding names', async () => {
      for (const name of ['.', '..', 'a b', 'x'.repeat(250), 'ünïcode']) {
        const r = await createOne({ name });
        assert.equal(r.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION, name);
        assert.ok(r.errorMessage !== null && r.errorMessage.length > 0);
        assert.equal(r.numPartitions, -1);
        assert.equal(r.replicationFactor, -1);
      }
      assert.equal((await createOne({ name: 'a.b' })).errorCode, ErrorCode.NONE);
      const collision = await createOne({ name: 'a_b' });
      assert.equal(collision.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
      assert.equal(collision.errorMessage, "Topic 'a_b' collides with existing topic: a.b");
      const exists = await createOne({ name: 'a.b' });
      assert.equal(exists.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
      assert.equal(exists.errorMessage, "Topic 'a.b' already exists.");
    });

    it('refuses a replication factor larger than the cluster', async () => {
      const r = await createOne({ name: 'rf3', replicationFactor: 3 });
      assert.equal(r.errorCode, ErrorCode.INVALID_REPLICATION_FACTOR);
      assert.equal(r.errorMessage, 'Replication factor: 3 larger than available brokers: 1.');
      const zero = await createOne({ name: 'p0', numPartitions: 0 });
      assert.equal(zero.errorCode, ErrorCode.INVALID_PARTITIONS);
    });

    it('refuses unknown, invalid and null configs with INVALID_CONFIG', async () => {
      const unknown = await createOne({ name: 'cfg', configs: [{ name: 'no.such.config', value: '1' }] });
      assert.equal(unknown.errorCode, ErrorCode.INVALID_CONFIG);
      assert.equal(unknown.errorMessage, 'Unknown topic config name: no.such.config');
      const invalid = await createOne({ name: 'cfg', configs: [{ name: 'cleanup.policy', value: 'shred' }] });
      assert.equal(invalid.errorCode, ErrorCode.INVALID_CONFIG);
      const nulls = await createOne({ name: 'cfg', configs: [{ name: 'retention.ms', value: null }] });
      assert.equal(nulls.errorCode, ErrorCode.INVALID_CONFIG);
      assert.equal(nulls.errorMessage, 'Null value not supported for topic configs: retention.ms');
      assert.equal((await metadata(['cfg'])).topics[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    });

    it('answers older versions', async () => {
      const v2 = await createTopics({ topics: [topicSpec('old-v2')] }, 2);
      assert.equal(v2.topics[0]!.errorCode, ErrorCode.NONE);
      const v4 = await createTopics({ topics: [topicSpec('old-v4', { numPartitions: -1, replicationFactor: -1 })] }, 4);
      assert.equal(v4.topics[0]!.errorCode, ErrorCode.NONE);
      const v5 = await createTopics({ topics: [topicSpec('old-v5', { numPartitions: 2 })] }, 5);
      assert.equal(v5.topics[0]!.numPartitions, 2);
    });
  });

  describe('DescribeConfigs', () => {
    it('describes topic configs with sources, synonyms, types and documentation', async () => {
      await createOne({ name: 'described', configs: [{ name: 'retention.ms', value: '1000' }] });
      const res = await describeConfigs({
        resources: [
          {
            resourceType: TOPIC,
            resourceName: 'described',
            configurationKeys: ['retention.ms', 'segment.bytes', 'nope'],
          },
        ],
        includeSynonyms: true,
        includeDocumentation: true,
      });
      const r = res.results[0]!;
      assert.equal(r.errorCode, ErrorCode.NONE);
      assert.deepEqual(r.configs.map((c) => c.name).sort(), ['retention.ms', 'segment.bytes']);
      const retention = entryOf(r, 'retention.ms')!;
      assert.equal(retention.value, '1000');
      assert.equal(retention.configSource, TOPIC_CONFIG);
      assert.equal(retention.readOnly, false);
      assert.equal(retention.configType, 5, 'LONG');
      assert.deepEqual(retention.synonyms[0], { name: 'retention.ms', value: '1000', source: TOPIC_CONFIG });
      assert.deepEqual(
        retention.synonyms.find((s) => s.name === 'log.retention.hours'),
        { name: 'log.retention.hours', value: '168', source: DEFAULT_CONFIG },
      );
      assert.ok(retention.documentation !== null && retention.documentation.length > 0);
      const segment = entryOf(r, 'segment.bytes')!;
      assert.equal(segment.configSource, DEFAULT_CONFIG);
      assert.equal(segment.configType, 3, 'INT');
    });

    it('leaves synonyms and documentation out unless asked', async () => {
      const res = await describeConfigs({
        resources: [{ resourceType: TOPIC, resourceName: 'described', configurationKeys: null }],
        includeSynonyms: false,
        includeDocumentation: false,
      });
      const r = res.results[0]!;
      assert.ok(r.configs.length > 20, 'all topic configs');
      for (const c of r.configs) {
        assert.deepEqual(c.synonyms, []);
        assert.equal(c.documentation, null);
        assert.ok(c.configType > 0);
      }
      const v1 = await describeConfigs(
        { resources: [{ resourceType: TOPIC, resourceName: 'described', configurationKeys: ['retention.ms'] }] },
        1,
      );
      assert.equal(v1.results[0]!.configs[0]!.value, '1000');
      assert.equal(v1.results[0]!.configs[0]!.configSource, TOPIC_CONFIG);
    });

    it('answers UNKNOWN_TOPIC_OR_PARTITION for a missing topic and INVALID_TOPIC_EXCEPTION for an illegal name', async () => {
      const missing = await describeTopic('missing');
      assert.equal(missing.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      assert.equal(missing.errorMessage, null);
      assert.deepEqual(missing.configs, []);
      assert.equal((await describeTopic('a b')).errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    });

    it('describes this broker, the cluster default and loggers; refuses other brokers', async () => {
      const res = await describeConfigs({
        resources: [
          { resourceType: BROKER, resourceName: String(nodeId), configurationKeys: null },
          { resourceType: BROKER, resourceName: '', configurationKeys: null },
          { resourceType: BROKER, resourceName: String(nodeId + 1), configurationKeys: null },
          { resourceType: BROKER_LOGGER, resourceName: String(nodeId), configurationKeys: null },
          { resourceType: BROKER_LOGGER, resourceName: '', configurationKeys: null },
          { resourceType: 99, resourceName: 'x', configurationKeys: null },
        ],
        includeSynonyms: true,
      });
      const [own, cluster, other, logger, noLogger, unknown] = res.results;
      assert.equal(own!.errorCode, ErrorCode.NONE);
      const partitions = entryOf(own!, 'num.partitions')!;
      assert.equal(partitions.value, '1');
      assert.equal(partitions.configSource, DEFAULT_CONFIG);
      assert.equal(partitions.readOnly, true);
      const dirs = entryOf(own!, 'log.dirs')!;
      assert.equal(dirs.value, kafka.dataDir);
      assert.equal(dirs.configSource, STATIC_BROKER_CONFIG);
      assert.equal(cluster!.errorCode, ErrorCode.NONE);
      assert.deepEqual(cluster!.configs, []);
      assert.equal(other!.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(
        other!.errorMessage,
        `Unexpected broker id, expected ${nodeId} or empty string, but received ${nodeId + 1}`,
      );
      assert.equal(logger!.errorCode, ErrorCode.NONE);
      assert.equal(noLogger!.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(noLogger!.errorMessage, 'Broker id must not be empty');
      assert.equal(unknown!.errorCode, ErrorCode.INVALID_REQUEST);
    });
  });

  describe('AlterConfigs', () => {
    it('replaces the whole override set of a topic', async () => {
      await createOne({
        name: 'altered',
        configs: [
          { name: 'retention.ms', value: '1000' },
          { name: 'cleanup.policy', value: 'compact' },
        ],
      });
      const res = await alterConfigs({
        resources: [
          { resourceType: TOPIC, resourceName: 'altered', configs: [{ name: 'retention.ms', value: '2000' }] },
        ],
      });
      assert.deepEqual(res.responses, [
        { errorCode: ErrorCode.NONE, errorMessage: null, resourceType: TOPIC, resourceName: 'altered' },
      ]);
      const after = await describeTopic('altered', ['retention.ms', 'cleanup.policy']);
      assert.equal(entryOf(after, 'retention.ms')!.value, '2000');
      assert.equal(entryOf(after, 'retention.ms')!.configSource, TOPIC_CONFIG);
      assert.equal(entryOf(after, 'cleanup.policy')!.value, 'delete');
      assert.equal(entryOf(after, 'cleanup.policy')!.configSource, DEFAULT_CONFIG);
    });

    it('validates, and changes nothing with validateOnly or on error', async () => {
      const only = await alterConfigs({
        resources: [{ resourceType: TOPIC, resourceName: 'altered', configs: [{ name: 'retention.ms', value: '7' }] }],
        validateOnly: true,
      });
      assert.equal(only.responses[0]!.errorCode, ErrorCode.NONE);
      const bad = await alterConfigs({
        resources: [
          { resourceType: TOPIC, resourceName: 'altered', configs: [{ name: 'min.insync.replicas', value: '0' }] },
          { resourceType: TOPIC, resourceName: 'altered-missing', configs: [] },
          { resourceType: TOPIC, resourceName: 'altered', configs: [] },
        ],
      });
      assert.equal(bad.responses[0]!.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(bad.responses[0]!.errorMessage, 'Each resource must appear at most once.');
      assert.equal(bad.responses[1]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      assert.equal(bad.responses[1]!.errorMessage, "The topic 'altered-missing' does not exist.");
      const invalid = await alterConfigs({
        resources: [
          { resourceType: TOPIC, resourceName: 'altered', configs: [{ name: 'min.insync.replicas', value: '0' }] },
        ],
      });
      assert.equal(invalid.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
      assert.match(invalid.responses[0]!.errorMessage!, /min\.insync\.replicas/);
      const unknown = await alterConfigs({
        resources: [{ resourceType: TOPIC, resourceName: 'altered', configs: [{ name: 'foo.bar', value: '1' }] }],
      });
      assert.equal(unknown.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
      assert.equal(unknown.responses[0]!.errorMessage, 'Unknown topic config name: foo.bar');
      const dupKeys = await alterConfigs({
        resources: [
          {
            resourceType: TOPIC,
            resourceName: 'altered',
            configs: [
              { name: 'retention.ms', value: '1' },
              { name: 'retention.ms', value: '2' },
            ],
          },
        ],
      });
      assert.equal(dupKeys.responses[0]!.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(dupKeys.responses[0]!.errorMessage, 'Error due to duplicate config keys');
      const after = await describeTopic('altered', ['retention.ms']);
      assert.equal(entryOf(after, 'retention.ms')!.value, '2000');
    });

    it('refuses changes to broker configs', async () => {
      const res = await alterConfigs({
        resources: [
          { resourceType: BROKER, resourceName: String(nodeId), configs: [{ name: 'log.retention.ms', value: '1' }] },
          { resourceType: BROKER, resourceName: '', configs: [] },
          { resourceType: BROKER, resourceName: 'x', configs: [] },
          { resourceType: BROKER_LOGGER, resourceName: String(nodeId), configs: [] },
        ],
      });
      assert.equal(res.responses[0]!.errorCode, ErrorCode.INVALID_REQUEST);
      assert.match(res.responses[0]!.errorMessage!, /Cannot update these configs dynamically: log\.retention\.ms/);
      assert.equal(res.responses[1]!.errorCode, ErrorCode.NONE);
      assert.equal(res.responses[2]!.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(res.responses[3]!.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(res.responses[3]!.errorMessage, 'Unknown resource type 8');
    });
  });

  describe('IncrementalAlterConfigs', () => {
    const alterTopic = async (
      configs: { name: string; configOperation: number; value: string | null }[],
      validateOnly = false,
    ) =>
      (
        await incrementalAlter({
          resources: [{ resourceType: TOPIC, resourceName: 'incremental', configs }],
          validateOnly,
        })
      ).responses[0]!;

    it('sets, deletes, appends and subtracts', async () => {
      await createOne({ name: 'incremental', configs: [{ name: 'retention.ms', value: '1000' }] });
      let r = await alterTopic([
        { name: 'cleanup.policy', configOperation: APPEND, value: 'compact' },
        { name: 'segment.bytes', configOperation: SET, value: '1048576' },
      ]);
      assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
      let d = await describeTopic('incremental', ['cleanup.policy', 'segment.bytes', 'retention.ms']);
      assert.equal(entryOf(d, 'cleanup.policy')!.value, 'delete,compact');
      assert.equal(entryOf(d, 'segment.bytes')!.value, '1048576');
      assert.equal(entryOf(d, 'retention.ms')!.value, '1000', 'untouched keys stay');

      r = await alterTopic([
        { name: 'retention.ms', configOperation: DELETE, value: null },
        { name: 'cleanup.policy', configOperation: SUBTRACT, value: 'delete' },
      ]);
      assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
      d = await describeTopic('incremental', ['cleanup.policy', 'retention.ms']);
      assert.equal(entryOf(d, 'cleanup.policy')!.value, 'compact');
      assert.equal(entryOf(d, 'retention.ms')!.value, '604800000');
      assert.equal(entryOf(d, 'retention.ms')!.configSource, DEFAULT_CONFIG);

      r = await alterTopic([{ name: 'segment.bytes', configOperation: SET, value: '2097152' }], true);
      assert.equal(r.errorCode, ErrorCode.NONE);
      d = await describeTopic('incremental', ['segment.bytes']);
      assert.equal(entryOf(d, 'segment.bytes')!.value, '1048576', 'validateOnly changes nothing');
    });

    it("refuses APPEND/SUBTRACT on non-list configs and bad requests with Kafka's codes", async () => {
      let r = await alterTopic([{ name: 'retention.ms', configOperation: APPEND, value: '1' }]);
      assert.equal(r.errorCode, ErrorCode.INVALID_CONFIG);
      assert.equal(r.errorMessage, "Can't APPEND to key retention.ms because its type is not LIST.");
      r = await alterTopic([{ name: 'segment.bytes', configOperation: SUBTRACT, value: '1' }]);
      assert.equal(r.errorMessage, "Can't SUBTRACT to key segment.bytes because its type is not LIST.");
      r = await alterTopic([
        { name: 'retention.ms', configOperation: SET, value: '1' },
        { name: 'retention.ms', configOperation: DELETE, value: null },
      ]);
      assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(r.errorMessage, 'Error due to duplicate config keys');
      r = await alterTopic([{ name: 'retention.ms', configOperation: SET, value: null }]);
      assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(r.errorMessage, 'Null value not supported for : retention.ms');
      r = await alterTopic([{ name: 'retention.ms', configOperation: 9, value: '1' }]);
      assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST);
      r = await alterTopic([{ name: 'cleanup.policy', configOperation: APPEND, value: 'shred' }]);
      assert.equal(r.errorCode, ErrorCode.INVALID_CONFIG);
      r = await alterTopic([{ name: 'segment.bytes', configOperation: SET, value: 'big' }]);
      assert.equal(r.errorCode, ErrorCode.INVALID_CONFIG);
      const d = await describeTopic('incremental', ['cleanup.policy', 'segment.bytes']);
      assert.equal(entryOf(d, 'cleanup.policy')!.value, 'compact');
      assert.equal(entryOf(d, 'segment.bytes')!.value, '1048576');

      const res = await incrementalAlter({
        resources: [
          { resourceType: TOPIC, resourceName: 'no-such-topic', configs: [] },
          {
            resourceType: BROKER,
            resourceName: String(nodeId),
            configs: [{ name: 'log.retention.ms', configOperation: SET, value: '1' }],
          },
          {
            resourceType: BROKER,
            resourceName: '',
            configs: [{ name: 'log.retention.ms', configOperation: DELETE, value: null }],
          },
          {
            resourceType: BROKER_LOGGER,
            resourceName: String(nodeId),
            configs: [{ name: 'root', configOperation: SET, value: 'DEBUG' }],
          },
        ],
      });
      assert.equal(res.responses[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      assert.equal(res.responses[1]!.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(res.responses[2]!.errorCode, ErrorCode.NONE);
      assert.equal(res.responses[3]!.errorCode, ErrorCode.INVALID_REQUEST);
    });
  });

  describe('CreatePartitions', () => {
    it('grows a topic, validates without changing, and refuses shrinking', async () => {
      await createOne({ name: 'grown', numPartitions: 3 });
      let res = await createPartitions({ topics: [{ name: 'grown', count: 5, assignments: null }] });
      assert.deepEqual(res.results, [{ name: 'grown', errorCode: ErrorCode.NONE, errorMessage: null }]);
      assert.equal((await metadata(['grown'])).topics[0]!.partitions.length, 5);

      res = await createPartitions({ topics: [{ name: 'grown', count: 8, assignments: null }], validateOnly: true });
      assert.equal(res.results[0]!.errorCode, ErrorCode.NONE);
      assert.equal((await metadata(['grown'])).topics[0]!.partitions.length, 5);

      res = await createPartitions({
        topics: [
          { name: 'grown', count: 4, assignments: null },
          { name: 'grown-missing', count: 4, assignments: null },
        ],
      });
      assert.equal(res.results[0]!.errorCode, ErrorCode.INVALID_PARTITIONS);
      assert.equal(res.results[1]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      res = await createPartitions({ topics: [{ name: 'grown', count: 5, assignments: null }] });
      assert.equal(res.results[0]!.errorCode, ErrorCode.INVALID_PARTITIONS);

      res = await createPartitions({ topics: [{ name: 'grown', count: 6, assignments: [{ brokerIds: [nodeId] }] }] });
      assert.equal(res.results[0]!.errorCode, ErrorCode.NONE);
      res = await createPartitions({ topics: [{ name: 'grown', count: 8, assignments: [{ brokerIds: [nodeId] }] }] });
      assert.equal(res.results[0]!.errorCode, ErrorCode.INVALID_REPLICA_ASSIGNMENT);
      res = await createPartitions({
        topics: [
          { name: 'grown', count: 9, assignments: null },
          { name: 'grown', count: 9, assignments: null },
        ],
      });
      assert.deepEqual(res.results, [
        { name: 'grown', errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' },
      ]);
      assert.equal((await metadata(['grown'])).topics[0]!.partitions.length, 6);

      const v0 = await createPartitions({ topics: [{ name: 'grown', count: 7, assignments: null }] }, 0);
      assert.equal(v0.results[0]!.errorCode, ErrorCode.NONE);
    });
  });

  describe('DescribeCluster', () => {
    it('describes the brokers, cluster id and controller', async () => {
      const md = await metadata([]);
      const res = await rpc.call(
        60,
        1,
        (w, v) => writeDescribeClusterRequest(w, v, { includeClusterAuthorizedOperations: true, endpointType: 1 }),
        readDescribeClusterResponse,
      );
      assert.equal(res.errorCode, ErrorCode.NONE);
      assert.equal(res.clusterId, md.clusterId);
      assert.equal(res.controllerId, nodeId);
      assert.equal(res.endpointType, 1);
      assert.deepEqual(res.brokers, [{ brokerId: nodeId, host: kafka.host, port: kafka.port, rack: null }]);
      assert.ok(res.clusterAuthorizedOperations > 0);
      const noOps = await rpc.call(
        60,
        0,
        (w, v) =>
          writeDescribeClusterRequest(w, v, {
            includeClusterAuthorizedOperations: false,
          } as Input<DescribeClusterRequest>),
        readDescribeClusterResponse,
      );
      assert.equal(noOps.clusterAuthorizedOperations, -2147483648);
      const controller = await rpc.call(
        60,
        1,
        (w, v) => writeDescribeClusterRequest(w, v, { endpointType: 2 }),
        readDescribeClusterResponse,
      );
      assert.equal(controller.errorCode, ErrorCode.MISMATCHED_ENDPOINT_TYPE);
      const unknown = await rpc.call(
        60,
        1,
        (w, v) => writeDescribeClusterRequest(w, v, { endpointType: 7 }),
        readDescribeClusterResponse,
      );
      assert.equal(unknown.errorCode, ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
    });
  });

  describe('records: log dirs, leader epochs, deletion', () => {
    let produced = 0;

    before(async () => {
      await createOne({ name: 'records', numPartitions: 2 });
      produced = await produce('records', 3, 2);
    });

    const describeLogDirs = (req: Input<DescribeLogDirsRequest>, v = 4) =>
      rpc.call(35, v, (w, v) => writeDescribeLogDirsRequest(w, v, req), readDescribeLogDirsResponse);

    it('describes the log dir with partition sizes and disk space', async () => {
      const res = await describeLogDirs({ topics: null });
      assert.equal(res.errorCode, ErrorCode.NONE);
      assert.equal(res.results.length, 1);
      const dir = res.results[0]!;
      assert.equal(dir.errorCode, ErrorCode.NONE);
      assert.equal(dir.logDir, resolve(kafka.dataDir));
      assert.ok(dir.totalBytes > 0n && dir.usableBytes > 0n && dir.usableBytes <= dir.totalBytes);
      const records = dir.topics.find((t) => t.name === 'records')!;
      const sizes = new Map(records.partitions.map((p) => [p.partitionIndex, p]));
      assert.equal(sizes.get(0)!.partitionSize, BigInt(produced));
      assert.equal(sizes.get(0)!.offsetLag, 0n);
      assert.equal(sizes.get(0)!.isFutureKey, false);
      assert.equal(sizes.get(1)!.partitionSize, 0n);

      const some = await describeLogDirs(
        {
          topics: [
            { topic: 'records', partitions: [0, 9] },
            { topic: 'nothing', partitions: [0] },
          ],
        },
        1,
      );
      assert.deepEqual(
        some.results[0]!.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]),
        [['records', [0]]],
      );
    });

    it('answers OffsetForLeaderEpoch from the leader-epoch cache', async () => {
      const res = await rpc.call(
        23,
        4,
        (w, v) =>
          writeOffsetForLeaderEpochRequest(w, v, {
            replicaId: -1,
            topics: [
              {
                topic: 'records',
                partitions: [
                  { partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 },
                  { partition: 0, currentLeaderEpoch: 0, leaderEpoch: 5 },
                  { partition: 0, currentLeaderEpoch: 3, leaderEpoch: 0 },
                  { partition: 1, currentLeaderEpoch: -1, leaderEpoch: 0 },
                  { partition: 7, currentLeaderEpoch: -1, leaderEpoch: 0 },
                ],
              },
              { topic: 'no-such', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] },
            ],
          } satisfies Input<OffsetForLeaderEpochRequest>),
        readOffsetForLeaderEpochResponse,
      );
      const [found, future, fenced, empty, missing] = res.topics[0]!.partitions;
      assert.deepEqual(found, { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: 0, endOffset: 6n });
      assert.deepEqual(future, { errorCode: ErrorCode.NONE, partition: 0, leaderEpoch: -1, endOffset: -1n });
      assert.equal(fenced!.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);
      assert.deepEqual(empty, { errorCode: ErrorCode.NONE, partition: 1, leaderEpoch: -1, endOffset: -1n });
      assert.equal(missing!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      assert.equal(res.topics[1]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const v2 = await rpc.call(
        23,
        2,
        (w, v) =>
          writeOffsetForLeaderEpochRequest(w, v, {
            topics: [{ topic: 'records', partitions: [{ partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 }] }],
          }),
        readOffsetForLeaderEpochResponse,
      );
      assert.equal(v2.topics[0]!.partitions[0]!.endOffset, 6n);
    });

    it('deletes records up to an offset, then ListOffsets EARLIEST is that offset', async () => {
      const deleteRecords = (req: Input<DeleteRecordsRequest>, v = 2) =>
        rpc.call(
          21,
          v,
          (w, v) => writeDeleteRecordsRequest(w, v, { timeoutMs: 5000, ...req }),
          readDeleteRecordsResponse,
        );
      const earliest = async () => {
        const res = await rpc.call(
          2,
          7,
          (w, v) =>
            writeListOffsetsRequest(w, v, {
              replicaId: -1,
              topics: [
                {
                  name: 'records',
                  partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: EARLIEST_TIMESTAMP }],
                },
              ],
            }),
          readListOffsetsResponse,
        );
        return res.topics[0]!.partitions[0]!.offset;
      };
      assert.equal(await earliest(), 0n);
      let res = await deleteRecords({ topics: [{ name: 'records', partitions: [{ partitionIndex: 0, offset: 2n }] }] });
      assert.deepEqual(res.topics[0]!.partitions[0], {
        partitionIndex: 0,
        lowWatermark: 2n,
        errorCode: ErrorCode.NONE,
      });
      assert.equal(await earliest(), 2n);

      res = await deleteRecords({
        topics: [
          {
            name: 'records',
            partitions: [
              { partitionIndex: 0, offset: 100n },
              { partitionIndex: 0, offset: -5n },
              { partitionIndex: 9, offset: 0n },
              { partitionIndex: 1, offset: -1n },
            ],
          },
          { name: 'no-such', partitions: [{ partitionIndex: 0, offset: 0n }] },
        ],
      });
      const [above, negative, missing, emptyHw] = res.topics[0]!.partitions;
      assert.equal(above!.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
      assert.equal(above!.lowWatermark, -1n);
      assert.equal(negative!.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
      assert.equal(missing!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      assert.deepEqual(emptyHw, { partitionIndex: 1, lowWatermark: 0n, errorCode: ErrorCode.NONE });
      assert.equal(res.topics[1]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      assert.equal(await earliest(), 2n);

      res = await deleteRecords({ topics: [{ name: 'records', partitions: [{ partitionIndex: 0, offset: -1n }] }] }, 0);
      assert.deepEqual(res.topics[0]!.partitions[0], {
        partitionIndex: 0,
        lowWatermark: 6n,
        errorCode: ErrorCode.NONE,
      });
      assert.equal(await earliest(), 6n);

      await createOne({ name: 'compacted', configs: [{ name: 'cleanup.policy', value: 'compact' }] });
      res = await deleteRecords({ topics: [{ name: 'compacted', partitions: [{ partitionIndex: 0, offset: 0n }] }] });
      assert.equal(res.topics[0]!.partitions[0]!.errorCode, ErrorCode.POLICY_VIOLATION);
    });
  });

  describe('DeleteTopics', () => {
    it('deletes by name and by id, with Kafka errors for unknown, duplicate and ambiguous entries', async () => {
      const byName = await createOne({ name: 'doomed-name' });
      const byId = await createOne({ name: 'doomed-id' });
      const kept = await createOne({ name: 'kept' });
      const res = await deleteTopics({
        topics: [
          { name: 'doomed-name', topicId: ZERO_UUID },
          { name: null, topicId: byId.topicId },
          { name: 'never-was', topicId: ZERO_UUID },
          { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAw' },
          { name: 'kept', topicId: kept.topicId },
          { name: null, topicId: ZERO_UUID },
        ],
      });
      assert.deepEqual(res.responses[0], {
        name: 'doomed-name',
        topicId: byName.topicId,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
      });
      assert.deepEqual(res.responses[1], {
        name: 'doomed-id',
        topicId: byId.topicId,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
      });
      assert.equal(res.responses[2]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      assert.equal(res.responses[3]!.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
      assert.equal(res.responses[3]!.name, null);
      assert.equal(res.responses[4]!.errorCode, ErrorCode.INVALID_REQUEST);
      assert.equal(res.responses[4]!.errorMessage, 'You may not specify both topic name and topic id.');
      assert.equal(res.responses[5]!.errorCode, ErrorCode.INVALID_REQUEST);

      const md = await metadata(['doomed-name', 'doomed-id', 'kept']);
      assert.deepEqual(
        md.topics.map((t) => t.errorCode),
        [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.NONE],
      );
      assert.equal((await describeTopic('doomed-name')).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    });

    it('refuses a name given twice and serves old versions by name', async () => {
      const dup = await deleteTopics({
        topics: [
          { name: 'kept', topicId: ZERO_UUID },
          { name: 'kept', topicId: ZERO_UUID },
        ],
      });
      assert.deepEqual(dup.responses, [
        {
          name: 'kept',
          topicId: ZERO_UUID,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: 'Duplicate topic name.',
        },
      ]);
      const v1 = await deleteTopics({ topicNames: ['kept', 'never-was'] }, 1);
      assert.deepEqual(
        v1.responses.map((r) => [r.name, r.errorCode]),
        [
          ['kept', ErrorCode.NONE],
          ['never-was', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
        ],
      );
      // A deleted topic's name is free again.
      assert.equal((await createOne({ name: 'kept', numPartitions: 2 })).errorCode, ErrorCode.NONE);
      assert.equal((await metadata(['kept'])).topics[0]!.partitions.length, 2);
    });

    // Regression: the new topic's log used to stay unopened while the old one was still being removed.
    it('serves a topic created again right after its deletion', async () => {
      await createOne({ name: 'reborn' });
      await produce('reborn', 1, 1);
      assert.equal((await deleteTopics({ topicNames: ['reborn'] }, 5)).responses[0]!.errorCode, ErrorCode.NONE);
      assert.equal((await createOne({ name: 'reborn' })).errorCode, ErrorCode.NONE);
      // Until the old log is gone the partition answers NOT_LEADER_OR_FOLLOWER, which clients retry, as here.
      for (let attempt = 0; ; attempt++) {
        try {
          await produce('reborn', 1, 1);
          break;
        } catch (err) {
          if (attempt > 100) throw err;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      const md = await metadata(['reborn']);
      assert.equal(md.topics[0]!.errorCode, ErrorCode.NONE);
    });
  });
});
