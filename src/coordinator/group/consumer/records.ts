/**
 * The `__consumer_offsets` records of KIP-848 consumer groups, in Kafka's formats (Kafka 3.7+ group coordinator),
 * so that a restarted coordinator gets its groups back with their members, epochs and assignments, and tools that
 * read the topic understand them. The key starts with an int16 record type, then the key fields in the
 * non-flexible encoding; the value starts with an int16 value version (0), then the value fields in the flexible
 * encoding (compact strings and arrays, tagged fields). A null value is a tombstone.
 *
 * | type | key                 | value                                                                        |
 * |------|---------------------|------------------------------------------------------------------------------|
 * | 3    | group               | group epoch (+ tagged MetadataHash, CreationTimeMs: not written)              |
 * | 4    | group               | subscription metadata (deprecated in Kafka 4.1: read and ignored)            |
 * | 5    | group, member       | instance, rack, client id/host, topic names, regex, rebalance timeout, assignor |
 * | 6    | group               | assignment epoch                                                             |
 * | 7    | group, member       | the member's target assignment                                               |
 * | 8    | group, member       | member epoch, previous epoch, state, assigned and pending-revocation partitions |
 *
 * Decoding treats the bytes as untrusted input (they come from disk): anything malformed is a ProtocolError, and
 * tagged fields are skipped (bounded by the bytes present).
 *
 * Concurrency: pure functions.
 */

import { ProtocolError } from '../../../protocol/codec/protocol-error.js';
import { Reader } from '../../../protocol/codec/reader.js';
import { Writer } from '../../../protocol/codec/writer.js';
import { type Assignment, assignmentFrom, assignmentToWire } from './assignment.js';
import type { MemberState } from './member.js';

export const CONSUMER_GROUP_RECORD_TYPES = {
  group: 3,
  partitionMetadata: 4,
  member: 5,
  targetEpoch: 6,
  target: 7,
  current: 8,
};

export interface MemberMetadataValue {
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
}

export interface CurrentAssignmentValue {
  memberEpoch: number;
  previousMemberEpoch: number;
  state: MemberState;
  assigned: Assignment;
  pendingRevocation: Assignment;
}

/** One KIP-848 record; `value: null` is a tombstone. */
export type ConsumerGroupRecord =
  | { type: 'group'; group: string; value: { epoch: number } | null }
  | { type: 'member'; group: string; memberId: string; value: MemberMetadataValue | null }
  | { type: 'targetEpoch'; group: string; value: { assignmentEpoch: number } | null }
  | { type: 'target'; group: string; memberId: string; value: Assignment | null }
  | { type: 'current'; group: string; memberId: string; value: CurrentAssignmentValue | null };

const STATE_CODES: Record<MemberState, number> = { stable: 0, unrevoked_partitions: 1, unreleased_partitions: 2 };
const STATES_BY_CODE = new Map(Object.entries(STATE_CODES).map(([s, c]) => [c, s as MemberState]));

// ---- encoding -------------------------------------------------------------------------------------------------------

function key(type: number, group: string, memberId?: string): Buffer {
  const w = new Writer(64);
  w.int16(type);
  w.string(group);
  if (memberId !== undefined) w.string(memberId);
  return w.toBuffer();
}

function value(write: (w: Writer) => void): Buffer {
  const w = new Writer(64);
  w.int16(0);
  write(w);
  w.uvarint(0); // no tagged fields
  return w.toBuffer();
}

function writeNames(w: Writer, names: readonly string[]): void {
  w.compactArrayLength(names.length);
  for (const n of names) w.compactString(n);
}

function writePartitions(w: Writer, a: Assignment): void {
  const topics = assignmentToWire(a);
  w.compactArrayLength(topics.length);
  for (const t of topics) {
    w.uuid(t.topicId);
    w.compactArrayLength(t.partitions.length);
    for (const p of t.partitions) w.int32(p);
    w.uvarint(0);
  }
}

/** The record's key and value bytes. */
export function encodeConsumerGroupRecord(r: ConsumerGroupRecord): { key: Buffer; value: Buffer | null } {
  const T = CONSUMER_GROUP_RECORD_TYPES;
  switch (r.type) {
    case 'group': {
      const v = r.value;
      return { key: key(T.group, r.group), value: v === null ? null : value((w) => w.int32(v.epoch)) };
    }
    case 'targetEpoch': {
      const v = r.value;
      return {
        key: key(T.targetEpoch, r.group),
        value: v === null ? null : value((w) => w.int32(v.assignmentEpoch)),
      };
    }
    case 'member': {
      const v = r.value;
      return {
        key: key(T.member, r.group, r.memberId),
        value:
          v === null
            ? null
            : value((w) => {
                w.compactNullableString(v.instanceId);
                w.compactNullableString(v.rackId);
                w.compactString(v.clientId);
                w.compactString(v.clientHost);
                writeNames(w, v.subscribedTopicNames);
                w.compactNullableString(v.subscribedTopicRegex);
                w.int32(v.rebalanceTimeoutMs);
                w.compactNullableString(v.serverAssignor);
              }),
      };
    }
    case 'target': {
      const v = r.value;
      return {
        key: key(T.target, r.group, r.memberId),
        value: v === null ? null : value((w) => writePartitions(w, v)),
      };
    }
    case 'current': {
      const v = r.value;
      return {
        key: key(T.current, r.group, r.memberId),
        value:
          v === null
            ? null
            : value((w) => {
                w.int32(v.memberEpoch);
                w.int32(v.previousMemberEpoch);
                w.int8(STATE_CODES[v.state]);
                writePartitions(w, v.assigned);
                writePartitions(w, v.pendingRevocation);
              }),
      };
    }
  }
}

