/**
 * KafkaJS's error classes, under KafkaJS's names and with its fields (`retriable`, `type` and `code` of protocol
 * errors, `broker` of connection errors, `retryCount` of exhausted retries), so that code catching them keeps
 * working; and `toKafkaJSError`, which turns the Samsa client's errors into them at the adapter's boundary.
 *
 * Protocol errors carry Kafka's error name as `type`, except for the five codes where KafkaJS kept an older name
 * (e.g. NOT_LEADER_FOR_PARTITION for code 6): code that compares `e.type` sees what KafkaJS would have said.
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { KafkaClientError, KafkaConnectionError, KafkaTimeoutError } from '../errors.js';

export interface KafkaJSErrorOptions {
  retriable?: boolean;
  cause?: unknown;
}

export class KafkaJSError extends Error {
  override name = 'KafkaJSError';
  readonly retriable: boolean;
  readonly helpUrl?: string;

  constructor(e: Error | string, options: KafkaJSErrorOptions = {}) {
    super(typeof e === 'string' ? e : e.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable ?? true;
  }
}

export class KafkaJSNonRetriableError extends KafkaJSError {
  override name = 'KafkaJSNonRetriableError';
  constructor(e: Error | string, options: { cause?: unknown } = {}) {
    super(e, { ...options, retriable: false });
  }
}

/** What a protocol error is made of: Kafka's code, KafkaJS's name for it, and whether retrying may help. */
export interface ProtocolErrorInfo {
  message: string;
  type: string;
  code: number;
  retriable: boolean;
}

export class KafkaJSProtocolError extends KafkaJSError {
  override name = 'KafkaJSProtocolError';
  readonly type: string;
  readonly code: number;
  constructor(e: ProtocolErrorInfo | string, options: KafkaJSErrorOptions = {}) {
    const info = typeof e === 'string' ? { message: e, type: 'UNKNOWN', code: -1, retriable: false } : e;
    super(info.message, { retriable: options.retriable ?? info.retriable, cause: options.cause });
    this.type = info.type;
    this.code = info.code;
  }
}

export class KafkaJSOffsetOutOfRange extends KafkaJSProtocolError {
  override name = 'KafkaJSOffsetOutOfRange';
  constructor(
    e: ProtocolErrorInfo,
    readonly topic: string,
    readonly partition: number,
  ) {
    super(e);
  }
}

export class KafkaJSCreateTopicError extends KafkaJSProtocolError {
  override name = 'KafkaJSCreateTopicError';
  constructor(
    e: ProtocolErrorInfo,
    readonly topic: string,
  ) {
    super(e);
  }
}

export class KafkaJSNumberOfRetriesExceeded extends KafkaJSNonRetriableError {
  override name = 'KafkaJSNumberOfRetriesExceeded';
  readonly retryCount: number;
  readonly retryTime: number;
  constructor(e: Error, options: { retryCount: number; retryTime: number }) {
    super(e, { cause: e });
    this.retryCount = options.retryCount;
    this.retryTime = options.retryTime;
    this.stack = `${this.name}\n  Caused by: ${e.stack ?? e.message}`;
  }
}

export class KafkaJSConnectionError extends KafkaJSError {
  override name = 'KafkaJSConnectionError';
  readonly broker: string | undefined;
  readonly code: string | undefined;
  constructor(e: Error | string, options: { broker?: string; code?: string; cause?: unknown } = {}) {
    super(e, { cause: options.cause });
    this.broker = options.broker;
    this.code = options.code;
  }
}

export class KafkaJSRequestTimeoutError extends KafkaJSError {
  override name = 'KafkaJSRequestTimeoutError';
  readonly broker: string | undefined;
  constructor(e: Error | string, options: { broker?: string; cause?: unknown } = {}) {
    super(e, { cause: options.cause });
    this.broker = options.broker;
  }
}

export class KafkaJSMetadataNotLoaded extends KafkaJSError {
  override name = 'KafkaJSMetadataNotLoaded';
}

