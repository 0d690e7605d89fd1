/**
 * The records of `__consumer_offsets`, in Kafka's own formats (../shared/kafka-protocol/internal/), so that tools
 * reading the topic understand it and a Kafka log dir's offsets can be read here. A record's key and value each
 * start with an int16 version: key versions 0 and 1 are an offset commit (group, topic, partition) and key version
 * 2 a group's metadata, 3 to 8 KIP-848 consumer groups (`consumer/records.ts`); later ones (share and streams
 * groups) are skipped. A null value is a tombstone: the
 * offset or the group is gone. Written: OffsetCommitKey v1 with OffsetCommitValue v3 (v1 when the commit has an
 * explicit expire timestamp, the only version that can carry it), GroupMetadataKey v2 with GroupMetadataValue v3,
 * as Kafka 3.x writes them.
 *
 * Decoding treats the bytes as untrusted input (they come from disk): any malformed record is a ProtocolError.
 */

import { ProtocolError } from '../../protocol/codec/protocol-error.js';
import {
  type GroupMetadataValue,
  type OffsetCommitValue,
  Reader,
  readGroupMetadataKey,
  readGroupMetadataValue,
  readOffsetCommitKey,
  readOffsetCommitValue,
  Writer,
  writeGroupMetadataKey,
  writeGroupMetadataValue,
  writeOffsetCommitKey,
  writeOffsetCommitValue,
} from '../../protocol/index.js';
import { type ConsumerGroupRecord, decodeConsumerGroupRecord } from './consumer/records.js';

const OFFSET_KEY_VERSION = 1;
const GROUP_KEY_VERSION = 2;
const OFFSET_VALUE_VERSION = 3;
const OFFSET_VALUE_VERSION_WITH_EXPIRY = 1;
const GROUP_VALUE_VERSION = 3;

export interface EncodedRecord {
  key: Buffer;
  value: Buffer | null;
}

export type OffsetsTopicRecord =
  | { kind: 'offset'; group: string; topic: string; partition: number; value: OffsetCommitValue | null }
  | { kind: 'group'; group: string; value: GroupMetadataValue | null }
  | { kind: 'consumer'; group: string; record: ConsumerGroupRecord };

function encode(version: number, write: (w: Writer) => void): Buffer {
  const w = new Writer();
  w.int16(version);
  write(w);
  return w.toBuffer();
}

export function offsetCommitRecord(
  group: string,
  topic: string,
  partition: number,
  value: OffsetCommitValue | null,
): EncodedRecord {
  const key = encode(OFFSET_KEY_VERSION, (w) =>
    writeOffsetCommitKey(w, OFFSET_KEY_VERSION, { group, topic, partition }),
  );
  if (value === null) return { key, value: null };
  const version = value.expireTimestamp >= 0n ? OFFSET_VALUE_VERSION_WITH_EXPIRY : OFFSET_VALUE_VERSION;
  return { key, value: encode(version, (w) => writeOffsetCommitValue(w, version, value)) };
}

export function groupMetadataRecord(group: string, value: GroupMetadataValue | null): EncodedRecord {
  const key = encode(GROUP_KEY_VERSION, (w) => writeGroupMetadataKey(w, GROUP_KEY_VERSION, { group }));
  if (value === null) return { key, value: null };
  return { key, value: encode(GROUP_VALUE_VERSION, (w) => writeGroupMetadataValue(w, GROUP_VALUE_VERSION, value)) };
}

function versionOf(r: Reader, what: string, max: number): number {
  const v = r.int16();
  if (v < 0 || v > max) throw new ProtocolError('invalid-value', `__consumer_offsets ${what} version ${v} is unknown`);
  return v;
}

/** Decodes one record of the topic; null for record types this broker does not know (newer key versions). */
export function decodeOffsetsTopicRecord(key: Buffer, value: Buffer | null): OffsetsTopicRecord | null {
  const kr = new Reader(key);
  const keyVersion = kr.int16();
  if (keyVersion === 0 || keyVersion === 1) {
    const k = readOffsetCommitKey(kr, keyVersion);
    if (value === null) return { kind: 'offset', group: k.group, topic: k.topic, partition: k.partition, value: null };
    const vr = new Reader(value);
    const v = readOffsetCommitValue(vr, versionOf(vr, 'offset commit value', 4));
    return { kind: 'offset', group: k.group, topic: k.topic, partition: k.partition, value: v };
  }
  if (keyVersion === GROUP_KEY_VERSION) {
    const k = readGroupMetadataKey(kr, keyVersion);
    if (value === null) return { kind: 'group', group: k.group, value: null };
    const vr = new Reader(value);
    return {
      kind: 'group',
      group: k.group,
      value: readGroupMetadataValue(vr, versionOf(vr, 'group metadata value', 4)),
    };
  }
  if (keyVersion >= 3 && keyVersion <= 8) {
    const record = decodeConsumerGroupRecord(keyVersion, kr, value);
    return record === null ? null : { kind: 'consumer', group: record.group, record };
  }
  if (keyVersion < 0) throw new ProtocolError('invalid-value', `__consumer_offsets key version ${keyVersion}`);
  return null;
}
