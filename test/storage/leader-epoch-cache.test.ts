import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Logger } from '../../src/log/logger.js';
import { CheckpointError } from '../../src/storage/checkpoint.js';
import { LeaderEpochCache } from '../../src/storage/leader-epoch-cache.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-epoch-cache-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshFile = (): string => {
  const dir = path.join(root, `p${counter++}`);
  fs.mkdirSync(dir);
  return path.join(dir, 'leader-epoch-checkpoint');
};

function capturingLogger(): { logger: Logger; warnings: unknown[][] } {
  const warnings: unknown[][] = [];
  const noop = (): void => {};
  const logger = {
    warn: (...args: unknown[]) => warnings.push(args),
    info: noop,
    error: noop,
    debug: noop,
    child: () => logger,
  } as unknown as Logger;
  return { logger, warnings };
}

type Entry = { epoch: number; startOffset: bigint };
const e = (epoch: number, startOffset: bigint): Entry => ({ epoch, startOffset });

function cacheWith(...entries: [number, bigint][]): LeaderEpochCache {
  const cache = LeaderEpochCache.load(null);
  for (const [epoch, start] of entries) cache.assign(epoch, start);
  return cache;
}

describe('LeaderEpochCache', () => {
  it('is empty at first', () => {
    const cache = LeaderEpochCache.load(null);
    assert.equal(cache.latestEpoch(), -1);
    assert.deepEqual(cache.entries(), []);
    assert.deepEqual(cache.endOffsetFor(0, 10n), { epoch: -1, endOffset: -1n });
    assert.deepEqual(cache.endOffsetFor(-1, 10n), { epoch: -1, endOffset: -1n });
    assert.equal(cache.epochForOffset(0n), -1);
  });

  it('answers OffsetForLeaderEpoch as in KIP-101', () => {
    const cache = cacheWith([0, 0n], [1, 100n], [2, 200n]);
    assert.deepEqual(cache.endOffsetFor(2, 300n), { epoch: 2, endOffset: 300n }); // latest -> log end
    assert.deepEqual(cache.endOffsetFor(1, 300n), { epoch: 1, endOffset: 200n });
    assert.deepEqual(cache.endOffsetFor(0, 300n), { epoch: 0, endOffset: 100n });
    assert.deepEqual(cache.endOffsetFor(3, 300n), { epoch: -1, endOffset: -1n }); // newer than anything known
    assert.deepEqual(cache.endOffsetFor(-1, 300n), { epoch: -1, endOffset: -1n }); // UNDEFINED_EPOCH
  });

  it('maps an epoch the leader skipped to the epoch before it (KIP-279)', () => {
    // The leader never wrote in epochs 1 and 3; a follower whose last epoch is 1 (or 3) asks.
    const cache = cacheWith([0, 0n], [2, 100n], [4, 150n]);
    assert.deepEqual(cache.endOffsetFor(1, 170n), { epoch: 0, endOffset: 100n });
    assert.deepEqual(cache.endOffsetFor(3, 170n), { epoch: 2, endOffset: 150n });
  });

  it('answers an epoch below the first known one with the first start offset (history removed by retention)', () => {
    const cache = cacheWith([3, 50n], [5, 80n]);
    assert.deepEqual(cache.endOffsetFor(1, 100n), { epoch: 1, endOffset: 50n });
    assert.deepEqual(cache.endOffsetFor(4, 100n), { epoch: 3, endOffset: 80n });
  });

  it('assign ignores epochs that are not newer and unknown epochs', () => {
    const cache = cacheWith([2, 10n]);
    cache.assign(2, 20n);
    cache.assign(2, 5n);
    cache.assign(1, 30n);
    cache.assign(-1, 40n);
    assert.deepEqual(cache.entries(), [e(2, 10n)]);
    assert.throws(() => cache.assign(3, -1n), RangeError);
    assert.throws(() => cache.assign(1.5, 1n), RangeError);
  });

  it('assign removes entries of older epochs starting at or after the new start (never committed)', () => {
    const { logger, warnings } = capturingLogger();
    const cache = LeaderEpochCache.load(null, logger);
    cache.assign(0, 0n);
    cache.assign(1, 100n);
    cache.assign(2, 150n);
    cache.assign(3, 100n);
    assert.deepEqual(cache.entries(), [e(0, 0n), e(3, 100n)]);
    assert.equal(warnings.length, 1);
    cache.assign(4, 100n);
    assert.deepEqual(cache.entries(), [e(0, 0n), e(4, 100n)]);
  });

  it('epochForOffset finds the covering entry', () => {
    const cache = cacheWith([1, 10n], [4, 20n], [6, 30n]);
    assert.equal(cache.epochForOffset(9n), -1);
    assert.equal(cache.epochForOffset(10n), 1);
    assert.equal(cache.epochForOffset(19n), 1);
    assert.equal(cache.epochForOffset(20n), 4);
    assert.equal(cache.epochForOffset(29n), 4);
    assert.equal(cache.epochForOffset(30n), 6);
    assert.equal(cache.epochForOffset(1000n), 6);
  });

  it('truncateFromEnd drops entries starting at or after the new log end', () => {
    const cache = cacheWith([0, 0n], [1, 100n], [2, 200n]);
    cache.truncateFromEnd(201n);
    assert.deepEqual(cache.entries(), [e(0, 0n), e(1, 100n), e(2, 200n)]);
    cache.truncateFromEnd(200n);
    assert.deepEqual(cache.entries(), [e(0, 0n), e(1, 100n)]);
    cache.truncateFromEnd(-1n); // undefined offset: ignored
    assert.deepEqual(cache.entries(), [e(0, 0n), e(1, 100n)]);
    cache.truncateFromEnd(0n);
    assert.deepEqual(cache.entries(), []);
  });

  it('truncateFromStart drops entries below the log start and moves the covering entry up', () => {
    const cache = cacheWith([0, 0n], [1, 100n], [2, 200n]);
    cache.truncateFromStart(0n);
    assert.deepEqual(cache.entries(), [e(0, 0n), e(1, 100n), e(2, 200n)]);
    cache.truncateFromStart(50n);
    assert.deepEqual(cache.entries(), [e(0, 50n), e(1, 100n), e(2, 200n)]);
    cache.truncateFromStart(100n);
    assert.deepEqual(cache.entries(), [e(1, 100n), e(2, 200n)]);
    cache.truncateFromStart(150n);
    assert.deepEqual(cache.entries(), [e(1, 150n), e(2, 200n)]);
    cache.truncateFromStart(500n); // beyond every start: the latest epoch now starts at the log start
    assert.deepEqual(cache.entries(), [e(2, 500n)]);
    cache.truncateFromStart(10n); // below the first entry: nothing to do
    assert.deepEqual(cache.entries(), [e(2, 500n)]);
  });

  it('clear empties the cache', () => {
    const cache = cacheWith([0, 0n], [1, 100n]);
    cache.clear();
    assert.deepEqual(cache.entries(), []);
    assert.equal(cache.latestEpoch(), -1);
  });

  it('entries() is a snapshot', () => {
    const cache = cacheWith([0, 0n]);
    const snapshot = cache.entries();
    cache.assign(1, 10n);
    assert.deepEqual(snapshot, [e(0, 0n)]);
  });
});

