/**
 * The KIP-848 records of `__consumer_offsets` (consumer/records.ts): every record type round-trips through
 * Kafka's key/value layout, the layout itself is checked byte by byte for one record, the generic decoder routes
 * key types 3-8 to them, and damaged bytes only ever give a ProtocolError.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { assignmentFrom, assignmentToWire } from '../../../src/coordinator/group/consumer/assignment.js';
import {
  type ConsumerGroupRecord,
  encodeConsumerGroupRecord,
} from '../../../src/coordinator/group/consumer/records.js';
import { decodeOffsetsTopicRecord } from '../../../src/coordinator/group/offsets-topic-records.js';
import { ProtocolError } from '../../../src/protocol/codec/protocol-error.js';

const uuid = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url'));
const assignment = fc
  .array(fc.record({ topicId: uuid, partitions: fc.uniqueArray(fc.nat(1000), { maxLength: 8 }) }), { maxLength: 4 })
  .map((entries) => assignmentFrom(entries));
const name = fc.string({ maxLength: 20 });
const nullableName = fc.option(name, { nil: null });

const record: fc.Arbitrary<ConsumerGroupRecord> = fc.oneof(
  fc.record({
    type: fc.constant('group' as const),
    group: name,
    value: fc.option(fc.record({ epoch: fc.integer() }), { nil: null }),
  }),
  fc.record({
    type: fc.constant('targetEpoch' as const),
    group: name,
    value: fc.option(fc.record({ assignmentEpoch: fc.integer() }), { nil: null }),
  }),
  fc.record({
    type: fc.constant('member' as const),
    group: name,
    memberId: name,
    value: fc.option(
      fc.record({
        instanceId: nullableName,
        rackId: nullableName,
        clientId: name,
        clientHost: name,
        subscribedTopicNames: fc.array(name, { maxLength: 4 }),
        subscribedTopicRegex: nullableName,
        rebalanceTimeoutMs: fc.integer(),
        serverAssignor: nullableName,
      }),
      { nil: null },
    ),
  }),
  fc.record({
    type: fc.constant('target' as const),
    group: name,
    memberId: name,
    value: fc.option(assignment, { nil: null }),
  }),
  fc.record({
    type: fc.constant('current' as const),
    group: name,
    memberId: name,
    value: fc.option(
      fc.record({
        memberEpoch: fc.integer(),
        previousMemberEpoch: fc.integer(),
        state: fc.constantFrom('stable' as const, 'unrevoked_partitions' as const, 'unreleased_partitions' as const),
        assigned: assignment,
        pendingRevocation: assignment,
      }),
      { nil: null },
    ),
  }),
);

/** Assignments compared in wire form (Maps of Sets do not deep-equal by order). */
function normalise(r: ConsumerGroupRecord): unknown {
  return JSON.parse(
    JSON.stringify(r, (_k, v) => (v instanceof Map ? assignmentToWire(v as ReturnType<typeof assignmentFrom>) : v)),
  );
}

describe('KIP-848 __consumer_offsets records', () => {
  it('every record type round-trips through its key and value bytes', () => {
    fc.assert(
      fc.property(record, (r) => {
        const { key, value } = encodeConsumerGroupRecord(r);
        const decoded = decodeOffsetsTopicRecord(key, value);
        assert.ok(decoded !== null && decoded.kind === 'consumer');
        assert.deepEqual(normalise(decoded.record), normalise(r));
      }),
      { numRuns: 300 },
    );
  });

  it("writes Kafka's layout: int16 record type + non-flexible key, int16 version 0 + flexible value", () => {
    const topicId = Buffer.alloc(16, 7).toString('base64url');
    const { key, value } = encodeConsumerGroupRecord({
      type: 'current',
      group: 'g',
      memberId: 'm',
      value: {
        memberEpoch: 5,
        previousMemberEpoch: 4,
        state: 'unrevoked_partitions',
        assigned: assignmentFrom([{ topicId, partitions: [1] }]),
        pendingRevocation: new Map(),
      },
    });
    assert.equal(key.toString('hex'), ['0008', '0001', '67', '0001', '6d'].join(''));
    assert.equal(
      value!.toString('hex'),
      [
        '0000', // value version 0
        '00000005', // member epoch
        '00000004', // previous member epoch
        '01', // UNREVOKED_PARTITIONS
        '02', // one topic (compact array: n + 1)
        '07'.repeat(16),
        '02', // one partition
        '00000001',
        '00', // the topic's tagged fields
        '01', // no partitions pending revocation
        '00', // the value's tagged fields
      ].join(''),
    );
  });

  it('a tombstone decodes as a null value; type 4 (deprecated subscription metadata) is skipped', () => {
    const { key } = encodeConsumerGroupRecord({ type: 'member', group: 'g', memberId: 'm', value: null });
    const decoded = decodeOffsetsTopicRecord(key, null);
    assert.deepEqual(decoded, {
      kind: 'consumer',
      group: 'g',
      record: { type: 'member', group: 'g', memberId: 'm', value: null },
    });
    const type4 = Buffer.from('00040001' + '67', 'hex');
    assert.equal(decodeOffsetsTopicRecord(type4, Buffer.from('0000', 'hex')), null);
  });

  it('damaged values only ever give a ProtocolError', () => {
    fc.assert(
      fc.property(record, fc.nat(), fc.integer({ min: 0, max: 255 }), (r, at, byte) => {
        const { key, value } = encodeConsumerGroupRecord(r);
        if (value === null) return;
        for (const bytes of [value.subarray(0, at % value.length), Buffer.from(value).fill(byte, at % value.length)]) {
          try {
            decodeOffsetsTopicRecord(key, bytes);
          } catch (e) {
            assert.ok(e instanceof ProtocolError, String(e));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
