/**
 * Offset lookups by time: ListOffsets (v1-10), sent to each partition's leader over the cluster's connections.
 *
 * ListOffsets takes Kafka's special timestamps: -2 for the log start (earliest), -1 for the end (latest: the high
 * watermark, or the last stable offset under read_committed), or a time in ms for the first offset whose timestamp
 * is at or after it (offset -1 when there is none). Stale-metadata answers (a moved leader) refresh the metadata
 * and retry, as do other retriable failures, for a while; each partition succeeds or fails on its own.
 *
 * Concurrency: single-threaded; each call is independent.
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { ListOffsetsResponse } from '../../protocol/index.js';
import { isRetriableError } from '../errors.js';
import { type Cluster, type ClusterMetadata, isStaleMetadataError } from '../network/cluster.js';
import { groupByTopic } from './consumer-protocol.js';
import { partitionKey } from './state.js';
import type { TopicPartition } from './types.js';

const LIST_OFFSETS = 2;
export const EARLIEST_TIMESTAMP = -2n;
export const LATEST_TIMESTAMP = -1n;

export interface OffsetLookup extends TopicPartition {
  timestamp: bigint;
}

export interface FoundOffset {
  /** -1 when no record has a timestamp at or after the one asked for. */
  offset: bigint;
  timestamp: bigint;
  leaderEpoch: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface LookupOptions {
  /** 0 read_uncommitted, 1 read_committed. */
  isolationLevel: number;
  retryBackoffMs: number;
  /** How long retriable failures are retried; 0: one attempt. */
  retryForMs: number;
}

/** ListOffsets v10's own timeout field (how long the broker may take, e.g. for tiered storage). */
const LIST_OFFSETS_TIMEOUT_MS = 30_000;

export interface LookupResult {
  /** Partition key -> answer. */
  found: Map<string, FoundOffset>;
  /** Partition key -> why it has no answer (a non-retriable error, or the last error when time ran out). */
  failed: Map<string, Error>;
}

/**
 * Looks the offsets up, each partition on its own: one that fails does not hold up the others. Retriable failures
 * are retried (with fresh metadata) for `retryForMs`.
 */
export async function lookupOffsets(
  cluster: Cluster,
  lookups: readonly OffsetLookup[],
  options: LookupOptions,
): Promise<LookupResult> {
  const found = new Map<string, FoundOffset>();
  const failed = new Map<string, Error>();
  const deadline = Date.now() + options.retryForMs;
  let pending = [...lookups];
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await sleep(options.retryBackoffMs);
    const retry = new Map<string, { lookup: OffsetLookup; error: Error }>();
    const fail = (l: OffsetLookup, error: Error): void => {
      const key = partitionKey(l.topic, l.partition);
      if (isRetriableError(error)) retry.set(key, { lookup: l, error });
      else failed.set(key, error);
    };
    let md: ClusterMetadata | null = null;
    try {
      md = await cluster.metadata([...new Set(pending.map((l) => l.topic))]);
    } catch (e) {
      for (const l of pending) fail(l, e as Error);
    }
    const byLeader = new Map<number, OffsetLookup[]>();
    for (const l of md === null ? [] : pending) {
      const p = md!.topics.get(l.topic)?.partitions[l.partition];
      if (p === undefined || p.leader < 0) {
        const what = p === undefined ? 'is not known' : 'has no leader';
        const code = p === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.LEADER_NOT_AVAILABLE;
        fail(l, new KafkaError(code, `${l.topic}-${l.partition} ${what}`));
        continue;
      }
      let list = byLeader.get(p.leader);
      if (list === undefined) {
        list = [];
        byLeader.set(p.leader, list);
      }
      list.push(l);
    }
    await Promise.all(
      [...byLeader].map(async ([leader, list]) => {
        try {
          const conn = await cluster.connection(leader);
          const v = conn.version(LIST_OFFSETS, 1, 10);
          const asked = new Map(list.map((l) => [partitionKey(l.topic, l.partition), l]));
          const res = await conn.send<ListOffsetsResponse>(LIST_OFFSETS, v, {
            replicaId: -1,
            isolationLevel: options.isolationLevel,
            topics: groupByTopic(list).map((g) => ({
              name: g.topic,
              partitions: g.partitions.map((partition) => ({
                partitionIndex: partition,
                currentLeaderEpoch: -1,
                timestamp: asked.get(partitionKey(g.topic, partition))!.timestamp,
              })),
            })),
            timeoutMs: LIST_OFFSETS_TIMEOUT_MS,
          });
          for (const t of res.topics) {
            for (const p of t.partitions) {
              const key = partitionKey(t.name, p.partitionIndex);
              const l = asked.get(key);
              if (l === undefined) continue;
              asked.delete(key);
              if (p.errorCode === ErrorCode.NONE) {
                found.set(key, { offset: p.offset, timestamp: p.timestamp, leaderEpoch: p.leaderEpoch });
                continue;
              }
              if (isStaleMetadataError(p.errorCode)) cluster.invalidate();
              fail(l, new KafkaError(p.errorCode, `ListOffsets ${key}: ${new KafkaError(p.errorCode).message}`));
            }
          }
          for (const l of asked.values()) fail(l, new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer for it'));
        } catch (e) {
          if (isRetriableError(e)) cluster.invalidate();
          for (const l of list) fail(l, e as Error);
        }
      }),
    );
    if (retry.size > 0 && Date.now() + options.retryBackoffMs >= deadline) {
      for (const [key, { error }] of retry) failed.set(key, error);
      break;
    }
    pending = [...retry.values()].map((r) => r.lookup);
  }
  return { found, failed };
}

/** Looks the offsets up (partition key -> answer); throws the first failure. */
export async function listOffsets(
  cluster: Cluster,
  lookups: readonly OffsetLookup[],
  options: LookupOptions,
): Promise<Map<string, FoundOffset>> {
  const { found, failed } = await lookupOffsets(cluster, lookups, options);
  const [first] = failed.values();
  if (first !== undefined) throw first;
  return found;
}
