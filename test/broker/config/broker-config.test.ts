import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, type LoadOptions, loadBrokerConfig } from '../../../src/broker/config/index.js';
import { DEFAULT_LOG_CONFIG } from '../../../src/storage/config.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-broker-config-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
const propertiesFile = (text: string): string => {
  const file = path.join(root, `server-${counter++}.properties`);
  fs.writeFileSync(file, text);
  return file;
};

const load = (options: LoadOptions = {}) => loadBrokerConfig({ env: {}, ...options });
const configError = (options: LoadOptions, message: string | RegExp) =>
  assert.throws(
    () => load(options),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );

describe('loadBrokerConfig defaults', () => {
  it('runs one broker on localhost:9092 with data under ./samsa-data', () => {
    const config = load();
    assert.equal(config.nodeId, 1);
    assert.deepEqual(config.listeners, [
      { name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 'PLAINTEXT' },
    ]);
    assert.deepEqual(config.advertisedListeners, config.listeners);
    assert.deepEqual(config.logDirs, ['./samsa-data']);
    assert.equal(config.numPartitions, 1);
    assert.equal(config.defaultReplicationFactor, 1);
    assert.equal(config.autoCreateTopicsEnable, true);
    assert.equal(config.deleteTopicEnable, true);
    assert.equal(config.messageMaxBytes, 1048588);
    assert.equal(config.socketRequestMaxBytes, 104857600);
    assert.equal(config.connectionsMaxIdleMs, 600000);
    assert.equal(config.maxConnections, 2147483647);
    assert.equal(config.brokerRack, null);
    assert.equal(config.clusterId, null);
    assert.equal(config.offsetsTopicNumPartitions, 50);
    assert.equal(config.offsetsTopicReplicationFactor, 3);
    assert.equal(config.logFlushOffsetCheckpointIntervalMs, 60000);
    assert.equal(config.logRetentionCheckIntervalMs, 300000);
    assert.equal(config.logCleanerEnable, true);
    assert.equal(config.groupInitialRebalanceDelayMs, 3000);
    assert.equal(config.fetchMaxBytes, 57671680);
    assert.equal(config.maxIncrementalFetchSessionCacheSlots, 1000);
    assert.equal(config.offsetsRetentionMs, 7 * 24 * 60 * 60 * 1000);
    assert.deepEqual(config.unknownKeys, []);
  });

  it('log defaults match the storage defaults and Kafka topic defaults', () => {
    const { logDefaults } = load();
    for (const [key, value] of Object.entries(DEFAULT_LOG_CONFIG)) {
      assert.deepEqual(logDefaults[key as keyof typeof logDefaults], value, key);
    }
    assert.equal(logDefaults.compressionType, 'producer');
    assert.equal(logDefaults.minInsyncReplicas, 1);
    assert.equal(logDefaults.uncleanLeaderElectionEnable, false);
    assert.equal(logDefaults.messageTimestampBeforeMaxMs, Number.MAX_SAFE_INTEGER);
    assert.equal(logDefaults.messageTimestampAfterMaxMs, Number.MAX_SAFE_INTEGER);
  });

  it('entries list every known key with its source', () => {
    const { entries } = load();
    assert.deepEqual(entries.get('num.partitions'), { value: '1', source: 'default' });
    assert.deepEqual(entries.get('log.retention.hours'), { value: '168', source: 'default' });
    assert.deepEqual(entries.get('log.retention.ms'), { value: null, source: 'default' });
    assert.deepEqual(entries.get('log.flush.scheduler.interval.ms'), {
      value: '9223372036854775807',
      source: 'default',
    });
    assert.deepEqual(entries.get('log.cleaner.min.cleanable.ratio'), { value: '0.5', source: 'default' });
  });
});

