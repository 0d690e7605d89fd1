/**
 * Topic administration: CreateTopics, DeleteTopics and CreatePartitions (sent to the controller), Metadata for
 * listing and describing topics, DescribeCluster (Metadata with no topics on brokers without it). Each answer's
 * per-topic error becomes that topic's failure (see errors.ts); after a change the cached metadata is marked stale
 * so the next leader lookup sees it.
 */

import { ZERO_UUID } from '../../protocol/codec/support.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type {
  CreatePartitionsResponse,
  CreateTopicsResponse,
  CreateTopicsResponseCreatableTopicResult,
  DeleteTopicsResponse,
  DescribeClusterResponse,
  MetadataResponse,
} from '../../protocol/index.js';
import { partitionsOf } from '../network/cluster.js';
import { itemError, settle } from './errors.js';
import { type AdminContext, failed, type Outcome, ok, partition, requestTimeoutFor } from './routing.js';
import type {
  BrokerDescription,
  ClusterDescription,
  CreatedTopic,
  CreateTopicsOptions,
  NewPartitions,
  NewTopic,
  TopicDescription,
} from './types.js';

const METADATA = 3;
const CREATE_TOPICS = 19;
const DELETE_TOPICS = 20;
const CREATE_PARTITIONS = 37;
const DESCRIBE_CLUSTER = 60;

/** A per-topic answer from the controller: NOT_CONTROLLER is retried after a metadata refresh. */
function controllerOutcome<R>(code: number, message: string | null, value: () => R): Outcome<R> {
  if (code === ErrorCode.NONE) return ok(value());
  return failed(itemError(code, message), code === ErrorCode.NOT_CONTROLLER);
}

/**
 * Matches a response's per-name entries to the request's indices: the n-th entry for a name answers the n-th
 * request entry with that name (a broker may answer a repeated name once: that answer serves every repeat).
 */
function byName<E>(
  names: readonly string[],
  entries: readonly E[],
  nameOf: (e: E) => string | null,
): (E | undefined)[] {
  const queues = new Map<string, E[]>();
  for (const e of entries) {
    const n = nameOf(e) ?? '';
    const q = queues.get(n) ?? [];
    q.push(e);
    queues.set(n, q);
  }
  return names.map((n) => {
    const q = queues.get(n);
    if (q === undefined || q.length === 0) return undefined;
    return q.length > 1 ? q.shift() : q[0];
  });
}

const missingAnswer = (what: string): Outcome<never> =>
  failed(new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `the broker did not answer for ${what}`));

export async function createTopics(
  ctx: AdminContext,
  topics: readonly NewTopic[],
  options: CreateTopicsOptions = {},
): Promise<CreatedTopic[]> {
  const timeoutMs = options.timeoutMs ?? ctx.requestTimeoutMs;
  const outcomes = await ctx.router.toController<CreatedTopic>(topics.length, async (conn, indices) => {
    const v = conn.version(CREATE_TOPICS, 2, 7);
    const res = await conn.send<CreateTopicsResponse>(
      CREATE_TOPICS,
      v,
      {
        topics: indices.map((i) => {
          const t = topics[i]!;
          const manual = t.assignments !== undefined && t.assignments.length > 0;
          return {
            name: t.name,
            numPartitions: t.numPartitions ?? -1,
            replicationFactor: t.replicationFactor ?? -1,
            assignments: manual
              ? t.assignments!.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds: [...brokerIds] }))
              : [],
            configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
          };
        }),
        timeoutMs,
        validateOnly: options.validateOnly ?? false,
      },
      { timeoutMs: requestTimeoutFor(ctx, timeoutMs) },
    );
    const answers = byName(
      indices.map((i) => topics[i]!.name),
      res.topics,
      (t) => t.name,
    );
    return new Map(
      indices.map((i, k) => {
        const a = answers[k];
        if (a === undefined) return [i, missingAnswer(`topic ${topics[i]!.name}`)];
        return [i, controllerOutcome(a.errorCode, a.errorMessage, () => created(a))];
      }),
    );
  });
  if (!options.validateOnly) ctx.cluster.invalidate();
  const { results, failures } = partition(outcomes, (i) => topics[i]!.name);
  return settle('createTopics', failures, results, topics.length);
}

function created(a: CreateTopicsResponseCreatableTopicResult): CreatedTopic {
  const configs: Record<string, string | null> = {};
  for (const c of a.configs ?? []) configs[c.name] = c.value;
  return {
    name: a.name,
    topicId: a.topicId ?? ZERO_UUID,
    numPartitions: a.numPartitions,
    replicationFactor: a.replicationFactor,
    configs,
  };
}

