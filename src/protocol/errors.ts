/**
 * Kafka protocol error codes.
 *
 * Codes, names and the "retriable" flag follow Apache Kafka's error code table (protocol guide, "Error Codes").
 * The one-line messages are our own short summaries. Protocol errors are plain data inside responses; `KafkaError`
 * is the single exception type used when such a code has to be thrown.
 */

/** Every error code Kafka defines, by name. */
export const ErrorCode = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  BROKER_NOT_AVAILABLE: 8,
  REPLICA_NOT_AVAILABLE: 9,
  MESSAGE_TOO_LARGE: 10,
  STALE_CONTROLLER_EPOCH: 11,
  OFFSET_METADATA_TOO_LARGE: 12,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_SASL_MECHANISM: 33,
  ILLEGAL_SASL_STATE: 34,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  NOT_CONTROLLER: 41,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  POLICY_VIOLATION: 44,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTION_COORDINATOR_FENCED: 52,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  SECURITY_DISABLED: 54,
  OPERATION_NOT_ATTEMPTED: 55,
  KAFKA_STORAGE_ERROR: 56,
  LOG_DIR_NOT_FOUND: 57,
  SASL_AUTHENTICATION_FAILED: 58,
  UNKNOWN_PRODUCER_ID: 59,
  REASSIGNMENT_IN_PROGRESS: 60,
  DELEGATION_TOKEN_AUTH_DISABLED: 61,
  DELEGATION_TOKEN_NOT_FOUND: 62,
  DELEGATION_TOKEN_OWNER_MISMATCH: 63,
  DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: 64,
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 65,
  DELEGATION_TOKEN_EXPIRED: 66,
  INVALID_PRINCIPAL_TYPE: 67,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  FETCH_SESSION_ID_NOT_FOUND: 70,
  INVALID_FETCH_SESSION_EPOCH: 71,
  LISTENER_NOT_FOUND: 72,
  TOPIC_DELETION_DISABLED: 73,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  STALE_BROKER_EPOCH: 77,
  OFFSET_NOT_AVAILABLE: 78,
  MEMBER_ID_REQUIRED: 79,
  PREFERRED_LEADER_NOT_AVAILABLE: 80,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
  ELIGIBLE_LEADERS_NOT_AVAILABLE: 83,
  ELECTION_NOT_NEEDED: 84,
  NO_REASSIGNMENT_IN_PROGRESS: 85,
  GROUP_SUBSCRIBED_TO_TOPIC: 86,
  INVALID_RECORD: 87,
  UNSTABLE_OFFSET_COMMIT: 88,
  THROTTLING_QUOTA_EXCEEDED: 89,
  PRODUCER_FENCED: 90,
  RESOURCE_NOT_FOUND: 91,
  DUPLICATE_RESOURCE: 92,
  UNACCEPTABLE_CREDENTIAL: 93,
  INCONSISTENT_VOTER_SET: 94,
  INVALID_UPDATE_VERSION: 95,
  FEATURE_UPDATE_FAILED: 96,
  PRINCIPAL_DESERIALIZATION_FAILURE: 97,
  SNAPSHOT_NOT_FOUND: 98,
  POSITION_OUT_OF_RANGE: 99,
  UNKNOWN_TOPIC_ID: 100,
  DUPLICATE_BROKER_REGISTRATION: 101,
  BROKER_ID_NOT_REGISTERED: 102,
  INCONSISTENT_TOPIC_ID: 103,
  INCONSISTENT_CLUSTER_ID: 104,
  TRANSACTIONAL_ID_NOT_FOUND: 105,
  FETCH_SESSION_TOPIC_ID_ERROR: 106,
  INELIGIBLE_REPLICA: 107,
  NEW_LEADER_ELECTED: 108,
  OFFSET_MOVED_TO_TIERED_STORAGE: 109,
  FENCED_MEMBER_EPOCH: 110,
  UNRELEASED_INSTANCE_ID: 111,
  UNSUPPORTED_ASSIGNOR: 112,
  STALE_MEMBER_EPOCH: 113,
  MISMATCHED_ENDPOINT_TYPE: 114,
  UNSUPPORTED_ENDPOINT_TYPE: 115,
  UNKNOWN_CONTROLLER_ID: 116,
  UNKNOWN_SUBSCRIPTION_ID: 117,
  TELEMETRY_TOO_LARGE: 118,
  INVALID_REGISTRATION: 119,
  TRANSACTION_ABORTABLE: 120,
  INVALID_RECORD_STATE: 121,
  SHARE_SESSION_NOT_FOUND: 122,
  INVALID_SHARE_SESSION_EPOCH: 123,
  FENCED_STATE_EPOCH: 124,
  INVALID_VOTER_KEY: 125,
  DUPLICATE_VOTER: 126,
  VOTER_NOT_FOUND: 127,
  INVALID_REGULAR_EXPRESSION: 128,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

