import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import {
  CheckpointError,
  CorruptCheckpointError,
  parseInt64Field,
  parsePartitionKey,
  partitionKey,
  readCheckpoint,
  readOffsetCheckpoint,
  splitFields,
  writeCheckpoint,
  writeOffsetCheckpoint,
} from '../../src/storage/checkpoint.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-checkpoint-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshPath = (name = 'checkpoint'): string => {
  const dir = path.join(root, `d${counter++}`);
  fs.mkdirSync(dir);
  return path.join(dir, name);
};

const pairParser = (line: string): [string, bigint] => {
  const [a, b] = splitFields(line, 2) as [string, string];
  return [a, parseInt64Field(b, 'value')];
};

function assertCorrupt(fn: () => unknown, line?: number): CorruptCheckpointError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CorruptCheckpointError, `expected CorruptCheckpointError, got ${String(err)}`);
    assert.ok(err instanceof KafkaError);
    assert.equal(err.code, ErrorCode.KAFKA_STORAGE_ERROR);
    assert.match(err.message, /Malformed checkpoint file/);
    if (line !== undefined) assert.equal(err.line, line, err.message);
    return err;
  }
  assert.fail('expected a CorruptCheckpointError');
}

describe('readCheckpoint / writeCheckpoint', () => {
  it('writes Kafka byte format and reads it back', () => {
    const file = freshPath();
    writeCheckpoint(file, 0, ['a 1', 'b 2']);
    assert.equal(fs.readFileSync(file, 'utf8'), '0\n2\na 1\nb 2\n');
    assert.deepEqual(readCheckpoint(file, pairParser), [
      ['a', 1n],
      ['b', 2n],
    ]);
  });

  it('round-trips an empty checkpoint', () => {
    const file = freshPath();
    writeCheckpoint(file, 0, []);
    assert.equal(fs.readFileSync(file, 'utf8'), '0\n0\n');
    assert.deepEqual(readCheckpoint(file, pairParser), []);
  });

  it('returns null for a missing file', () => {
    assert.equal(readCheckpoint(path.join(root, 'does-not-exist'), pairParser), null);
  });

  it('reads a zero-byte file as no entries (as Kafka does)', () => {
    const file = freshPath();
    fs.writeFileSync(file, '');
    assert.deepEqual(readCheckpoint(file, pairParser), []);
  });

  it('accepts a file without a final newline', () => {
    const file = freshPath();
    fs.writeFileSync(file, '0\n1\nx 5');
    assert.deepEqual(readCheckpoint(file, pairParser), [['x', 5n]]);
  });

  it('round-trips random entries (property)', () => {
    const file = freshPath();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.stringMatching(/^[a-zA-Z0-9._-]{1,20}$/), fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n))),
        (entries) => {
          writeCheckpoint(
            file,
            0,
            entries.map(([k, v]) => `${k} ${v}`),
          );
          assert.deepEqual(readCheckpoint(file, pairParser), entries);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('ignores a leftover .tmp file and replaces it on the next write', () => {
    const file = freshPath();
    writeCheckpoint(file, 0, ['a 1']);
    fs.writeFileSync(`${file}.tmp`, 'garbage from a crashed write\n');
    assert.deepEqual(readCheckpoint(file, pairParser), [['a', 1n]]);
    writeCheckpoint(file, 0, ['b 2']);
    assert.deepEqual(readCheckpoint(file, pairParser), [['b', 2n]]);
    assert.equal(fs.existsSync(`${file}.tmp`), false);
  });

  it('leaves no .tmp file behind after a successful write', () => {
    const file = freshPath();
    writeCheckpoint(file, 0, ['a 1']);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), [path.basename(file)]);
  });

  it('keeps the old file intact when writing the .tmp file fails', () => {
    const file = freshPath();
    writeCheckpoint(file, 0, ['a 1', 'b 2']);
    fs.mkdirSync(`${file}.tmp`); // opening the tmp file for writing now fails with EISDIR
    assert.throws(
      () => writeCheckpoint(file, 0, ['c 3']),
      (err: unknown) =>
        err instanceof CheckpointError &&
        !(err instanceof CorruptCheckpointError) &&
        err.code === ErrorCode.KAFKA_STORAGE_ERROR &&
        err.path === file &&
        (err.cause as NodeJS.ErrnoException).code === 'EISDIR',
    );
    assert.equal(fs.readFileSync(file, 'utf8'), '0\n2\na 1\nb 2\n');
    fs.rmdirSync(`${file}.tmp`);
    writeCheckpoint(file, 0, ['c 3']);
    assert.deepEqual(readCheckpoint(file, pairParser), [['c', 3n]]);
  });

  it('reports a directory that cannot be written as a storage error', () => {
    const file = path.join(root, 'no-such-dir', 'checkpoint');
    assert.throws(
      () => writeCheckpoint(file, 0, ['a 1']),
      (err: unknown) => err instanceof CheckpointError && err.code === ErrorCode.KAFKA_STORAGE_ERROR,
    );
  });

  it('reports unreadable paths as CheckpointError, not as corruption', () => {
    const dir = freshPath();
    fs.mkdirSync(dir);
    assert.throws(
      () => readCheckpoint(dir, pairParser),
      (err: unknown) => err instanceof CheckpointError && !(err instanceof CorruptCheckpointError),
    );
  });

  it('rejects entry lines that would break the format', () => {
    const file = freshPath();
    assert.throws(() => writeCheckpoint(file, 0, ['a\nb']), RangeError);
    assert.throws(() => writeCheckpoint(file, 0, ['']), RangeError);
    assert.throws(() => writeCheckpoint(file, -1, []), RangeError);
    assert.equal(fs.existsSync(file), false);
  });

  const malformed: [string, string, number | undefined][] = [
    ['unknown version', '1\n0\n', 1],
    ['non-numeric version', 'v0\n0\n', 1],
    ['blank version', '\n0\n', 1],
    ['missing count', '0\n', 2],
    ['non-numeric count', '0\nx\n', 2],
    ['negative count', '0\n-1\n', 2],
    ['fewer entries than announced', '0\n2\na 1\n', 0],
    ['more entries than announced', '0\n1\na 1\nb 2\n', 0],
    ['blank entry line', '0\n2\na 1\n\n', 4],
    ['too few fields', '0\n1\na\n', 3],
    ['too many fields', '0\n1\na 1 2\n', 3],
    ['double space', '0\n1\na  1\n', 3],
    ['non-numeric value', '0\n1\na x\n', 3],
    ['value out of int64 range', '0\n1\na 9223372036854775808\n', 3],
    ['trailing blank lines', '0\n1\na 1\n\n\n', 0],
    ['CRLF line endings', '0\r\n1\r\na 1\r\n', 1],
  ];
  for (const [name, content, line] of malformed) {
    it(`throws CorruptCheckpointError: ${name}`, () => {
      const file = freshPath();
      fs.writeFileSync(file, content);
      assertCorrupt(() => readCheckpoint(file, pairParser), line);
    });
  }

  it('never throws anything but CorruptCheckpointError on arbitrary content (property)', () => {
    const file = freshPath();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: fc.constantFrom('0', '1', '2', ' ', '\n', 'a', '-', '9') }),
          fc.uint8Array({ maxLength: 64 }),
        ),
        (content) => {
          fs.writeFileSync(file, content);
          try {
            const entries = readCheckpoint(file, pairParser);
            assert.ok(Array.isArray(entries));
          } catch (err) {
            assert.ok(err instanceof CorruptCheckpointError, String(err));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('offset checkpoints (recovery-point-offset-checkpoint, log-start-offset-checkpoint)', () => {
  it('reads a file in the format Kafka writes', () => {
    const file = freshPath('recovery-point-offset-checkpoint');
    fs.writeFileSync(file, '0\n3\nmy.topic_name-x 0 1234\n__consumer_offsets 49 0\nt 2147483647 9223372036854775807\n');
    const map = readOffsetCheckpoint(file);
    assert.deepEqual(
      [...map],
      [
        ['my.topic_name-x-0', 1234n],
        ['__consumer_offsets-49', 0n],
        ['t-2147483647', 9223372036854775807n],
      ],
    );
  });

  it('writes the Kafka format', () => {
    const file = freshPath('log-start-offset-checkpoint');
    writeOffsetCheckpoint(
      file,
      new Map([
        [partitionKey('a-b', 3), 10n],
        [partitionKey('c.d_e', 0), 0n],
      ]),
    );
    assert.equal(fs.readFileSync(file, 'utf8'), '0\n2\na-b 3 10\nc.d_e 0 0\n');
  });

  it('reads a missing file as an empty map', () => {
    assert.equal(readOffsetCheckpoint(path.join(root, 'missing-offsets')).size, 0);
  });

  it('round-trips random topic partitions (property)', () => {
    const file = freshPath('recovery-point-offset-checkpoint');
    const topic = fc.stringMatching(/^[a-zA-Z0-9._-]{1,40}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(topic, fc.integer({ min: 0, max: 2 ** 31 - 1 })), {
          selector: ([t, p]) => partitionKey(t, p),
          maxLength: 30,
        }),
        fc.bigInt(0n, 2n ** 63n - 1n),
        (tps, base) => {
          const entries = new Map(tps.map(([t, p], i) => [partitionKey(t, p), base / BigInt(i + 1)]));
          writeOffsetCheckpoint(file, entries);
          assert.deepEqual(readOffsetCheckpoint(file), entries);
          for (const [t, p] of tps) assert.deepEqual(parsePartitionKey(partitionKey(t, p)), { topic: t, partition: p });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rejects keys and topics it cannot write', () => {
    const file = freshPath();
    assert.throws(() => writeOffsetCheckpoint(file, new Map([['no partition', 1n]])), RangeError);
    assert.throws(() => writeOffsetCheckpoint(file, new Map([['bad topic-0', 1n]])), RangeError);
    assert.throws(() => writeOffsetCheckpoint(file, new Map([['-0', 1n]])), RangeError);
    assert.throws(() => writeOffsetCheckpoint(file, new Map([['t-0', 2n ** 63n]])), RangeError);
    assert.equal(fs.existsSync(file), false);
  });

  it('throws CorruptCheckpointError on malformed entries', () => {
    const cases = ['0\n1\nt 0\n', '0\n1\nt -1 5\n', '0\n1\nt x 5\n', '0\n1\nt 0 5.5\n', '0\n1\nt 2147483648 5\n'];
    for (const content of cases) {
      const file = freshPath();
      fs.writeFileSync(file, content);
      assertCorrupt(() => readOffsetCheckpoint(file), 3);
    }
  });
});