export async function deleteTopics(
  ctx: AdminContext,
  names: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<{ name: string; topicId: string }[]> {
  const timeoutMs = options.timeoutMs ?? ctx.requestTimeoutMs;
  const outcomes = await ctx.router.toController<{ name: string; topicId: string }>(
    names.length,
    async (conn, indices) => {
      const v = conn.version(DELETE_TOPICS, 1, 6);
      const asked = indices.map((i) => names[i]!);
      const res = await conn.send<DeleteTopicsResponse>(
        DELETE_TOPICS,
        v,
        // v6 names topics by name or id (KIP-516) in a new field.
        v >= 6
          ? { topics: asked.map((name) => ({ name, topicId: ZERO_UUID })), timeoutMs }
          : { topicNames: asked, timeoutMs },
        { timeoutMs: requestTimeoutFor(ctx, timeoutMs) },
      );
      const answers = byName(asked, res.responses, (r) => r.name);
      return new Map(
        indices.map((i, k) => {
          const a = answers[k];
          if (a === undefined) return [i, missingAnswer(`topic ${names[i]}`)];
          return [i, controllerOutcome(a.errorCode, a.errorMessage, () => ({ name: names[i]!, topicId: a.topicId }))];
        }),
      );
    },
  );
  ctx.cluster.invalidate();
  const { results, failures } = partition(outcomes, (i) => names[i]!);
  return settle('deleteTopics', failures, results, names.length);
}

export async function createPartitions(
  ctx: AdminContext,
  requests: readonly NewPartitions[],
  options: { validateOnly?: boolean; timeoutMs?: number } = {},
): Promise<{ topic: string; totalCount: number }[]> {
  const timeoutMs = options.timeoutMs ?? ctx.requestTimeoutMs;
  const outcomes = await ctx.router.toController<{ topic: string; totalCount: number }>(
    requests.length,
    async (conn, indices) => {
      const v = conn.version(CREATE_PARTITIONS, 0, 3);
      const res = await conn.send<CreatePartitionsResponse>(
        CREATE_PARTITIONS,
        v,
        {
          topics: indices.map((i) => {
            const r = requests[i]!;
            return {
              name: r.topic,
              count: r.totalCount,
              assignments: r.assignments?.map((ids) => ({ brokerIds: [...ids] })) ?? null,
            };
          }),
          timeoutMs,
          validateOnly: options.validateOnly ?? false,
        },
        { timeoutMs: requestTimeoutFor(ctx, timeoutMs) },
      );
      const answers = byName(
        indices.map((i) => requests[i]!.topic),
        res.results,
        (r) => r.name,
      );
      return new Map(
        indices.map((i, k) => {
          const a = answers[k];
          const r = requests[i]!;
          if (a === undefined) return [i, missingAnswer(`topic ${r.topic}`)];
          return [
            i,
            controllerOutcome(a.errorCode, a.errorMessage, () => ({ topic: r.topic, totalCount: r.totalCount })),
          ];
        }),
      );
    },
  );
  if (!options.validateOnly) ctx.cluster.invalidate();
  const { results, failures } = partition(outcomes, (i) => requests[i]!.topic);
  return settle('createPartitions', failures, results, requests.length);
}

/** Topic names, sorted; internal topics (e.g. __consumer_offsets) only with `includeInternal`. */
export async function listTopics(ctx: AdminContext, options: { includeInternal?: boolean } = {}): Promise<string[]> {
  const md = await ctx.cluster.refresh({ allTopics: true });
  return [...md.topics.values()]
    .filter((t) => options.includeInternal || !t.internal)
    .map((t) => t.name)
    .sort();
}

export async function describeTopics(ctx: AdminContext, names: readonly string[]): Promise<TopicDescription[]> {
  if (names.length === 0) return [];
  const res = await ctx.router.toAny((conn) =>
    conn.send<MetadataResponse>(METADATA, conn.version(METADATA, 4, 12), {
      topics: [...new Set(names)].map((name) => ({ name, topicId: ZERO_UUID })),
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    }),
  );
  const byTopic = new Map(res.topics.map((t) => [t.name, t]));
  const outcomes = names.map((name): Outcome<TopicDescription> => {
    const t = byTopic.get(name);
    if (t === undefined) return missingAnswer(`topic ${name}`);
    if (t.errorCode !== ErrorCode.NONE) return failed(itemError(t.errorCode, null));
    return ok({
      name,
      topicId: t.topicId,
      internal: t.isInternal,
      partitions: partitionsOf(t).map(({ errorCode: _, ...p }) => p),
    });
  });
  const { results, failures } = partition(outcomes, (i) => names[i]!);
  return settle('describeTopics', failures, results, names.length);
}

/** DescribeCluster (KIP-700) where the broker serves it, else the same facts from Metadata. */
export async function describeCluster(ctx: AdminContext): Promise<ClusterDescription> {
  return ctx.router.toAny(async (conn) => {
    let clusterId: string | null;
    let controllerId: number;
    let brokers: BrokerDescription[];
    if (conn.supported(DESCRIBE_CLUSTER) !== undefined) {
      const v = conn.version(DESCRIBE_CLUSTER, 0, 1);
      const res = await conn.send<DescribeClusterResponse>(DESCRIBE_CLUSTER, v, {
        includeClusterAuthorizedOperations: false,
        endpointType: 1,
      });
      if (res.errorCode !== ErrorCode.NONE) throw itemError(res.errorCode, res.errorMessage);
      clusterId = res.clusterId;
      controllerId = res.controllerId;
      brokers = res.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack }));
    } else {
      const res = await conn.send<MetadataResponse>(METADATA, conn.version(METADATA, 4, 12), {
        topics: [],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      clusterId = res.clusterId;
      controllerId = res.controllerId;
      brokers = res.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }));
    }
    brokers.sort((a, b) => a.nodeId - b.nodeId);
    return { clusterId, controller: brokers.find((b) => b.nodeId === controllerId) ?? null, brokers };
  });
}
