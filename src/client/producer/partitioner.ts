/**
 * Choosing a record's partition (see `Partitioner` in types.ts for the choices). Keyed records go where the Java
 * client and librdkafka's murmur2_random put them (`partitionForKey`: positive murmur2 of the key bytes modulo the
 * partition count, counting every partition, available or not, so a key's partition does not move while a leader is
 * down). The state of the sticky and round-robin choices lives per topic in a `PartitionChoice`.
 */
import { partitionForKey } from '../../protocol/hash.js';
import { KafkaClientError } from '../errors.js';
import type { Partitioner } from './types.js';

/** Per-topic state of the partitioners that remember something. */
export interface PartitionChoice {
  /** The sticky partition for null keys, -1 when the next null-key record picks a new one. */
  sticky: number;
  /** The sticky partition before the current one (the next pick avoids it when it can). */
  previousSticky: number;
  /** Round-robin counter. */
  counter: number;
}

export function newPartitionChoice(): PartitionChoice {
  return { sticky: -1, previousSticky: -1, counter: 0 };
}

function randomOf(available: readonly number[], count: number): number {
  return available.length > 0
    ? available[Math.floor(Math.random() * available.length)]!
    : Math.floor(Math.random() * count);
}

/** KIP-480: a random available partition other than the previous sticky one (when there is another). */
function newSticky(state: PartitionChoice, available: readonly number[], count: number): number {
  let p: number;
  if (available.length > 1) {
    do p = randomOf(available, count);
    while (p === state.previousSticky);
  } else if (available.length === 1) {
    p = available[0]!;
  } else if (count > 1) {
    do p = Math.floor(Math.random() * count);
    while (p === state.previousSticky);
  } else {
    p = 0;
  }
  state.sticky = p;
  return p;
}

/** The partition for a record of `topic` with the serialized `key`. */
export function choosePartition(
  partitioner: Partitioner,
  state: PartitionChoice,
  topic: string,
  key: Buffer | null,
  count: number,
  available: readonly number[],
): number {
  switch (partitioner) {
    case 'default':
      if (key !== null) return partitionForKey(key, count);
      return state.sticky >= 0 ? state.sticky : newSticky(state, available, count);
    case 'murmur2_random':
      return key !== null ? partitionForKey(key, count) : randomOf(available, count);
    case 'round-robin': {
      const n = state.counter;
      state.counter = (n + 1) | 0;
      const i = n & 0x7fffffff;
      return available.length > 0 ? available[i % available.length]! : i % count;
    }
    default: {
      const p = partitioner({ topic, key, partitionCount: count, availablePartitions: available });
      if (!Number.isInteger(p) || p < 0 || p >= count) {
        throw new KafkaClientError(`the partitioner chose partition ${p} of topic ${topic}, which has ${count}`);
      }
      return p;
    }
  }
}

/** The sticky partition's batch was closed (full or sent): the next null-key record picks a new partition. */
export function stickyBatchClosed(state: PartitionChoice, partition: number): void {
  if (state.sticky === partition) {
    state.previousSticky = partition;
    state.sticky = -1;
  }
}
