import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeOffsetsTopicRecord,
  groupMetadataRecord,
  offsetCommitRecord,
} from '../../../src/coordinator/group/offsets-topic-records.js';
import { ProtocolError } from '../../../src/protocol/index.js';

describe('__consumer_offsets records', () => {
  it('writes an offset commit key in Kafka layout: version 1, group, topic, partition', () => {
    const { key } = offsetCommitRecord('g', 'tp', 7, null);
    assert.deepEqual(key, Buffer.from([0, 1, 0, 1, 0x67, 0, 2, 0x74, 0x70, 0, 0, 0, 7]));
  });

  it('round-trips offsets (with and without expiry), group metadata and tombstones', () => {
    const offset = { offset: 42n, leaderEpoch: 3, metadata: 'meta ✓', commitTimestamp: 1000n, expireTimestamp: -1n };
    const r1 = offsetCommitRecord('group-1', 'topic', 2, offset);
    assert.equal(r1.value!.readInt16BE(0), 3);
    assert.deepEqual(decodeOffsetsTopicRecord(r1.key, r1.value), {
      kind: 'offset',
      group: 'group-1',
      topic: 'topic',
      partition: 2,
      value: { ...offset },
    });
    const withExpiry = offsetCommitRecord('g', 't', 0, { ...offset, expireTimestamp: 5000n });
    assert.equal(withExpiry.value!.readInt16BE(0), 1);
    const back = decodeOffsetsTopicRecord(withExpiry.key, withExpiry.value)!;
    assert.equal(back.kind === 'offset' && back.value!.expireTimestamp, 5000n);
    assert.deepEqual(decodeOffsetsTopicRecord(r1.key, null), {
      kind: 'offset',
      group: 'group-1',
      topic: 'topic',
      partition: 2,
      value: null,
    });

    const meta = {
      protocolType: 'consumer',
      generation: 5,
      protocol: 'range',
      leader: 'm1',
      currentStateTimestamp: 1234n,
      members: [
        {
          memberId: 'm1',
          groupInstanceId: null,
          clientId: 'c',
          clientHost: '/127.0.0.1',
          rebalanceTimeout: 300000,
          sessionTimeout: 45000,
          subscription: Buffer.from([1, 2]),
          assignment: Buffer.from([3]),
        },
      ],
    };
    const g = groupMetadataRecord('group-1', meta);
    assert.equal(g.key.readInt16BE(0), 2);
    const decoded = decodeOffsetsTopicRecord(g.key, g.value);
    assert.equal(decoded?.kind, 'group');
    assert.equal(decoded?.kind === 'group' && decoded.value?.members[0]?.memberId, 'm1');
    assert.equal(decoded?.kind === 'group' && decoded.value?.generation, 5);
    assert.deepEqual(decodeOffsetsTopicRecord(g.key, null), { kind: 'group', group: 'group-1', value: null });
  });

  it('skips record types it does not know and refuses malformed ones', () => {
    assert.equal(decodeOffsetsTopicRecord(Buffer.from([0, 9, 0, 0]), null), null);
    assert.throws(() => decodeOffsetsTopicRecord(Buffer.from([0, 1, 0]), null), ProtocolError);
    const r = offsetCommitRecord('g', 't', 0, {
      offset: 1n,
      leaderEpoch: -1,
      metadata: '',
      commitTimestamp: 0n,
      expireTimestamp: -1n,
    });
    assert.throws(() => decodeOffsetsTopicRecord(r.key, Buffer.from([0, 99])), ProtocolError);
  });
});
