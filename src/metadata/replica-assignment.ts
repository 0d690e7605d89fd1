/**
 * Replica placement for new topics and new partitions, following the goals of Kafka's ZooKeeper-mode assignment
 * (AdminUtils.assignReplicasToBrokers):
 *
 * 1. Leaders (first replicas) go round-robin over a broker list from a start position, so every broker leads
 *    the same number of partitions, give or take one.
 * 2. The followers of a partition are the brokers after its leader in that list, at a shift that grows by one each
 *    time the round-robin has gone once around the list, so that a broker's partitions do not always have their
 *    followers on the same brokers.
 * 3. When every broker has a rack (`broker.rack`), the list alternates racks (one broker of each rack in rack-name
 *    order, then the next of each, brokers of a rack in id order), and a follower is skipped while it would put a
 *    second replica on a rack when some rack has none yet, or a second replica on a broker. A partition therefore
 *    spans min(replication factor, racks) racks. When some brokers have a rack and others not, placement is
 *    refused, as Kafka does for CreateTopics and CreatePartitions (an AdminOperationException there, answered as
 *    UNKNOWN_SERVER_ERROR); automatic and internal topic creation instead ignore the racks then (Kafka's
 *    RackAwareMode.Safe), so that a half-labelled cluster still gets its offsets topic.
 *
 * Without racks the list is the brokers in id order. Partition p of a topic is always placed by the same rule, so
 * adding partitions continues the rotation where the topic's first partition started (`continueAfter`): a topic
 * created with n partitions and grown to m gets the placement it would have had if created with m (as long as the
 * brokers did not change). Kafka starts the follower shift at a random value on creation; here it starts at 0, which
 * makes that continuation exact.
 */
import { ErrorCode, KafkaError } from '../protocol/errors.js';

/** What placement needs to know about a broker. */
export interface PlacementBroker {
  readonly id: number;
  readonly rack: string | null;
}

/**
 * How racks are used (Kafka's RackAwareMode): `enforced` refuses a mix of brokers with and without a rack
 * (CreateTopics, CreatePartitions); `safe` ignores racks then (automatic creation, internal topics); `disabled`
 * always ignores them.
 */
export type RackAwareMode = 'enforced' | 'safe' | 'disabled';

/**
 * A refusal that Kafka raises as its AdminOperationException: not one of the protocol's error classes, so on the
 * wire it is UNKNOWN_SERVER_ERROR. Unlike an unexpected fault its message reveals nothing internal, so the admin
 * handlers pass it on (Kafka sends no message) and users see why.
 */
export class AdminOperationError extends KafkaError {
  constructor(message: string) {
    super(ErrorCode.UNKNOWN_SERVER_ERROR, message);
  }
}

export interface AssignOptions {
  /** The first partition number to place (the topic's current partition count when adding). */
  firstPartition?: number;
  /** Position in the broker list of partition 0's leader; default 0. */
  startIndex?: number;
  /**
   * Instead of startIndex: the broker leading the topic's partition 0, so that new partitions continue its
   * rotation (when that broker is gone: the next one by id, as Kafka does).
   */
  continueAfter?: number;
  /** Default `enforced`. */
  rackAwareMode?: RackAwareMode;
}

/** The broker list placement walks, and each broker's rack when placement is rack-aware. */
export interface PlacementList {
  ids: number[];
  /** Rack by broker id; null when placement ignores racks. */
  racks: Map<number, string> | null;
}

/**
 * The list placement goes round: brokers in id order without racks; rack-alternated with racks. Throws
 * AdminOperationError for a mix of brokers with and without a rack in `enforced` mode.
 */
export function placementList(brokers: readonly PlacementBroker[], mode: RackAwareMode = 'enforced'): PlacementList {
  const sorted = [...brokers].sort((a, b) => a.id - b.id);
  const withRack = sorted.filter((b) => b.rack !== null).length;
  if (mode === 'disabled' || withRack === 0 || (withRack < sorted.length && mode === 'safe')) {
    return { ids: sorted.map((b) => b.id), racks: null };
  }
  if (withRack < sorted.length) {
    throw new AdminOperationError('Not all brokers have rack information for replica rack aware assignment.');
  }
  const byRack = new Map<string, number[]>();
  const racks = new Map<number, string>();
  for (const b of sorted) {
    const rack = b.rack!;
    racks.set(b.id, rack);
    const members = byRack.get(rack);
    if (members === undefined) byRack.set(rack, [b.id]);
    else members.push(b.id);
  }
  // Rack names in code-unit order, as Java sorts strings.
  const rackNames = [...byRack.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const ids: number[] = [];
  for (let round = 0; ids.length < sorted.length; round++) {
    for (const name of rackNames) {
      const id = byRack.get(name)![round];
      if (id !== undefined) ids.push(id);
    }
  }
  return { ids, racks };
}

/** The k-th follower candidate after the leader at `first`: never the leader itself, cycling over the others. */
function candidate(first: number, shift: number, k: number, n: number): number {
  return (first + 1 + ((shift + k) % (n - 1))) % n;
}

/**
 * Replica lists for `count` partitions, `replicationFactor` replicas each, over `brokers`. The caller has checked
 * count > 0 and 0 < replicationFactor <= brokers.length. Throws AdminOperationError (see placementList).
 */
export function assignReplicas(
  brokers: readonly PlacementBroker[],
  count: number,
  replicationFactor: number,
  options: AssignOptions = {},
): number[][] {
  const { ids, racks } = placementList(brokers, options.rackAwareMode ?? 'enforced');
  const n = ids.length;
  let startIndex = options.startIndex ?? 0;
  if (options.continueAfter !== undefined) {
    const leader0 = options.continueAfter;
    let at = ids.indexOf(leader0);
    if (at < 0) {
      // The broker is gone: the next one by id (wrapping to the lowest), wherever the list puts it.
      const byId = [...ids].sort((a, b) => a - b);
      at = ids.indexOf(byId.find((id) => id >= leader0) ?? byId[0]!);
    }
    startIndex = at;
  }
  const firstPartition = options.firstPartition ?? 0;
  const rackCount = racks === null ? 0 : new Set(racks.values()).size;
  const out: number[][] = [];
  const usedRacks = new Set<string>();
  const usedBrokers = new Set<number>();
  for (let i = 0; i < count; i++) {
    const p = firstPartition + i;
    const first = (startIndex + p) % n;
    const round = Math.floor(p / n);
    const replicas = [ids[first]!];
    if (racks === null) {
      for (let j = 0; j < replicationFactor - 1; j++) replicas.push(ids[candidate(first, round, j, n)]!);
    } else if (replicationFactor > 1) {
      // A whole stripe of racks per round keeps the followers' rack order aligned with the leader's.
      const shift = round * rackCount;
      usedRacks.clear();
      usedBrokers.clear();
      usedRacks.add(racks.get(ids[first]!)!);
      usedBrokers.add(ids[first]!);
      // Every broker but the leader comes up once per n-1 candidates, so each follower is found within that many.
      for (let k = 0; replicas.length < replicationFactor; k++) {
        const id = ids[candidate(first, shift, k, n)]!;
        const rack = racks.get(id)!;
        const rackOk = !usedRacks.has(rack) || usedRacks.size === rackCount;
        const brokerOk = !usedBrokers.has(id) || usedBrokers.size === n;
        if (rackOk && brokerOk) {
          replicas.push(id);
          usedRacks.add(rack);
          usedBrokers.add(id);
        }
      }
    }
    out.push(replicas);
  }
  return out;
}
