/**
 * Kafka's ZooKeeper layout: the paths and JSON documents of Kafka's ZooKeeper mode, so that a Samsa cluster's tree
 * reads like a Kafka cluster's to operators and their tools (zookeeper-shell, kafka-topics --zookeeper of old).
 * Encoders write the versions Kafka 3.x writes; decoders accept the versions Kafka has written (older brokers'
 * documents included) and reject anything else with a `ZnodeFormatError` naming the path, never a crash: the tree
 * is shared with other processes and may hold anything.
 *
 * | path | document |
 * |---|---|
 * | /cluster/id | {"version":"1","id":...} |
 * | /controller | {"version":2,"brokerid":N,"timestamp":"ms","kraftControllerEpoch":-1} (ephemeral) |
 * | /controller_epoch | the epoch as a decimal number |
 * | /brokers/ids/N | {"version":5,"host","port","endpoints":["LISTENER://host:port"],"listener_security_protocol_map", "rack"?, "jmx_port":-1,"timestamp","features":{}} (ephemeral) |
 * | /brokers/topics/T | {"version":3,"topic_id","partitions":{"0":[replicas]},"adding_replicas":{},"removing_replicas":{}} |
 * | /brokers/topics/T/partitions/P/state | {"version":1,"leader","leader_epoch","isr":[...],"controller_epoch"} |
 * | /config/topics/T, /config/brokers/N | {"version":1,"config":{name: value}} |
 * | /config/changes/config_change_NNNNNNNNNN | {"version":2,"entity_path":"topics/T"} (sequential) |
 * | /admin/delete_topics/T | empty |
 * | /admin/reassign_partitions | {"version":1,"partitions":[{"topic","partition","replicas"}]} |
 * | /isr_change_notification/isr_change_NNNNNNNNNN | {"version":1,"partitions":[{"topic","partition"}]} (sequential) |
 * | /latest_producer_id_block | {"version":1,"broker":N,"block_start":"first","block_end":"last"} |
 */
import type { BrokerEndpoint, BrokerInfo } from '../types.js';

export const Paths = {
  clusterId: '/cluster/id',
  controller: '/controller',
  controllerEpoch: '/controller_epoch',
  brokerIds: '/brokers/ids',
  broker: (id: number): string => `/brokers/ids/${id}`,
  topics: '/brokers/topics',
  topic: (name: string): string => `/brokers/topics/${name}`,
  partitions: (topic: string): string => `/brokers/topics/${topic}/partitions`,
  partition: (topic: string, partition: number): string => `/brokers/topics/${topic}/partitions/${partition}`,
  partitionState: (topic: string, partition: number): string =>
    `/brokers/topics/${topic}/partitions/${partition}/state`,
  topicConfigs: '/config/topics',
  topicConfig: (name: string): string => `/config/topics/${name}`,
  brokerConfig: (id: number | '<default>'): string => `/config/brokers/${id}`,
  configChanges: '/config/changes',
  configChangePrefix: '/config/changes/config_change_',
  deleteTopics: '/admin/delete_topics',
  deleteTopic: (name: string): string => `/admin/delete_topics/${name}`,
  reassignPartitions: '/admin/reassign_partitions',
  isrChanges: '/isr_change_notification',
  isrChangePrefix: '/isr_change_notification/isr_change_',
  producerIdBlock: '/latest_producer_id_block',
} as const;

/** The persistent znodes Kafka creates at startup so that watches and creations below them work. */
export const PERSISTENT_ROOTS = [
  '/brokers/ids',
  '/brokers/topics',
  '/brokers/seqid',
  '/config/topics',
  '/config/brokers',
  '/config/changes',
  '/admin/delete_topics',
  '/isr_change_notification',
  '/cluster',
] as const;

/** A znode's data is not what Kafka writes there. */
export class ZnodeFormatError extends Error {
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`${path}: ${why}`);
    this.name = 'ZnodeFormatError';
  }
}

const encode = (doc: unknown): Buffer => Buffer.from(JSON.stringify(doc), 'utf8');

type Json = Record<string, unknown>;

