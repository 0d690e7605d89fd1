/**
 * Replica placement for new topics and partitions: replicas of consecutive partitions start on consecutive brokers
 * (so leaders, the first replica, spread evenly) and the followers of a partition are the next brokers in id order,
 * shifted per round so that they spread too. Rack awareness arrives with cluster mode.
 */

/**
 * Replica lists for `count` partitions numbered from `firstPartition`, over `brokerIds`, `replicationFactor` each.
 * The caller has checked that replicationFactor <= brokerIds.length.
 */
export function assignReplicas(
  brokerIds: readonly number[],
  count: number,
  replicationFactor: number,
  firstPartition = 0,
  startIndex = 0,
): number[][] {
  const ids = [...brokerIds].sort((a, b) => a - b);
  const n = ids.length;
  const out: number[][] = [];
  for (let i = 0; i < count; i++) {
    const p = firstPartition + i;
    const first = (startIndex + p) % n;
    // The shift changes each full round over the brokers so followers do not always pair with the same leader.
    const shift = 1 + (Math.floor(p / n) % Math.max(1, n - 1));
    const replicas = [ids[first]!];
    for (let j = 1; j < replicationFactor; j++) {
      replicas.push(ids[(first + shift + j - 1) % n]!);
    }
    out.push(replicas);
  }
  return out;
}
