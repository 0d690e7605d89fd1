/**
 * Errors of the Samsa client. Broker answers that carry a Kafka error code become `KafkaError` (from the protocol
 * layer: Kafka's name, code, retriable flag); failures of the client's own making have their own classes, each
 * saying whether retrying may help:
 * - `KafkaConnectionError`: a broker could not be reached or dropped the connection (retriable);
 * - `KafkaTimeoutError`: a request got no answer within `requestTimeoutMs` (retriable; its connection is closed,
 *   as the answers of one connection come in order and a late one could no longer be matched safely);
 * - `KafkaClientError`: misuse or a state the client cannot continue from (not retriable).
 */

import { ErrorCode, KafkaError } from '../protocol/errors.js';

export { KafkaError };

export class KafkaClientError extends Error {
  override readonly name: string = 'KafkaClientError';
  readonly retriable: boolean = false;
}

export class KafkaConnectionError extends KafkaClientError {
  override readonly name = 'KafkaConnectionError';
  override readonly retriable = true;
  constructor(
    message: string,
    /** "host:port" of the broker, when one was involved. */
    readonly broker: string | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class KafkaTimeoutError extends KafkaClientError {
  override readonly name = 'KafkaTimeoutError';
  override readonly retriable = true;
  readonly code = ErrorCode.REQUEST_TIMED_OUT;
}

/** Whether retrying the operation that failed with `e` may succeed. */
export function isRetriableError(e: unknown): boolean {
  if (e instanceof KafkaError) return e.retriable;
  if (e instanceof KafkaClientError) return e.retriable;
  return false;
}
