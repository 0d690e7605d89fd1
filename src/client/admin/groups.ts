/**
 * Consumer groups: listing (ListGroups on every broker, as each coordinates its own share), describing (KIP-848
 * groups through ConsumerGroupDescribe where the coordinator serves it, classic groups through DescribeGroups, with
 * the consumer protocol's assignment and subscription decoded), committed offsets (OffsetFetch), lag as
 * kafka-consumer-groups --describe computes it, deleting groups (DeleteGroups) and their offsets (OffsetDelete),
 * and resetting offsets as kafka-consumer-groups --reset-offsets does.
 *
 * Kafka's behaviour followed here:
 * - a group that does not exist is GROUP_ID_NOT_FOUND ("Group g not found."), as DescribeGroups v6 answers; older
 *   versions describe it as Dead, which is translated;
 * - lag is the high watermark (ListOffsets latest, read_uncommitted) minus the committed offset, per partition with
 *   a committed offset or an assigned member; without a committed offset the lag is unknown (null; the tool
 *   prints '-'), not computed from the log start;
 * - offsets are reset only while the group is inactive (Empty, or Dead: a group that does not exist yet), else the
 *   tool's refusal "Assignments can only be reset if the group 'g' is inactive, but the current state is Stable."
 *   (here as NON_EMPTY_GROUP); new offsets are clamped to [log start, high watermark], a datetime with no record at
 *   or after it resets to the high watermark, shift-by needs a committed offset; the commit is an OffsetCommit with
 *   generation -1 and member '' (the "simple" commit Kafka accepts from admin tools for inactive groups).
 */

import { Reader } from '../../protocol/codec/reader.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import {
  type ConsumerGroupDescribeResponse,
  type ConsumerGroupDescribeResponseDescribedGroup,
  type DeleteGroupsResponse,
  type DescribeGroupsResponse,
  type DescribeGroupsResponseDescribedGroup,
  type ListGroupsResponse,
  type OffsetCommitResponse,
  type OffsetDeleteResponse,
  type OffsetFetchResponse,
  readConsumerProtocolAssignment,
  readConsumerProtocolSubscription,
} from '../../protocol/index.js';
import { KafkaClientError } from '../errors.js';
import { itemError, KafkaAdminError, settle } from './errors.js';
import { listOffsets, tpName } from './offsets.js';
import { type AdminContext, COORDINATOR_RETRY_ERRORS, failed, type Outcome, ok, partition } from './routing.js';
import type {
  CommittedOffset,
  GroupDescription,
  GroupLag,
  GroupListing,
  GroupMember,
  ListedOffset,
  ListGroupsOptions,
  PartitionLag,
  ResetGroupOffsetsOptions,
  ResetOffset,
  TopicPartitionRef,
  TopicPartitions,
} from './types.js';

const OFFSET_COMMIT = 8;
const OFFSET_FETCH = 9;
const DESCRIBE_GROUPS = 15;
const LIST_GROUPS = 16;
const DELETE_GROUPS = 42;
const OFFSET_DELETE = 47;
const CONSUMER_GROUP_DESCRIBE = 69;

const CONSUMER_PROTOCOL_TYPE = 'consumer';

