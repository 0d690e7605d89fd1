/**
 * Hash functions whose results must match the Java Kafka client bit for bit, because they decide where data lands:
 * - murmur2: key -> partition for keyed records (Java default partitioner, librdkafka `murmur2_random`).
 * - Java String.hashCode: group id / transactional id -> partition of `__consumer_offsets` / `__transaction_state`.
 *
 * All arithmetic is 32-bit (Math.imul, `| 0`, `>>>`), giving the same signed int results as Java.
 */

const MURMUR2_SEED = 0x9747b28c;
const MURMUR2_M = 0x5bd1e995;
const MURMUR2_R = 24;

/** 32-bit MurmurHash2 as implemented by the Java client's `Utils.murmur2`; returns a signed 32-bit integer. */
export function murmur2(key: Uint8Array): number {
  const length = key.length;
  let h = (MURMUR2_SEED ^ length) | 0;
  const tail = length & ~3;

  for (let i = 0; i < tail; i += 4) {
    let k = key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24);
    k = Math.imul(k, MURMUR2_M);
    k ^= k >>> MURMUR2_R;
    k = Math.imul(k, MURMUR2_M);
    h = Math.imul(h, MURMUR2_M) ^ k;
  }

  const rest = length - tail;
  if (rest > 0) {
    if (rest === 3) h ^= key[tail + 2] << 16;
    if (rest >= 2) h ^= key[tail + 1] << 8;
    h ^= key[tail];
    h = Math.imul(h, MURMUR2_M);
  }

  h ^= h >>> 13;
  h = Math.imul(h, MURMUR2_M);
  h ^= h >>> 15;
  return h | 0;
}

/** Clears the sign bit (Java client `Utils.toPositive`); unlike Math.abs it never overflows. */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

function checkPartitionCount(numPartitions: number): void {
  if (!Number.isInteger(numPartitions) || numPartitions < 1 || numPartitions > 0x7fffffff) {
    throw new RangeError(`numPartitions must be a positive 32-bit integer, got ${numPartitions}`);
  }
}

/** Partition of a keyed record, as chosen by the Java default partitioner: toPositive(murmur2(key)) % n. */
export function partitionForKey(key: Uint8Array, numPartitions: number): number {
  checkPartitionCount(numPartitions);
  return toPositive(murmur2(key)) % numPartitions;
}

/** Java `String.hashCode()`: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, as a signed 32-bit integer. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) {
    h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  }
  return h;
}

/** Kafka's `Utils.abs`: absolute value, except that -2^31 (which has no positive int) maps to 0. */
export function kafkaAbs(n: number): number {
  return n === -0x80000000 ? 0 : Math.abs(n);
}

/**
 * Partition of an internal topic (`__consumer_offsets`, `__transaction_state`) that owns a group or transactional
 * id: abs(id.hashCode()) % numPartitions, with Kafka's abs.
 */
export function groupPartition(groupId: string, numPartitions: number): number {
  checkPartitionCount(numPartitions);
  return kafkaAbs(javaStringHashCode(groupId)) % numPartitions;
}
