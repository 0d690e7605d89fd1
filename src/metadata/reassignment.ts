/**
 * Partition reassignment as Kafka does it (KIP-455), as pure state computations; the ZooKeeper controller
 * (zookeeper/controller.ts) applies them and the single-node broker answers with them.
 *
 * A partition's full assignment is its replica set RS with, while a reassignment runs, the replicas being added (AR)
 * and removed (RR), as Kafka keeps them in the topic znode (`adding_replicas` / `removing_replicas`). The original
 * replicas are RS - AR, the target replicas RS - RR. Reassigning to a target T sets RS = T followed by the original
 * replicas not in T, AR = T - original, RR = original - T: the new replicas become followers and copy the log while
 * the old ones keep serving. Cancelling is reassigning to the original replicas (RS = original, nothing added or
 * removed), which also replaces a reassignment in progress. A reassignment completes once every target replica is
 * in the ISR: RS = T, the ISR keeps only members of T, and the leader moves (leader epoch + 1) when it is not in T
 * or not alive, to the first replica of T that is in sync and alive.
 *
 * Deliberate difference from Kafka's ZooKeeper controller: it also bumps the leader epoch when a reassignment starts
 * and completes with the same leader, because its brokers accept a LeaderAndIsr request only with a newer epoch.
 * Samsa's brokers follow the znodes themselves, so the epoch moves only with the leader; acks=all produces waiting
 * on a leader that stays are not failed by the change.
 */

/** One partition of an AlterPartitionReassignments request: target replicas, or null to cancel. */
export interface ReassignmentRequest {
  topic: string;
  partition: number;
  replicas: readonly number[] | null;
}

/** One partition's outcome of AlterPartitionReassignments. */
export interface ReassignmentResult {
  topic: string;
  partition: number;
  errorCode: number;
  message: string | null;
}

/** A reassignment in progress, as ListPartitionReassignments reports it. */
export interface OngoingReassignment {
  topic: string;
  partition: number;
  /** The whole replica set: targets first, then the original replicas being removed. */
  replicas: readonly number[];
  adding: readonly number[];
  removing: readonly number[];
}

/** A partition's replicas and, while it is being reassigned, the replicas being added and removed. */
export interface ReplicaAssignment {
  readonly replicas: readonly number[];
  readonly adding: readonly number[];
  readonly removing: readonly number[];
}

/** Leader, leader epoch and ISR: the part of a partition's state a reassignment may change. */
export interface LeaderAndIsr {
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly isr: readonly number[];
}

export const isReassigning = (a: ReplicaAssignment): boolean => a.adding.length > 0 || a.removing.length > 0;

/** The replicas the partition had before the reassignment in progress (all of them when none runs). */
export const originalReplicas = (a: ReplicaAssignment): number[] => a.replicas.filter((r) => !a.adding.includes(r));

/** The replicas the reassignment in progress moves to (all of them when none runs). */
export const targetReplicas = (a: ReplicaAssignment): number[] => a.replicas.filter((r) => !a.removing.includes(r));

/** The full assignment while moving to `target` from the original replicas (a running reassignment is replaced). */
export function reassignTo(a: ReplicaAssignment, target: readonly number[]): ReplicaAssignment {
  const origin = originalReplicas(a);
  const replicas = [...new Set([...target, ...origin])];
  return {
    replicas,
    adding: replicas.filter((r) => !origin.includes(r)),
    removing: replicas.filter((r) => !target.includes(r)),
  };
}

export const sameList = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export const sameAssignment = (a: ReplicaAssignment, b: ReplicaAssignment): boolean =>
  sameList(a.replicas, b.replicas) && sameList(a.adding, b.adding) && sameList(a.removing, b.removing);

/**
 * Why `target` cannot be reassigned to (INVALID_REPLICA_ASSIGNMENT), or null: it is empty, names a broker twice or
 * a negative id, or adds a broker that is not alive (replicas the partition already has may be down).
 */
export function invalidTarget(
  a: ReplicaAssignment,
  target: readonly number[],
  live: ReadonlySet<number>,
): string | null {
  if (target.length === 0) return 'The target replica list is empty.';
  if (new Set(target).size !== target.length) return `The target replicas name a broker twice: [${target.join(',')}].`;
  if (target.some((r) => r < 0)) return `The target replicas include an invalid broker id: [${target.join(',')}].`;
  const dead = reassignTo(a, target).adding.filter((r) => !live.has(r));
  if (dead.length > 0) {
    return `The target replicas add brokers that are not alive: [${dead.join(',')}]; live brokers: [${[...live].sort((x, y) => x - y).join(',')}].`;
  }
  return null;
}

/**
 * The leader and ISR once the replica set became `replicas` (a replaced or cancelled reassignment drops replicas
 * that were being added): the ISR keeps only replicas, and a leader that is no longer a replica hands over to the
 * first replica in sync and alive. Null when nothing changes; 'no-leader' when no replica could lead (changing
 * the assignment would need an unclean election: refused, as Kafka does).
 */
export function fitToReplicas(
  s: LeaderAndIsr,
  replicas: readonly number[],
  live: ReadonlySet<number>,
): LeaderAndIsr | null | 'no-leader' {
  const isr = s.isr.filter((r) => replicas.includes(r));
  if (s.leader >= 0 && replicas.includes(s.leader)) {
    return isr.length === s.isr.length ? null : { leader: s.leader, leaderEpoch: s.leaderEpoch, isr };
  }
  const leader = replicas.find((r) => isr.includes(r) && live.has(r));
  if (leader !== undefined) return { leader, leaderEpoch: s.leaderEpoch + 1, isr };
  // Already without a leader: it stays so, with the ISR members it can still get back.
  if (s.leader < 0 && isr.length > 0) {
    return isr.length === s.isr.length ? null : { leader: -1, leaderEpoch: s.leaderEpoch, isr };
  }
  return 'no-leader';
}

/**
 * The end of a reassignment in progress, or null while it cannot end yet: once every target replica is in the ISR,
 * the assignment becomes the target alone and the state keeps the ISR members of the target, with the leader moved
 * (epoch + 1) to the first target replica in sync and alive when the current one is not in the target or not alive.
 */
export function completeReassignment(
  a: ReplicaAssignment,
  s: LeaderAndIsr,
  live: ReadonlySet<number>,
): { assignment: ReplicaAssignment; state: LeaderAndIsr } | null {
  if (!isReassigning(a)) return null;
  const target = targetReplicas(a);
  if (target.length === 0 || !target.every((r) => s.isr.includes(r))) return null;
  const isr = s.isr.filter((r) => target.includes(r));
  const assignment: ReplicaAssignment = { replicas: target, adding: [], removing: [] };
  if (s.leader >= 0 && target.includes(s.leader) && live.has(s.leader)) {
    return { assignment, state: { leader: s.leader, leaderEpoch: s.leaderEpoch, isr } };
  }
  const leader = target.find((r) => isr.includes(r) && live.has(r));
  if (leader === undefined) return null;
  return { assignment, state: { leader, leaderEpoch: s.leaderEpoch + 1, isr } };
}
