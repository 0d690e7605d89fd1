/**
 * CreatePartitions (api key 37), versions 0..3. Grows each topic to `count` partitions through TopicAdmin: the new
 * partitions are placed like a new topic's, or as given (one replica list per new partition, checked against the
 * registered brokers and the topic's replication factor). Shrinking or keeping the count is INVALID_PARTITIONS, an
 * unknown topic UNKNOWN_TOPIC_OR_PARTITION, a topic named twice INVALID_REQUEST ("Duplicate topic name.", as Kafka's
 * controller says). validateOnly checks everything and changes nothing. The replica manager creates the new
 * partitions' logs when the store publishes the change. THROTTLING_QUOTA_EXCEEDED (v3, KIP-599) is never returned.
 */
import {
  type CreatePartitionsRequest,
  type CreatePartitionsResponse,
  type CreatePartitionsResponseCreatePartitionsTopicResult,
  ErrorCode,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import { duplicatesOf, failure } from './admin-support.js';
import type { Handler } from './registry.js';

type Result = CreatePartitionsResponseCreatePartitionsTopicResult;

export default function createPartitionsHandler(
  broker: BrokerContext,
): Handler<CreatePartitionsRequest, CreatePartitionsResponse> {
  return {
    apiKey: 37,
    minVersion: 0,
    maxVersion: 3,
    async handle(ctx, request) {
      const duplicates = duplicatesOf(request.topics, (t) => t.name);
      const results: Result[] = [];
      const answered = new Set<string>();
      for (const t of request.topics) {
        if (duplicates.has(t.name)) {
          if (!answered.has(t.name)) {
            results.push({ name: t.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
          }
          answered.add(t.name);
          continue;
        }
        try {
          const assignments = t.assignments === null ? null : t.assignments.map((a) => a.brokerIds);
          await broker.topics.createPartitions(t.name, t.count, assignments, request.validateOnly);
          if (!request.validateOnly) {
            ctx.logger.info({ topic: t.name, partitions: t.count, client: ctx.clientId }, 'partitions added');
          }
          results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null });
        } catch (err) {
          results.push({ name: t.name, ...failure(ctx, err, { api: 'CreatePartitions', topic: t.name }) });
        }
      }
      return { throttleTimeMs: 0, results };
    },
  };
}
