/**
 * CreateTopics (api key 19), versions 2..7 (Kafka 4 removed v0 and v1). Each topic goes through TopicAdmin, which
 * checks the name (legal, not colliding with an existing one over '.' and '_'), the partition count and
 * replication factor (-1 takes num.partitions / default.replication.factor, KIP-464), manual assignments and
 * configs, and answers with Kafka's codes and messages (errorMessage). validateOnly runs every check and creates
 * nothing. From v5 a result also carries the partition count, replication factor and the topic's effective configs
 * (KIP-525), and from v7 the topic id. A name given twice in one request fails with INVALID_REQUEST for that name,
 * as do null config values (INVALID_CONFIG, Kafka's wording) and the KRaft metadata topic's name. Topics are created
 * one after the other so that two names colliding within one request are caught like a collision with an existing
 * topic. A validate-only result has the zero topic id: no topic exists to carry one (Kafka sends an id it discards).
 * THROTTLING_QUOTA_EXCEEDED (v6+, KIP-599) is never returned: there are no controller mutation quotas.
 */
import { ZERO_UUID } from '../../metadata/uuid.js';
import {
  type CreateTopicsRequest,
  type CreateTopicsRequestCreatableTopic,
  type CreateTopicsResponse,
  type CreateTopicsResponseCreatableTopicResult,
  ErrorCode,
} from '../../protocol/index.js';
import { describeTopicConfigs } from '../config/topic-config.js';
import type { BrokerContext } from '../context.js';
import { type ApiError, apiError, duplicatesOf, failure } from './admin-support.js';
import type { Handler, RequestContext } from './registry.js';

const CLUSTER_METADATA_TOPIC = '__cluster_metadata';

type Result = CreateTopicsResponseCreatableTopicResult;

function errorResult(name: string, error: ApiError): Result {
  return {
    name,
    topicId: ZERO_UUID,
    errorCode: error.errorCode,
    errorMessage: error.errorMessage,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: -1,
    replicationFactor: -1,
    configs: [],
  };
}

export default function createTopicsHandler(broker: BrokerContext): Handler<CreateTopicsRequest, CreateTopicsResponse> {
  /** The effective configs of a topic with these overrides, in the shape (and name order) Kafka returns them. */
  function configsOf(overrides: Readonly<Record<string, string>>): Result['configs'] {
    return describeTopicConfigs(overrides, broker.config, null, false, false)
      .map((e) => ({
        name: e.name,
        value: e.isSensitive ? null : e.value,
        readOnly: e.readOnly,
        configSource: e.source,
        isSensitive: e.isSensitive,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async function createOne(ctx: RequestContext, t: CreateTopicsRequestCreatableTopic, validateOnly: boolean) {
    if (t.name === CLUSTER_METADATA_TOPIC) {
      return errorResult(
        t.name,
        apiError(ErrorCode.INVALID_REQUEST, `Creation of internal topic ${CLUSTER_METADATA_TOPIC} is prohibited.`),
      );
    }
    const nulls = t.configs.filter((c) => c.value === null).map((c) => c.name);
    if (nulls.length > 0) {
      return errorResult(
        t.name,
        apiError(ErrorCode.INVALID_CONFIG, `Null value not supported for topic configs: ${nulls.join(',')}`),
      );
    }
    // A config named twice: the last value wins, as in Kafka's map of creation configs.
    const configs: Record<string, string> = {};
    for (const c of t.configs) configs[c.name] = c.value!;
    const request = {
      name: t.name,
      numPartitions: t.numPartitions,
      replicationFactor: t.replicationFactor,
      assignments: t.assignments.map((a) => ({ partitionIndex: a.partitionIndex, brokerIds: a.brokerIds })),
      configs,
    };
    try {
      let topicId = ZERO_UUID;
      let overrides: Readonly<Record<string, string>>;
      let numPartitions: number;
      let replicationFactor: number;
      if (validateOnly) {
        const plan = broker.topics.plan(request);
        overrides = plan.configs;
        numPartitions = plan.assignments.length;
        replicationFactor = plan.assignments[0]?.length ?? 0;
      } else {
        const created = (await broker.topics.createTopic(request))!;
        topicId = created.topic.id;
        overrides = created.topic.configs;
        numPartitions = created.numPartitions;
        replicationFactor = created.replicationFactor;
        ctx.logger.info(
          { topic: t.name, topicId, partitions: numPartitions, replicationFactor, client: ctx.clientId },
          'topic created',
        );
      }
      return {
        name: t.name,
        topicId,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        topicConfigErrorCode: ErrorCode.NONE,
        numPartitions,
        replicationFactor,
        configs: configsOf(overrides),
      };
    } catch (err) {
      return errorResult(t.name, failure(ctx, err, { api: 'CreateTopics', topic: t.name }));
    }
  }

  return {
    apiKey: 19,
    minVersion: 2,
    maxVersion: 7,
    async handle(ctx, request) {
      const duplicates = duplicatesOf(request.topics, (t) => t.name);
      const duplicateError =
        duplicates.size === 0
          ? null
          : apiError(
              ErrorCode.INVALID_REQUEST,
              `Create topics request from client \`${ctx.clientId ?? ''}\` contains multiple entries for the following topics: ${[...duplicates].join(',')}`,
            );
      const topics: Result[] = [];
      const answered = new Set<string>();
      for (const t of request.topics) {
        if (duplicates.has(t.name)) {
          // One result per name: clients match results to their topics by name.
          if (!answered.has(t.name)) topics.push(errorResult(t.name, duplicateError!));
          answered.add(t.name);
          continue;
        }
        topics.push(await createOne(ctx, t, request.validateOnly));
      }
      return { throttleTimeMs: 0, topics };
    },
  };
}
