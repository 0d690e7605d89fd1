/**
 * The "consumer" embedded protocol of classic groups: what a member puts in JoinGroup's protocol metadata (its
 * subscription: topics, owned partitions and generation for cooperative rebalancing, KIP-429) and what the leader
 * hands each member through SyncGroup (its assignment). Both are Kafka's ConsumerProtocolSubscription /
 * ConsumerProtocolAssignment: an int16 version, then the fields of that version.
 *
 * Reading is lenient in the way Kafka's is: a version newer than ours is read as our newest (later versions only
 * append fields), and a subscription whose optional tail does not parse is read as version 0, so members written by
 * other clients (KafkaJS writes v0 with user data; librdkafka and Java write v1-v3) all take part. An empty
 * assignment (KafkaJS sends one to members it gives nothing) means no partitions.
 *
 * Concurrency: pure functions.
 */

import { Reader } from '../../protocol/codec/reader.js';
import { Writer } from '../../protocol/codec/writer.js';
import {
  readConsumerProtocolAssignment,
  writeConsumerProtocolAssignment,
} from '../../protocol/generated/data/consumer-protocol-assignment.js';
import {
  readConsumerProtocolSubscription,
  writeConsumerProtocolSubscription,
} from '../../protocol/generated/data/consumer-protocol-subscription.js';
import type { TopicPartition } from './types.js';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';
const SUBSCRIPTION_VERSION = 3;
const ASSIGNMENT_VERSION = 3;

export interface Subscription {
  topics: string[];
  userData: Buffer | null;
  ownedPartitions: TopicPartition[];
  /** The generation the owned partitions come from; -1 when unknown (versions below 2). */
  generationId: number;
  rackId: string | null;
}

export interface Assignment {
  partitions: TopicPartition[];
  userData: Buffer | null;
}

/** Partitions grouped by topic, topics and partitions in ascending order (Kafka's wire shape). */
export function groupByTopic(partitions: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) {
    let list = byTopic.get(tp.topic);
    if (list === undefined) {
      list = [];
      byTopic.set(tp.topic, list);
    }
    list.push(tp.partition);
  }
  return [...byTopic.keys()].sort().map((topic) => ({ topic, partitions: byTopic.get(topic)!.sort((a, b) => a - b) }));
}

function flatten(groups: readonly { topic: string; partitions: readonly number[] }[]): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (const g of groups) for (const partition of g.partitions) out.push({ topic: g.topic, partition });
  return out;
}

export function encodeSubscription(s: Omit<Subscription, 'rackId'> & { rackId?: string | null }): Buffer {
  const w = new Writer();
  w.int16(SUBSCRIPTION_VERSION);
  writeConsumerProtocolSubscription(w, SUBSCRIPTION_VERSION, {
    topics: s.topics,
    userData: s.userData,
    ownedPartitions: groupByTopic(s.ownedPartitions),
    generationId: s.generationId,
    rackId: s.rackId ?? null,
  });
  return w.toBuffer();
}

export function decodeSubscription(metadata: Buffer): Subscription {
  const version = new Reader(metadata).int16();
  const read = (v: number): Subscription => {
    const r = new Reader(metadata, 2);
    const s = readConsumerProtocolSubscription(r, v);
    return {
      topics: s.topics,
      userData: s.userData,
      ownedPartitions: flatten(s.ownedPartitions),
      generationId: s.generationId,
      rackId: s.rackId,
    };
  };
  const v = Math.min(Math.max(version, 0), SUBSCRIPTION_VERSION);
  if (v === 0) return read(0);
  try {
    return read(v);
  } catch {
    return read(0);
  }
}

export function encodeAssignment(a: Assignment): Buffer {
  const w = new Writer();
  w.int16(ASSIGNMENT_VERSION);
  writeConsumerProtocolAssignment(w, ASSIGNMENT_VERSION, {
    assignedPartitions: groupByTopic(a.partitions),
    userData: a.userData,
  });
  return w.toBuffer();
}

export function decodeAssignment(data: Buffer): Assignment {
  if (data.length === 0) return { partitions: [], userData: null };
  const r = new Reader(data);
  r.int16();
  // Every version so far has the fields of version 0 only.
  const a = readConsumerProtocolAssignment(r, 0);
  return { partitions: flatten(a.assignedPartitions), userData: a.userData };
}
