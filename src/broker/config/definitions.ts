/**
 * The table of topic-level configs: Kafka's names, types, defaults and validation, plus the broker keys that supply
 * each topic's default (Kafka's "synonyms", in Kafka's order: the first one set wins). Broker-only keys live in
 * broker-definitions.ts.
 */
import type { TopicSettings } from './topic-config.js';
import {
  atLeast,
  between,
  type ConfigType,
  type ConfigValue,
  custom,
  LONG_MAX_STRING,
  listOf,
  oneOf,
  type Validator,
} from './value-types.js';

export interface KeyDef {
  readonly name: string;
  readonly type: ConfigType;
  /** Canonical string form of the default; null when the key has none (it is then unset unless given). */
  readonly default: string | null;
  readonly validator?: Validator;
  readonly doc: string;
}

/** A broker key that sets a topic config's default; its value times `scale` is in the topic config's unit. */
export interface BrokerSynonym extends KeyDef {
  readonly scale: number;
}

export interface TopicKeyDef extends KeyDef {
  readonly synonyms: readonly BrokerSynonym[];
  /** The TopicSettings field this key feeds, when samsa uses it. */
  readonly field?: keyof TopicSettings;
  /** Adjusts a value derived from a broker synonym (Kafka reads any negative retention time as "forever"). */
  readonly fromBroker?: (value: bigint) => bigint;
}

const HOURS = 60 * 60 * 1000;
const MINUTES = 60 * 1000;

const COMPRESSION_TYPES = ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'] as const;
const TIMESTAMP_TYPES = ['CreateTime', 'LogAppendTime'] as const;

const throttledReplicas = custom((value) => {
  const items = value as readonly string[];
  if (items.length === 1 && items[0] === '*') return null;
  return items.every((item) => /^\d+\s*:\s*\d+$/.test(item))
    ? null
    : "Must be '*' or a list of partitionId:brokerId pairs";
}, "'*' or a list of partitionId:brokerId pairs");

const gzipLevel = custom(
  (value) =>
    value === -1 || ((value as number) >= 1 && (value as number) <= 9) ? null : 'Value must be -1 or in [1, 9]',
  '-1 or an integer in [1, 9]',
);

const versionString = custom(
  (value) => (/^\d+\.\d+(\.\d+)?(-IV\d+)?$/.test(value as string) ? null : 'Not a Kafka version'),
  'a Kafka version such as 3.0-IV1',
);

interface SynonymSpec extends Partial<Omit<BrokerSynonym, 'name'>> {
  name: string;
}

interface TopicSpec extends Omit<TopicKeyDef, 'synonyms'> {
  synonyms?: readonly SynonymSpec[];
}

/** Synonyms inherit the topic key's type, default, validator and doc unless they say otherwise. */
function topicKey(spec: TopicSpec): TopicKeyDef {
  const synonyms = (spec.synonyms ?? []).map(
    (s): BrokerSynonym => ({
      type: spec.type,
      default: spec.default,
      doc: `Broker-wide default for the topic config ${spec.name}. ${spec.doc}`,
      scale: 1,
      ...(spec.validator ? { validator: spec.validator } : {}),
      ...s,
    }),
  );
  return { ...spec, synonyms };
}

const same = (name: string): SynonymSpec[] => [{ name }];
// Kafka does not range-check the broker retention keys: any negative value means "forever".
const unchecked = (specs: SynonymSpec[]): SynonymSpec[] => specs.map((s) => ({ ...s, validator: undefined }));
const forever = (value: bigint): bigint => (value < 0n ? -1n : value);