describe('loadBrokerConfig sources', () => {
  it('applies defaults < file < env < flags', () => {
    const file = propertiesFile('num.partitions=2\ndefault.replication.factor=2\nbroker.rack=file-rack\nlog.dirs=/f\n');
    const config = load({
      file,
      env: { SAMSA_NUM_PARTITIONS: '3', SAMSA_BROKER_RACK: 'env-rack', SAMSA_LOG_DIRS: '/e1, /e2' },
      overrides: { 'num.partitions': '4' },
    });
    assert.equal(config.numPartitions, 4);
    assert.equal(config.defaultReplicationFactor, 2);
    assert.equal(config.brokerRack, 'env-rack');
    assert.deepEqual(config.logDirs, ['/e1', '/e2']);
    assert.deepEqual(config.entries.get('num.partitions'), { value: '4', source: 'flag' });
    assert.deepEqual(config.entries.get('default.replication.factor'), { value: '2', source: 'file' });
    assert.deepEqual(config.entries.get('broker.rack'), { value: 'env-rack', source: 'env' });
    assert.deepEqual(config.entries.get('log.dirs'), { value: '/e1,/e2', source: 'env' });
  });

  it('takes only known keys from the environment and ignores empty variables', () => {
    const config = load({
      env: { SAMSA_LOG_LEVEL: 'debug', SAMSA_NODE22_BIN: '/usr/bin/node', SAMSA_NODE_ID: '7', SAMSA_BROKER_RACK: '' },
    });
    assert.equal(config.nodeId, 7);
    assert.equal(config.brokerRack, null);
    assert.deepEqual(config.unknownKeys, []);
    assert.equal(config.entries.has('log.level'), false);
  });

  it('reads samsa.* keys from the environment with or without the doubled prefix', () => {
    assert.equal(load({ env: { SAMSA_CLUSTER_ID: 'short' } }).clusterId, 'short');
    assert.equal(load({ env: { SAMSA_SAMSA_CLUSTER_ID: 'long', SAMSA_CLUSTER_ID: 'short' } }).clusterId, 'long');
    assert.equal(load({ env: { SAMSA_FLUSH_BEFORE_ACK: 'true' } }).logDefaults.flushBeforeAck, true);
  });

  it('keeps unknown keys from the file and flags', () => {
    const file = propertiesFile('authorizer.class.name=kafka.security.authorizer.AclAuthorizer\nnum.partitions=3\n');
    const config = load({ file, overrides: { 'some.flag': 'x' } });
    assert.deepEqual(config.unknownKeys.sort(), ['authorizer.class.name', 'some.flag']);
    assert.deepEqual(config.entries.get('authorizer.class.name'), {
      value: 'kafka.security.authorizer.AclAuthorizer',
      source: 'file',
    });
    assert.equal(config.numPartitions, 3);
  });

  it('reads a Kafka-style file with comments, continuations and spacing', () => {
    const file = propertiesFile(
      [
        '# The id of the broker',
        'broker.id = 3',
        '',
        'listeners=PLAINTEXT://:9192,\\',
        '          SSL://127.0.0.1:9193',
        'log.dirs=/tmp/a,/tmp/b',
        'auto.create.topics.enable = FALSE',
        'log.retention.hours=24   ',
      ].join('\n'),
    );
    const config = load({ file });
    assert.equal(config.nodeId, 3);
    assert.deepEqual(
      config.listeners.map((l) => `${l.name} ${l.host} ${l.port} ${l.securityProtocol}`),
      ['PLAINTEXT  9192 PLAINTEXT', 'SSL 127.0.0.1 9193 SSL'],
    );
    assert.deepEqual(config.logDirs, ['/tmp/a', '/tmp/b']);
    assert.equal(config.autoCreateTopicsEnable, false);
    assert.deepEqual(config.entries.get('auto.create.topics.enable'), { value: 'false', source: 'file' });
    assert.equal(config.logDefaults.retentionMs, 24 * 3600_000);
  });

  it('reports an unreadable file and a malformed file as ConfigError', () => {
    configError({ file: path.join(root, 'missing.properties') }, /missing\.properties: cannot read config file/);
    configError({ file: propertiesFile('a=\\uZZZZ') }, /line 1: malformed/);
  });
});

describe('loadBrokerConfig node id', () => {
  it('accepts broker.id as an alias of node.id', () => {
    const config = load({ overrides: { 'broker.id': '5' } });
    assert.equal(config.nodeId, 5);
    assert.deepEqual(config.entries.get('node.id'), { value: '5', source: 'flag' });
    assert.deepEqual(config.entries.get('broker.id'), { value: '5', source: 'flag' });
  });

  it('mirrors node.id into broker.id', () => {
    const config = load({ env: { SAMSA_NODE_ID: '2' } });
    assert.deepEqual(config.entries.get('broker.id'), { value: '2', source: 'env' });
  });

  it('requires node.id and broker.id to agree', () => {
    assert.equal(load({ overrides: { 'node.id': '4', 'broker.id': '4' } }).nodeId, 4);
    configError(
      { overrides: { 'node.id': '4', 'broker.id': '5' } },
      "broker.id: must equal node.id (4) when both are set, got '5'",
    );
  });

  it('rejects a negative id', () => {
    configError({ overrides: { 'node.id': '-1' } }, "node.id: expected an integer >= 0, got '-1'");
  });
});