export interface KafkaErrorInfo {
  /** Numeric code as sent on the wire (int16). */
  code: number;
  name: ErrorCodeName;
  /** True when Kafka classifies the error as transient: the same request may succeed if retried. */
  retriable: boolean;
  /** Short human-readable summary. */
  message: string;
}

/**
 * Retriable flag and summary per error. Typed against `ErrorCodeName` so the compiler rejects a missing or an
 * extra entry.
 */
const DETAILS: { readonly [K in ErrorCodeName]: readonly [retriable: boolean, message: string] } = {
  UNKNOWN_SERVER_ERROR: [false, 'The server hit an unexpected error while handling the request.'],
  NONE: [false, 'No error.'],
  OFFSET_OUT_OF_RANGE: [false, 'The requested offset lies outside the log range the server holds.'],
  CORRUPT_MESSAGE: [true, 'The message is corrupt: bad CRC, invalid size, null key on a compacted topic, or similar.'],
  UNKNOWN_TOPIC_OR_PARTITION: [true, 'This broker does not host the requested topic partition.'],
  INVALID_FETCH_SIZE: [false, 'The fetch size in the request is invalid.'],
  LEADER_NOT_AVAILABLE: [true, 'The partition has no leader right now; an election is probably under way.'],
  NOT_LEADER_OR_FOLLOWER: [true, 'This broker is not the leader (or not a replica) for the partition.'],
  REQUEST_TIMED_OUT: [true, 'The request did not complete in time.'],
  BROKER_NOT_AVAILABLE: [false, 'The broker is unavailable.'],
  REPLICA_NOT_AVAILABLE: [true, 'The replica for the requested partition is unavailable.'],
  MESSAGE_TOO_LARGE: [false, 'A message exceeds the largest size the server accepts.'],
  STALE_CONTROLLER_EPOCH: [false, 'The request came from a controller that has since been replaced.'],
  OFFSET_METADATA_TOO_LARGE: [false, 'The metadata attached to the committed offset is too long.'],
  NETWORK_EXCEPTION: [true, 'The connection closed before a response arrived.'],
  COORDINATOR_LOAD_IN_PROGRESS: [true, 'The coordinator is still loading its state and cannot serve requests yet.'],
  COORDINATOR_NOT_AVAILABLE: [true, 'The coordinator is unavailable.'],
  NOT_COORDINATOR: [true, 'This broker is not the coordinator for the given key.'],
  INVALID_TOPIC_EXCEPTION: [false, 'The topic name is invalid or the operation is not allowed on this topic.'],
  RECORD_LIST_TOO_LARGE: [false, 'A record batch is larger than the configured segment size.'],
  NOT_ENOUGH_REPLICAS: [true, 'Rejected: fewer in-sync replicas than the configured minimum.'],
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: [true, 'Written, but to fewer in-sync replicas than the configured minimum.'],
  INVALID_REQUIRED_ACKS: [false, 'The acks value of the produce request is invalid.'],
  ILLEGAL_GENERATION: [false, 'The group generation id is not the current one.'],
  INCONSISTENT_GROUP_PROTOCOL: [false, "The member's protocol type or protocols do not fit the group."],
  INVALID_GROUP_ID: [false, 'The group id is invalid.'],
  UNKNOWN_MEMBER_ID: [false, 'The coordinator does not know this member id.'],
  INVALID_SESSION_TIMEOUT: [false, "The session timeout is outside the broker's allowed range."],
  REBALANCE_IN_PROGRESS: [false, 'The group is rebalancing; the member must rejoin.'],
  INVALID_COMMIT_OFFSET_SIZE: [false, 'The size of the offset commit data is invalid.'],
  TOPIC_AUTHORIZATION_FAILED: [false, 'Not authorized to access the topic.'],
  GROUP_AUTHORIZATION_FAILED: [false, 'Not authorized to access the group.'],
  CLUSTER_AUTHORIZATION_FAILED: [false, 'Not authorized to perform this cluster operation.'],
  INVALID_TIMESTAMP: [false, 'The record timestamp is outside the accepted range.'],
  UNSUPPORTED_SASL_MECHANISM: [false, 'The broker does not offer the requested SASL mechanism.'],
  ILLEGAL_SASL_STATE: [false, 'The request is not allowed in the current SASL state.'],
  UNSUPPORTED_VERSION: [false, 'The API version is not supported.'],
  TOPIC_ALREADY_EXISTS: [false, 'A topic with this name already exists.'],
  INVALID_PARTITIONS: [false, 'The partition count is invalid.'],
  INVALID_REPLICATION_FACTOR: [false, 'The replication factor is below 1 or above the number of live brokers.'],
  INVALID_REPLICA_ASSIGNMENT: [false, 'The replica assignment is invalid.'],
  INVALID_CONFIG: [false, 'The configuration is invalid.'],
  NOT_CONTROLLER: [true, 'This broker is not the active controller.'],
  INVALID_REQUEST: [false, 'The request is malformed or not understood by this broker; see the broker log.'],
  UNSUPPORTED_FOR_MESSAGE_FORMAT: [false, "The broker's message format version does not support this request."],
  POLICY_VIOLATION: [false, 'The request breaks a configured policy.'],
  OUT_OF_ORDER_SEQUENCE_NUMBER: [false, 'The broker got a producer sequence number out of order.'],
  DUPLICATE_SEQUENCE_NUMBER: [false, 'The broker got a duplicate producer sequence number.'],
  INVALID_PRODUCER_EPOCH: [false, 'The producer epoch is older than the current one.'],
  INVALID_TXN_STATE: [false, 'The transactional operation is not valid in the current transaction state.'],
  INVALID_PRODUCER_ID_MAPPING: [false, 'The producer id is not the one currently assigned to this transactional id.'],
  INVALID_TRANSACTION_TIMEOUT: [false, 'The transaction timeout exceeds the broker maximum.'],
  CONCURRENT_TRANSACTIONS: [true, 'Another operation on the same transaction is still in progress.'],
  TRANSACTION_COORDINATOR_FENCED: [false, 'The transaction coordinator that sent this is no longer current.'],
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: [false, 'Not authorized to use the transactional id.'],
  SECURITY_DISABLED: [false, 'Security features are turned off.'],
  OPERATION_NOT_ATTEMPTED: [false, 'Not attempted because another operation in the same batch failed.'],
  KAFKA_STORAGE_ERROR: [true, 'A disk error occurred while accessing the log.'],
  LOG_DIR_NOT_FOUND: [false, 'The requested log directory is not configured on the broker.'],
  SASL_AUTHENTICATION_FAILED: [false, 'SASL authentication failed.'],
  UNKNOWN_PRODUCER_ID: [false, 'The broker has no state for this producer id (for example, its records expired).'],
  REASSIGNMENT_IN_PROGRESS: [false, 'A partition reassignment is already in progress.'],
  DELEGATION_TOKEN_AUTH_DISABLED: [false, 'Delegation tokens are disabled.'],
  DELEGATION_TOKEN_NOT_FOUND: [false, 'The delegation token does not exist.'],
  DELEGATION_TOKEN_OWNER_MISMATCH: [false, 'The principal is neither owner nor renewer of the token.'],
  DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: [false, 'Delegation token requests are not allowed on this kind of channel.'],
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: [false, 'Not authorized for the delegation token operation.'],
  DELEGATION_TOKEN_EXPIRED: [false, 'The delegation token has expired.'],
  INVALID_PRINCIPAL_TYPE: [false, 'The principal type is not supported.'],
  NON_EMPTY_GROUP: [false, 'The group still has members.'],
  GROUP_ID_NOT_FOUND: [false, 'The group does not exist.'],
  FETCH_SESSION_ID_NOT_FOUND: [true, 'The fetch session id is unknown.'],
  INVALID_FETCH_SESSION_EPOCH: [true, 'The fetch session epoch is wrong.'],
  LISTENER_NOT_FOUND: [true, 'The leader has no listener matching the one this metadata request arrived on.'],
  TOPIC_DELETION_DISABLED: [false, 'Deleting topics is disabled.'],
  FENCED_LEADER_EPOCH: [true, 'The leader epoch in the request is older than the broker one.'],
  UNKNOWN_LEADER_EPOCH: [true, 'The leader epoch in the request is newer than the broker one.'],
  UNSUPPORTED_COMPRESSION_TYPE: [false, "The client cannot handle the partition's compression type."],
  STALE_BROKER_EPOCH: [false, 'The broker epoch is out of date.'],
  OFFSET_NOT_AVAILABLE: [true, 'The new leader has not caught up its high watermark yet; offsets are not final.'],
  MEMBER_ID_REQUIRED: [false, 'The member must obtain a member id before joining the group.'],
  PREFERRED_LEADER_NOT_AVAILABLE: [true, 'The preferred leader is unavailable.'],
  GROUP_MAX_SIZE_REACHED: [false, 'The group is already at its maximum size.'],
  FENCED_INSTANCE_ID: [false, 'Another member with the same group.instance.id replaced this one.'],
  ELIGIBLE_LEADERS_NOT_AVAILABLE: [true, 'No eligible leader is available for the partition.'],
  ELECTION_NOT_NEEDED: [true, 'The partition does not need a leader election.'],
  NO_REASSIGNMENT_IN_PROGRESS: [false, 'No partition reassignment is in progress.'],
  GROUP_SUBSCRIBED_TO_TOPIC: [false, 'Cannot delete offsets of a topic the group is subscribed to.'],
  INVALID_RECORD: [false, 'The broker rejected the record as invalid.'],
  UNSTABLE_OFFSET_COMMIT: [true, 'Pending transactional offsets must be resolved first.'],
  THROTTLING_QUOTA_EXCEEDED: [true, 'The throttling quota is exhausted.'],
  PRODUCER_FENCED: [false, 'A newer producer with the same transactional id fenced this one.'],
  RESOURCE_NOT_FOUND: [false, 'The request refers to a resource that does not exist.'],
  DUPLICATE_RESOURCE: [false, 'The request names the same resource more than once.'],
  UNACCEPTABLE_CREDENTIAL: [false, 'The requested credential does not meet the acceptance criteria.'],
  INCONSISTENT_VOTER_SET: [false, 'The sender or receiver of a voter-only request is not an expected voter.'],
  INVALID_UPDATE_VERSION: [false, 'The update version is invalid.'],
  FEATURE_UPDATE_FAILED: [false, 'Finalized features could not be updated because of a server error.'],
  PRINCIPAL_DESERIALIZATION_FAILURE: [false, 'The forwarded request principal could not be deserialized.'],
  SNAPSHOT_NOT_FOUND: [false, 'The requested snapshot does not exist.'],
  POSITION_OUT_OF_RANGE: [false, 'The position is negative or past the end of the snapshot.'],
  UNKNOWN_TOPIC_ID: [true, 'This broker does not host a topic with this id.'],
  DUPLICATE_BROKER_REGISTRATION: [false, 'The broker id is already registered.'],
  BROKER_ID_NOT_REGISTERED: [false, 'The broker id is not registered.'],
  INCONSISTENT_TOPIC_ID: [true, "The request's topic id differs from the log's topic id."],
  INCONSISTENT_CLUSTER_ID: [false, "The request's cluster id differs from the server's."],
  TRANSACTIONAL_ID_NOT_FOUND: [false, 'The transactional id does not exist.'],
  FETCH_SESSION_TOPIC_ID_ERROR: [true, 'Topic ids are used inconsistently within the fetch session.'],
  INELIGIBLE_REPLICA: [false, 'The proposed ISR includes an ineligible replica.'],
  NEW_LEADER_ELECTED: [false, 'The partition state was updated, but a new leader has been elected.'],
  OFFSET_MOVED_TO_TIERED_STORAGE: [false, 'The requested offset now lives in tiered storage.'],
  FENCED_MEMBER_EPOCH: [false, 'The member epoch is fenced; the member must release its partitions and rejoin.'],
  UNRELEASED_INSTANCE_ID: [false, 'Another member still holds this instance id and must leave first.'],
  UNSUPPORTED_ASSIGNOR: [false, 'The group does not support this assignor or assignor version.'],
  STALE_MEMBER_EPOCH: [false, 'The member epoch is stale; retry once the heartbeat returns the current epoch.'],
  MISMATCHED_ENDPOINT_TYPE: [false, 'The request reached the wrong kind of endpoint.'],
  UNSUPPORTED_ENDPOINT_TYPE: [false, 'This endpoint type is not supported.'],
  UNKNOWN_CONTROLLER_ID: [false, 'The controller id is unknown.'],
  UNKNOWN_SUBSCRIPTION_ID: [false, 'The telemetry subscription id is unknown or out of date.'],
  TELEMETRY_TOO_LARGE: [false, 'The telemetry push exceeds the size the broker accepts.'],
  INVALID_REGISTRATION: [false, 'The controller judged the broker registration invalid.'],
  TRANSACTION_ABORTABLE: [false, 'The transaction hit an error; abort it to keep using the transactional id.'],
  INVALID_RECORD_STATE: [false, 'The record is in the wrong state for this acknowledgement.'],
  SHARE_SESSION_NOT_FOUND: [true, 'The share session does not exist.'],
  INVALID_SHARE_SESSION_EPOCH: [true, 'The share session epoch is wrong.'],
  FENCED_STATE_EPOCH: [false, 'The share group state epoch does not match.'],
  INVALID_VOTER_KEY: [false, "The voter key does not match the receiving replica's key."],
  DUPLICATE_VOTER: [false, 'The voter is already in the voter set.'],
  VOTER_NOT_FOUND: [false, 'The voter is not in the voter set.'],
  INVALID_REGULAR_EXPRESSION: [false, 'The regular expression is invalid.'],
};

