/**
 * DeleteTopics (api key 20), versions 1..6 (Kafka 4 removed v0). Topics are named by name (topicNames before v6)
 * or, from v6 (KIP-516), by name or topic id. As in Kafka's controller: an entry with neither or both is
 * INVALID_REQUEST, a name or id given twice is INVALID_REQUEST once ("Duplicate topic name." / "Duplicate topic
 * id."), an unknown name is UNKNOWN_TOPIC_OR_PARTITION and an unknown id UNKNOWN_TOPIC_ID. With
 * delete.topic.enable=false every topic fails with TOPIC_DELETION_DISABLED (INVALID_REQUEST before v3, which had no
 * such code). Results carry the topic id (v6) and an error message (v5+). The partitions' logs are removed by the
 * replica manager once the deletion is in the metadata store. THROTTLING_QUOTA_EXCEEDED (v5+) is never returned.
 */
import { ZERO_UUID } from '../../metadata/uuid.js';
import {
  type DeleteTopicsRequest,
  type DeleteTopicsResponse,
  type DeleteTopicsResponseDeletableTopicResult,
  ErrorCode,
  KafkaError,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import { type ApiError, apiError, duplicatesOf, failure, NO_ERROR } from './admin-support.js';
import type { Handler } from './registry.js';

type Result = DeleteTopicsResponseDeletableTopicResult;

function result(name: string | null, topicId: string, error: ApiError): Result {
  return { name, topicId, errorCode: error.errorCode, errorMessage: error.errorMessage };
}

/** Kafka's message for a code it sends without one of its own (ApiError(Errors) uses the code's description). */
function codeOnly(code: number): ApiError {
  return apiError(code, new KafkaError(code).message);
}

export default function deleteTopicsHandler(broker: BrokerContext): Handler<DeleteTopicsRequest, DeleteTopicsResponse> {
  return {
    apiKey: 20,
    minVersion: 1,
    maxVersion: 6,
    async handle(ctx, request) {
      const v = ctx.apiVersion;
      const entries =
        v >= 6
          ? request.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
          : request.topicNames.map((name) => ({ name: name as string | null, topicId: ZERO_UUID }));
      const byName = entries.filter((e) => e.name !== null && e.topicId === ZERO_UUID);
      const byId = entries.filter((e) => e.name === null && e.topicId !== ZERO_UUID);
      const duplicateNames = duplicatesOf(byName, (e) => e.name!);
      const duplicateIds = duplicatesOf(byId, (e) => e.topicId);
      // Names of the topics named by id, to catch a name and an id that point at the same topic.
      const namesOfIds = new Set<string>();
      for (const e of byId) {
        const name = broker.metadata.topicById(e.topicId)?.name;
        if (name !== undefined) namesOfIds.add(name);
      }
      const givenNames = new Set(byName.map((e) => e.name!));

      const responses: Result[] = [];
      const answered = new Set<string>();
      for (const e of entries) {
        if (e.name === null && e.topicId === ZERO_UUID) {
          responses.push(
            result(null, ZERO_UUID, apiError(ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.')),
          );
          continue;
        }
        if (e.name !== null && e.topicId !== ZERO_UUID) {
          responses.push(
            result(
              e.name,
              e.topicId,
              apiError(ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.'),
            ),
          );
          continue;
        }
        const key = e.name === null ? `id:${e.topicId}` : `name:${e.name}`;
        if (answered.has(key)) continue;
        answered.add(key);
        if (e.name !== null && duplicateNames.has(e.name)) {
          responses.push(result(e.name, ZERO_UUID, apiError(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.')));
          continue;
        }
        if (e.name === null && duplicateIds.has(e.topicId)) {
          responses.push(result(null, e.topicId, apiError(ErrorCode.INVALID_REQUEST, 'Duplicate topic id.')));
          continue;
        }
        const topic = e.name === null ? broker.metadata.topicById(e.topicId) : broker.metadata.topic(e.name);
        if (topic === undefined) {
          responses.push(
            e.name === null
              ? result(null, e.topicId, codeOnly(ErrorCode.UNKNOWN_TOPIC_ID))
              : result(e.name, ZERO_UUID, codeOnly(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)),
          );
          continue;
        }
        // Kafka deletes neither of the two entries then.
        if (e.name === null ? givenNames.has(topic.name) : namesOfIds.has(e.name)) {
          responses.push(
            result(
              topic.name,
              topic.id,
              apiError(ErrorCode.INVALID_REQUEST, 'The provided topic name maps to an ID that was already supplied.'),
            ),
          );
          continue;
        }
        try {
          await broker.topics.deleteTopic(topic.name);
          ctx.logger.info({ topic: topic.name, topicId: topic.id, client: ctx.clientId }, 'topic deleted');
          responses.push(result(topic.name, topic.id, NO_ERROR));
        } catch (err) {
          let error = failure(ctx, err, { api: 'DeleteTopics', topic: topic.name });
          if (error.errorCode === ErrorCode.TOPIC_DELETION_DISABLED && v < 3) {
            error = apiError(ErrorCode.INVALID_REQUEST, error.errorMessage);
          }
          responses.push(result(topic.name, e.name === null ? topic.id : ZERO_UUID, error));
        }
      }
      return { throttleTimeMs: 0, responses };
    },
  };
}
