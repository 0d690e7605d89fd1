// Round-trip properties over every version of every message the generator knows: requests, responses,
// headers and the data/internal records. Random bytes and truncated frames must fail with a ProtocolError.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import * as generated from '../../src/protocol/generated/index.js';
import { ProtocolError, Reader, Writer } from '../../src/protocol/index.js';
import { containsFields, type MessageSchema, structArbitrary } from './message-arbitrary.js';

type ReadFn = (r: Reader, v: number) => unknown;
type WriteFn = (w: Writer, v: number, o: unknown) => void;

const exports = generated as unknown as Record<string, unknown>;
const schemas = Object.entries(exports)
  .filter(([k, s]) => k.endsWith('Schema') && typeof s === 'object' && s !== null && 'structs' in s)
  .map(([, s]) => s as MessageSchema);

function codecs(schema: MessageSchema): { read: ReadFn; write: WriteFn } {
  const read = exports[`read${schema.root}`] as ReadFn;
  const write = exports[`write${schema.root}`] as WriteFn;
  assert.equal(typeof read, 'function', `read${schema.root}`);
  assert.equal(typeof write, 'function', `write${schema.root}`);
  return { read, write };
}

function encode(write: WriteFn, v: number, o: unknown): Buffer {
  const w = new Writer(64);
  write(w, v, o);
  return w.toBuffer();
}

const RUNS = Number(process.env.SAMSA_PROPERTY_RUNS ?? 25);

test('the generator produced a schema for every message spec', () => {
  // 88 APIs x request/response, 2 headers and the data/internal messages.
  assert.ok(schemas.length >= 88 * 2 + 2 + 8, `only ${schemas.length} schemas`);
  assert.equal(generated.API_SPECS.length, new Set(generated.API_SPECS.map((s) => s.apiKey)).size);
});

describe('round trip of every version of every message', () => {
  for (const schema of schemas) {
    test(schema.name, () => {
      const { read, write } = codecs(schema);
      for (let v = schema.valid[0]; v <= schema.valid[1]; v++) {
        fc.assert(
          fc.property(structArbitrary(schema, schema.root, v), (value) => {
            const bytes = encode(write, v, value);
            const decoded = read(new Reader(bytes), v);
            const diff = containsFields(value, decoded);
            assert.equal(diff, null, `${schema.name} v${v}: ${diff}`);
            // Re-encoding what was decoded gives the same bytes: absent fields decode to their defaults.
            assert.ok(encode(write, v, decoded).equals(bytes), `${schema.name} v${v}: re-encoding differs`);
            // Every strict prefix is refused with a ProtocolError.
            for (const cut of prefixes(bytes.length)) {
              assert.throws(() => read(new Reader(bytes, 0, cut), v), ProtocolError);
            }
          }),
          { numRuns: RUNS },
        );
      }
    });
  }
});

/** A handful of cut points, always including 0 and length - 1. */
function prefixes(length: number): number[] {
  if (length === 0) return [];
  const cuts = new Set([0, length - 1, Math.floor(length / 2), Math.floor(length / 3)]);
  return [...cuts].filter((c) => c < length);
}

