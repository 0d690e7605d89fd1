/**
 * How a failed `__consumer_offsets` write turns into the error a client sees, following Kafka's GroupMetadataManager:
 * - UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS(_AFTER_APPEND), REQUEST_TIMED_OUT for offsets ->
 *   COORDINATOR_NOT_AVAILABLE (retriable; the client finds the coordinator again);
 * - NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR -> NOT_COORDINATOR;
 * - MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_FETCH_SIZE -> INVALID_COMMIT_OFFSET_SIZE for offset commits,
 *   UNKNOWN_SERVER_ERROR for group metadata (e.g. member metadata too large for one record);
 * - REQUEST_TIMED_OUT for group metadata -> REBALANCE_IN_PROGRESS (the members rejoin);
 * - other Kafka codes pass through.
 * A failure that is not a `KafkaError` (a fault in the store itself) is treated like an unavailable partition:
 * COORDINATOR_NOT_AVAILABLE. That is our choice (Kafka has no such case); it is retriable and safe.
 *
 * Concurrency: pure function.
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';

export type StoreKind = 'group' | 'offsets' | 'consumer-group';

export function storeErrorCode(error: unknown, kind: StoreKind): number {
  if (!(error instanceof KafkaError)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  switch (error.code) {
    case ErrorCode.NONE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.REQUEST_TIMED_OUT:
      return kind === 'group' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return kind === 'offsets' ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE : ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return error.code;
  }
}