describe('loadBrokerConfig listeners', () => {
  it('parses several listeners, IPv6 hosts and lower-case names', () => {
    const config = load({
      overrides: {
        listeners: 'plaintext://0.0.0.0:9092, SSL://[::1]:9093,INTERNAL://[::]:0',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL,INTERNAL:sasl_plaintext',
      },
    });
    assert.deepEqual(config.listeners, [
      { name: 'PLAINTEXT', host: '0.0.0.0', port: 9092, securityProtocol: 'PLAINTEXT' },
      { name: 'SSL', host: '::1', port: 9093, securityProtocol: 'SSL' },
      { name: 'INTERNAL', host: '::', port: 0, securityProtocol: 'SASL_PLAINTEXT' },
    ]);
    assert.deepEqual(
      config.advertisedListeners.map((l) => l.host),
      [os.hostname(), '::1', os.hostname()],
    );
  });

  it('an empty host binds every interface and advertises the hostname', () => {
    const config = load({ overrides: { listeners: 'PLAINTEXT://:9092' } });
    assert.equal(config.listeners[0]!.host, '');
    assert.equal(config.advertisedListeners[0]!.host, os.hostname());
  });

  it('uses advertised.listeners when given', () => {
    const config = load({
      overrides: { listeners: 'PLAINTEXT://:9092,SSL://:9093', 'advertised.listeners': 'PLAINTEXT://broker1:19092' },
    });
    assert.deepEqual(config.advertisedListeners, [
      { name: 'PLAINTEXT', host: 'broker1', port: 19092, securityProtocol: 'PLAINTEXT' },
    ]);
  });

  it('rejects malformed listeners', () => {
    const bad = (listeners: string, message: string | RegExp) => configError({ overrides: { listeners } }, message);
    bad('localhost:9092', "listeners: expected NAME://host:port, got 'localhost:9092'");
    bad('PLAINTEXT://localhost', "listeners: expected NAME://host:port, got 'PLAINTEXT://localhost'");
    bad('PLAINTEXT://localhost:70000', "listeners: expected NAME://host:port, got 'PLAINTEXT://localhost:70000'");
    bad('PLAINTEXT://localhost:-1', /expected NAME:\/\/host:port/);
    bad('', 'listeners: expected at least one NAME://host:port listener');
    bad('FOO://localhost:9092', /listeners: no security protocol for listener FOO/);
    bad('PLAINTEXT://a:9092,plaintext://b:9093', 'listeners: listener name PLAINTEXT is given twice');
    bad('PLAINTEXT://a:9092,SSL://b:9092', 'listeners: port 9092 is used by more than one listener');
  });

  it('rejects bad advertised listeners and protocol maps', () => {
    configError(
      { overrides: { 'advertised.listeners': 'SSL://host:9093' } },
      'advertised.listeners: listener SSL is not one of the listeners',
    );
    configError(
      { overrides: { 'advertised.listeners': 'PLAINTEXT://0.0.0.0:9092' } },
      'advertised.listeners: cannot advertise the wildcard address 0.0.0.0 for PLAINTEXT',
    );
    configError(
      { overrides: { 'listener.security.protocol.map': 'PLAINTEXT:TLS' } },
      /^listener\.security\.protocol\.map: expected NAME:PROTOCOL pairs/,
    );
  });
});

