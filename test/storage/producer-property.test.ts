// Property: idempotent producers that retry until acknowledged never leave a duplicate or a gap in the log,
// whatever happens on the way. Each simulated producer numbers its batches as a client does and keeps at most 5
// unacknowledged batches in flight on its connection: requests reach the log in the order sent, answers come back
// in that order, and a lost request or a lost answer breaks the connection, after which every unacknowledged batch
// is sent again from the oldest (as librdkafka and the Java client do). Random steps interleave the producers,
// plain batches, rolls and, on disk, clean and crash restarts (which break every connection). At the end every
// producer's records are in the log exactly once, in sequence order, and every answer for a batch named the same
// offset.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { logConfig } from '../../src/storage/config.js';
import { FileCache } from '../../src/storage/file-cache.js';
import { MemoryLog } from '../../src/storage/memory-log.js';
import { SegmentLog } from '../../src/storage/segment-log.js';
import type { PartitionLog } from '../../src/storage/types.js';
import { BASE_TS, idemBatch, logValues } from './producer-helpers.js';

const RUNS = Number(process.env.SAMSA_PROPERTY_RUNS ?? 40);
const MAX_IN_FLIGHT = 5;
const NOW = BASE_TS + 10_000;

type Step =
  | { kind: 'create'; producer: number; records: number }
  /** The next unsent batch of the window reaches the log, or its request is lost. */
  | { kind: 'send'; producer: number; lost: boolean }
  /** The oldest outstanding answer reaches the producer, or is lost. */
  | { kind: 'answer'; producer: number; lost: boolean }
  | { kind: 'plain' }
  | { kind: 'roll' }
  | { kind: 'restart'; clean: boolean };

const producerArb = fc.integer({ min: 0, max: 2 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), producer: producerArb, records: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('send' as const), producer: producerArb, lost: fc.boolean() }),
  fc.record({ kind: fc.constant('send' as const), producer: producerArb, lost: fc.constant(false) }),
  fc.record({ kind: fc.constant('answer' as const), producer: producerArb, lost: fc.boolean() }),
  fc.record({ kind: fc.constant('answer' as const), producer: producerArb, lost: fc.constant(false) }),
  fc.record({ kind: fc.constant('plain' as const) }),
  fc.record({ kind: fc.constant('roll' as const) }),
  fc.record({ kind: fc.constant('restart' as const), clean: fc.boolean() }),
);

interface Batch {
  seq: number;
  records: number;
  /** The base offset the log gave it, once it answered for it. */
  offset?: bigint;
  acked: boolean;
}

interface Engine {
  log: PartitionLog;
  restart(clean: boolean): Promise<void>;
  dispose(): Promise<void>;
}

function memoryEngine(): Engine {
  const log = new MemoryLog({ segmentBytes: 700 }, 0n, { now: () => NOW });
  return { log, restart: async () => {}, dispose: async () => {} };
}

function segmentEngine(): Engine {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-idem-property-'));
  const config = logConfig({ segmentBytes: 700 });
  const engine: Engine = {
    log: SegmentLog.open(dir, config, { files: new FileCache({ maxOpen: 8 }), now: () => NOW }),
    async restart(clean) {
      const old = engine.log as SegmentLog;
      if (clean) await old.close();
      // Without close: as after kill -9, everything written is there and the log is recovered from the start.
      engine.log = SegmentLog.open(dir, config, {
        files: new FileCache({ maxOpen: 8 }),
        cleanShutdown: clean,
        recoveryPoint: clean ? old.recoveryPoint : 0n,
        logStartOffset: old.logStartOffset,
        now: () => NOW,
      });
    },
    async dispose() {
      await (engine.log as SegmentLog).close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return engine;
}

interface Producer {
  next: number;
  batches: Batch[];
  /** Batches sent on the current connection and not answered yet, oldest first. */
  outstanding: Batch[];
}

async function run(engine: Engine, steps: Step[]): Promise<void> {
  const producers: Producer[] = [0, 1, 2].map(() => ({ next: 0, batches: [], outstanding: [] }));
  const pid = (p: number) => BigInt(5000 + p);
  const unacked = (pr: Producer) => pr.batches.filter((b) => !b.acked);
  /** The log's answer for a batch: its offset (first time or duplicate); anything else fails the property. */
  const append = (p: number, b: Batch): void => {
    const result = engine.log.append(idemBatch({ pid: pid(p), seq: b.seq, count: b.records }), { now: NOW });
    if (b.offset !== undefined) {
      assert.equal(result.duplicate, true, `seq ${b.seq} stored twice`);
      assert.equal(result.firstOffset, b.offset, `seq ${b.seq} answered with another offset`);
    } else {
      assert.equal(result.duplicate, undefined, `seq ${b.seq} first stored as a duplicate`);
      b.offset = result.firstOffset;
    }
  };
  const disconnect = (pr: Producer): void => {
    pr.outstanding = [];
  };
  for (const step of steps) {
    switch (step.kind) {
      case 'create': {
        const pr = producers[step.producer]!;
        pr.batches.push({ seq: pr.next, records: step.records, acked: false });
        pr.next += step.records;
        break;
      }
      case 'send': {
        const pr = producers[step.producer]!;
        const window = unacked(pr).slice(0, MAX_IN_FLIGHT);
        const b = window.find((x) => !pr.outstanding.includes(x));
        if (b === undefined) break;
        if (step.lost) {
          disconnect(pr);
          break;
        }
        append(step.producer, b);
        pr.outstanding.push(b);
        break;
      }
      case 'answer': {
        const pr = producers[step.producer]!;
        const b = pr.outstanding.shift();
        if (b === undefined) break;
        if (step.lost) disconnect(pr);
        else b.acked = true;
        break;
      }
      case 'plain':
        engine.log.append(idemBatch({ pid: -1n, seq: 0, tag: 'plain' }), { now: NOW });
        break;
      case 'roll':
        engine.log.roll(NOW);
        break;
      case 'restart':
        await engine.restart(step.clean);
        for (const pr of producers) disconnect(pr);
        break;
    }
  }
  // Every producer sends what is unacknowledged again, oldest first, until all is acknowledged.
  for (const [p, pr] of producers.entries()) {
    for (const b of unacked(pr)) {
      append(p, b);
      b.acked = true;
    }
  }
  const values = logValues(engine.log).map((v) => v.value);
  for (const [p, pr] of producers.entries()) {
    const mine = values.filter((v) => v.startsWith(`p${pid(p)}-`));
    assert.deepEqual(
      mine,
      Array.from({ length: pr.next }, (_, i) => `p${pid(p)}-${i}`),
      `producer ${p}: exactly once, in order`,
    );
  }
}

for (const [name, make] of [
  ['MemoryLog', memoryEngine],
  ['SegmentLog', segmentEngine],
] as const) {
  test(`idempotent producers never duplicate or skip under lost requests, lost answers and restarts (${name})`, {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 10, maxLength: 120 }), async (steps) => {
        const engine = make();
        try {
          await run(engine, steps);
        } finally {
          await engine.dispose();
        }
      }),
      { numRuns: RUNS },
    );
  });
}
