/**
 * KafkaJS's admin API over the Samsa Admin, with KafkaJS's argument checks, result shapes (offsets as strings,
 * raw group member bytes, config entries with numeric sources) and outcomes:
 * - `createTopics` resolves true, or false when every failure was TOPIC_ALREADY_EXISTS (the others were created);
 *   other failures reject with a KafkaJSAggregateError of KafkaJSCreateTopicErrors, one per topic;
 * - `fetchOffsets` answers '-1' for partitions without a committed offset, `describeGroups` answers a group the
 *   coordinator does not know with state 'Dead';
 * - `alterConfigs` replaces a resource's dynamic configs with the given ones, as the AlterConfigs request KafkaJS
 *   sends does (done here with DescribeConfigs and IncrementalAlterConfigs: configs left out are deleted);
 * - `deleteGroups` failures reject with a KafkaJSDeleteGroupsError listing each failed group.
 *
 * Deliberate differences: `resetOffsets` and `setOffsets` commit real offsets (the log's earliest or latest offset,
 * offsets clamped to the log's range) where KafkaJS commits the markers -2/-1 or unchecked offsets, so that every
 * client of the group starts where asked; ACL and partition reassignment calls reject with KafkaJSNotImplemented.
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { Admin as SamsaAdmin } from '../admin/admin.js';
import { KafkaAdminError } from '../admin/errors.js';
import type {
  AlterConfigOp,
  ConfigResourceType,
  NewTopic,
  ResetTarget,
  ConfigSource as SamsaConfigSource,
} from '../admin/types.js';
import { type ClientContext, entryOf } from './client.js';
import { ConfigResourceTypes } from './enums.js';
import {
  KafkaJSAggregateError,
  KafkaJSCreateTopicError,
  KafkaJSDeleteGroupsError,
  KafkaJSNonRetriableError,
  KafkaJSNotImplemented,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  protocolErrorInfo,
  toKafkaJSError,
} from './errors.js';
import {
  AdminEvents,
  type EventListener,
  InstrumentationEmitter,
  type RemoveInstrumentationEventListener,
} from './events.js';
import { describeGroupsKafkaJS } from './groups.js';
import type { Logger } from './logger.js';
import type {
  AdminConfig,
  AlterConfigsResponse,
  DeleteGroupsResult,
  DescribeConfigResponse,
  FetchOffsetsPartition,
  GroupDescription,
  GroupOverview,
  IResourceConfig,
  ITopicConfig,
  ITopicMetadata,
  ITopicPartitionConfig,
  ResourceConfigQuery,
  SeekEntry,
} from './types.js';

const RESOURCE_TYPE: Readonly<Record<number, ConfigResourceType>> = {
  [ConfigResourceTypes.TOPIC]: 'topic',
  [ConfigResourceTypes.BROKER]: 'broker',
  [ConfigResourceTypes.BROKER_LOGGER]: 'broker-logger',
};

/** Kafka's numeric config sources, which KafkaJS hands out as they come. */
const SOURCE_ID: Readonly<Record<SamsaConfigSource, number>> = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
  CLIENT_METRICS_CONFIG: 7,
  GROUP_CONFIG: 8,
};

/** The sources whose values AlterConfigs would replace: what was set on the resource itself. */
const DYNAMIC_SOURCES: ReadonlySet<SamsaConfigSource> = new Set([
  'DYNAMIC_TOPIC_CONFIG',
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'DYNAMIC_BROKER_LOGGER_CONFIG',
]);

/** A batch call's failure as KafkaJS reports it: the first failing item's error. */
function adminFailure(e: unknown): Error {
  if (e instanceof KafkaAdminError && e.failures.length > 0) return toKafkaJSError(e.failures[0]!.error);
  return toKafkaJSError(e);
}

/** A failure KafkaJS retries before giving up (a retriable broker code, an unreachable broker). */
function retriedFailure(e: unknown): Error {
  const error = adminFailure(e);
  return (error as { retriable?: boolean }).retriable === true
    ? new KafkaJSNumberOfRetriesExceeded(error, { retryCount: 5, retryTime: 0 })
    : error;
}

function checkString(value: unknown, what: string): void {
  if (!value || typeof value !== 'string') throw new KafkaJSNonRetriableError(`Invalid ${what} ${String(value)}`);
}