describe('hostile input', () => {
  test('random bytes only ever yield a message or a ProtocolError', () => {
    for (const schema of schemas) {
      const { read } = codecs(schema);
      fc.assert(
        fc.property(
          fc.integer({ min: schema.valid[0], max: schema.valid[1] }),
          fc.uint8Array({ maxLength: 96 }),
          (v, bytes) => {
            try {
              read(new Reader(Buffer.from(bytes)), v);
            } catch (err) {
              if (!(err instanceof ProtocolError)) throw err;
            }
          },
        ),
        { numRuns: 30 },
      );
    }
  });

  test('huge array counts are refused before any allocation', () => {
    // Metadata v1: topics is an int32-counted array; claim 2^31-1 topics in a 10-byte frame.
    const frame = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 1, 0x61, 0, 0, 0]);
    const before = process.memoryUsage().heapUsed;
    const err = captureError(() => generated.readMetadataRequest(new Reader(frame), 1));
    assert.ok(err instanceof ProtocolError);
    assert.equal(err.kind, 'invalid-length');
    assert.ok(process.memoryUsage().heapUsed - before < 1024 * 1024);
    // The compact form (Metadata v9+): uvarint count of 2^32 - 1.
    const compact = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0]);
    assert.throws(() => generated.readMetadataRequest(new Reader(compact), 9), ProtocolError);
  });

  test('negative and oversized lengths are refused', () => {
    // Produce v3: transactional id with length -2, then a string longer than the frame.
    assert.throws(() => generated.readProduceRequest(new Reader(Buffer.from([0xff, 0xfe])), 3), {
      name: 'ProtocolError',
      kind: 'invalid-length',
    });
    assert.throws(() => generated.readProduceRequest(new Reader(Buffer.from([0x7f, 0xff, 0x61])), 3), {
      kind: 'invalid-length',
    });
    // Records field (bytes) claiming 1 GiB.
    const w = new Writer();
    w.nullableString(null)
      .int16(1)
      .int32(1000)
      .int32(1)
      .string('t')
      .int32(1)
      .int32(0)
      .int32(1 << 30);
    assert.throws(() => generated.readProduceRequest(new Reader(w.toBuffer()), 3), { kind: 'invalid-length' });
  });

  test('a tagged field whose size overruns the frame is refused', () => {
    // ApiVersions request v3: two compact strings then a tagged section claiming a 100-byte field.
    const bytes = Buffer.from([2, 0x61, 2, 0x62, 1, 0, 100, 1, 2, 3]);
    assert.throws(() => generated.readApiVersionsRequest(new Reader(bytes), 3), { kind: 'invalid-length' });
  });
});

describe('encoding rules', () => {
  test('a non-default value for a field the version lacks is refused unless ignorable', () => {
    const w = new Writer();
    assert.throws(() => generated.writeProduceRequest(w, 2, { transactionalId: 'tx', acks: 1, timeoutMs: 1 }), {
      kind: 'unsupported-field',
    });
    // ClientId is ignorable in the header, so version 0 silently drops it.
    const h = new Writer();
    generated.writeRequestHeader(h, 0, { requestApiKey: 18, requestApiVersion: 0, correlationId: 7, clientId: 'x' });
    assert.equal(h.toBuffer().length, 8);
  });

  test('null for a field that is not nullable in the version is refused', () => {
    const w = new Writer();
    assert.throws(
      () => generated.writeMetadataRequest(w, 0, { topics: null }),
      (err: unknown) => err instanceof ProtocolError && err.kind === 'invalid-value',
    );
  });

  test('missing fields take the spec defaults', () => {
    const w = new Writer();
    generated.writeFetchRequest(w, 12, { topics: [] });
    const decoded = generated.readFetchRequest(new Reader(w.toBuffer()), 12);
    assert.equal(decoded.replicaId, -1);
    assert.equal(decoded.sessionEpoch, -1);
    assert.equal(decoded.rackId, '');
  });

  test('unknown tagged fields survive a decode and re-encode', () => {
    const w = new Writer();
    generated.writeApiVersionsRequest(w, 3, {
      clientSoftwareName: 'a',
      clientSoftwareVersion: 'b',
      unknownTaggedFields: [
        { tag: 7, data: Buffer.from([1, 2]) },
        { tag: 3, data: Buffer.from([9]) },
      ],
    });
    const bytes = w.toBuffer();
    const decoded = generated.readApiVersionsRequest(new Reader(bytes), 3);
    assert.deepEqual(
      decoded.unknownTaggedFields?.map((t) => t.tag),
      [3, 7],
    );
    const again = new Writer();
    generated.writeApiVersionsRequest(again, 3, decoded);
    assert.ok(again.toBuffer().equals(bytes));
  });

  test('known tagged fields are decoded into their properties', () => {
    // Metadata response v12: a partition's leader; FetchResponse v12+ carries CurrentLeader as tag 1.
    const w = new Writer();
    generated.writeFetchResponse(w, 12, {
      responses: [
        {
          topic: 't',
          partitions: [{ partitionIndex: 0, currentLeader: { leaderId: 3, leaderEpoch: 9 }, records: null }],
        },
      ],
    });
    const r = generated.readFetchResponse(new Reader(w.toBuffer()), 12);
    assert.deepEqual({ ...r.responses[0]!.partitions[0]!.currentLeader }, { leaderId: 3, leaderEpoch: 9 });
  });
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