const BY_NAME = new Map<ErrorCodeName, KafkaErrorInfo>();
const BY_CODE = new Map<number, KafkaErrorInfo>();
for (const name of Object.keys(ErrorCode) as ErrorCodeName[]) {
  const [retriable, message] = DETAILS[name];
  const info: KafkaErrorInfo = Object.freeze({ code: ErrorCode[name], name, retriable, message });
  BY_NAME.set(name, info);
  BY_CODE.set(info.code, info);
}

/** All known errors, ordered by code (-1 first). */
export const ALL_ERRORS: readonly KafkaErrorInfo[] = Object.freeze(
  [...BY_CODE.values()].sort((a, b) => a.code - b.code),
);

/**
 * Looks up an error by its numeric code.
 *
 * A code this table does not know (e.g. from a newer broker) does not throw: the result is a fresh, non-retriable
 * info object named 'UNKNOWN_SERVER_ERROR' that keeps the original numeric `code`, so callers can still log or
 * forward the real value. Compare `code` (not `name`) to tell it apart from a genuine -1.
 */
export function errorInfo(code: number): KafkaErrorInfo {
  const known = BY_CODE.get(code);
  if (known !== undefined) return known;
  return {
    code,
    name: 'UNKNOWN_SERVER_ERROR',
    retriable: false,
    message: `Unknown error code ${code}.`,
  };
}

