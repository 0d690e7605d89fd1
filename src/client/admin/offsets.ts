/**
 * Partition offsets: ListOffsets (earliest = log start, latest = high watermark or, read_committed, the last stable
 * offset, max-timestamp (KIP-734, ListOffsets v7+), or the first offset at or after a timestamp) and DeleteRecords
 * (moves a partition's log start offset up). Both go to each partition's leader, one request per leader (see
 * routing.ts). A partition named twice in one call is asked in separate requests, as Kafka refuses a partition
 * twice in one request.
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { DeleteRecordsResponse, ListOffsetsResponse } from '../../protocol/index.js';
import type { BrokerConnection } from '../network/connection.js';
import { settle } from './errors.js';
import { type AdminContext, failed, type Outcome, partition, partitionOutcome, requestTimeoutFor } from './routing.js';
import type {
  DeletedRecords,
  DeleteRecordsItem,
  ListedOffset,
  ListOffsetsOptions,
  ListOffsetsRequestItem,
  OffsetSpec,
  TopicOffsets,
  TopicPartitionRef,
} from './types.js';

const LIST_OFFSETS = 2;
const DELETE_RECORDS = 21;

const EARLIEST = -2n;
const LATEST = -1n;
const MAX_TIMESTAMP = -3n;

export const tpName = (p: TopicPartitionRef): string => `${p.topic}-${p.partition}`;

function specTimestamp(spec: OffsetSpec): bigint {
  if (spec === 'earliest') return EARLIEST;
  if (spec === 'latest') return LATEST;
  if (spec === 'max-timestamp') return MAX_TIMESTAMP;
  const t = spec.timestamp;
  return typeof t === 'bigint' ? t : BigInt(t instanceof Date ? t.getTime() : Math.trunc(t));
}

/** Indices split into rounds in which no partition appears twice (usually one round). */
function rounds(items: readonly TopicPartitionRef[], indices: readonly number[]): number[][] {
  const out: number[][] = [];
  const seen: Set<string>[] = [];
  for (const i of indices) {
    const key = tpName(items[i]!);
    let r = 0;
    while (seen[r]?.has(key)) r++;
    if (seen[r] === undefined) {
      seen[r] = new Set();
      out[r] = [];
    }
    seen[r]!.add(key);
    out[r]!.push(i);
  }
  return out;
}

/** Request topics built from the indices, partitions grouped under their topic. */
function byTopic<P>(
  items: readonly TopicPartitionRef[],
  indices: readonly number[],
  entry: (i: number) => P,
): { name: string; partitions: P[] }[] {
  const topics = new Map<string, P[]>();
  for (const i of indices) {
    const t = items[i]!.topic;
    const list = topics.get(t) ?? [];
    list.push(entry(i));
    topics.set(t, list);
  }
  return [...topics].map(([name, partitions]) => ({ name, partitions }));
}

function answerOf<P extends { partitionIndex: number }>(
  topics: readonly { name: string; partitions: readonly P[] }[],
  p: TopicPartitionRef,
): P | undefined {
  return topics.find((t) => t.name === p.topic)?.partitions.find((x) => x.partitionIndex === p.partition);
}

const noAnswer = (p: TopicPartitionRef): Outcome<never> =>
  failed(new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `the leader did not answer for ${tpName(p)}`), true);

export async function listOffsets(
  ctx: AdminContext,
  items: readonly ListOffsetsRequestItem[],
  options: ListOffsetsOptions = {},
): Promise<ListedOffset[]> {
  const isolationLevel = options.isolationLevel === 'read_committed' ? 1 : 0;
  const outcomes = await ctx.router.toLeaders<ListedOffset>(items, async (conn, indices) => {
    const out = new Map<number, Outcome<ListedOffset>>();
    for (const round of rounds(items, indices)) {
      for (const [i, o] of await listOffsetsRound(ctx, conn, items, round, isolationLevel)) out.set(i, o);
    }
    return out;
  });
  const { results, failures } = partition(outcomes, (i) => tpName(items[i]!));
  return settle('listOffsets', failures, results, items.length);
}

