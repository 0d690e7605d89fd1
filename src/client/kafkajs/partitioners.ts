/**
 * KafkaJS's partitioners, for `createPartitioner`:
 * - `DefaultPartitioner` (alias `JavaCompatiblePartitioner`): the Java client's placement of keyed messages
 *   (murmur2 of the key), so keyed messages land where Java, librdkafka (murmur2_random) and KafkaJS 2 put them.
 *   Handed to the producer as its 'default' partitioner, which places keyless messages the Java way (sticky per
 *   batch, KIP-480) where KafkaJS deals them round robin; both spread them evenly.
 * - `LegacyPartitioner`: KafkaJS 1.x's placement, kept for topics whose keys were placed by it: its murmur2 works
 *   in floating point and differs from Java's for many keys, so it is reproduced here exactly as it computes (the
 *   loop running over a partial last word, products rounded to doubles before their 32-bit truncation).
 *   Keyless messages go round robin over the partitions with a leader, from a random start.
 *
 * When called directly (`Partitioners.DefaultPartitioner()(args)`) both behave as KafkaJS's do, round robin for
 * keyless messages included; the producer recognizes them and places messages without calling them.
 */
import { randomInt } from 'node:crypto';
import { murmur2 } from '../../protocol/hash.js';
import type { PartitionerContext } from '../producer/types.js';
import type { ICustomPartitioner, PartitionerArgs } from './types.js';

const keyBytes = (key: Buffer | string): Buffer => (Buffer.isBuffer(key) ? key : Buffer.from(String(key)));

/**
 * KafkaJS 1.x's murmur2, reproduced for placement compatibility. JavaScript numbers make `k * M` a double that
 * may exceed 2^53 and lose low bits before `^`/`>>>` truncate it to 32 bits; Math.imul would give Java's result
 * instead, so the multiplications are done as plain double products on purpose.
 */
export function legacyMurmur2(key: Buffer | string): number {
  const data = keyBytes(key);
  const length = data.length;
  const M = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  // A fractional bound: the loop also visits the partial last word, reading missing bytes as 0.
  const words = length / 4;
  const byte = (i: number): number => (i < length ? data[i]! : 0);
  for (let i = 0; i < words; i++) {
    const i4 = i * 4;
    let k = byte(i4) + (byte(i4 + 1) << 8) + (byte(i4 + 2) << 16) + (byte(i4 + 3) << 24);
    k *= M;
    k ^= k >>> 24;
    k *= M;
    h *= M;
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest === 3) h ^= byte(tail + 2) << 16;
  if (rest >= 2) h ^= byte(tail + 1) << 8;
  if (rest >= 1) {
    h ^= byte(tail);
    h *= M;
  }
  h ^= h >>> 13;
  h *= M;
  h ^= h >>> 15;
  return h;
}

const toPositive = (x: number): number => x & 0x7fffffff;

/** Round robin over the partitions with a leader, from a random start per topic (KafkaJS's keyless placement). */
class RoundRobin {
  private readonly counters = new Map<string, number>();
  next(topic: string, available: readonly number[], partitionCount: number): number {
    const c = (this.counters.get(topic) ?? randomInt(0, 0x7fffffff)) + 1;
    this.counters.set(topic, c);
    return available.length > 0 ? available[toPositive(c) % available.length]! : toPositive(c) % partitionCount;
  }
}

function kafkaJSPartitioner(hash: (key: Buffer | string) => number): ICustomPartitioner {
  return () => {
    const rr = new RoundRobin();
    return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
      if (message.partition !== null && message.partition !== undefined) return message.partition;
      if (message.key !== null && message.key !== undefined) {
        return toPositive(hash(message.key)) % partitionMetadata.length;
      }
      const available = partitionMetadata.filter((p) => p.leader >= 0).map((p) => p.partitionId);
      return rr.next(topic, available, partitionMetadata.length);
    };
  };
}

const DefaultPartitioner: ICustomPartitioner = kafkaJSPartitioner((key) => murmur2(keyBytes(key)));
const LegacyPartitioner: ICustomPartitioner = kafkaJSPartitioner(legacyMurmur2);

export const Partitioners: {
  DefaultPartitioner: ICustomPartitioner;
  LegacyPartitioner: ICustomPartitioner;
  /** @deprecated KafkaJS's former name of DefaultPartitioner. */
  JavaCompatiblePartitioner: ICustomPartitioner;
} = {
  DefaultPartitioner,
  LegacyPartitioner,
  JavaCompatiblePartitioner: DefaultPartitioner,
};

/** The Samsa producer's partitioner doing what the legacy one does, from the serialized key. */
export function legacyProducerPartitioner(): (context: PartitionerContext) => number {
  const rr = new RoundRobin();
  return (c) =>
    c.key === null
      ? rr.next(c.topic, c.availablePartitions, c.partitionCount)
      : toPositive(legacyMurmur2(c.key)) % c.partitionCount;
}

export function isDefaultPartitioner(p: ICustomPartitioner | undefined): boolean {
  return p === undefined || p === DefaultPartitioner;
}

export function isLegacyPartitioner(p: ICustomPartitioner | undefined): boolean {
  return p === LegacyPartitioner;
}