export class KafkaJSTopicMetadataNotLoaded extends KafkaJSMetadataNotLoaded {
  override name = 'KafkaJSTopicMetadataNotLoaded';
  constructor(
    e: Error | string,
    readonly topic: string,
  ) {
    super(e);
  }
}

export class KafkaJSBrokerNotFound extends KafkaJSError {
  override name = 'KafkaJSBrokerNotFound';
}

export class KafkaJSGroupCoordinatorNotFound extends KafkaJSNonRetriableError {
  override name = 'KafkaJSGroupCoordinatorNotFound';
}

export class KafkaJSNotImplemented extends KafkaJSNonRetriableError {
  override name = 'KafkaJSNotImplemented';
}

export class KafkaJSTimeout extends KafkaJSNonRetriableError {
  override name = 'KafkaJSTimeout';
}

export class KafkaJSNoBrokerAvailableError extends KafkaJSError {
  override name = 'KafkaJSNoBrokerAvailableError';
}

export interface DeleteGroupsFailure {
  groupId: string;
  errorCode: number;
  error: KafkaJSProtocolError;
}

export class KafkaJSDeleteGroupsError extends KafkaJSError {
  override name = 'KafkaJSDeleteGroupsError';
  constructor(
    e: string,
    readonly groups: DeleteGroupsFailure[] = [],
  ) {
    super(e);
  }
}

export class KafkaJSAggregateError extends Error {
  override name = 'KafkaJSAggregateError';
  constructor(
    message: string,
    readonly errors: Error[],
  ) {
    super(message);
  }
}

/** KafkaJS's names for the codes whose Kafka name changed after KafkaJS took its table. */
const KAFKAJS_TYPE: ReadonlyMap<number, string> = new Map([
  [ErrorCode.UNKNOWN_SERVER_ERROR, 'UNKNOWN'],
  [ErrorCode.NOT_LEADER_OR_FOLLOWER, 'NOT_LEADER_FOR_PARTITION'],
  [ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, 'GROUP_LOAD_IN_PROGRESS'],
  [ErrorCode.COORDINATOR_NOT_AVAILABLE, 'GROUP_COORDINATOR_NOT_AVAILABLE'],
  [ErrorCode.NOT_COORDINATOR, 'NOT_COORDINATOR_FOR_GROUP'],
]);

/** The protocol error info (KafkaJS's type name) for a Kafka error code. */
export function protocolErrorInfo(code: number, message?: string): ProtocolErrorInfo {
  const k = new KafkaError(code);
  return { message: message ?? k.message, type: KAFKAJS_TYPE.get(code) ?? k.errorName, code, retriable: k.retriable };
}

/** The KafkaJS error for an error of the Samsa client (errors that already are KafkaJS's pass unchanged). */
export function toKafkaJSError(e: unknown): Error {
  if (e instanceof KafkaJSError || e instanceof KafkaJSAggregateError) return e;
  if (e instanceof KafkaError) {
    // Like KafkaJS's, the error stands on its own (type and code say it all): no cause.
    return new KafkaJSProtocolError({
      message: e.message,
      type: KAFKAJS_TYPE.get(e.code) ?? e.errorName,
      code: e.code,
      retriable: e.retriable,
    });
  }
  if (e instanceof KafkaConnectionError) {
    return new KafkaJSConnectionError(e.message, { ...(e.broker === null ? {} : { broker: e.broker }), cause: e });
  }
  if (e instanceof KafkaTimeoutError) return new KafkaJSRequestTimeoutError(e.message, { cause: e });
  if (e instanceof KafkaClientError) {
    return e.retriable
      ? new KafkaJSError(e.message, { cause: e })
      : new KafkaJSNonRetriableError(e.message, { cause: e });
  }
  return e instanceof Error ? e : new KafkaJSError(String(e));
}

/** As KafkaJS's retrier judges: errors not marked otherwise are retriable, except programming errors. */
export function isRetriableForKafkaJS(e: unknown): boolean {
  if (!(e instanceof Error)) return true;
  if (['RangeError', 'ReferenceError', 'SyntaxError', 'TypeError'].includes(e.name)) return false;
  return (e as { retriable?: unknown }).retriable !== false;
}