// ---- decoding -------------------------------------------------------------------------------------------------------

function skipTaggedFields(r: Reader): void {
  const count = r.uvarint();
  if (count > r.remaining()) throw new ProtocolError('invalid-length', `${count} tagged fields cannot fit`);
  for (let i = 0; i < count; i++) {
    r.uvarint();
    const size = r.uvarint();
    if (size > r.remaining()) throw new ProtocolError('invalid-length', `tagged field of ${size} bytes cannot fit`);
    r.raw(size);
  }
}

function readNames(r: Reader): string[] {
  const n = r.compactArrayLength(false);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.compactString());
  return out;
}

function readPartitions(r: Reader): Assignment {
  const n = r.compactArrayLength(false);
  const topics: { topicId: string; partitions: number[] }[] = [];
  for (let i = 0; i < n; i++) {
    const topicId = r.uuid();
    const count = r.compactArrayLength(false);
    const partitions: number[] = [];
    for (let j = 0; j < count; j++) partitions.push(r.int32());
    skipTaggedFields(r);
    topics.push({ topicId, partitions });
  }
  return assignmentFrom(topics);
}

function valueReader(bytes: Buffer, what: string): Reader {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version !== 0) throw new ProtocolError('invalid-value', `__consumer_offsets ${what} value version ${version}`);
  return r;
}

/**
 * Decodes a record whose key starts with `type` (3..8; the reader is positioned after the type). Returns null for
 * type 4 (deprecated subscription metadata, recomputed from the cluster's metadata instead).
 */
export function decodeConsumerGroupRecord(type: number, kr: Reader, bytes: Buffer | null): ConsumerGroupRecord | null {
  const T = CONSUMER_GROUP_RECORD_TYPES;
  const group = kr.string();
  switch (type) {
    case T.group: {
      if (bytes === null) return { type: 'group', group, value: null };
      const r = valueReader(bytes, 'consumer group metadata');
      const epoch = r.int32();
      skipTaggedFields(r);
      return { type: 'group', group, value: { epoch } };
    }
    case T.partitionMetadata:
      return null;
    case T.targetEpoch: {
      if (bytes === null) return { type: 'targetEpoch', group, value: null };
      const r = valueReader(bytes, 'target assignment metadata');
      const assignmentEpoch = r.int32();
      skipTaggedFields(r);
      return { type: 'targetEpoch', group, value: { assignmentEpoch } };
    }
    case T.member: {
      const memberId = kr.string();
      if (bytes === null) return { type: 'member', group, memberId, value: null };
      const r = valueReader(bytes, 'member metadata');
      const v: MemberMetadataValue = {
        instanceId: r.compactNullableString(),
        rackId: r.compactNullableString(),
        clientId: r.compactString(),
        clientHost: r.compactString(),
        subscribedTopicNames: readNames(r),
        subscribedTopicRegex: r.compactNullableString(),
        rebalanceTimeoutMs: r.int32(),
        serverAssignor: r.compactNullableString(),
      };
      skipTaggedFields(r);
      return { type: 'member', group, memberId, value: v };
    }
    case T.target: {
      const memberId = kr.string();
      if (bytes === null) return { type: 'target', group, memberId, value: null };
      const r = valueReader(bytes, 'target assignment');
      const a = readPartitions(r);
      skipTaggedFields(r);
      return { type: 'target', group, memberId, value: a };
    }
    case T.current: {
      const memberId = kr.string();
      if (bytes === null) return { type: 'current', group, memberId, value: null };
      const r = valueReader(bytes, 'current member assignment');
      const memberEpoch = r.int32();
      const previousMemberEpoch = r.int32();
      const code = r.int8();
      const state = STATES_BY_CODE.get(code);
      if (state === undefined) throw new ProtocolError('invalid-value', `unknown member state ${code}`);
      const assigned = readPartitions(r);
      const pendingRevocation = readPartitions(r);
      skipTaggedFields(r);
      return {
        type: 'current',
        group,
        memberId,
        value: { memberEpoch, previousMemberEpoch, state, assigned, pendingRevocation },
      };
    }
    default:
      throw new ProtocolError('invalid-value', `__consumer_offsets record type ${type} is not a consumer group record`);
  }
}