async function listOffsetsRound(
  ctx: AdminContext,
  conn: BrokerConnection,
  items: readonly ListOffsetsRequestItem[],
  indices: readonly number[],
  isolationLevel: number,
): Promise<Map<number, Outcome<ListedOffset>>> {
  const needsMaxTimestamp = indices.some((i) => items[i]!.spec === 'max-timestamp');
  const minVersion = needsMaxTimestamp ? 7 : isolationLevel === 1 ? 2 : 1;
  const v = conn.version(LIST_OFFSETS, minVersion, 10);
  const res = await conn.send<ListOffsetsResponse>(LIST_OFFSETS, v, {
    replicaId: -1,
    isolationLevel,
    // v10's wait for tiered storage; earlier versions cannot carry it.
    timeoutMs: v >= 10 ? ctx.requestTimeoutMs : 0,
    topics: byTopic(items, indices, (i) => ({
      partitionIndex: items[i]!.partition,
      currentLeaderEpoch: -1,
      timestamp: specTimestamp(items[i]!.spec),
      maxNumOffsets: 1,
    })),
  });
  return new Map(
    indices.map((i): [number, Outcome<ListedOffset>] => {
      const item = items[i]!;
      const a = answerOf(res.topics, item);
      if (a === undefined) return [i, noAnswer(item)];
      return [
        i,
        partitionOutcome(a.errorCode, () => ({
          topic: item.topic,
          partition: item.partition,
          offset: a.offset,
          timestamp: a.timestamp,
          leaderEpoch: a.leaderEpoch < 0 ? null : a.leaderEpoch,
        })),
      ];
    }),
  );
}

/** Earliest, latest (high watermark) and last stable offset of every partition of a topic. */
export async function fetchTopicOffsets(ctx: AdminContext, topic: string): Promise<TopicOffsets[]> {
  const t = await ctx.cluster.topic(topic);
  const parts = t.partitions.map((p) => ({ topic, partition: p.partition }));
  const [earliest, latest, stable] = await Promise.all([
    listOffsets(
      ctx,
      parts.map((p) => ({ ...p, spec: 'earliest' as const })),
    ),
    listOffsets(
      ctx,
      parts.map((p) => ({ ...p, spec: 'latest' as const })),
    ),
    listOffsets(
      ctx,
      parts.map((p) => ({ ...p, spec: 'latest' as const })),
      { isolationLevel: 'read_committed' },
    ),
  ]);
  return parts.map((p, k) => ({
    partition: p.partition,
    earliest: earliest[k]!.offset,
    latest: latest[k]!.offset,
    lastStable: stable[k]!.offset,
  }));
}

export async function deleteRecords(
  ctx: AdminContext,
  items: readonly DeleteRecordsItem[],
  options: { timeoutMs?: number } = {},
): Promise<DeletedRecords[]> {
  const timeoutMs = options.timeoutMs ?? ctx.requestTimeoutMs;
  const outcomes = await ctx.router.toLeaders<DeletedRecords>(items, async (conn, indices) => {
    const out = new Map<number, Outcome<DeletedRecords>>();
    for (const round of rounds(items, indices)) {
      const v = conn.version(DELETE_RECORDS, 0, 2);
      const res = await conn.send<DeleteRecordsResponse>(
        DELETE_RECORDS,
        v,
        {
          topics: byTopic(items, round, (i) => ({
            partitionIndex: items[i]!.partition,
            offset: BigInt(items[i]!.beforeOffset),
          })),
          timeoutMs,
        },
        { timeoutMs: requestTimeoutFor(ctx, timeoutMs) },
      );
      for (const i of round) {
        const item = items[i]!;
        const a = answerOf(res.topics, item);
        out.set(
          i,
          a === undefined
            ? noAnswer(item)
            : partitionOutcome(a.errorCode, () => ({
                topic: item.topic,
                partition: item.partition,
                lowWatermark: a.lowWatermark,
              })),
        );
      }
    }
    return out;
  });
  const { results, failures } = partition(outcomes, (i) => tpName(items[i]!));
  return settle('deleteRecords', failures, results, items.length);
}
