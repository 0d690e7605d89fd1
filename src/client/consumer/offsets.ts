/**
 * Offset lookups by time: ListOffsets (v1-10), sent to each partition's leader over the cluster's connections.
 *
 * ListOffsets takes Kafka's special timestamps: -2 for the log start (earliest), -1 for the end (latest: the high
 * watermark, or the last stable offset under read_committed), or a time in ms for the first offset whose timestamp
 * is at or after it (offset -1 when there is none). Stale-metadata answers (a moved leader) refresh the metadata
 * and retry, as do retriable ones, until `deadline`.
 *
 * Concurrency: single-threaded; each call is independent.
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { ListOffsetsResponse } from '../../protocol/index.js';
import { isRetriable, KafkaTimeoutError } from '../errors.js';
import { type Cluster, isStaleMetadataError } from '../network/cluster.js';
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

/** Looks the offsets up, partition key -> answer. */
export async function listOffsets(
  cluster: Cluster,
  lookups: readonly OffsetLookup[],
  options: { isolationLevel: number; retryBackoffMs: number; timeoutMs: number },
): Promise<Map<string, FoundOffset>> {
  const found = new Map<string, FoundOffset>();
  const deadline = Date.now() + options.timeoutMs;
  let pending = [...lookups];
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) {
      if (Date.now() >= deadline) {
        throw new KafkaTimeoutError(
          `ListOffsets for ${pending.map((l) => `${l.topic}-${l.partition}`).join(', ')} did not succeed in ${options.timeoutMs} ms`,
        );
      }
      await sleep(options.retryBackoffMs);
    }
    const md = await cluster.metadata([...new Set(pending.map((l) => l.topic))]);
    const byLeader = new Map<number, OffsetLookup[]>();
    const retry: OffsetLookup[] = [];
    let lastError: Error | null = null;
    for (const l of pending) {
      const t = md.topics.get(l.topic);
      if (t === undefined) {
        lastError = new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${l.topic} does not exist`);
        retry.push(l);
        continue;
      }
      const p = t.partitions[l.partition];
      if (p === undefined) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${l.topic}-${l.partition}`);
      if (p.leader < 0) {
        retry.push(l);
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
          const res = await conn.send<ListOffsetsResponse>(LIST_OFFSETS, v, {
            replicaId: -1,
            isolationLevel: options.isolationLevel,
            topics: groupByTopic(list).map((g) => ({
              name: g.topic,
              partitions: g.partitions.map((partition) => ({
                partitionIndex: partition,
                currentLeaderEpoch: -1,
                timestamp: list.find((l) => l.topic === g.topic && l.partition === partition)!.timestamp,
              })),
            })),
            timeoutMs: options.timeoutMs,
          });
          const answered = new Set<string>();
          for (const t of res.topics) {
            for (const p of t.partitions) {
              const key = partitionKey(t.name, p.partitionIndex);
              const l = list.find((x) => x.topic === t.name && x.partition === p.partitionIndex);
              if (l === undefined) continue;
              answered.add(key);
              if (p.errorCode === ErrorCode.NONE) {
                found.set(key, { offset: p.offset, timestamp: p.timestamp, leaderEpoch: p.leaderEpoch });
                continue;
              }
              const e = new KafkaError(
                p.errorCode,
                `ListOffsets ${t.name}-${p.partitionIndex}: ${new KafkaError(p.errorCode).message}`,
              );
              if (isStaleMetadataError(p.errorCode)) cluster.invalidate();
              else if (!e.retriable) throw e;
              lastError = e;
              retry.push(l);
            }
          }
          for (const l of list) if (!answered.has(partitionKey(l.topic, l.partition))) retry.push(l);
        } catch (e) {
          if (!isRetriable(e)) throw e;
          cluster.invalidate();
          lastError = e as Error;
          retry.push(...list);
        }
      }),
    );
    if (retry.length > 0 && Date.now() >= deadline && lastError !== null) throw lastError;
    pending = retry;
  }
  return found;
}
