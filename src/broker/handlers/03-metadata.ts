/**
 * Metadata (api key 3), versions 0..12. Describes the whole cluster from any broker: every broker's endpoint on
 * the listener the client connected to, the cluster id (v2+), the controller (v1+), and the requested topics
 * (all of them when the list is null, or empty before v1) with topic ids (v10+), partitions, leaders, leader
 * epochs (v7+), replicas and ISR. Topics may be named by id from v10 (UNKNOWN_TOPIC_ID when unknown).
 * An unknown topic is created with num.partitions and default.replication.factor when auto.create.topics.enable
 * is on and the client allows it (allowAutoTopicCreation, v4+; always before v4), as Kafka does; an illegal name
 * gets INVALID_TOPIC_EXCEPTION. Authorized operations (v8+) are returned only when asked: all of them, as there is
 * no authorizer.
 */
import type { TopicInfo } from '../../metadata/types.js';
import { ZERO_UUID } from '../../metadata/uuid.js';
import {
  ErrorCode,
  KafkaError,
  type MetadataRequest,
  type MetadataResponse,
  type MetadataResponseMetadataResponseBroker,
  type MetadataResponseMetadataResponseTopic,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler, RequestContext } from './registry.js';
import { AUTHORIZED_OPERATIONS_OMITTED, errorCodeOf } from './support.js';

/** READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (AclOperation codes) as bits. */
const ALL_TOPIC_OPERATIONS = [3, 4, 5, 6, 7, 8, 10, 11].reduce((bits, op) => bits | (1 << op), 0);
/** CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE (AclOperation codes). */
const ALL_CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12].reduce((bits, op) => bits | (1 << op), 0);

function topicResponse(
  topic: TopicInfo,
  includeOperations: boolean,
  errorCode: number = ErrorCode.NONE,
): MetadataResponseMetadataResponseTopic {
  return {
    errorCode,
    name: topic.name,
    topicId: topic.id,
    isInternal: topic.internal,
    partitions: topic.partitions.map((p) => ({
      errorCode: p.leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
      partitionIndex: p.partition,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: p.replicas as number[],
      isrNodes: p.isr as number[],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: includeOperations ? ALL_TOPIC_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED,
  };
}

/**
 * A broker whose ZooKeeper session may have expired does not name itself leader: the controller may have moved its
 * partitions already, and clients would come back with writes it must refuse. They see the partition leaderless
 * (retriable) and ask again.
 */
function withoutOwnLeadership(topics: MetadataResponseMetadataResponseTopic[], self: number): void {
  for (const t of topics) {
    for (const p of t.partitions) {
      if (p.leaderId !== self) continue;
      p.leaderId = -1;
      p.errorCode = ErrorCode.LEADER_NOT_AVAILABLE;
    }
  }
}

function missing(name: string | null, topicId: string, errorCode: number): MetadataResponseMetadataResponseTopic {
  return {
    errorCode,
    name,
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

export default function metadataHandler(broker: BrokerContext): Handler<MetadataRequest, MetadataResponse> {
  function brokers(ctx: RequestContext): MetadataResponseMetadataResponseBroker[] {
    const out: MetadataResponseMetadataResponseBroker[] = [];
    for (const b of broker.metadata.brokers()) {
      // A broker without an endpoint on this listener cannot be reached by this client: Kafka leaves it out.
      const ep =
        b.endpoints.find((e) => e.listener === ctx.listener) ?? (b.endpoints.length === 1 ? b.endpoints[0] : undefined);
      if (ep !== undefined) out.push({ nodeId: b.id, host: ep.host, port: ep.port, rack: b.rack });
    }
    return out;
  }

  /** An unknown topic: created when allowed, else the error Kafka gives. */
  async function autoCreate(ctx: RequestContext, name: string, allowed: boolean, ops: boolean) {
    if (!allowed || !broker.config.autoCreateTopicsEnable)
      return missing(name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    try {
      const created = await broker.topics.createTopic({
        name,
        numPartitions: -1,
        replicationFactor: -1,
        assignments: [],
        configs: {},
        // Kafka's RackAwareMode.Safe for automatic creation: a cluster with racks on only some brokers ignores them.
        rackAwareMode: 'safe',
      });
      ctx.logger.info({ topic: name, client: ctx.clientId, partitions: created?.numPartitions }, 'topic auto-created');
      return topicResponse(created!.topic, ops);
    } catch (err) {
      // A concurrent request may have created it first.
      const now = broker.metadata.topic(name);
      if (now !== undefined) return topicResponse(now, ops);
      const code = errorCodeOf(err);
      if (code === ErrorCode.UNKNOWN_SERVER_ERROR) {
        ctx.logger.error({ topic: name, err: (err as Error).message }, 'auto-creation failed');
      }
      return missing(name, ZERO_UUID, err instanceof KafkaError ? code : ErrorCode.UNKNOWN_SERVER_ERROR);
    }
  }

  return {
    apiKey: 3,
    minVersion: 0,
    maxVersion: 12,
    async handle(ctx, request) {
      const v = ctx.apiVersion;
      const ops = request.includeTopicAuthorizedOperations && v >= 8;
      const allowCreate = v < 4 || request.allowAutoTopicCreation;
      const all = request.topics === null || (v === 0 && request.topics.length === 0);
      let topics: MetadataResponseMetadataResponseTopic[];
      if (all) {
        topics = [];
        for (const t of broker.metadata.topics()) topics.push(topicResponse(t, ops));
      } else {
        topics = await Promise.all(
          request.topics!.map(async (rt) => {
            if (rt.name === null) {
              const byId = broker.metadata.topicById(rt.topicId);
              return byId === undefined
                ? missing(null, rt.topicId, ErrorCode.UNKNOWN_TOPIC_ID)
                : topicResponse(byId, ops);
            }
            const known = broker.metadata.topic(rt.name);
            if (known !== undefined) return topicResponse(known, ops);
            return autoCreate(ctx, rt.name, allowCreate, ops);
          }),
        );
      }
      if (!broker.metadata.sessionCurrent()) withoutOwnLeadership(topics, broker.nodeId);
      return {
        throttleTimeMs: 0,
        brokers: brokers(ctx),
        clusterId: broker.metadata.clusterId,
        controllerId: broker.metadata.controllerId(),
        topics,
        clusterAuthorizedOperations:
          request.includeClusterAuthorizedOperations && v >= 8 && v <= 10
            ? ALL_CLUSTER_OPERATIONS
            : AUTHORIZED_OPERATIONS_OMITTED,
      };
    },
  };
}
