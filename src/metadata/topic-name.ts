/**
 * Kafka's rules for topic names: 1 to 249 characters from [a-zA-Z0-9._-], not "." or "..". Because metric names
 * replace '.' with '_', two topics whose names differ only there collide, and the second cannot be created.
 * Violations are INVALID_TOPIC_EXCEPTION with messages worded like Kafka's.
 */
import { ErrorCode, KafkaError } from '../protocol/errors.js';

export const MAX_TOPIC_NAME_LENGTH = 249;
const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** The reason `name` is not a legal topic name, or null when it is. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return "Topic name is illegal, it can't be empty";
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name}`;
  }
  if (!LEGAL.test(name)) {
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return null;
}

export function validateTopicName(name: string): void {
  const problem = topicNameProblem(name);
  if (problem !== null) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
}

/** The name under which '.' and '_' collide. */
export function collisionKey(name: string): string {
  return name.replaceAll('.', '_');
}

/** Internal topics (`__consumer_offsets`, `__transaction_state`) are created by the broker itself. */
export function isInternalTopic(name: string): boolean {
  return name === '__consumer_offsets' || name === '__transaction_state';
}