describe('loadBrokerConfig retention', () => {
  const retention = (overrides: Record<string, string>) => load({ overrides }).logDefaults.retentionMs;

  it('defaults to 168 hours', () => {
    assert.equal(retention({}), 168 * 3600_000);
  });

  it('prefers ms over minutes over hours', () => {
    assert.equal(retention({ 'log.retention.hours': '1' }), 3600_000);
    assert.equal(retention({ 'log.retention.hours': '1', 'log.retention.minutes': '2' }), 120_000);
    assert.equal(
      retention({ 'log.retention.hours': '1', 'log.retention.minutes': '2', 'log.retention.ms': '3000' }),
      3000,
    );
  });

  it('reads any negative value as forever', () => {
    assert.equal(retention({ 'log.retention.ms': '-1' }), -1);
    assert.equal(retention({ 'log.retention.hours': '-1' }), -1);
    assert.equal(retention({ 'log.retention.minutes': '-5' }), -1);
  });

  it('applies the other hour-based synonyms', () => {
    const defaults = load({ overrides: { 'log.roll.hours': '2', 'log.roll.jitter.hours': '1' } }).logDefaults;
    assert.equal(defaults.segmentMs, 2 * 3600_000);
    assert.equal(defaults.segmentJitterMs, 3600_000);
    assert.equal(load({ overrides: { 'log.roll.hours': '2', 'log.roll.ms': '500' } }).logDefaults.segmentMs, 500);
  });

  it('uses log.flush.interval.ms over log.flush.scheduler.interval.ms', () => {
    assert.equal(load({ overrides: { 'log.flush.scheduler.interval.ms': '2000' } }).logDefaults.flushMs, 2000);
    assert.equal(
      load({ overrides: { 'log.flush.scheduler.interval.ms': '2000', 'log.flush.interval.ms': '10' } }).logDefaults
        .flushMs,
      10,
    );
  });

  it('maps the other log.* keys to topic defaults', () => {
    const defaults = load({
      overrides: {
        'log.segment.bytes': '1048576',
        'log.cleanup.policy': 'compact, delete',
        'log.cleaner.min.cleanable.ratio': '0.25',
        'message.max.bytes': '2000000',
        'log.message.timestamp.type': 'LogAppendTime',
        'compression.type': 'zstd',
        'min.insync.replicas': '2',
        'unclean.leader.election.enable': 'true',
        'samsa.flush.before.ack': 'true',
        'log.flush.interval.messages': '1',
        'log.index.size.max.bytes': '4096',
        'log.segment.delete.delay.ms': '0',
      },
    }).logDefaults;
    assert.equal(defaults.segmentBytes, 1048576);
    assert.deepEqual(defaults.cleanupPolicy, ['compact', 'delete']);
    assert.equal(defaults.minCleanableDirtyRatio, 0.25);
    assert.equal(defaults.maxMessageBytes, 2000000);
    assert.equal(defaults.messageTimestampType, 'LogAppendTime');
    assert.equal(defaults.compressionType, 'zstd');
    assert.equal(defaults.minInsyncReplicas, 2);
    assert.equal(defaults.uncleanLeaderElectionEnable, true);
    assert.equal(defaults.flushBeforeAck, true);
    assert.equal(defaults.flushMessages, 1);
    assert.equal(defaults.segmentIndexBytes, 4096);
    assert.equal(defaults.fileDeleteDelayMs, 0);
  });
});

describe('loadBrokerConfig validation', () => {
  const rejects = (key: string, value: string, message: string) =>
    configError({ overrides: { [key]: value } }, message);

  it('names the key, the expectation and the value', () => {
    rejects('num.partitions', 'x', "num.partitions: expected an integer >= 1, got 'x'");
    rejects('num.partitions', '0', "num.partitions: expected an integer >= 1, got '0'");
    rejects('num.partitions', '2147483648', "num.partitions: expected an integer >= 1, got '2147483648'");
    rejects('auto.create.topics.enable', 'yes', "auto.create.topics.enable: expected true or false, got 'yes'");
    rejects('log.segment.bytes', '13', "log.segment.bytes: expected an integer >= 14, got '13'");
    rejects(
      'log.cleaner.min.cleanable.ratio',
      '1.5',
      "log.cleaner.min.cleanable.ratio: expected a number in [0, 1], got '1.5'",
    );
    rejects(
      'compression.type',
      'brotli',
      "compression.type: expected one of: uncompressed, zstd, lz4, snappy, gzip, producer, got 'brotli'",
    );
    rejects(
      'log.cleanup.policy',
      'delete,forever',
      "log.cleanup.policy: expected a comma-separated list of: compact, delete, got 'delete,forever'",
    );
    rejects(
      'log.message.timestamp.type',
      'createtime',
      "log.message.timestamp.type: expected one of: CreateTime, LogAppendTime, got 'createtime'",
    );
    rejects(
      'offsets.topic.replication.factor',
      '40000',
      "offsets.topic.replication.factor: expected an integer >= 1, got '40000'",
    );
    rejects('fetch.max.bytes', '100', "fetch.max.bytes: expected an integer >= 1024, got '100'");
  });

  it('rejects an empty data directory list', () => {
    configError({ overrides: { 'log.dirs': '/a,,/b' } }, /^log\.dirs: expected a comma-separated list of directories/);
  });

  it('trims values and accepts Long.MAX for longs', () => {
    const config = load({
      overrides: { 'num.partitions': ' 6 ', 'log.cleaner.max.compaction.lag.ms': '9223372036854775807' },
    });
    assert.equal(config.numPartitions, 6);
    assert.equal(config.logDefaults.maxCompactionLagMs, Number.MAX_SAFE_INTEGER);
    assert.deepEqual(config.entries.get('log.cleaner.max.compaction.lag.ms'), {
      value: '9223372036854775807',
      source: 'flag',
    });
  });

  it('treats a blank value of a key without default as unset', () => {
    const config = load({ overrides: { 'broker.rack': ' ', 'samsa.cluster.id': '' } });
    assert.equal(config.brokerRack, null);
    assert.equal(config.clusterId, null);
  });
});
