/**
 * Partition reassignments (KIP-455), both sent to the controller: AlterPartitionReassignments starts, replaces or
 * cancels moves of partitions to other replicas (each partition's error is its failure; the call resolves once
 * the controller has recorded the moves, which then run in the background), ListPartitionReassignments lists the
 * moves in progress. A whole request answered NOT_CONTROLLER is sent again once after a metadata refresh.
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { AlterPartitionReassignmentsResponse, ListPartitionReassignmentsResponse } from '../../protocol/index.js';
import { itemError, settle } from './errors.js';
import { type AdminContext, failed, type Outcome, ok, partition, requestTimeoutFor } from './routing.js';
import type { PartitionReassignment, PartitionReassignmentRequest, TopicPartitionRef } from './types.js';

const ALTER_PARTITION_REASSIGNMENTS = 45;
const LIST_PARTITION_REASSIGNMENTS = 46;

const keyOf = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** A whole-request error: every item fails with it, NOT_CONTROLLER worth another try. */
const requestFailed = (code: number, message: string | null): Outcome<never> =>
  failed(itemError(code, message), code === ErrorCode.NOT_CONTROLLER);

export async function alterPartitionReassignments(
  ctx: AdminContext,
  items: readonly PartitionReassignmentRequest[],
  options: { timeoutMs?: number } = {},
): Promise<TopicPartitionRef[]> {
  const timeoutMs = options.timeoutMs ?? ctx.requestTimeoutMs;
  const outcomes = await ctx.router.toController<TopicPartitionRef>(items.length, async (conn, indices) => {
    const v = conn.version(ALTER_PARTITION_REASSIGNMENTS, 0, 0);
    const byTopic = new Map<string, { partitionIndex: number; replicas: number[] | null }[]>();
    for (const i of indices) {
      const { topic, partition: p, replicas } = items[i]!;
      const list = byTopic.get(topic) ?? [];
      list.push({ partitionIndex: p, replicas: replicas === null ? null : [...replicas] });
      byTopic.set(topic, list);
    }
    const res = await conn.send<AlterPartitionReassignmentsResponse>(
      ALTER_PARTITION_REASSIGNMENTS,
      v,
      { timeoutMs, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) },
      { timeoutMs: requestTimeoutFor(ctx, timeoutMs) },
    );
    if (res.errorCode !== ErrorCode.NONE) {
      return new Map(indices.map((i) => [i, requestFailed(res.errorCode, res.errorMessage)]));
    }
    // A partition named twice may be answered once or twice: answers are taken in order, the last one repeats.
    const answers = new Map<string, { errorCode: number; errorMessage: string | null }[]>();
    for (const t of res.responses) {
      for (const p of t.partitions) {
        const k = keyOf(t.name, p.partitionIndex);
        const q = answers.get(k) ?? [];
        q.push(p);
        answers.set(k, q);
      }
    }
    return new Map(
      indices.map((i) => {
        const { topic, partition: p } = items[i]!;
        const q = answers.get(keyOf(topic, p));
        const a = q !== undefined && q.length > 1 ? q.shift() : q?.[0];
        if (a === undefined) {
          return [
            i,
            failed(new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `the broker did not answer for ${topic}-${p}`)),
          ];
        }
        return [
          i,
          a.errorCode === ErrorCode.NONE ? ok({ topic, partition: p }) : failed(itemError(a.errorCode, a.errorMessage)),
        ];
      }),
    );
  });
  ctx.cluster.invalidate();
  const { results, failures } = partition(outcomes, (i) => `${items[i]!.topic}-${items[i]!.partition}`);
  return settle('alterPartitionReassignments', failures, results, items.length);
}

export async function listPartitionReassignments(
  ctx: AdminContext,
  partitions?: readonly TopicPartitionRef[],
  options: { timeoutMs?: number } = {},
): Promise<PartitionReassignment[]> {
  const timeoutMs = options.timeoutMs ?? ctx.requestTimeoutMs;
  let topics: { name: string; partitionIndexes: number[] }[] | null = null;
  if (partitions !== undefined) {
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition: p } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), p]);
    topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
  }
  const [outcome] = await ctx.router.toController<PartitionReassignment[]>(1, async (conn) => {
    const v = conn.version(LIST_PARTITION_REASSIGNMENTS, 0, 0);
    const res = await conn.send<ListPartitionReassignmentsResponse>(
      LIST_PARTITION_REASSIGNMENTS,
      v,
      { timeoutMs, topics },
      { timeoutMs: requestTimeoutFor(ctx, timeoutMs) },
    );
    if (res.errorCode !== ErrorCode.NONE) return new Map([[0, requestFailed(res.errorCode, res.errorMessage)]]);
    const list = res.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        replicas: p.replicas,
        addingReplicas: p.addingReplicas,
        removingReplicas: p.removingReplicas,
      })),
    );
    list.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
    return new Map([[0, ok(list)]]);
  });
  if ('error' in outcome!) throw outcome.error;
  return outcome!.ok;
}