function resourceType(type: number): ConfigResourceType {
  const t = RESOURCE_TYPE[type];
  if (t === undefined) throw new KafkaJSNonRetriableError(`Invalid resource type ${type}`);
  return t;
}

export class Admin {
  readonly events = AdminEvents;
  private readonly log: Logger;
  private readonly emitter: InstrumentationEmitter;
  private admin: SamsaAdmin | null = null;

  constructor(
    private readonly client: ClientContext,
    _config: AdminConfig = {},
  ) {
    this.log = client.logger.namespace('Admin');
    this.emitter = new InstrumentationEmitter(AdminEvents, 'admin', this.log);
  }

  logger(): Logger {
    return this.log;
  }

  on(eventName: string, listener: EventListener): RemoveInstrumentationEventListener {
    return this.emitter.on(eventName, listener);
  }

  private async samsa(): Promise<SamsaAdmin> {
    this.admin ??= new SamsaAdmin({
      bootstrapServers: await this.client.brokers(),
      clientId: this.client.clientId,
      requestTimeoutMs: this.client.requestTimeout,
      connectTimeoutMs: this.client.connectionTimeout,
    });
    return this.admin;
  }

  /** Runs `fn` on the Samsa admin, turning its failures into KafkaJS's. */
  private async call<T>(fn: (admin: SamsaAdmin) => Promise<T>, fail = adminFailure): Promise<T> {
    let admin: SamsaAdmin;
    try {
      admin = await this.samsa();
    } catch (e) {
      throw toKafkaJSError(e);
    }
    try {
      return await fn(admin);
    } catch (e) {
      throw fail(e);
    }
  }

  async connect(): Promise<void> {
    await this.call((a) => a.connect());
    this.emitter.emit(AdminEvents.CONNECT);
  }

  async disconnect(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    await admin?.close();
    this.emitter.emit(AdminEvents.DISCONNECT);
  }

  // ---- topics ---------------------------------------------------------------------------------------------------

  /** Every topic, internal ones included (KafkaJS lists what a metadata request for all topics returns). */
  listTopics(): Promise<string[]> {
    return this.call((a) => a.listTopics({ includeInternal: true }));
  }

  async createTopics(options: {
    topics: ITopicConfig[];
    validateOnly?: boolean;
    waitForLeaders?: boolean;
    timeout?: number;
  }): Promise<boolean> {
    const { topics, validateOnly = false, waitForLeaders = true, timeout } = options ?? {};
    if (!topics || !Array.isArray(topics)) throw new KafkaJSNonRetriableError(`Invalid topics array ${String(topics)}`);
    if (topics.some((t) => typeof t.topic !== 'string')) {
      throw new KafkaJSNonRetriableError('Invalid topics array, the topic names have to be a valid string');
    }
    if (new Set(topics.map((t) => t.topic)).size < topics.length) {
      throw new KafkaJSNonRetriableError('Invalid topics array, it cannot have multiple entries for the same topic');
    }
    for (const { topic, configEntries } of topics) {
      if (configEntries == null) continue;
      if (!Array.isArray(configEntries)) {
        throw new KafkaJSNonRetriableError(`Invalid configEntries for topic "${topic}", must be an array`);
      }
      configEntries.forEach((entry, index) => {
        for (const property of ['name', 'value'] as const) {
          if (typeof entry?.[property] !== 'string') {
            throw new KafkaJSNonRetriableError(
              `Invalid configEntries for topic "${topic}". Entry ${index} must have a valid "${property}" property`,
            );
          }
        }
      });
    }
    const requests: NewTopic[] = topics.map((t) => {
      const assignments = t.replicaAssignment
        ?.slice()
        .sort((a, b) => a.partition - b.partition)
        .map((r) => r.replicas);
      return {
        name: t.topic,
        ...(assignments === undefined
          ? { numPartitions: t.numPartitions ?? -1, replicationFactor: t.replicationFactor ?? -1 }
          : { assignments }),
        configs: Object.fromEntries((t.configEntries ?? []).map((e) => [e.name, e.value])),
      };
    });
    let created = true;
    await this.call(
      async (a) => {
        try {
          await a.createTopics(requests, { validateOnly, ...(timeout === undefined ? {} : { timeoutMs: timeout }) });
        } catch (e) {
          if (!(e instanceof KafkaAdminError)) throw e;
          const failures = e.failures as { item: string; error: Error }[];
          const exists = (f: { error: Error }): boolean =>
            f.error instanceof KafkaError && f.error.code === ErrorCode.TOPIC_ALREADY_EXISTS;
          if (!failures.every(exists)) {
            throw new KafkaJSAggregateError(
              'Topic creation errors',
              failures.map((f) =>
                f.error instanceof KafkaError
                  ? new KafkaJSCreateTopicError(protocolErrorInfo(f.error.code, f.error.message), f.item)
                  : toKafkaJSError(f.error),
              ),
            );
          }
          created = false;
        }
        if (waitForLeaders && !validateOnly)
          await this.waitForLeaders(
            a,
            requests.map((r) => r.name),
            timeout,
          );
      },
      (e) => (e instanceof KafkaJSAggregateError ? e : adminFailure(e)),
    );
    return created;
  }