export const TOPIC_DEFS: readonly TopicKeyDef[] = [
  topicKey({
    name: 'cleanup.policy',
    type: 'list',
    default: 'delete',
    validator: listOf(['compact', 'delete']),
    field: 'cleanupPolicy',
    doc: 'How old segments are discarded: "delete" removes them by age or size, "compact" keeps the latest record per key; both may be given.',
    synonyms: same('log.cleanup.policy'),
  }),
  topicKey({
    name: 'compression.type',
    type: 'string',
    default: 'producer',
    validator: oneOf(COMPRESSION_TYPES),
    field: 'compressionType',
    doc: 'Codec for stored batches; "producer" keeps what the producer sent, "uncompressed" stores them uncompressed.',
    synonyms: same('compression.type'),
  }),
  topicKey({
    name: 'compression.gzip.level',
    type: 'int',
    default: '-1',
    validator: gzipLevel,
    doc: 'Gzip level used when compression.type is gzip; -1 means the codec default.',
    synonyms: same('compression.gzip.level'),
  }),
  topicKey({
    name: 'compression.lz4.level',
    type: 'int',
    default: '9',
    validator: between(1, 17),
    doc: 'LZ4 level used when compression.type is lz4.',
    synonyms: same('compression.lz4.level'),
  }),
  topicKey({
    name: 'compression.zstd.level',
    type: 'int',
    default: '3',
    validator: between(-131072, 22),
    doc: 'Zstandard level used when compression.type is zstd.',
    synonyms: same('compression.zstd.level'),
  }),
  topicKey({
    name: 'delete.retention.ms',
    type: 'long',
    default: '86400000',
    validator: atLeast(0),
    field: 'deleteRetentionMs',
    doc: 'How long tombstones (null-value records) survive in a compacted topic, so that consumers can see them.',
    synonyms: same('log.cleaner.delete.retention.ms'),
  }),
  topicKey({
    name: 'file.delete.delay.ms',
    type: 'long',
    default: '60000',
    validator: atLeast(0),
    field: 'fileDeleteDelayMs',
    doc: 'How long the files of a deleted segment are kept before they are removed from disk.',
    synonyms: same('log.segment.delete.delay.ms'),
  }),
  topicKey({
    name: 'flush.messages',
    type: 'long',
    default: LONG_MAX_STRING,
    validator: atLeast(1),
    field: 'flushMessages',
    doc: 'Force an fsync after this many messages; the default leaves flushing to the operating system.',
    synonyms: same('log.flush.interval.messages'),
  }),
  topicKey({
    name: 'flush.ms',
    type: 'long',
    default: LONG_MAX_STRING,
    validator: atLeast(0),
    field: 'flushMs',
    doc: 'Force an fsync when unflushed data is this old; the default leaves flushing to the operating system.',
    synonyms: [{ name: 'log.flush.interval.ms', default: null }, { name: 'log.flush.scheduler.interval.ms' }],
  }),
  topicKey({
    name: 'follower.replication.throttled.replicas',
    type: 'list',
    default: '',
    validator: throttledReplicas,
    doc: 'Replicas (partitionId:brokerId, or * for all) whose follower-side replication is throttled.',
  }),
  topicKey({
    name: 'index.interval.bytes',
    type: 'int',
    default: '4096',
    validator: atLeast(0),
    field: 'indexIntervalBytes',
    doc: 'Bytes of log between two offset index entries; smaller means faster seeks and bigger indexes.',
    synonyms: same('log.index.interval.bytes'),
  }),
  topicKey({
    name: 'leader.replication.throttled.replicas',
    type: 'list',
    default: '',
    validator: throttledReplicas,
    doc: 'Replicas (partitionId:brokerId, or * for all) whose leader-side replication is throttled.',
  }),
  topicKey({
    name: 'local.retention.bytes',
    type: 'long',
    default: '-2',
    validator: atLeast(-2),
    doc: 'With tiered storage, the local size limit per partition; -2 means use retention.bytes.',
    synonyms: same('log.local.retention.bytes'),
  }),
  topicKey({
    name: 'local.retention.ms',
    type: 'long',
    default: '-2',
    validator: atLeast(-2),
    doc: 'With tiered storage, how long segments stay on local disk; -2 means use retention.ms.',
    synonyms: same('log.local.retention.ms'),
  }),
  topicKey({
    name: 'max.compaction.lag.ms',
    type: 'long',
    default: LONG_MAX_STRING,
    validator: atLeast(1),
    field: 'maxCompactionLagMs',
    doc: 'Longest time a record may stay uncompacted, whatever the dirty ratio.',
    synonyms: same('log.cleaner.max.compaction.lag.ms'),
  }),
  topicKey({
    name: 'max.message.bytes',
    type: 'int',
    default: '1048588',
    validator: atLeast(0),
    field: 'maxMessageBytes',
    doc: 'Largest record batch (after compression) the topic accepts.',
    synonyms: same('message.max.bytes'),
  }),
  topicKey({
    name: 'message.downconversion.enable',
    type: 'boolean',
    default: 'true',
    field: 'messageDownconversionEnable',
    doc: 'Whether fetches from old clients may be served by converting records to an older format.',
    synonyms: same('log.message.downconversion.enable'),
  }),
  topicKey({
    name: 'message.format.version',
    type: 'string',
    default: '3.0-IV1',
    validator: versionString,
    doc: 'Deprecated and ignored: records are always written in the current format.',
    synonyms: same('log.message.format.version'),
  }),
  topicKey({
    name: 'message.timestamp.after.max.ms',
    type: 'long',
    default: LONG_MAX_STRING,
    validator: atLeast(0),
    field: 'messageTimestampAfterMaxMs',
    doc: 'With CreateTime, reject batches whose timestamp is further than this in the future of the broker clock.',
    synonyms: same('log.message.timestamp.after.max.ms'),
  }),
  topicKey({
    name: 'message.timestamp.before.max.ms',
    type: 'long',
    default: LONG_MAX_STRING,
    validator: atLeast(0),
    field: 'messageTimestampBeforeMaxMs',
    doc: 'With CreateTime, reject batches whose timestamp is further than this in the past of the broker clock.',
    synonyms: same('log.message.timestamp.before.max.ms'),
  }),
  topicKey({
    name: 'message.timestamp.difference.max.ms',
    type: 'long',
    default: LONG_MAX_STRING,
    validator: atLeast(0),
    field: 'messageTimestampDifferenceMaxMs',
    doc: 'Deprecated: largest allowed distance between a CreateTime timestamp and the broker clock, either way.',
    synonyms: same('log.message.timestamp.difference.max.ms'),
  }),
  topicKey({
    name: 'message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    validator: oneOf(TIMESTAMP_TYPES),
    field: 'messageTimestampType',
    doc: "Whether record timestamps are the producer's (CreateTime) or the broker's append time (LogAppendTime).",
    synonyms: same('log.message.timestamp.type'),
  }),
  topicKey({
    name: 'min.cleanable.dirty.ratio',
    type: 'double',
    default: '0.5',
    validator: between(0, 1),
    field: 'minCleanableDirtyRatio',
    doc: 'Compact a log once its uncompacted part is at least this fraction of the whole.',
    synonyms: [{ name: 'log.cleaner.min.cleanable.ratio' }],
  }),
  topicKey({
    name: 'min.compaction.lag.ms',
    type: 'long',
    default: '0',
    validator: atLeast(0),
    field: 'minCompactionLagMs',
    doc: 'Records younger than this are never compacted.',
    synonyms: same('log.cleaner.min.compaction.lag.ms'),
  }),
  topicKey({
    name: 'min.insync.replicas',
    type: 'int',
    default: '1',
    validator: atLeast(1),
    field: 'minInsyncReplicas',
    doc: 'With acks=all, the fewest in-sync replicas that must have a write for it to succeed.',
    synonyms: same('min.insync.replicas'),
  }),
  topicKey({
    name: 'preallocate',
    type: 'boolean',
    default: 'false',
    field: 'preallocate',
    doc: 'Whether to preallocate the file of a new segment.',
    synonyms: same('log.preallocate'),
  }),
  topicKey({
    name: 'remote.log.copy.disable',
    type: 'boolean',
    default: 'false',
    doc: 'With tiered storage, stop copying segments to remote storage.',
  }),
  topicKey({
    name: 'remote.log.delete.on.disable',
    type: 'boolean',
    default: 'false',
    doc: 'With tiered storage, delete remote data when remote storage is turned off for the topic.',
  }),
  topicKey({
    name: 'remote.storage.enable',
    type: 'boolean',
    default: 'false',
    doc: 'Tiered storage for the topic; not supported by samsa, so it can only be false.',
  }),
  topicKey({
    name: 'retention.bytes',
    type: 'long',
    default: '-1',
    field: 'retentionBytes',
    doc: 'Largest size of a partition before its oldest segments are deleted; -1 means no limit.',
    synonyms: same('log.retention.bytes'),
  }),
  topicKey({
    name: 'retention.ms',
    type: 'long',
    default: '604800000',
    validator: atLeast(-1),
    field: 'retentionMs',
    fromBroker: forever,
    doc: 'How long a segment is kept (judged by its newest record) before deletion; -1 keeps data forever.',
    synonyms: unchecked([
      {
        name: 'log.retention.ms',
        default: null,
        doc: 'Broker default retention in milliseconds; wins over log.retention.minutes and log.retention.hours. -1 keeps data forever.',
      },
      {
        name: 'log.retention.minutes',
        type: 'int',
        default: null,
        scale: MINUTES,
        doc: 'Broker default retention in minutes, used when log.retention.ms is unset.',
      },
      {
        name: 'log.retention.hours',
        type: 'int',
        default: '168',
        scale: HOURS,
        doc: 'Broker default retention in hours, used when log.retention.ms and log.retention.minutes are unset.',
      },
    ]),
  }),
  topicKey({
    name: 'segment.bytes',
    type: 'int',
    default: '1073741824',
    validator: atLeast(14),
    field: 'segmentBytes',
    doc: 'Size at which the active segment is rolled.',
    synonyms: same('log.segment.bytes'),
  }),
  topicKey({
    name: 'segment.index.bytes',
    type: 'int',
    default: '10485760',
    validator: atLeast(4),
    field: 'segmentIndexBytes',
    doc: 'Size bound of each offset and time index file; a full index rolls the segment.',
    synonyms: same('log.index.size.max.bytes'),
  }),
  topicKey({
    name: 'segment.jitter.ms',
    type: 'long',
    default: '0',
    validator: atLeast(0),
    field: 'segmentJitterMs',
    doc: 'Largest random reduction of segment.ms, so that many partitions do not roll at the same moment.',
    synonyms: [
      { name: 'log.roll.jitter.ms', default: null, doc: 'Broker default segment jitter in milliseconds.' },
      {
        name: 'log.roll.jitter.hours',
        type: 'int',
        default: '0',
        scale: HOURS,
        doc: 'Broker default segment jitter in hours, used when log.roll.jitter.ms is unset.',
      },
    ],
  }),
  topicKey({
    name: 'segment.ms',
    type: 'long',
    default: '604800000',
    validator: atLeast(1),
    field: 'segmentMs',
    doc: 'Roll the active segment once it is this old, even if not full, so that retention can act on it.',
    synonyms: [
      { name: 'log.roll.ms', default: null, doc: 'Broker default segment age limit in milliseconds.' },
      {
        name: 'log.roll.hours',
        type: 'int',
        default: '168',
        scale: HOURS,
        doc: 'Broker default segment age limit in hours, used when log.roll.ms is unset.',
      },
    ],
  }),
  topicKey({
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    default: 'false',
    field: 'uncleanLeaderElectionEnable',
    doc: 'Whether a replica outside the ISR may become leader as a last resort, at the risk of losing data.',
    synonyms: same('unclean.leader.election.enable'),
  }),
  topicKey({
    name: 'samsa.flush.before.ack',
    type: 'boolean',
    default: 'false',
    field: 'flushBeforeAck',
    doc: 'Samsa only: acknowledge a write only once it is fsynced (concurrent writes share one fsync).',
    synonyms: same('samsa.flush.before.ack'),
  }),
];

export const TOPIC_DEFS_BY_NAME: ReadonlyMap<string, TopicKeyDef> = new Map(TOPIC_DEFS.map((d) => [d.name, d]));

/** Every broker key that is a synonym of some topic config, with its definition. */
export const TOPIC_SYNONYM_DEFS: readonly BrokerSynonym[] = TOPIC_DEFS.flatMap((d) => d.synonyms);

export type { ConfigValue };
