/**
 * What the data-path handlers share: turning a failure into the Kafka error code a partition reports, finding the
 * partition a request names (with Kafka's codes for unknown topics, partitions not led here and stale leader
 * epochs), and the sentinel values responses use.
 */
import { ProtocolError } from '../../protocol/codec/protocol-error.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { BrokerContext } from '../context.js';
import type { Partition } from '../replica/partition.js';

/** Kafka's "not requested" value for authorized-operations fields. */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/** The error code a failure reports: KafkaError's own code, CORRUPT_MESSAGE for bad records, else unknown. */
export function errorCodeOf(err: unknown): number {
  if (err instanceof KafkaError) return err.code;
  if (err instanceof ProtocolError)
    return err.kind === 'corrupt-record' ? ErrorCode.CORRUPT_MESSAGE : ErrorCode.INVALID_REQUEST;
  return ErrorCode.UNKNOWN_SERVER_ERROR;
}

/** A partition lookup's outcome: the partition, or the code to answer with. */
export type Lookup = { partition: Partition; errorCode: 0 } | { partition: null; errorCode: number };

const notFound: Lookup = { partition: null, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
const notLeader: Lookup = { partition: null, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };

/**
 * The partition `topic`/`index` if this broker leads it, and its ZooKeeper session is current (one that may have
 * expired may no longer lead it). `currentLeaderEpoch` (-1: not checked) fences clients with
 * a stale or future view: FENCED_LEADER_EPOCH when theirs is older, UNKNOWN_LEADER_EPOCH when newer.
 */
export function leaderPartition(broker: BrokerContext, topic: string, index: number, currentLeaderEpoch = -1): Lookup {
  const info = broker.metadata.topic(topic);
  if (info === undefined || index < 0 || index >= info.partitions.length) return notFound;
  const partition = broker.replicas.get(topic, index);
  if (partition === undefined || !partition.isLeader || !broker.metadata.sessionCurrent()) return notLeader;
  if (currentLeaderEpoch !== -1 && currentLeaderEpoch !== partition.leaderEpoch) {
    return {
      partition: null,
      errorCode:
        currentLeaderEpoch < partition.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH,
    };
  }
  return { partition, errorCode: 0 };
}
