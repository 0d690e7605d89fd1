import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  loadBrokerConfig,
  TOPIC_CONFIG_NAMES,
  topicSettings,
  validateTopicConfigs,
} from '../../../src/broker/config/index.js';

const broker = (overrides: Record<string, string> = {}) => loadBrokerConfig({ env: {}, overrides });

describe('TOPIC_CONFIG_NAMES', () => {
  it("includes Kafka's topic configs and samsa's own", () => {
    for (const name of [
      'cleanup.policy',
      'compression.type',
      'delete.retention.ms',
      'file.delete.delay.ms',
      'flush.messages',
      'flush.ms',
      'follower.replication.throttled.replicas',
      'index.interval.bytes',
      'leader.replication.throttled.replicas',
      'local.retention.bytes',
      'local.retention.ms',
      'max.compaction.lag.ms',
      'max.message.bytes',
      'message.downconversion.enable',
      'message.timestamp.after.max.ms',
      'message.timestamp.before.max.ms',
      'message.timestamp.difference.max.ms',
      'message.timestamp.type',
      'min.cleanable.dirty.ratio',
      'min.compaction.lag.ms',
      'min.insync.replicas',
      'preallocate',
      'remote.storage.enable',
      'retention.bytes',
      'retention.ms',
      'segment.bytes',
      'segment.index.bytes',
      'segment.jitter.ms',
      'segment.ms',
      'unclean.leader.election.enable',
      'samsa.flush.before.ack',
    ]) {
      assert.ok(TOPIC_CONFIG_NAMES.includes(name), name);
    }
    assert.equal(new Set(TOPIC_CONFIG_NAMES).size, TOPIC_CONFIG_NAMES.length);
  });
});

describe('validateTopicConfigs', () => {
  const invalid = (name: string, value: string, reason: string) =>
    assert.equal(
      validateTopicConfigs({ [name]: value }),
      `Invalid value ${value} for configuration ${name}: ${reason}`,
      `${name}=${value}`,
    );

  it('accepts valid values, including case-insensitive booleans and padded numbers', () => {
    assert.equal(
      validateTopicConfigs({
        'cleanup.policy': 'compact,delete',
        'compression.type': 'lz4',
        'retention.ms': '-1',
        'segment.bytes': ' 14 ',
        'min.cleanable.dirty.ratio': '1',
        'unclean.leader.election.enable': 'TRUE',
        'message.timestamp.type': 'LogAppendTime',
        'max.message.bytes': '0',
        'flush.ms': '9223372036854775807',
        'leader.replication.throttled.replicas': '0:1, 1:2',
        'follower.replication.throttled.replicas': '*',
        'samsa.flush.before.ack': 'true',
      }),
      null,
    );
    assert.equal(validateTopicConfigs({}), null);
  });

  it('reports unknown names', () => {
    assert.equal(validateTopicConfigs({ foo: '1' }), 'Unknown topic config name: foo');
    assert.equal(validateTopicConfigs({ 'log.retention.ms': '1' }), 'Unknown topic config name: log.retention.ms');
  });

  it('a null value (delete the override) is valid for known keys only', () => {
    assert.equal(validateTopicConfigs({ 'retention.ms': null, 'cleanup.policy': null }), null);
    assert.equal(validateTopicConfigs({ foo: null }), 'Unknown topic config name: foo');
  });

  it("uses Kafka's messages for type errors", () => {
    invalid('retention.ms', 'x', 'Not a number of type LONG');
    invalid('retention.ms', '9223372036854775808', 'Not a number of type LONG');
    invalid('segment.bytes', '1.5', 'Not a number of type INT');
    invalid('segment.bytes', '2147483648', 'Not a number of type INT');
    invalid('min.cleanable.dirty.ratio', 'half', 'Not a number of type DOUBLE');
    invalid('preallocate', 'yes', 'Expected value to be either true or false');
  });

  it("uses Kafka's messages for range and choice errors", () => {
    invalid('segment.bytes', '13', 'Value must be at least 14');
    invalid('retention.ms', '-2', 'Value must be at least -1');
    invalid('max.message.bytes', '-1', 'Value must be at least 0');
    invalid('min.insync.replicas', '0', 'Value must be at least 1');
    invalid('min.cleanable.dirty.ratio', '1.1', 'Value must be no more than 1');
    invalid('min.cleanable.dirty.ratio', '-0.1', 'Value must be at least 0');
    invalid('compression.type', 'brotli', 'String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer');
    invalid('message.timestamp.type', 'createtime', 'String must be one of: CreateTime, LogAppendTime');
    invalid('compression.lz4.level', '18', 'Value must be no more than 17');
    assert.equal(
      validateTopicConfigs({ 'cleanup.policy': 'compact,forever' }),
      'Invalid value forever for configuration cleanup.policy: String must be one of: compact, delete',
    );
    assert.match(
      validateTopicConfigs({ 'leader.replication.throttled.replicas': '0-1' }) ?? '',
      /partitionId:brokerId/,
    );
  });

  it('checks values that depend on each other', () => {
    assert.match(
      validateTopicConfigs({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' }) ?? '',
      /min\.compaction\.lag\.ms \(10\) must not be greater than max\.compaction\.lag\.ms \(5\)/,
    );
    const b = broker({ 'log.cleaner.max.compaction.lag.ms': '100' });
    assert.equal(validateTopicConfigs({ 'min.compaction.lag.ms': '1000' }), null);
    assert.match(validateTopicConfigs({ 'min.compaction.lag.ms': '1000' }, b) ?? '', /must not be greater/);
    assert.match(validateTopicConfigs({ 'remote.storage.enable': 'true' }) ?? '', /Tiered storage is not supported/);
  });
});

describe('topicSettings', () => {
  it('without overrides equals the broker defaults', () => {
    const b = broker({ 'log.retention.hours': '1' });
    assert.deepEqual(topicSettings({}, b), b.logDefaults);
  });

  it('overlays the overrides on the broker defaults', () => {
    const b = broker({ 'log.retention.hours': '1', 'log.segment.bytes': '2048', 'compression.type': 'gzip' });
    const settings = topicSettings(
      {
        'retention.ms': '5000',
        'cleanup.policy': 'compact',
        'min.cleanable.dirty.ratio': '0.1',
        'unclean.leader.election.enable': 'True',
        'flush.messages': '9223372036854775807',
        'samsa.flush.before.ack': 'true',
      },
      b,
    );
    assert.equal(settings.retentionMs, 5000);
    assert.deepEqual(settings.cleanupPolicy, ['compact']);
    assert.equal(settings.minCleanableDirtyRatio, 0.1);
    assert.equal(settings.uncleanLeaderElectionEnable, true);
    assert.equal(settings.flushMessages, Number.MAX_SAFE_INTEGER);
    assert.equal(settings.flushBeforeAck, true);
    // not overridden: from the broker
    assert.equal(settings.segmentBytes, 2048);
    assert.equal(settings.compressionType, 'gzip');
    assert.equal(settings.segmentMs, 604800000);
  });

  it('ignores keys it does not use and removes duplicate policies', () => {
    const settings = topicSettings({ 'remote.log.copy.disable': 'true', 'cleanup.policy': 'delete,delete' }, broker());
    assert.deepEqual(settings.cleanupPolicy, ['delete']);
  });
});