  /** Until every partition of the topics has a leader (KafkaJS waits so, for `timeout` ms or 5 s). */
  private async waitForLeaders(admin: SamsaAdmin, names: string[], timeout: number | undefined): Promise<void> {
    const deadline = Date.now() + (timeout ?? 5000);
    for (;;) {
      const ready = await admin.describeTopics(names).then(
        (ts) => ts.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)),
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new KafkaJSNonRetriableError('Timed out while waiting for topic leaders');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async deleteTopics(options: { topics: string[]; timeout?: number }): Promise<void> {
    const { topics, timeout } = options ?? {};
    if (!topics || !Array.isArray(topics)) throw new KafkaJSNonRetriableError(`Invalid topics array ${String(topics)}`);
    if (topics.some((t) => typeof t !== 'string')) {
      throw new KafkaJSNonRetriableError('Invalid topics array, the names must be a valid string');
    }
    await this.call((a) => a.deleteTopics(topics, timeout === undefined ? {} : { timeoutMs: timeout }), retriedFailure);
  }

  async createPartitions(options: {
    topicPartitions: ITopicPartitionConfig[];
    validateOnly?: boolean;
    timeout?: number;
  }): Promise<boolean> {
    const { topicPartitions, validateOnly = false, timeout } = options ?? {};
    if (!topicPartitions || !Array.isArray(topicPartitions)) {
      throw new KafkaJSNonRetriableError(`Invalid topic partitions array ${String(topicPartitions)}`);
    }
    if (topicPartitions.length === 0) throw new KafkaJSNonRetriableError('Empty topic partitions array');
    if (topicPartitions.some((t) => typeof t.topic !== 'string')) {
      throw new KafkaJSNonRetriableError('Invalid topic partitions array, the topic names have to be a valid string');
    }
    if (new Set(topicPartitions.map((t) => t.topic)).size < topicPartitions.length) {
      throw new KafkaJSNonRetriableError(
        'Invalid topic partitions array, it cannot have multiple entries for the same topic',
      );
    }
    await this.call((a) =>
      a.createPartitions(
        topicPartitions.map((t) => ({
          topic: t.topic,
          totalCount: t.count,
          ...(t.assignments === undefined ? {} : { assignments: t.assignments }),
        })),
        { validateOnly, ...(timeout === undefined ? {} : { timeoutMs: timeout }) },
      ),
    );
    // As KafkaJS documents it (its 2.2.4 resolves undefined).
    return true;
  }

  /** Partition metadata of the topics (default: every topic), in KafkaJS's raw shape. */
  async fetchTopicMetadata(options: { topics?: string[] } = {}): Promise<{ topics: ITopicMetadata[] }> {
    const topics = options?.topics ?? [];
    for (const t of topics) checkString(t, 'topic');
    return this.call(async (a) => {
      const names = topics.length > 0 ? topics : await a.listTopics({ includeInternal: true });
      const described = await a.describeTopics(names);
      return {
        topics: described.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionErrorCode: 0,
            partitionId: p.partition,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr,
            offlineReplicas: p.offlineReplicas,
          })),
        })),
      };
    }, retriedFailure);
  }

  // ---- offsets ----------------------------------------------------------------------------------------------------

  /** Per partition: `offset` and `high` the high watermark, `low` the log start offset. */
  async fetchTopicOffsets(topic: string): Promise<(SeekEntry & { high: string; low: string })[]> {
    checkString(topic, 'topic');
    const offsets = await this.call((a) => a.fetchTopicOffsets(topic), retriedFailure);
    return offsets.map((o) => ({
      partition: o.partition,
      offset: String(o.latest),
      high: String(o.latest),
      low: String(o.earliest),
    }));
  }

  /** Per partition, the first offset at or after `timestamp` (the high watermark where there is none). */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<SeekEntry[]> {
    checkString(topic, 'topic');
    return this.call(async (a) => {
      const partitions = (await a.describeTopics([topic]))[0]!.partitions.map((p) => p.partition);
      const refs = partitions.map((partition) => ({ topic, partition }));
      const [found, high] = await Promise.all([
        timestamp === undefined
          ? Promise.resolve(null)
          : a.listOffsets(refs.map((r) => ({ ...r, spec: { timestamp } }))),
        a.listOffsets(refs.map((r) => ({ ...r, spec: 'latest' as const }))),
      ]);
      return refs.map((r, i) => {
        const o = found === null ? -1n : found[i]!.offset;
        return { partition: r.partition, offset: String(o >= 0n ? o : high[i]!.offset) };
      });
    }, retriedFailure);
  }

  async fetchOffsets(options: {
    groupId: string;
    topics?: string[];
    resolveOffsets?: boolean;
  }): Promise<{ topic: string; partitions: FetchOffsetsPartition[] }[]> {
    const { groupId, resolveOffsets = false } = options ?? {};
    let { topics } = options ?? {};
    checkString(groupId, 'groupId');
    topics ??= [];
    if (!Array.isArray(topics)) throw new KafkaJSNonRetriableError('Expected topics array to be set');
    const wanted = topics;
    const result = await this.call(async (a) => {
      let refs: { topic: string; partition: number }[] | undefined;
      if (wanted.length > 0) {
        const described = await a.describeTopics(wanted);
        refs = described.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition })));
      }
      const committed = await a.listGroupOffsets(groupId, refs);
      const byTopic = new Map<string, FetchOffsetsPartition[]>(wanted.map((t) => [t, []]));
      for (const c of committed) {
        entryOf(byTopic, c.topic, () => []).push({
          partition: c.partition,
          offset: c.offset === null ? '-1' : String(c.offset),
          metadata: c.metadata || null,
        });
      }
      return [...byTopic].map(([topic, partitions]) => ({
        topic,
        partitions: partitions.sort((x, y) => x.partition - y.partition),
      }));
    });
    if (!resolveOffsets) return result;
    // KafkaJS's resolveOffsets: partitions without an offset get the high watermark, which is committed.
    for (const { topic, partitions } of result) {
      const unset = partitions.filter((p) => p.offset === '-1' || p.offset === '-2');
      if (unset.length === 0) continue;
      const offsets = await this.fetchTopicOffsets(topic);
      for (const p of unset) {
        const o = offsets.find((x) => x.partition === p.partition)!;
        p.offset = p.offset === '-2' ? o.low : o.high;
      }
      await this.setOffsets({ groupId, topic, partitions: partitions.map((p) => ({ ...p })) });
    }
    return result;
  }

  /** Commits the earliest (or latest) offset of every partition of the topic, for an inactive group. */
  async resetOffsets(options: { groupId: string; topic: string; earliest?: boolean }): Promise<void> {
    const { groupId, topic, earliest = false } = options ?? {};
    checkString(groupId, 'groupId');
    checkString(topic, 'topic');
    await this.reset(groupId, topic, undefined, earliest ? 'earliest' : 'latest');
  }

  /** Commits these offsets for an inactive group ('-2' / '-1': the earliest / latest offset). */
  async setOffsets(options: { groupId: string; topic: string; partitions: SeekEntry[] }): Promise<void> {
    const { groupId, topic, partitions } = options ?? {};
    checkString(groupId, 'groupId');
    checkString(topic, 'topic');
    if (!partitions || partitions.length === 0) throw new KafkaJSNonRetriableError('Invalid partitions');
    // One reset per target offset (the usual call sets one offset for all partitions, or a few).
    const byTarget = new Map<string, number[]>();
    for (const p of partitions) {
      const list = byTarget.get(String(p.offset)) ?? [];
      list.push(p.partition);
      byTarget.set(String(p.offset), list);
    }
    for (const [offset, list] of byTarget) {
      let target: ResetTarget;
      try {
        const o = BigInt(offset);
        target = o === -2n ? 'earliest' : o === -1n ? 'latest' : { offset: o };
      } catch {
        throw new KafkaJSNonRetriableError(`Invalid offset, expected a long received ${offset}`);
      }
      await this.reset(groupId, topic, list, target);
    }
  }

  private async reset(
    groupId: string,
    topic: string,
    partitions: number[] | undefined,
    to: ResetTarget,
  ): Promise<void> {
    await this.call(
      (a) => a.resetGroupOffsets(groupId, { topic, to, ...(partitions === undefined ? {} : { partitions }) }),
      (e) => {
        if (e instanceof KafkaError && e.code === ErrorCode.NON_EMPTY_GROUP) {
          const state = /current state is (\w+)/.exec(e.message)?.[1] ?? 'Stable';
          return new KafkaJSNonRetriableError(
            `The consumer group must have no running instances, current state: ${state}`,
          );
        }
        return adminFailure(e);
      },
    );
  }

  async deleteTopicRecords(options: { topic: string; partitions: SeekEntry[] }): Promise<void> {
    const { topic, partitions } = options ?? {};
    checkString(topic, 'topic');
    if (!partitions || partitions.length === 0) throw new KafkaJSNonRetriableError('Invalid partitions');
    await this.call((a) =>
      a.deleteRecords(partitions.map((p) => ({ topic, partition: p.partition, beforeOffset: BigInt(p.offset) }))),
    );
  }

  // ---- groups -----------------------------------------------------------------------------------------------------

  async describeGroups(groupIds: string[]): Promise<{ groups: GroupDescription[] }> {
    return { groups: await this.call((a) => describeGroupsKafkaJS(a, groupIds)) };
  }

  async listGroups(): Promise<{ groups: GroupOverview[] }> {
    const groups = await this.call((a) => a.listGroups());
    return { groups: groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })) };
  }

  async deleteGroups(groupIds: string[]): Promise<DeleteGroupsResult[]> {
    if (!groupIds || !Array.isArray(groupIds)) {
      throw new KafkaJSNonRetriableError(`Invalid groupIds array ${String(groupIds)}`);
    }
    if (groupIds.some((g) => typeof g !== 'string')) {
      throw new KafkaJSNonRetriableError(`Invalid groupId name: ${JSON.stringify(groupIds)}`);
    }
    if (groupIds.length === 0) return [];
    const deleted = await this.call(
      (a) => a.deleteGroups(groupIds),
      (e) => {
        if (!(e instanceof KafkaAdminError)) return adminFailure(e);
        const groups = (e.failures as { item: string; error: Error }[]).map((f) => {
          const code = f.error instanceof KafkaError ? f.error.code : ErrorCode.UNKNOWN_SERVER_ERROR;
          return {
            groupId: f.item,
            errorCode: code,
            error: new KafkaJSProtocolError(protocolErrorInfo(code, f.error.message)),
          };
        });
        return new KafkaJSDeleteGroupsError('Error in DeleteGroups', groups);
      },
    );
    return deleted.map((groupId) => ({ groupId, errorCode: 0 }));
  }

  // ---- cluster and configs ----------------------------------------------------------------------------------------

  async describeCluster(): Promise<{
    brokers: { nodeId: number; host: string; port: number }[];
    controller: number | null;
    clusterId: string;
  }> {
    const c = await this.call((a) => a.describeCluster());
    return {
      brokers: c.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })),
      controller: c.controller?.nodeId ?? null,
      clusterId: c.clusterId ?? '',
    };
  }

  async describeConfigs(options: {
    resources: ResourceConfigQuery[];
    includeSynonyms?: boolean;
  }): Promise<DescribeConfigResponse> {
    const { resources, includeSynonyms = false } = options ?? {};
    this.checkResources(resources);
    for (const r of resources) {
      if (r.configNames != null && !Array.isArray(r.configNames)) {
        throw new KafkaJSNonRetriableError(
          `Invalid resource configNames ${String(r.configNames)}: ${JSON.stringify(r)}`,
        );
      }
    }
    const described = await this.call((a) =>
      a.describeConfigs(
        resources.map((r) => ({
          type: resourceType(r.type),
          name: r.name,
          ...(r.configNames == null ? {} : { configNames: r.configNames }),
        })),
        { includeSynonyms },
      ),
    );
    return {
      resources: described.map((d, i) => ({
        errorCode: 0,
        errorMessage: null as unknown as string,
        resourceType: resources[i]!.type,
        resourceName: d.name,
        configEntries: d.entries.map((e) => ({
          configName: e.name,
          configValue: e.value as string,
          readOnly: e.readOnly,
          isDefault: e.isDefault,
          configSource: SOURCE_ID[
            e.source
          ] as DescribeConfigResponse['resources'][number]['configEntries'][number]['configSource'],
          isSensitive: e.sensitive,
          configSynonyms: e.synonyms.map((s) => ({
            configName: s.name,
            configValue: s.value as string,
            configSource: SOURCE_ID[
              s.source
            ] as DescribeConfigResponse['resources'][number]['configEntries'][number]['configSource'],
          })),
        })),
      })),
    } as DescribeConfigResponse;
  }

  /** Replaces each resource's dynamic configs with the given ones (KafkaJS's AlterConfigs semantics). */
  async alterConfigs(options: { resources: IResourceConfig[]; validateOnly?: boolean }): Promise<AlterConfigsResponse> {
    const { resources, validateOnly = false } = options ?? {};
    this.checkResources(resources);
    for (const r of resources) {
      if (!Array.isArray(r.configEntries)) {
        throw new KafkaJSNonRetriableError(
          `Invalid resource configEntries ${String(r.configEntries)}: ${JSON.stringify(r)}`,
        );
      }
      if (r.configEntries.some((e) => typeof e.name !== 'string' || typeof e.value !== 'string')) {
        throw new KafkaJSNonRetriableError(`Invalid resource config value: ${JSON.stringify(r)}`);
      }
    }
    await this.call(async (a) => {
      const current = await a.describeConfigs(resources.map((r) => ({ type: resourceType(r.type), name: r.name })));
      await a.alterConfigs(
        resources.map((r, i) => {
          const given = new Set(r.configEntries.map((e) => e.name));
          const ops: AlterConfigOp[] = r.configEntries.map((e) => ({ name: e.name, op: 'set', value: e.value }));
          for (const e of current[i]!.entries) {
            if (DYNAMIC_SOURCES.has(e.source) && !given.has(e.name)) ops.push({ name: e.name, op: 'delete' });
          }
          return { type: resourceType(r.type), name: r.name, ops };
        }),
        { validateOnly },
      );
    });
    return {
      resources: resources.map((r) => ({
        errorCode: 0,
        errorMessage: null as unknown as string,
        resourceType: r.type,
        resourceName: r.name,
      })),
    } as AlterConfigsResponse;
  }

  private checkResources(resources: readonly { type: number; name: string }[] | undefined): asserts resources {
    if (!resources || !Array.isArray(resources)) {
      throw new KafkaJSNonRetriableError(`Invalid resources array ${String(resources)}`);
    }
    if (resources.length === 0) throw new KafkaJSNonRetriableError('Resources array cannot be empty');
    for (const r of resources) {
      if (RESOURCE_TYPE[r.type] === undefined) {
        throw new KafkaJSNonRetriableError(`Invalid resource type ${r.type}: ${JSON.stringify(r)}`);
      }
      if (!r.name || typeof r.name !== 'string') {
        throw new KafkaJSNonRetriableError(`Invalid resource name ${r.name}: ${JSON.stringify(r)}`);
      }
    }
  }

  // ---- not supported ----------------------------------------------------------------------------------------------

  private notImplemented(what: string): Promise<never> {
    return Promise.reject(new KafkaJSNotImplemented(`${what} is not supported by samsa/kafkajs`));
  }

  describeAcls(_options: unknown): Promise<never> {
    return this.notImplemented('describeAcls');
  }

  createAcls(_options: unknown): Promise<never> {
    return this.notImplemented('createAcls');
  }

  deleteAcls(_options: unknown): Promise<never> {
    return this.notImplemented('deleteAcls');
  }

  alterPartitionReassignments(_options: unknown): Promise<never> {
    return this.notImplemented('alterPartitionReassignments');
  }

  listPartitionReassignments(_options: unknown): Promise<never> {
    return this.notImplemented('listPartitionReassignments');
  }
}