describe('LeaderEpochCache persistence', () => {
  it('writes Kafka format on flush and loads it back', () => {
    const file = freshFile();
    const cache = LeaderEpochCache.load(file);
    cache.assign(0, 0n);
    cache.assign(3, 120n);
    assert.equal(fs.existsSync(file), false, 'nothing is written before flush');
    cache.flush();
    assert.equal(fs.readFileSync(file, 'utf8'), '0\n2\n0 0\n3 120\n');
    const reloaded = LeaderEpochCache.load(file);
    assert.deepEqual(reloaded.entries(), [e(0, 0n), e(3, 120n)]);
    assert.deepEqual(reloaded.endOffsetFor(0, 200n), { epoch: 0, endOffset: 120n });
  });

  it('reads a checkpoint written by Kafka', () => {
    const file = freshFile();
    fs.writeFileSync(file, '0\n3\n0 0\n5 1000\n7 2147483648\n');
    assert.deepEqual(LeaderEpochCache.load(file).entries(), [e(0, 0n), e(5, 1000n), e(7, 2147483648n)]);
  });

  it('flushes only when something changed', () => {
    const file = freshFile();
    const cache = LeaderEpochCache.load(file);
    cache.flush();
    assert.equal(fs.existsSync(file), false, 'an unchanged empty cache writes nothing');
    cache.assign(1, 5n);
    cache.flush();
    fs.unlinkSync(file);
    cache.flush();
    assert.equal(fs.existsSync(file), false, 'no rewrite without a change');
    cache.assign(1, 7n); // no-op
    cache.truncateFromEnd(6n); // no-op
    cache.flush();
    assert.equal(fs.existsSync(file), false);
    cache.clear();
    cache.flush();
    assert.equal(fs.readFileSync(file, 'utf8'), '0\n0\n');
  });

  it('a memory-only cache never touches the disk', () => {
    const cache = LeaderEpochCache.load(null);
    cache.assign(0, 0n);
    cache.flush();
    assert.deepEqual(cache.entries(), [e(0, 0n)]);
  });

  const corrupt: [string, string][] = [
    ['garbage', 'not a checkpoint'],
    ['wrong version', '1\n0\n'],
    ['count mismatch', '0\n2\n0 0\n'],
    ['negative epoch', '0\n1\n-1 0\n'],
    ['negative offset', '0\n1\n0 -5\n'],
    ['epochs not increasing', '0\n2\n3 0\n2 10\n'],
    ['start offsets not increasing', '0\n2\n2 10\n3 10\n'],
  ];
  for (const [name, content] of corrupt) {
    it(`starts empty with a warning on a corrupt checkpoint (${name}) and repairs it on flush`, () => {
      const file = freshFile();
      fs.writeFileSync(file, content);
      const { logger, warnings } = capturingLogger();
      const cache = LeaderEpochCache.load(file, logger);
      assert.deepEqual(cache.entries(), []);
      assert.equal(warnings.length, 1);
      cache.flush();
      assert.equal(fs.readFileSync(file, 'utf8'), '0\n0\n');
    });
  }

  it('throws a storage error when the file cannot be read at all', () => {
    const file = freshFile();
    fs.mkdirSync(file);
    assert.throws(() => LeaderEpochCache.load(file), CheckpointError);
  });

  it('stays dirty after a failed flush and retries', () => {
    const file = freshFile();
    const cache = LeaderEpochCache.load(file);
    cache.assign(2, 0n);
    fs.mkdirSync(`${file}.tmp`);
    assert.throws(() => cache.flush(), CheckpointError);
    fs.rmdirSync(`${file}.tmp`);
    cache.flush();
    assert.deepEqual(LeaderEpochCache.load(file).entries(), [e(2, 0n)]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Property tests.

type Op =
  | { kind: 'assign'; epoch: number; offset: bigint }
  | { kind: 'truncateFromEnd'; offset: bigint }
  | { kind: 'truncateFromStart'; offset: bigint }
  | { kind: 'clear' }
  | { kind: 'restart' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('assign' as const),
      epoch: fc.integer({ min: -1, max: 12 }),
      offset: fc.bigInt(0n, 60n),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncateFromEnd' as const), offset: fc.bigInt(-1n, 60n) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncateFromStart' as const), offset: fc.bigInt(0n, 60n) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

/** The simplest possible statement of the rules, with linear scans over a plain list. */
class Model {
  list: Entry[] = [];

  latest(): number {
    return this.list.at(-1)?.epoch ?? -1;
  }

  apply(op: Op): void {
    switch (op.kind) {
      case 'assign':
        if (op.epoch >= 0 && op.epoch > this.latest()) {
          this.list = [...this.list.filter((x) => x.startOffset < op.offset), e(op.epoch, op.offset)];
        }
        break;
      case 'truncateFromEnd':
        if (op.offset >= 0n) this.list = this.list.filter((x) => x.startOffset < op.offset);
        break;
      case 'truncateFromStart': {
        const below = this.list.filter((x) => x.startOffset <= op.offset);
        const first = this.list[0];
        if (first !== undefined && first.startOffset < op.offset) {
          const covering = below.at(-1)!;
          this.list = [e(covering.epoch, op.offset), ...this.list.filter((x) => x.startOffset > op.offset)];
        }
        break;
      }
      case 'clear':
        this.list = [];
        break;
      case 'restart':
        break;
    }
  }

  endOffsetFor(epoch: number, leo: bigint): { epoch: number; endOffset: bigint } {
    const undef = { epoch: -1, endOffset: -1n };
    if (epoch < 0 || this.list.length === 0) return undef;
    if (epoch === this.latest()) return { epoch, endOffset: leo };
    const next = this.list.find((x) => x.epoch > epoch);
    if (next === undefined) return undef;
    const prev = this.list.filter((x) => x.epoch <= epoch).at(-1);
    return prev === undefined
      ? { epoch, endOffset: next.startOffset }
      : { epoch: prev.epoch, endOffset: next.startOffset };
  }

  epochForOffset(offset: bigint): number {
    return this.list.filter((x) => x.startOffset <= offset).at(-1)?.epoch ?? -1;
  }
}

function assertStrictlyIncreasing(entries: readonly Entry[]): void {
  for (let i = 1; i < entries.length; i++) {
    assert.ok(entries[i]!.epoch > entries[i - 1]!.epoch, 'epochs strictly increasing');
    assert.ok(entries[i]!.startOffset > entries[i - 1]!.startOffset, 'start offsets strictly increasing');
  }
}

describe('LeaderEpochCache properties', () => {
  it('behaves like the model under random operations, including flush and reload', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.boolean(), (ops, persistent) => {
        const file = persistent ? freshFile() : null;
        let cache = LeaderEpochCache.load(file);
        const model = new Model();
        for (const op of ops) {
          switch (op.kind) {
            case 'assign':
              cache.assign(op.epoch, op.offset);
              break;
            case 'truncateFromEnd':
              cache.truncateFromEnd(op.offset);
              break;
            case 'truncateFromStart':
              cache.truncateFromStart(op.offset);
              break;
            case 'clear':
              cache.clear();
              break;
            case 'restart':
              if (file !== null) {
                cache.flush();
                cache = LeaderEpochCache.load(file);
              }
              break;
          }
          model.apply(op);
          assert.deepEqual(cache.entries(), model.list);
          assertStrictlyIncreasing(cache.entries());
          assert.equal(cache.latestEpoch(), model.latest());
          for (let epoch = -1; epoch <= 13; epoch++) {
            assert.deepEqual(cache.endOffsetFor(epoch, 99n), model.endOffsetFor(epoch, 99n), `epoch ${epoch}`);
          }
          for (let offset = 0n; offset <= 61n; offset += 3n) {
            assert.equal(cache.epochForOffset(offset), model.epochForOffset(offset));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  /**
   * Drives the cache the way a partition log does (appends with non-decreasing leader epochs, tail truncation,
   * log start advances, restarts) and checks every answer against the log itself: each offset's epoch, and
   * OffsetForLeaderEpoch computed from its definition over the records.
   */
  it('agrees with the epochs of the records of a simulated log', () => {
    type LogOp =
      | { kind: 'append'; count: number; newLeader: number }
      | { kind: 'truncate'; fraction: number }
      | { kind: 'advanceStart'; fraction: number }
      | { kind: 'restart' };
    const logOpArb: fc.Arbitrary<LogOp> = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant('append' as const),
          count: fc.integer({ min: 1, max: 5 }),
          newLeader: fc.integer({ min: 0, max: 2 }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('truncate' as const),
          fraction: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('advanceStart' as const),
          fraction: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
      },
      { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
    );

    fc.assert(
      fc.property(fc.array(logOpArb, { maxLength: 40 }), (ops) => {
        const file = freshFile();
        let cache = LeaderEpochCache.load(file);
        let logStart = 0n;
        let records: number[] = []; // epoch of offset logStart + i
        let leaderEpoch = 0;
        const leo = (): bigint => logStart + BigInt(records.length);
        for (const op of ops) {
          if (op.kind === 'append') {
            leaderEpoch += op.newLeader; // leader epochs never go back
            cache.assign(leaderEpoch, leo());
            for (let i = 0; i < op.count; i++) records.push(leaderEpoch);
          } else if (op.kind === 'truncate') {
            const keep = Math.floor(records.length * op.fraction);
            records = records.slice(0, keep);
            cache.truncateFromEnd(leo());
          } else if (op.kind === 'advanceStart') {
            if (records.length === 0) continue;
            const drop = Math.min(records.length - 1, Math.floor(records.length * op.fraction));
            records = records.slice(drop);
            logStart += BigInt(drop);
            cache.truncateFromStart(logStart);
          } else {
            cache.flush();
            cache = LeaderEpochCache.load(file);
          }

          // The cache holds exactly the first offset of every run of equal epochs in the log.
          const runs: Entry[] = [];
          records.forEach((epoch, i) => {
            if (i === 0 || records[i - 1] !== epoch) runs.push(e(epoch, logStart + BigInt(i)));
          });
          assert.deepEqual(cache.entries(), runs);
          records.forEach((epoch, i) => {
            assert.equal(cache.epochForOffset(logStart + BigInt(i)), epoch);
          });

          // OffsetForLeaderEpoch from its definition over the records.
          const epochs = [...new Set(records)];
          const latest = epochs.at(-1) ?? -1;
          for (let requested = -1; requested <= leaderEpoch + 1; requested++) {
            let expected: { epoch: number; endOffset: bigint };
            if (requested < 0 || records.length === 0 || requested > latest) {
              expected = { epoch: -1, endOffset: -1n };
            } else if (requested === latest) {
              expected = { epoch: requested, endOffset: leo() };
            } else {
              const firstAfter = records.findIndex((x) => x > requested);
              const known = epochs.filter((x) => x <= requested).at(-1);
              expected = { epoch: known ?? requested, endOffset: logStart + BigInt(firstAfter) };
            }
            assert.deepEqual(cache.endOffsetFor(requested, leo()), expected, `requested ${requested}`);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
