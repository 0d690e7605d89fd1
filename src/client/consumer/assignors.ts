/**
 * Client-side partition assignors of classic consumer groups: the group leader runs the one the group agreed on
 * (JoinGroup's protocol name) over every member's subscription and sends the result through SyncGroup. Kafka's
 * three built-in strategies, under Kafka's names so that members of other clients offering the same name can share
 * a group:
 * - `range`: per topic, the partitions in contiguous ranges over the members subscribed to it (the first
 *   `partitions % members` members get one more);
 * - `roundrobin`: all partitions (sorted by topic, then partition) dealt out in turn to the members, skipping members
 *   not subscribed to a partition's topic;
 * - `cooperative-sticky`: balanced like round robin but keeping every member's current partitions where balance
 *   allows; a partition that must move to another member is withheld for one round, so that its owner revokes it
 *   first and a second rebalance hands it over (KIP-429's incremental cooperative rebalancing).
 *
 * Members are ordered as Kafka orders them, so that static members (KIP-345) keep their partitions across restarts:
 * by group instance id when both have one, members with one before members without, else by member id.
 *
 * An assignor is any object with a name, its rebalance protocol and an `assign` function; applications may pass
 * their own in `partitionAssignmentStrategy`.
 *
 * Concurrency: pure functions.
 */

import type { Subscription } from './consumer-protocol.js';
import type { TopicPartition } from './types.js';

export interface GroupMemberSubscription {
  memberId: string;
  groupInstanceId: string | null;
  subscription: Subscription;
}

export interface Assignor {
  /** The protocol name in JoinGroup; members agree on one that all of them offer. */
  readonly name: string;
  /**
   * 'eager': members give up all their partitions before each rebalance; 'cooperative': members keep them and
   * give up only those the new assignment moves elsewhere (then rejoin at once so that they can be handed over).
   */
  readonly rebalanceProtocol: 'eager' | 'cooperative';
  /** Member id -> its partitions, for every member (an empty list for those that get nothing). */
  assign(
    members: readonly GroupMemberSubscription[],
    partitionsPerTopic: ReadonlyMap<string, number>,
  ): Map<string, TopicPartition[]>;
}

function compareMembers(a: GroupMemberSubscription, b: GroupMemberSubscription): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null)
    return compareStrings(a.groupInstanceId, b.groupInstanceId);
  if (a.groupInstanceId !== null) return -1;
  if (b.groupInstanceId !== null) return 1;
  return compareStrings(a.memberId, b.memberId);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function emptyResult(members: readonly GroupMemberSubscription[]): Map<string, TopicPartition[]> {
  return new Map(members.map((m) => [m.memberId, []]));
}

/** Topics anyone subscribes to that exist, sorted. */
function subscribedTopics(
  members: readonly GroupMemberSubscription[],
  partitionsPerTopic: ReadonlyMap<string, number>,
): string[] {
  const topics = new Set<string>();
  for (const m of members) for (const t of m.subscription.topics) if (partitionsPerTopic.has(t)) topics.add(t);
  return [...topics].sort();
}

export const rangeAssignor: Assignor = {
  name: 'range',
  rebalanceProtocol: 'eager',
  assign(members, partitionsPerTopic) {
    const result = emptyResult(members);
    const sorted = [...members].sort(compareMembers);
    for (const topic of subscribedTopics(members, partitionsPerTopic)) {
      const consumers = sorted.filter((m) => m.subscription.topics.includes(topic));
      const n = partitionsPerTopic.get(topic)!;
      const per = Math.floor(n / consumers.length);
      const extra = n % consumers.length;
      consumers.forEach((m, i) => {
        const start = per * i + Math.min(i, extra);
        const length = per + (i < extra ? 1 : 0);
        const list = result.get(m.memberId)!;
        for (let p = start; p < start + length; p++) list.push({ topic, partition: p });
      });
    }
    return result;
  },
};

export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  rebalanceProtocol: 'eager',
  assign(members, partitionsPerTopic) {
    const result = emptyResult(members);
    const sorted = [...members].sort(compareMembers);
    if (sorted.length === 0) return result;
    let next = 0;
    for (const topic of subscribedTopics(members, partitionsPerTopic)) {
      const n = partitionsPerTopic.get(topic)!;
      for (let partition = 0; partition < n; partition++) {
        // The next member (in circular order) subscribed to the topic; someone is, or the topic would not be here.
        while (!sorted[next % sorted.length]!.subscription.topics.includes(topic)) next++;
        result.get(sorted[next % sorted.length]!.memberId)!.push({ topic, partition });
        next++;
      }
    }
    return result;
  },
};