function parse(path: string, data: Buffer | null): Json {
  if (data === null || data.length === 0) throw new ZnodeFormatError(path, 'no data');
  let doc: unknown;
  try {
    doc = JSON.parse(data.toString('utf8'));
  } catch (e) {
    throw new ZnodeFormatError(path, `not JSON (${(e as Error).message})`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ZnodeFormatError(path, 'not an object');
  return doc as Json;
}

function int(path: string, doc: Json, field: string, min = Number.MIN_SAFE_INTEGER): number {
  const v = doc[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new ZnodeFormatError(path, `'${field}' must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function intList(path: string, v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw new ZnodeFormatError(path, `${what} must be a list of broker ids, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

function version(path: string, doc: Json, accepted: readonly number[]): number {
  // Kafka wrote some versions as strings ("1" in /cluster/id).
  const raw = doc.version;
  const v = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof v !== 'number' || !accepted.includes(v)) {
    throw new ZnodeFormatError(path, `unsupported version ${JSON.stringify(raw)} (expected ${accepted.join(', ')})`);
  }
  return v;
}

// ---- /cluster/id ----------------------------------------------------------------------------------------------

export function encodeClusterId(id: string): Buffer {
  return encode({ version: '1', id });
}

export function decodeClusterId(data: Buffer | null): string {
  const doc = parse(Paths.clusterId, data);
  version(Paths.clusterId, doc, [1]);
  if (typeof doc.id !== 'string' || doc.id === '') throw new ZnodeFormatError(Paths.clusterId, "no 'id'");
  return doc.id;
}

// ---- /controller, /controller_epoch ----------------------------------------------------------------------------

export function encodeController(brokerId: number, now = Date.now()): Buffer {
  return encode({ version: 2, brokerid: brokerId, timestamp: String(now), kraftControllerEpoch: -1 });
}

/** The controller's broker id. */
export function decodeController(data: Buffer | null): number {
  const doc = parse(Paths.controller, data);
  version(Paths.controller, doc, [1, 2]);
  return int(Paths.controller, doc, 'brokerid', 0);
}

export function encodeControllerEpoch(epoch: number): Buffer {
  return Buffer.from(String(epoch), 'utf8');
}

export function decodeControllerEpoch(data: Buffer | null): number {
  const text = data?.toString('utf8').trim() ?? '';
  const epoch = Number(text);
  if (text === '' || !Number.isSafeInteger(epoch) || epoch < 0) {
    throw new ZnodeFormatError(Paths.controllerEpoch, `not an epoch: ${JSON.stringify(text.slice(0, 40))}`);
  }
  return epoch;
}

// ---- /brokers/ids/N -------------------------------------------------------------------------------------------

/** Kafka's broker registration (version 5). host/port are those of the PLAINTEXT listener, or null/-1. */
export function encodeBroker(info: BrokerInfo, now = Date.now()): Buffer {
  const plaintext = info.endpoints.find((e) => e.securityProtocol === 'PLAINTEXT');
  const doc: Json = {
    features: {},
    listener_security_protocol_map: Object.fromEntries(info.endpoints.map((e) => [e.listener, e.securityProtocol])),
    endpoints: info.endpoints.map((e) => `${e.listener}://${hostInUrl(e.host)}:${e.port}`),
    jmx_port: -1,
    port: plaintext?.port ?? -1,
    host: plaintext?.host ?? null,
    version: 5,
    timestamp: String(now),
  };
  if (info.rack !== null) doc.rack = info.rack;
  return encode(doc);
}

const hostInUrl = (host: string): string => (host.includes(':') ? `[${host}]` : host);

export function decodeBroker(id: number, data: Buffer | null): BrokerInfo {
  const path = Paths.broker(id);
  const doc = parse(path, data);
  const v = version(path, doc, [1, 2, 3, 4, 5]);
  const endpoints: BrokerEndpoint[] = [];
  if (v >= 2) {
    const protocols = (doc.listener_security_protocol_map ?? {}) as Record<string, unknown>;
    if (!Array.isArray(doc.endpoints)) throw new ZnodeFormatError(path, "'endpoints' must be a list");
    for (const url of doc.endpoints) {
      const m = typeof url === 'string' ? /^([A-Za-z0-9_-]+):\/\/(\[[^\]]*\]|[^:/]*):(\d+)$/.exec(url) : null;
      if (m === null) throw new ZnodeFormatError(path, `bad endpoint ${JSON.stringify(url)}`);
      const listener = m[1]!;
      const protocol = protocols[listener];
      endpoints.push({
        listener,
        host: m[2]!.replace(/^\[|\]$/g, ''),
        port: Number(m[3]),
        securityProtocol: typeof protocol === 'string' ? protocol : listener,
      });
    }
  } else {
    if (typeof doc.host !== 'string') throw new ZnodeFormatError(path, "no 'host'");
    endpoints.push({
      listener: 'PLAINTEXT',
      host: doc.host,
      port: int(path, doc, 'port', 0),
      securityProtocol: 'PLAINTEXT',
    });
  }
  const rack = typeof doc.rack === 'string' ? doc.rack : null;
  return { id, rack, endpoints };
}

// ---- /brokers/topics/T ----------------------------------------------------------------------------------------

export interface TopicZnode {
  /** Kafka Uuid in base64url text, or null when the topic was created by a Kafka older than 2.8. */
  topicId: string | null;
  /** Replicas per partition, indexed by partition number. */
  assignments: number[][];
  /** Replicas being added / removed by a reassignment in progress, by partition. */
  adding: Map<number, number[]>;
  removing: Map<number, number[]>;
}

export function encodeTopic(t: TopicZnode): Buffer {
  const partitions: Record<string, number[]> = {};
  t.assignments.forEach((replicas, p) => {
    partitions[String(p)] = replicas;
  });
  const doc: Json = {
    partitions,
    adding_replicas: Object.fromEntries([...t.adding].map(([p, r]) => [String(p), r])),
    removing_replicas: Object.fromEntries([...t.removing].map(([p, r]) => [String(p), r])),
    version: 3,
  };
  if (t.topicId !== null) doc.topic_id = t.topicId;
  return encode(doc);
}

function partitionMap(path: string, v: unknown, what: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  if (v === undefined || v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ZnodeFormatError(path, `'${what}' must be an object`);
  for (const [k, replicas] of Object.entries(v as Json)) {
    const p = Number(k);
    if (!/^\d+$/.test(k) || !Number.isSafeInteger(p)) throw new ZnodeFormatError(path, `bad partition '${k}'`);
    out.set(p, intList(path, replicas, `replicas of partition ${k}`));
  }
  return out;
}

export function decodeTopic(name: string, data: Buffer | null): TopicZnode {
  const path = Paths.topic(name);
  const doc = parse(path, data);
  version(path, doc, [1, 2, 3]);
  const byPartition = partitionMap(path, doc.partitions, 'partitions');
  const count = byPartition.size;
  const assignments: number[][] = [];
  for (let p = 0; p < count; p++) {
    const replicas = byPartition.get(p);
    if (replicas === undefined) throw new ZnodeFormatError(path, `partitions are not 0..${count - 1}`);
    assignments.push(replicas);
  }
  const topicId = typeof doc.topic_id === 'string' && doc.topic_id !== '' ? doc.topic_id : null;
  return {
    topicId,
    assignments,
    adding: partitionMap(path, doc.adding_replicas, 'adding_replicas'),
    removing: partitionMap(path, doc.removing_replicas, 'removing_replicas'),
  };
}

// ---- /brokers/topics/T/partitions/P/state ---------------------------------------------------------------------

export interface PartitionStateZnode {
  leader: number;
  leaderEpoch: number;
  isr: number[];
  controllerEpoch: number;
}

export function encodePartitionState(s: PartitionStateZnode): Buffer {
  return encode({
    controller_epoch: s.controllerEpoch,
    leader: s.leader,
    version: 1,
    leader_epoch: s.leaderEpoch,
    isr: s.isr,
  });
}

export function decodePartitionState(topic: string, partition: number, data: Buffer | null): PartitionStateZnode {
  const path = Paths.partitionState(topic, partition);
  const doc = parse(path, data);
  version(path, doc, [1]);
  return {
    leader: int(path, doc, 'leader', -1),
    leaderEpoch: int(path, doc, 'leader_epoch', 0),
    isr: intList(path, doc.isr, "'isr'"),
    controllerEpoch: int(path, doc, 'controller_epoch', 0),
  };
}

// ---- /config/topics/T, /config/brokers/N, /config/changes ------------------------------------------------------

export function encodeConfig(config: Readonly<Record<string, string>>): Buffer {
  return encode({ version: 1, config });
}

export function decodeConfig(path: string, data: Buffer | null): Record<string, string> {
  const doc = parse(path, data);
  version(path, doc, [1]);
  const config = doc.config ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ZnodeFormatError(path, "'config' must be an object");
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config as Json)) {
    if (typeof v !== 'string') throw new ZnodeFormatError(path, `config '${k}' must be a string`);
    out[k] = v;
  }
  return out;
}

/** A config change notification: which entity's overrides changed ("topics/T" or "brokers/N"). */
export function encodeConfigChange(entityPath: string): Buffer {
  return encode({ version: 2, entity_path: entityPath });
}

export function decodeConfigChange(path: string, data: Buffer | null): string {
  const doc = parse(path, data);
  const v = version(path, doc, [1, 2]);
  if (v === 1) {
    // Version 1 named the entity in two fields.
    if (typeof doc.entity_type !== 'string' || typeof doc.entity_name !== 'string') {
      throw new ZnodeFormatError(path, 'no entity');
    }
    return `${doc.entity_type}/${doc.entity_name}`;
  }
  if (typeof doc.entity_path !== 'string') throw new ZnodeFormatError(path, "no 'entity_path'");
  return doc.entity_path;
}

// ---- /admin/reassign_partitions, /isr_change_notification ------------------------------------------------------

export interface PartitionReplicas {
  topic: string;
  partition: number;
  replicas: number[];
}

export function encodeReassignment(moves: readonly PartitionReplicas[]): Buffer {
  return encode({ version: 1, partitions: moves });
}

export function decodeReassignment(data: Buffer | null): PartitionReplicas[] {
  const path = Paths.reassignPartitions;
  const doc = parse(path, data);
  version(path, doc, [1]);
  if (!Array.isArray(doc.partitions)) throw new ZnodeFormatError(path, "'partitions' must be a list");
  return doc.partitions.map((entry: unknown) => {
    if (entry === null || typeof entry !== 'object') throw new ZnodeFormatError(path, 'bad entry');
    const e = entry as Json;
    if (typeof e.topic !== 'string') throw new ZnodeFormatError(path, "an entry without 'topic'");
    return { topic: e.topic, partition: int(path, e, 'partition', 0), replicas: intList(path, e.replicas, 'replicas') };
  });
}

export interface TopicPartitionRef {
  topic: string;
  partition: number;
}

export function encodeIsrChange(partitions: readonly TopicPartitionRef[]): Buffer {
  return encode({ version: 1, partitions });
}

export function decodeIsrChange(path: string, data: Buffer | null): TopicPartitionRef[] {
  const doc = parse(path, data);
  version(path, doc, [1]);
  if (!Array.isArray(doc.partitions)) throw new ZnodeFormatError(path, "'partitions' must be a list");
  return doc.partitions.map((entry: unknown) => {
    if (entry === null || typeof entry !== 'object') throw new ZnodeFormatError(path, 'bad entry');
    const e = entry as Json;
    if (typeof e.topic !== 'string') throw new ZnodeFormatError(path, "an entry without 'topic'");
    return { topic: e.topic, partition: int(path, e, 'partition', 0) };
  });
}

// ---- /latest_producer_id_block --------------------------------------------------------------------------------

export interface ProducerIdBlockZnode {
  broker: number;
  /** First and last id of the block, inclusive. */
  first: bigint;
  last: bigint;
}

export function encodeProducerIdBlock(b: ProducerIdBlockZnode): Buffer {
  return encode({ version: 1, broker: b.broker, block_start: String(b.first), block_end: String(b.last) });
}

export function decodeProducerIdBlock(data: Buffer | null): ProducerIdBlockZnode {
  const path = Paths.producerIdBlock;
  const doc = parse(path, data);
  version(path, doc, [1]);
  const big = (field: string): bigint => {
    const v = doc[field];
    if (typeof v !== 'string' || !/^\d{1,19}$/.test(v)) throw new ZnodeFormatError(path, `bad '${field}'`);
    return BigInt(v);
  };
  const first = big('block_start');
  const last = big('block_end');
  if (last < first) throw new ZnodeFormatError(path, 'block_end before block_start');
  return { broker: int(path, doc, 'broker', 0), first, last };
}
