/**
 * Server-side assignors of the KIP-848 consumer group protocol (`group.consumer.assignors`, default
 * `uniform,range`; a member may ask for one by name with ServerAssignor). Both are pure: from the members'
 * subscriptions (as topic ids), their current target assignment and the partition count of each subscribed topic,
 * they compute the new target assignment of every member.
 *
 * - `uniform` balances the number of partitions per member (differing by at most one wherever subscriptions allow)
 *   and is sticky: a member keeps the partitions it already had unless balance requires moving them, so a join or a
 *   leave moves few partitions.
 * - `range` gives each member a contiguous range of every topic it subscribes to (static members first by instance
 *   id, then the others by member id; the first ones get one partition more when the count does not divide), like the classic client-side RangeAssignor:
 *   members subscribed to the same co-partitioned topics get the same partition numbers of each.
 *
 * Concurrency: pure functions.
 */

import type { Assignment } from './assignment.js';

export interface AssignorMember {
  readonly memberId: string;
  /** Static members come first in the range assignor, by instance id. */
  readonly instanceId?: string | null;
  /** Topic ids the member subscribes to that exist (only these can be assigned). */
  readonly subscribedTopicIds: ReadonlySet<string>;
  /** The member's previous target assignment (stickiness). */
  readonly current: Assignment;
}

export interface AssignmentSpec {
  readonly members: readonly AssignorMember[];
  /** topic id -> partition count, for every subscribed topic that exists. */
  readonly topics: ReadonlyMap<string, number>;
}

export interface ServerAssignor {
  readonly name: string;
  assign(spec: AssignmentSpec): Map<string, Assignment>;
}

type Mutable = Map<string, Map<string, Set<number>>>;

function emptyResult(spec: AssignmentSpec): Mutable {
  const out: Mutable = new Map();
  for (const m of spec.members) out.set(m.memberId, new Map());
  return out;
}

function add(target: Map<string, Set<number>>, topicId: string, partition: number): void {
  let set = target.get(topicId);
  if (set === undefined) {
    set = new Set();
    target.set(topicId, set);
  }
  set.add(partition);
}

function remove(target: Map<string, Set<number>>, topicId: string, partition: number): void {
  const set = target.get(topicId);
  if (set === undefined) return;
  set.delete(partition);
  if (set.size === 0) target.delete(topicId);
}

const byId = (a: AssignorMember, b: AssignorMember): number =>
  a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;

/** Kafka's range order: static members by instance id (stable across restarts), then dynamic ones by member id. */
function staticFirst(a: AssignorMember, b: AssignorMember): number {
  const ia = a.instanceId ?? null;
  const ib = b.instanceId ?? null;
  if (ia !== null && ib !== null) return ia < ib ? -1 : ia > ib ? 1 : 0;
  if (ia !== null) return -1;
  if (ib !== null) return 1;
  return byId(a, b);
}

export const uniformAssignor: ServerAssignor = {
  name: 'uniform',
  assign(spec) {
    const out = emptyResult(spec);
    const members = [...spec.members].sort(byId);
    const count = new Map<string, number>(members.map((m) => [m.memberId, 0]));
    const owned = new Set<string>();
    const key = (t: string, p: number): string => `${t}:${p}`;
    // 1. Stickiness: keep what is still valid and not claimed twice.
    for (const m of members) {
      for (const [topicId, parts] of m.current) {
        const n = spec.topics.get(topicId);
        if (n === undefined || !m.subscribedTopicIds.has(topicId)) continue;
        for (const p of parts) {
          if (p >= n || owned.has(key(topicId, p))) continue;
          owned.add(key(topicId, p));
          add(out.get(m.memberId)!, topicId, p);
          count.set(m.memberId, count.get(m.memberId)! + 1);
        }
      }
    }
    // 2. Every unowned partition goes to the least loaded member that can take it.
    const topicIds = [...spec.topics.keys()].sort();
    const eligible = new Map(topicIds.map((t) => [t, members.filter((m) => m.subscribedTopicIds.has(t))]));
    for (const topicId of topicIds) {
      const candidates = eligible.get(topicId)!;
      if (candidates.length === 0) continue;
      const n = spec.topics.get(topicId)!;
      for (let p = 0; p < n; p++) {
        if (owned.has(key(topicId, p))) continue;
        let best = candidates[0]!;
        for (const c of candidates) if (count.get(c.memberId)! < count.get(best.memberId)!) best = c;
        owned.add(key(topicId, p));
        add(out.get(best.memberId)!, topicId, p);
        count.set(best.memberId, count.get(best.memberId)! + 1);
      }
    }
    // 3. Balance: move a partition from a member with at least two more than another that may take it. Each move
    // lowers the sum of squared counts, so this ends.
    for (let moved = true; moved; ) {
      moved = false;
      const order = [...members].sort((a, b) => count.get(b.memberId)! - count.get(a.memberId)! || byId(a, b));
      outer: for (const from of order) {
        const fromCount = count.get(from.memberId)!;
        for (let i = order.length - 1; i >= 0; i--) {
          const to = order[i]!;
          if (fromCount - count.get(to.memberId)! < 2) break;
          const fromParts = out.get(from.memberId)!;
          for (const [topicId, parts] of fromParts) {
            if (!to.subscribedTopicIds.has(topicId)) continue;
            // The highest partition moves: the lower ones, more often kept, stay where they were.
            const p = Math.max(...parts);
            remove(fromParts, topicId, p);
            add(out.get(to.memberId)!, topicId, p);
            count.set(from.memberId, fromCount - 1);
            count.set(to.memberId, count.get(to.memberId)! + 1);
            moved = true;
            break outer;
          }
        }
      }
    }
    return out;
  },
};

export const rangeAssignor: ServerAssignor = {
  name: 'range',
  assign(spec) {
    const out = emptyResult(spec);
    const members = [...spec.members].sort(staticFirst);
    for (const [topicId, n] of spec.topics) {
      const subscribers = members.filter((m) => m.subscribedTopicIds.has(topicId));
      if (subscribers.length === 0) continue;
      const base = Math.floor(n / subscribers.length);
      const extra = n % subscribers.length;
      let next = 0;
      subscribers.forEach((m, i) => {
        const size = base + (i < extra ? 1 : 0);
        for (let p = next; p < next + size; p++) add(out.get(m.memberId)!, topicId, p);
        next += size;
      });
    }
    return out;
  },
};

export const SERVER_ASSIGNORS: ReadonlyMap<string, ServerAssignor> = new Map(
  [uniformAssignor, rangeAssignor].map((a) => [a.name, a]),
);