const tpKey = (topic: string, partition: number): string => `${topic}:${partition}`;

export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  rebalanceProtocol: 'cooperative',
  assign(members, partitionsPerTopic) {
    const sorted = [...members].sort(compareMembers);
    const subscribed = new Map(sorted.map((m) => [m.memberId, new Set(m.subscription.topics)]));
    const result = new Map<string, TopicPartition[]>(sorted.map((m) => [m.memberId, []]));

    // 1. Current owners: a partition claimed by several members stays with the claim of the newest generation.
    const owner = new Map<string, { memberId: string; generation: number; tp: TopicPartition }>();
    for (const m of sorted) {
      const topics = subscribed.get(m.memberId)!;
      for (const tp of m.subscription.ownedPartitions) {
        const n = partitionsPerTopic.get(tp.topic);
        if (n === undefined || tp.partition < 0 || tp.partition >= n || !topics.has(tp.topic)) continue;
        const key = tpKey(tp.topic, tp.partition);
        const claim = owner.get(key);
        if (claim === undefined || m.subscription.generationId > claim.generation) {
          owner.set(key, { memberId: m.memberId, generation: m.subscription.generationId, tp });
        }
      }
    }
    for (const { memberId, tp } of owner.values())
      result.get(memberId)!.push({ topic: tp.topic, partition: tp.partition });

    // 2. Partitions nobody owns go to the least loaded member subscribed to their topic.
    const order = new Map(sorted.map((m, i) => [m.memberId, i]));
    for (const topic of subscribedTopics(members, partitionsPerTopic)) {
      const eligible = sorted.filter((m) => subscribed.get(m.memberId)!.has(topic));
      const n = partitionsPerTopic.get(topic)!;
      for (let partition = 0; partition < n; partition++) {
        if (owner.has(tpKey(topic, partition))) continue;
        let best = eligible[0]!;
        for (const m of eligible) {
          if (result.get(m.memberId)!.length < result.get(best.memberId)!.length) best = m;
        }
        result.get(best.memberId)!.push({ topic, partition });
      }
    }

    // 3. Balance: move one partition at a time from the most to the least loaded member that can take it, while
    // their counts differ by two or more. Each move lowers the spread, so this ends; the bound is a safety net.
    const total = [...result.values()].reduce((s, l) => s + l.length, 0);
    for (let moves = 0; moves <= total * sorted.length; moves++) {
      const byLoad = [...sorted].sort(
        (a, b) =>
          result.get(b.memberId)!.length - result.get(a.memberId)!.length ||
          order.get(a.memberId)! - order.get(b.memberId)!,
      );
      let moved = false;
      outer: for (const from of byLoad) {
        const fromList = result.get(from.memberId)!;
        for (let i = byLoad.length - 1; i >= 0; i--) {
          const to = byLoad[i]!;
          const toList = result.get(to.memberId)!;
          if (fromList.length - toList.length < 2) break;
          const topics = subscribed.get(to.memberId)!;
          // Prefer giving away the partition added last (the least sticky one).
          for (let j = fromList.length - 1; j >= 0; j--) {
            if (!topics.has(fromList[j]!.topic)) continue;
            toList.push(fromList.splice(j, 1)[0]!);
            moved = true;
            break outer;
          }
        }
      }
      if (!moved) break;
    }

    // 4. Cooperative: a partition that changes owner is withheld this round; its owner revokes it, rejoins, and
    // the next rebalance (where nobody owns it) assigns it.
    for (const [memberId, list] of result) {
      result.set(
        memberId,
        list
          .filter((tp) => {
            const claim = owner.get(tpKey(tp.topic, tp.partition));
            return claim === undefined || claim.memberId === memberId;
          })
          .sort((a, b) => compareStrings(a.topic, b.topic) || a.partition - b.partition),
      );
    }
    return result;
  },
};

export const BUILT_IN_ASSIGNORS: ReadonlyMap<string, Assignor> = new Map(
  [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor].map((a) => [a.name, a]),
);