const groupNotFound = (groupId: string): KafkaError =>
  new KafkaError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} not found.`);

/** A group-level answer from a coordinator: moved coordinators are retried (see routing.ts). */
function groupOutcome<R>(code: number, message: string | null, value: () => R): Outcome<R> {
  if (code === ErrorCode.NONE) return ok(value());
  return failed(itemError(code, message), COORDINATOR_RETRY_ERRORS.has(code));
}

const byTopicThenPartition = (a: TopicPartitionRef, b: TopicPartitionRef): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;

// ---- consumer protocol ----------------------------------------------------------------------------------------

/**
 * A member's assignment in the consumer protocol (int16 version, then the v0 fields every version starts with, so
 * versions newer than ours decode); [] for no bytes (not Stable yet), null when it does not parse.
 */
function decodeAssignment(bytes: Buffer): TopicPartitions[] | null {
  if (bytes.length === 0) return [];
  try {
    const r = new Reader(bytes);
    if (r.int16() < 0) return null;
    return readConsumerProtocolAssignment(r, 0).assignedPartitions.map((t) => ({
      topic: t.topic,
      partitions: [...t.partitions].sort((a, b) => a - b),
    }));
  } catch {
    return null;
  }
}

/** A member's subscribed topics in the consumer protocol, or null when absent or unparsable. */
function decodeSubscription(bytes: Buffer): string[] | null {
  if (bytes.length === 0) return null;
  try {
    const r = new Reader(bytes);
    if (r.int16() < 0) return null;
    return readConsumerProtocolSubscription(r, 0).topics;
  } catch {
    return null;
  }
}

// ---- list and describe ----------------------------------------------------------------------------------------

export async function listGroups(ctx: AdminContext, options: ListGroupsOptions = {}): Promise<GroupListing[]> {
  const states = [...(options.states ?? [])];
  const types = [...(options.types ?? [])];
  const md = await ctx.cluster.metadata();
  const nodes = [...md.brokers.keys()].sort((a, b) => a - b);
  const outcomes = await Promise.all(
    nodes.map(async (nodeId): Promise<Outcome<GroupListing[]>> => {
      const ask = () =>
        ctx.router.toBroker(nodeId, (conn) =>
          conn.send<ListGroupsResponse>(
            LIST_GROUPS,
            conn.version(LIST_GROUPS, types.length > 0 ? 5 : states.length > 0 ? 4 : 0, 5),
            { statesFilter: states, typesFilter: types },
          ),
        );
      try {
        let res = await ask();
        // A coordinator still loading its groups answers them all at once a moment later.
        if (COORDINATOR_RETRY_ERRORS.has(res.errorCode)) {
          await new Promise((r) => setTimeout(r, 100));
          res = await ask();
        }
        if (res.errorCode !== ErrorCode.NONE) return failed(itemError(res.errorCode, null));
        return ok(
          res.groups.map((g) => ({
            groupId: g.groupId,
            protocolType: g.protocolType,
            state: g.groupState,
            type: g.groupType,
            coordinator: nodeId,
          })),
        );
      } catch (e) {
        return failed(e as Error);
      }
    }),
  );
  const { results, failures } = partition(outcomes, (i) => `broker ${nodes[i]}`);
  return settle('listGroups', failures, results, nodes.length)
    .flat()
    .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

function fromClassic(g: DescribeGroupsResponseDescribedGroup, coordinator: number): GroupDescription {
  const consumer = g.protocolType === CONSUMER_PROTOCOL_TYPE;
  return {
    groupId: g.groupId,
    type: 'classic',
    state: g.groupState,
    protocolType: g.protocolType,
    protocol: g.protocolData,
    members: g.members.map(
      (m): GroupMember => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment: consumer ? decodeAssignment(m.memberAssignment) : null,
        subscription: consumer ? decodeSubscription(m.memberMetadata) : null,
        memberMetadata: m.memberMetadata,
        memberAssignment: m.memberAssignment,
        memberEpoch: null,
        targetAssignment: null,
      }),
    ),
    coordinator,
    groupEpoch: null,
    assignmentEpoch: null,
  };
}

function fromConsumerGroup(g: ConsumerGroupDescribeResponseDescribedGroup, coordinator: number): GroupDescription {
  const topics = (a: { topicPartitions: { topicName: string; partitions: number[] }[] }): TopicPartitions[] =>
    a.topicPartitions.map((t) => ({ topic: t.topicName, partitions: [...t.partitions].sort((x, y) => x - y) }));
  return {
    groupId: g.groupId,
    type: 'consumer',
    state: g.groupState,
    protocolType: CONSUMER_PROTOCOL_TYPE,
    protocol: g.assignorName,
    members: g.members.map(
      (m): GroupMember => ({
        memberId: m.memberId,
        groupInstanceId: m.instanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment: topics(m.assignment),
        subscription: m.subscribedTopicNames,
        memberMetadata: Buffer.alloc(0),
        memberAssignment: Buffer.alloc(0),
        memberEpoch: m.memberEpoch,
        targetAssignment: topics(m.targetAssignment),
      }),
    ),
    coordinator,
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
  };
}

export async function describeGroups(ctx: AdminContext, groupIds: readonly string[]): Promise<GroupDescription[]> {
  const outcomes = await ctx.router.toCoordinators<GroupDescription>(groupIds, async (conn, indices, nodeId) => {
    const out = new Map<number, Outcome<GroupDescription>>();
    let classic = indices;
    if (conn.supported(CONSUMER_GROUP_DESCRIBE) !== undefined) {
      // KIP-848 groups first, as Kafka's admin client does; classic groups answer GROUP_ID_NOT_FOUND here.
      const res = await conn.send<ConsumerGroupDescribeResponse>(
        CONSUMER_GROUP_DESCRIBE,
        conn.version(CONSUMER_GROUP_DESCRIBE, 0, 0),
        { groupIds: [...new Set(indices.map((i) => groupIds[i]!))], includeAuthorizedOperations: false },
      );
      classic = [];
      for (const i of indices) {
        const g = res.groups.find((x) => x.groupId === groupIds[i]);
        if (g === undefined || g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) classic.push(i);
        else
          out.set(
            i,
            groupOutcome(g.errorCode, g.errorMessage, () => fromConsumerGroup(g, nodeId)),
          );
      }
    }
    if (classic.length > 0) {
      const res = await conn.send<DescribeGroupsResponse>(DESCRIBE_GROUPS, conn.version(DESCRIBE_GROUPS, 0, 5), {
        groups: [...new Set(classic.map((i) => groupIds[i]!))],
        includeAuthorizedOperations: false,
      });
      for (const i of classic) {
        const groupId = groupIds[i]!;
        const g = res.groups.find((x) => x.groupId === groupId);
        if (g === undefined) out.set(i, failed(groupNotFound(groupId)));
        else if (g.errorCode === ErrorCode.NONE && g.groupState === 'Dead') out.set(i, failed(groupNotFound(groupId)));
        else
          out.set(
            i,
            groupOutcome(g.errorCode, null, () => fromClassic(g, nodeId)),
          );
      }
    }
    return out;
  });
  const { results, failures } = partition(outcomes, (i) => groupIds[i]!);
  return settle('describeGroups', failures, results, groupIds.length);
}

/** One group's description; its error (e.g. GROUP_ID_NOT_FOUND) thrown as is. */
async function describeGroup(ctx: AdminContext, groupId: string): Promise<GroupDescription> {
  try {
    return (await describeGroups(ctx, [groupId]))[0]!;
  } catch (e) {
    if (e instanceof KafkaAdminError) throw e.failures[0]!.error;
    throw e;
  }
}

// ---- offsets --------------------------------------------------------------------------------------------------

interface FetchedOffsets {
  errorCode: number;
  topics: {
    name: string;
    partitions: {
      partitionIndex: number;
      committedOffset: bigint;
      committedLeaderEpoch: number;
      metadata: string | null;
      errorCode: number;
    }[];
  }[];
}

export async function listGroupOffsets(
  ctx: AdminContext,
  groupId: string,
  partitions?: readonly TopicPartitionRef[],
): Promise<CommittedOffset[]> {
  const topics =
    partitions === undefined
      ? null
      : [...new Set(partitions.map((p) => p.topic))].map((name) => ({
          name,
          partitionIndexes: [...new Set(partitions.filter((p) => p.topic === name).map((p) => p.partition))],
        }));
  const { answer } = await ctx.router.toCoordinator<FetchedOffsets>(
    groupId,
    async (conn) => {
      const v = conn.version(OFFSET_FETCH, topics === null ? 2 : 1, 9);
      // v8 moved the group and its topics into a list of groups (KIP-709).
      const body =
        v >= 8
          ? { groups: [{ groupId, memberId: null, memberEpoch: -1, topics }], requireStable: false }
          : { groupId, topics, requireStable: false };
      const res = await conn.send<OffsetFetchResponse>(OFFSET_FETCH, v, body);
      if (v < 8) return { errorCode: res.errorCode, topics: res.topics };
      const g = res.groups.find((x) => x.groupId === groupId);
      return g === undefined ? { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, topics: [] } : g;
    },
    (a) => a.errorCode,
  );
  if (answer.errorCode !== ErrorCode.NONE) throw itemError(answer.errorCode, null);
  const committed = new Map<string, { ref: TopicPartitionRef; outcome: Outcome<CommittedOffset> }>();
  for (const t of answer.topics) {
    for (const p of t.partitions) {
      const ref = { topic: t.name, partition: p.partitionIndex };
      const none = p.committedOffset < 0n;
      committed.set(tpName(ref), {
        ref,
        outcome:
          p.errorCode === ErrorCode.NONE
            ? ok({
                ...ref,
                offset: none ? null : p.committedOffset,
                leaderEpoch: none || p.committedLeaderEpoch < 0 ? null : p.committedLeaderEpoch,
                metadata: p.metadata,
              })
            : failed(itemError(p.errorCode, null)),
      });
    }
  }
  // The asked partitions in the caller's order (one the broker did not answer has no committed offset), else every
  // committed partition, sorted.
  const entries =
    partitions === undefined
      ? [...committed.values()].sort((a, b) => byTopicThenPartition(a.ref, b.ref))
      : partitions.map(
          (ref) =>
            committed.get(tpName(ref)) ?? {
              ref,
              outcome: ok({
                topic: ref.topic,
                partition: ref.partition,
                offset: null,
                leaderEpoch: null,
                metadata: null,
              }),
            },
        );
  const { results, failures } = partition(
    entries.map((e) => e.outcome),
    (i) => tpName(entries[i]!.ref),
  );
  return settle('listGroupOffsets', failures, results, entries.length);
}

export async function describeGroupLag(ctx: AdminContext, groupId: string): Promise<GroupLag> {
  const [group, committed] = await Promise.all([describeGroup(ctx, groupId), listGroupOffsets(ctx, groupId)]);
  const rows = new Map<string, PartitionLag>();
  const row = (topic: string, partition: number): PartitionLag => {
    const key = tpName({ topic, partition });
    let r = rows.get(key);
    if (r === undefined) {
      r = {
        topic,
        partition,
        committedOffset: null,
        logEndOffset: null,
        lag: null,
        memberId: null,
        groupInstanceId: null,
        clientId: null,
        host: null,
      };
      rows.set(key, r);
    }
    return r;
  };
  for (const m of group.members) {
    for (const t of m.assignment ?? []) {
      for (const p of t.partitions) {
        const r = row(t.topic, p);
        r.memberId = m.memberId;
        r.groupInstanceId = m.groupInstanceId;
        r.clientId = m.clientId;
        r.host = m.clientHost;
      }
    }
  }
  for (const c of committed) if (c.offset !== null) row(c.topic, c.partition).committedOffset = c.offset;
  const partitions = [...rows.values()].sort(byTopicThenPartition);
  // A partition whose end cannot be read (its topic was deleted, say) keeps logEndOffset and lag unknown.
  let ends: readonly ListedOffset[];
  try {
    ends = await listOffsets(
      ctx,
      partitions.map((p) => ({ topic: p.topic, partition: p.partition, spec: 'latest' as const })),
    );
  } catch (e) {
    if (!(e instanceof KafkaAdminError)) throw e;
    ends = e.results as ListedOffset[];
  }
  for (const end of ends) {
    const r = rows.get(tpName(end))!;
    r.logEndOffset = end.offset;
    if (r.committedOffset !== null) r.lag = end.offset - r.committedOffset;
  }
  const totalLag = partitions.reduce((sum, p) => sum + (p.lag ?? 0n), 0n);
  return { groupId, state: group.state, partitions, totalLag };
}

export async function deleteGroups(ctx: AdminContext, groupIds: readonly string[]): Promise<string[]> {
  const outcomes = await ctx.router.toCoordinators<string>(groupIds, async (conn, indices) => {
    const res = await conn.send<DeleteGroupsResponse>(DELETE_GROUPS, conn.version(DELETE_GROUPS, 0, 2), {
      groupsNames: [...new Set(indices.map((i) => groupIds[i]!))],
    });
    return new Map(
      indices.map((i): [number, Outcome<string>] => {
        const groupId = groupIds[i]!;
        const r = res.results.find((x) => x.groupId === groupId);
        if (r === undefined) return [i, failed(new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer'))];
        return [i, groupOutcome(r.errorCode, null, () => groupId)];
      }),
    );
  });
  const { results, failures } = partition(outcomes, (i) => groupIds[i]!);
  return settle('deleteGroups', failures, results, groupIds.length);
}

export async function deleteGroupOffsets(
  ctx: AdminContext,
  groupId: string,
  partitions: readonly TopicPartitionRef[],
): Promise<TopicPartitionRef[]> {
  const { answer } = await ctx.router.toCoordinator<OffsetDeleteResponse>(
    groupId,
    (conn) =>
      conn.send<OffsetDeleteResponse>(OFFSET_DELETE, conn.version(OFFSET_DELETE, 0, 0), {
        groupId,
        topics: [...new Set(partitions.map((p) => p.topic))].map((name) => ({
          name,
          partitions: partitions.filter((p) => p.topic === name).map((p) => ({ partitionIndex: p.partition })),
        })),
      }),
    (res) => res.errorCode,
  );
  if (answer.errorCode !== ErrorCode.NONE) throw itemError(answer.errorCode, null);
  const outcomes = partitions.map((p): Outcome<TopicPartitionRef> => {
    const a = answer.topics.find((t) => t.name === p.topic)?.partitions.find((x) => x.partitionIndex === p.partition);
    if (a === undefined) return failed(new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer'));
    return a.errorCode === ErrorCode.NONE
      ? ok({ topic: p.topic, partition: p.partition })
      : failed(itemError(a.errorCode, null));
  });
  const { results, failures } = partition(outcomes, (i) => tpName(partitions[i]!));
  return settle('deleteGroupOffsets', failures, results, partitions.length);
}

// ---- reset ----------------------------------------------------------------------------------------------------

/** States in which kafka-consumer-groups resets offsets: no member can be overwriting them. */
const INACTIVE_STATES = new Set(['empty', 'dead']);

export async function resetGroupOffsets(
  ctx: AdminContext,
  groupId: string,
  options: ResetGroupOffsetsOptions,
): Promise<ResetOffset[]> {
  let state = 'Dead';
  try {
    state = (await describeGroup(ctx, groupId)).state;
  } catch (e) {
    if (!(e instanceof KafkaError && e.code === ErrorCode.GROUP_ID_NOT_FOUND)) throw e;
  }
  if (!INACTIVE_STATES.has(state.toLowerCase())) {
    throw new KafkaError(
      ErrorCode.NON_EMPTY_GROUP,
      `Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${state}.`,
    );
  }
  const { topic, to } = options;
  const partitionIds = options.partitions ?? (await ctx.cluster.topic(topic)).partitions.map((p) => p.partition);
  const refs = partitionIds.map((partition) => ({ topic, partition }));
  const spec = (s: 'earliest' | 'latest') => refs.map((r) => ({ ...r, spec: s }));
  const [earliest, latest, committed, byTime] = await Promise.all([
    listOffsets(ctx, spec('earliest')),
    listOffsets(ctx, spec('latest')),
    listGroupOffsets(ctx, groupId, refs),
    typeof to === 'object' && 'datetime' in to
      ? listOffsets(
          ctx,
          refs.map((r) => ({ ...r, spec: { timestamp: to.datetime } })),
        )
      : Promise.resolve(null),
  ]);
  const reset = refs.map((r, k): ResetOffset => {
    const low = earliest[k]!.offset;
    const high = latest[k]!.offset;
    const previous = committed[k]!.offset;
    let wanted: bigint;
    if (to === 'earliest') wanted = low;
    else if (to === 'latest') wanted = high;
    else if ('datetime' in to) {
      const found = byTime![k]!.offset;
      wanted = found < 0n ? high : found;
    } else if ('offset' in to) wanted = BigInt(to.offset);
    else {
      if (previous === null) {
        throw new KafkaClientError(
          `Cannot shift offset for partition ${tpName(r)} since there is no current committed offset`,
        );
      }
      wanted = previous + BigInt(to.shiftBy);
    }
    const offset = wanted > high ? high : wanted < low ? low : wanted;
    return { topic, partition: r.partition, offset, previousOffset: previous };
  });
  if (options.dryRun) return reset;
  await commitOffsets(ctx, groupId, reset);
  return reset;
}

/** OffsetCommit outside any generation (generation -1, no member), as admin tools commit for inactive groups. */
async function commitOffsets(
  ctx: AdminContext,
  groupId: string,
  offsets: readonly { topic: string; partition: number; offset: bigint }[],
): Promise<void> {
  const { answer } = await ctx.router.toCoordinator<OffsetCommitResponse>(
    groupId,
    (conn) =>
      conn.send<OffsetCommitResponse>(OFFSET_COMMIT, conn.version(OFFSET_COMMIT, 2, 9), {
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [...new Set(offsets.map((o) => o.topic))].map((name) => ({
          name,
          partitions: offsets
            .filter((o) => o.topic === name)
            .map((o) => ({
              partitionIndex: o.partition,
              committedOffset: o.offset,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: '',
            })),
        })),
      }),
    // OffsetCommit has no group-level code: a moved coordinator shows on every partition.
    (res) => res.topics[0]?.partitions[0]?.errorCode ?? ErrorCode.NONE,
  );
  const outcomes = offsets.map((o): Outcome<null> => {
    const a = answer.topics.find((t) => t.name === o.topic)?.partitions.find((p) => p.partitionIndex === o.partition);
    if (a === undefined) return failed(new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer'));
    return a.errorCode === ErrorCode.NONE ? ok(null) : failed(itemError(a.errorCode, null));
  });
  const { failures } = partition(outcomes, (i) => tpName(offsets[i]!));
  settle('resetGroupOffsets', failures, [], offsets.length);
}
