/**
 * Partition sets of the KIP-848 consumer group protocol, keyed by topic id as on the wire: a member's current and
 * target assignment, the partitions it still has to revoke, what it says it owns. Immutable by convention: the
 * operations return new sets, so a member's state can be replaced wholesale after each heartbeat.
 *
 * Concurrency: pure functions over plain data.
 */

/** topic id -> partition indexes. Empty sets are never stored. */
export type Assignment = ReadonlyMap<string, ReadonlySet<number>>;

export const EMPTY_ASSIGNMENT: Assignment = new Map();

/** Builds an assignment from wire-shaped entries (duplicates merged, empty topics dropped). */
export function assignmentFrom(entries: Iterable<{ topicId: string; partitions: Iterable<number> }>): Assignment {
  const out = new Map<string, Set<number>>();
  for (const e of entries) {
    let set = out.get(e.topicId);
    for (const p of e.partitions) {
      if (set === undefined) {
        set = new Set();
        out.set(e.topicId, set);
      }
      set.add(p);
    }
  }
  return out;
}

/** Wire shape, topics and partitions in ascending order (stable output for clients and tests). */
export function assignmentToWire(a: Assignment): { topicId: string; partitions: number[] }[] {
  return [...a.keys()].sort().map((topicId) => ({
    topicId,
    partitions: [...a.get(topicId)!].sort((x, y) => x - y),
  }));
}

export function assignmentSize(a: Assignment): number {
  let n = 0;
  for (const s of a.values()) n += s.size;
  return n;
}

export function hasPartition(a: Assignment, topicId: string, partition: number): boolean {
  return a.get(topicId)?.has(partition) ?? false;
}

/** Partitions of `a` that `keep` accepts. */
export function filterAssignment(a: Assignment, keep: (topicId: string, partition: number) => boolean): Assignment {
  const out = new Map<string, Set<number>>();
  for (const [topicId, parts] of a) {
    for (const p of parts) {
      if (!keep(topicId, p)) continue;
      let set = out.get(topicId);
      if (set === undefined) {
        set = new Set();
        out.set(topicId, set);
      }
      set.add(p);
    }
  }
  return out;
}

export function intersect(a: Assignment, b: Assignment): Assignment {
  return filterAssignment(a, (t, p) => hasPartition(b, t, p));
}

export function subtract(a: Assignment, b: Assignment): Assignment {
  return filterAssignment(a, (t, p) => !hasPartition(b, t, p));
}

export function union(a: Assignment, b: Assignment): Assignment {
  const out = new Map<string, Set<number>>();
  for (const src of [a, b]) {
    for (const [topicId, parts] of src) {
      let set = out.get(topicId);
      if (set === undefined) {
        set = new Set();
        out.set(topicId, set);
      }
      for (const p of parts) set.add(p);
    }
  }
  return out;
}

export function sameAssignment(a: Assignment, b: Assignment): boolean {
  if (assignmentSize(a) !== assignmentSize(b)) return false;
  for (const [topicId, parts] of a) for (const p of parts) if (!hasPartition(b, topicId, p)) return false;
  return true;
}

/** Whether `a` and `b` share a partition. */
export function overlaps(a: Assignment, b: Assignment): boolean {
  for (const [topicId, parts] of a) for (const p of parts) if (hasPartition(b, topicId, p)) return true;
  return false;
}
