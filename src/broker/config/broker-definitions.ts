/**
 * Broker-only keys (Kafka's names; samsa's own keys start with `samsa.`). Together with the topic configs' broker
 * synonyms from definitions.ts they make up every key a broker knows.
 */
import { type KeyDef, TOPIC_SYNONYM_DEFS } from './definitions.js';
import { atLeast } from './value-types.js';

export const DEFAULT_SECURITY_PROTOCOL_MAP =
  'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL';

const BROKER_ONLY_DEFS: readonly KeyDef[] = [
  { name: 'node.id', type: 'int', default: '1', validator: atLeast(0), doc: 'Id of this node in the cluster.' },
  {
    name: 'broker.id',
    type: 'int',
    default: null,
    validator: atLeast(0),
    doc: 'Older name of node.id; if both are given they must agree.',
  },
  {
    name: 'listeners',
    type: 'list',
    default: 'PLAINTEXT://localhost:9092',
    doc: 'Comma-separated NAME://host:port addresses to listen on; an empty host means every interface.',
  },
  {
    name: 'advertised.listeners',
    type: 'list',
    default: null,
    doc: 'Addresses given to clients, NAME://host:port; defaults to listeners (a wildcard host becomes the hostname).',
  },
  {
    name: 'listener.security.protocol.map',
    type: 'string',
    default: DEFAULT_SECURITY_PROTOCOL_MAP,
    doc: 'Security protocol of each listener name, as NAME:PROTOCOL pairs.',
  },
  { name: 'log.dirs', type: 'list', default: null, doc: 'Directories holding partition data; wins over log.dir.' },
  { name: 'log.dir', type: 'string', default: './samsa-data', doc: 'Data directory, used when log.dirs is unset.' },
  {
    name: 'num.partitions',
    type: 'int',
    default: '1',
    validator: atLeast(1),
    doc: 'Partition count of topics created without one (including auto-created topics).',
  },
  {
    name: 'default.replication.factor',
    type: 'int',
    default: '1',
    validator: atLeast(1),
    doc: 'Replication factor of topics created without one.',
  },
  {
    name: 'auto.create.topics.enable',
    type: 'boolean',
    default: 'true',
    doc: 'Create a topic when metadata for an unknown topic is requested.',
  },
  { name: 'delete.topic.enable', type: 'boolean', default: 'true', doc: 'Whether topics may be deleted.' },
  {
    name: 'socket.request.max.bytes',
    type: 'int',
    default: '104857600',
    validator: atLeast(1),
    doc: 'Largest request the broker reads; bigger ones close the connection.',
  },
  {
    name: 'connections.max.idle.ms',
    type: 'long',
    default: '600000',
    doc: 'Close connections idle for longer than this.',
  },
  {
    name: 'max.connections',
    type: 'int',
    default: '2147483647',
    validator: atLeast(0),
    doc: 'Most client connections open at once.',
  },
  { name: 'broker.rack', type: 'string', default: null, doc: 'Rack of this broker, for rack-aware placement.' },
  {
    name: 'replica.lag.time.max.ms',
    type: 'long',
    default: '30000',
    validator: atLeast(1),
    doc: 'A follower that has not caught up with the leader for this long leaves the ISR.',
  },
  {
    name: 'replica.fetch.wait.max.ms',
    type: 'int',
    default: '500',
    validator: atLeast(0),
    doc: 'Longest wait of a follower fetch for new data (keep below replica.lag.time.max.ms).',
  },
  {
    name: 'replica.fetch.max.bytes',
    type: 'int',
    default: '1048576',
    validator: atLeast(0),
    doc: 'Bytes a follower fetch asks for per partition.',
  },
  {
    name: 'replica.fetch.response.max.bytes',
    type: 'int',
    default: '10485760',
    validator: atLeast(0),
    doc: 'Bytes a follower fetch asks for in all.',
  },
  {
    name: 'controlled.shutdown.enable',
    type: 'boolean',
    default: 'true',
    doc: 'Cluster mode: a stopping broker first asks the controller to move its leaderships away.',
  },
  {
    name: 'controlled.shutdown.max.retries',
    type: 'int',
    default: '3',
    validator: atLeast(0),
    doc: 'Controlled shutdown attempts while partitions remain led by the stopping broker.',
  },
  {
    name: 'controlled.shutdown.retry.backoff.ms',
    type: 'long',
    default: '5000',
    validator: atLeast(0),
    doc: 'Pause between controlled shutdown attempts.',
  },
  {
    name: 'auto.leader.rebalance.enable',
    type: 'boolean',
    default: 'true',
    doc: 'Cluster mode: the controller gives leadership back to preferred replicas when brokers lead too few of theirs.',
  },
  {
    name: 'leader.imbalance.check.interval.seconds',
    type: 'long',
    default: '300',
    validator: atLeast(1),
    doc: 'How often the controller checks the leader balance.',
  },
  {
    name: 'leader.imbalance.per.broker.percentage',
    type: 'int',
    default: '10',
    validator: atLeast(0),
    doc: 'Share of its preferred partitions a broker may not lead before the controller rebalances.',
  },
  {
    name: 'zookeeper.connect',
    type: 'string',
    default: null,
    doc: 'host:port[,host:port...][/chroot] of the ZooKeeper ensemble: set, the broker joins a cluster coordinated there; unset, it runs alone with embedded metadata.',
  },
  {
    name: 'zookeeper.session.timeout.ms',
    type: 'int',
    default: '18000',
    validator: atLeast(1),
    doc: 'ZooKeeper session timeout: how long a broker that stopped answering stays registered.',
  },
  {
    name: 'zookeeper.connection.timeout.ms',
    type: 'int',
    default: null,
    doc: 'How long the broker waits for a ZooKeeper session at start (zookeeper.session.timeout.ms when unset).',
  },
  {
    name: 'samsa.cluster.id',
    type: 'string',
    default: null,
    doc: 'Cluster id; when unset one is generated at first start and kept in the data directory.',
  },
  {
    name: 'offsets.topic.num.partitions',
    type: 'int',
    default: '50',
    validator: atLeast(1),
    doc: 'Partition count of the internal offsets topic (fixed once created).',
  },
  {
    name: 'offsets.topic.replication.factor',
    type: 'short',
    default: '3',
    validator: atLeast(1),
    doc: 'Replication factor of the internal offsets topic.',
  },
  {
    name: 'offsets.retention.minutes',
    type: 'int',
    default: '10080',
    validator: atLeast(1),
    doc: 'How long the committed offsets of an empty group are kept.',
  },
  {
    name: 'offsets.retention.check.interval.ms',
    type: 'long',
    default: '600000',
    validator: atLeast(1),
    doc: 'How often expired committed offsets are looked for.',
  },
  {
    name: 'offset.metadata.max.bytes',
    type: 'int',
    default: '4096',
    doc: 'Largest metadata string accepted with a committed offset.',
  },
  {
    name: 'log.flush.offset.checkpoint.interval.ms',
    type: 'int',
    default: '60000',
    validator: atLeast(0),
    doc: 'How often the recovery-point checkpoint is written.',
  },
  {
    name: 'log.retention.check.interval.ms',
    type: 'long',
    default: '300000',
    validator: atLeast(1),
    doc: 'How often segments are checked for deletion under the retention settings.',
  },
  { name: 'log.cleaner.enable', type: 'boolean', default: 'true', doc: 'Run the log cleaner (needed for compaction).' },
  {
    name: 'log.cleaner.threads',
    type: 'int',
    default: '1',
    validator: atLeast(0),
    doc: 'Number of threads compacting logs.',
  },
  {
    name: 'log.cleaner.backoff.ms',
    type: 'long',
    default: '15000',
    validator: atLeast(0),
    doc: 'Pause of the cleaner when no log needs compaction.',
  },
  {
    name: 'log.cleaner.dedupe.buffer.size',
    type: 'long',
    default: '134217728',
    doc: 'Memory used for compaction key maps, across all cleaner threads.',
  },
  {
    name: 'group.initial.rebalance.delay.ms',
    type: 'int',
    default: '3000',
    doc: 'How long a new group waits for more members before its first rebalance.',
  },
  {
    name: 'group.min.session.timeout.ms',
    type: 'int',
    default: '6000',
    doc: 'Smallest session timeout a consumer may ask for.',
  },
  {
    name: 'group.max.session.timeout.ms',
    type: 'int',
    default: '1800000',
    doc: 'Largest session timeout a consumer may ask for.',
  },
  {
    name: 'group.max.size',
    type: 'int',
    default: '2147483647',
    validator: atLeast(1),
    doc: 'Most members a consumer group may have.',
  },
  {
    name: 'group.consumer.session.timeout.ms',
    type: 'int',
    default: '45000',
    validator: atLeast(1),
    doc: 'Session timeout of members of consumer-protocol (KIP-848) groups.',
  },
  {
    name: 'group.consumer.min.session.timeout.ms',
    type: 'int',
    default: '45000',
    validator: atLeast(1),
    doc: 'Smallest allowed group.consumer.session.timeout.ms.',
  },
  {
    name: 'group.consumer.max.session.timeout.ms',
    type: 'int',
    default: '60000',
    validator: atLeast(1),
    doc: 'Largest allowed group.consumer.session.timeout.ms.',
  },
  {
    name: 'group.consumer.heartbeat.interval.ms',
    type: 'int',
    default: '5000',
    validator: atLeast(1),
    doc: 'How often members of consumer-protocol groups heartbeat.',
  },
  {
    name: 'group.consumer.min.heartbeat.interval.ms',
    type: 'int',
    default: '5000',
    validator: atLeast(1),
    doc: 'Smallest allowed group.consumer.heartbeat.interval.ms.',
  },
  {
    name: 'group.consumer.max.heartbeat.interval.ms',
    type: 'int',
    default: '15000',
    validator: atLeast(1),
    doc: 'Largest allowed group.consumer.heartbeat.interval.ms.',
  },
  {
    name: 'group.consumer.max.size',
    type: 'int',
    default: '2147483647',
    validator: atLeast(1),
    doc: 'Most members a consumer-protocol group may have.',
  },
  {
    name: 'group.consumer.assignors',
    type: 'list',
    default: 'uniform,range',
    doc: 'Server-side assignors of consumer-protocol groups; the first is the default.',
  },
  {
    name: 'producer.id.expiration.ms',
    type: 'int',
    default: '86400000',
    validator: atLeast(1),
    doc: 'How long a partition keeps the state of an idempotent producer that stopped writing.',
  },
  {
    name: 'producer.id.expiration.check.interval.ms',
    type: 'int',
    default: '600000',
    validator: atLeast(1),
    doc: 'How often partitions drop expired producer ids.',
  },
  {
    name: 'fetch.max.bytes',
    type: 'int',
    default: '57671680',
    validator: atLeast(1024),
    doc: 'Largest fetch response the broker builds, whatever the request asks.',
  },
  {
    name: 'max.incremental.fetch.session.cache.slots',
    type: 'int',
    default: '1000',
    validator: atLeast(0),
    doc: 'Most incremental fetch sessions the broker keeps.',
  },
];

/** Every key the broker knows, broker-only keys first, each once (some topic synonyms share a broker key name). */
export const BROKER_DEFS: readonly KeyDef[] = dedupe([...BROKER_ONLY_DEFS, ...TOPIC_SYNONYM_DEFS]);

export const BROKER_DEFS_BY_NAME: ReadonlyMap<string, KeyDef> = new Map(BROKER_DEFS.map((d) => [d.name, d]));

function dedupe(defs: readonly KeyDef[]): KeyDef[] {
  const seen = new Set<string>();
  return defs.filter((d) => !seen.has(d.name) && seen.add(d.name));
}

export const BROKER_CONFIG_NAMES: readonly string[] = BROKER_DEFS.map((d) => d.name);