/** Looks up an error by its Kafka name; for an arbitrary string, returns undefined when the name is unknown. */
export function errorByName(name: ErrorCodeName): KafkaErrorInfo;
export function errorByName(name: string): KafkaErrorInfo | undefined;
export function errorByName(name: string): KafkaErrorInfo | undefined {
  return BY_NAME.get(name as ErrorCodeName);
}

/** True when Kafka marks the code as retriable (unknown codes are not). */
export function isRetriable(code: number): boolean {
  return BY_CODE.get(code)?.retriable ?? false;
}

/** The one exception type for Kafka protocol errors. */
export class KafkaError extends Error {
  override readonly name = 'KafkaError';
  /** Numeric Kafka error code (kept as given, even when unknown). */
  readonly code: number;
  /** Kafka's name for the code; 'UNKNOWN_SERVER_ERROR' for codes not in the table. */
  readonly errorName: ErrorCodeName;
  readonly retriable: boolean;

  /**
   * @param code Kafka error code.
   * @param message Replaces the table's summary when given.
   * @param options Standard error options (`cause`).
   */
  constructor(code: number, message?: string, options?: ErrorOptions) {
    const info = errorInfo(code);
    super(message ?? info.message, options);
    this.code = code;
    this.errorName = info.name;
    this.retriable = info.retriable;
  }

  /** Builds an error from a Kafka error name instead of a number. */
  static fromName(name: ErrorCodeName, message?: string, options?: ErrorOptions): KafkaError {
    return new KafkaError(ErrorCode[name], message, options);
  }
}
