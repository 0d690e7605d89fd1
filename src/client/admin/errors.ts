/**
 * How the Admin client reports failures of batch operations (several topics, groups, partitions or resources in one
 * call), where Kafka answers an error per item: the call resolves only when every item succeeded; otherwise it
 * rejects with one `KafkaAdminError` listing every failing item with its own error (a `KafkaError` with Kafka's
 * code and the broker's message, or a client error such as an unreachable broker) and carrying the results of the
 * items that did succeed (a partial success is visible, nothing is retried behind the caller's back).
 *
 * `KafkaAdminError` is itself a `KafkaError` whose code is that of the first failing item, so the common one-item
 * call reads naturally: `catch (e) { if (e instanceof KafkaError && e.code === ErrorCode.TOPIC_ALREADY_EXISTS) }`.
 * Operations on one group (describeGroupLag, resetGroupOffsets, listGroupOffsets...) throw that group's
 * `KafkaError` directly.
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';

export interface ItemFailure {
  /** The item as the caller named it: a topic, group id, 'topic-partition', or 'type:name' for a config resource. */
  item: string;
  error: Error;
}

function codeOf(e: Error): number {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : ErrorCode.UNKNOWN_SERVER_ERROR;
}

export class KafkaAdminError<T = unknown> extends KafkaError {
  /** Every failing item, in the order the caller gave them. */
  readonly failures: readonly ItemFailure[];
  /** The results of the items that succeeded. */
  readonly results: readonly T[];
  /** The Admin method that failed, e.g. 'createTopics'. */
  readonly operation: string;

  constructor(operation: string, failures: readonly ItemFailure[], results: readonly T[], total: number) {
    const first = failures[0]!.error;
    const list = failures.map((f) => `${f.item}: ${describe(f.error)}`).join('; ');
    super(codeOf(first), `${operation}: ${failures.length} of ${total} failed: ${list}`, { cause: first });
    this.failures = failures;
    this.results = results;
    this.operation = operation;
    // Retriable only when every failure is (the base class judged the first one alone).
    const retriable = failures.every((f) => (f.error as { retriable?: boolean }).retriable === true);
    Object.defineProperty(this, 'retriable', { value: retriable, enumerable: true });
  }
}

/** "ERROR_NAME: message" for Kafka errors, the message otherwise. */
function describe(e: Error): string {
  return e instanceof KafkaError ? `${e.errorName}: ${e.message}` : e.message;
}

/** Throws a KafkaAdminError when any item failed, else answers the results. */
export function settle<T>(operation: string, failures: readonly ItemFailure[], results: T[], total: number): T[] {
  if (failures.length > 0) throw new KafkaAdminError(operation, failures, results, total);
  return results;
}

/** A KafkaError for a broker's per-item code and message (null message: Kafka's summary of the code). */
export function itemError(code: number, message: string | null | undefined): KafkaError {
  return new KafkaError(code, message ?? undefined);
}
