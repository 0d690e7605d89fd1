/**
 * The topics a consumer-protocol group is subscribed to, read from its members' JoinGroup metadata
 * (ConsumerProtocolSubscription). Used by OffsetDelete (GROUP_SUBSCRIBED_TO_TOPIC, KIP-496) and by offset
 * expiration of Stable groups (KIP-211).
 *
 * Like Kafka, every subscription is read as version 0, the prefix all later versions share (topics, user data), so
 * versions newer than ours still parse. Metadata that does not parse makes the answer "unknown" (null), which
 * callers treat as "subscribed to everything", the safe side.
 *
 * Concurrency: pure functions.
 */

import { Reader } from '../../protocol/codec/reader.js';
import { readConsumerProtocolSubscription } from '../../protocol/generated/data/consumer-protocol-subscription.js';

/** The protocol type of Kafka consumers (and the only one whose metadata the broker reads). */
export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** Topics of one serialized subscription, or null when it does not parse. */
export function subscriptionTopics(metadata: Buffer): string[] | null {
  try {
    const r = new Reader(metadata);
    const version = r.int16();
    if (version < 0) return null;
    return readConsumerProtocolSubscription(r, 0).topics;
  } catch {
    return null;
  }
}

/** Union of the topics of all subscriptions, or null when any does not parse. */
export function unionOfSubscriptions(metadatas: Iterable<Buffer>): Set<string> | null {
  const topics = new Set<string>();
  for (const m of metadatas) {
    const t = subscriptionTopics(m);
    if (t === null) return null;
    for (const topic of t) topics.add(topic);
  }
  return topics;
}
