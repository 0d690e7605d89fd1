// The storage conformance suite: random sequences of appends (idempotent producers' batches among them: next
// sequences, retries, gaps, epoch bumps and stale epochs), reads, truncations, rolls, retention, DeleteRecords,
// timestamp and epoch lookups and restarts, run against an engine under test and the MemoryLog model side by side;
// after every step both must give the same answers and hold the same producer state.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KafkaError } from '../../src/protocol/errors.js';
import { encodeRecordBatch } from '../../src/protocol/records/index.js';
import type { LogConfig } from '../../src/storage/config.js';
import { MemoryLog } from '../../src/storage/memory-log.js';
import type { PartitionLog } from '../../src/storage/types.js';

export interface EngineUnderTest {
  log: PartitionLog;
  /** Reopens the log from its storage, after a clean close or as after a crash (no close). */
  restart?(clean: boolean): Promise<PartitionLog>;
  dispose(): Promise<void>;
}

export type EngineFactory = (config: Partial<LogConfig>) => Promise<EngineUnderTest>;

const BASE_TS = 1_700_000_000_000;
/** The wall clock both logs see (engines under test must use it too): no producer expires during a run. */
export const CONFORMANCE_NOW = BASE_TS + 200_000;

type Command =
  | {
      kind: 'append';
      batches: { records: number; valueSize: number; tsOffset: number; codec: number }[];
      epochBump: boolean;
    }
  | { kind: 'read'; at: number; maxBytes: number; toHw: boolean }
  | { kind: 'hw'; at: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'deleteRecords'; at: number }
  | { kind: 'roll' }
  | { kind: 'retention'; nowOffset: number }
  | { kind: 'timestamp'; ts: number }
  | { kind: 'epoch'; epoch: number }
  | {
      kind: 'idem';
      producer: number;
      action: 'next' | 'retry' | 'gap' | 'bump' | 'stale';
      pick: number;
      records: number;
      codec: number;
    }
  | { kind: 'restart'; clean: boolean };

// Uniform fractions (fc.double leans towards the bounds, which would make most reads out of range).
const fraction = fc.integer({ min: 0, max: 1000 }).map((i) => i / 1000);

function commandArb(restarts: boolean): fc.Arbitrary<Command> {
  const batch = fc.record({
    records: fc.integer({ min: 1, max: 6 }),
    valueSize: fc.integer({ min: 0, max: 300 }),
    tsOffset: fc.integer({ min: 0, max: 100_000 }),
    codec: fc.constantFrom(0, 0, 0, 1, 4),
  });
  const options: fc.Arbitrary<Command>[] = [
    fc.record({
      kind: fc.constant('append' as const),
      batches: fc.array(batch, { minLength: 1, maxLength: 3 }),
      epochBump: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('append' as const),
      batches: fc.array(batch, { minLength: 1, maxLength: 3 }),
      epochBump: fc.constant(false),
    }),
    fc.record({
      kind: fc.constant('read' as const),
      at: fc.integer({ min: -60, max: 1060 }).map((i) => i / 1000),
      maxBytes: fc.integer({ min: 1, max: 4000 }),
      toHw: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('hw' as const), at: fraction }),
    fc.record({ kind: fc.constant('truncate' as const), at: fraction }),
    fc.record({ kind: fc.constant('deleteRecords' as const), at: fraction }),
    fc.record({ kind: fc.constant('roll' as const) }),
    fc.record({ kind: fc.constant('retention' as const), nowOffset: fc.integer({ min: 0, max: 200_000 }) }),
    fc.record({ kind: fc.constant('timestamp' as const), ts: fc.integer({ min: -3, max: 110_000 }) }),
    fc.record({ kind: fc.constant('epoch' as const), epoch: fc.integer({ min: -1, max: 8 }) }),
    fc.record({
      kind: fc.constant('idem' as const),
      producer: fc.integer({ min: 0, max: 2 }),
      action: fc.constantFrom('next', 'next', 'next', 'retry', 'retry', 'gap', 'bump', 'stale'),
      pick: fc.nat({ max: 7 }),
      records: fc.integer({ min: 1, max: 4 }),
      codec: fc.constantFrom(0, 0, 1),
    }),
  ];
  if (restarts) options.push(fc.record({ kind: fc.constant('restart' as const), clean: fc.boolean() }));
  return fc.oneof(...options);
}

const configArb = fc.record({
  segmentBytes: fc.integer({ min: 600, max: 6000 }),
  indexIntervalBytes: fc.integer({ min: 1, max: 2000 }),
  retentionBytes: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 20_000 })),
  retentionMs: fc.oneof(fc.constant(-1), fc.integer({ min: 1000, max: 150_000 })),
  messageTimestampType: fc.constantFrom<'CreateTime' | 'LogAppendTime'>('CreateTime', 'CreateTime', 'LogAppendTime'),
});

function pick(fractionOf: number, lo: bigint, hi: bigint): bigint {
  return lo + BigInt(Math.floor(Number(hi - lo) * fractionOf));
}

/** Calls fn on both logs; both must throw the same Kafka error code or return equal values. */
function both<T>(model: PartitionLog, real: PartitionLog, what: string, fn: (log: PartitionLog) => T): T | undefined {
  let expected: T | undefined;
  let expectedErr: unknown;
  try {
    expected = fn(model);
  } catch (err) {
    expectedErr = err;
  }
  let actual: T | undefined;
  let actualErr: unknown;
  try {
    actual = fn(real);
  } catch (err) {
    actualErr = err;
  }
  if (expectedErr !== undefined || actualErr !== undefined) {
    const code = (e: unknown) => (e instanceof KafkaError ? e.code : String(e));
    assert.equal(
      code(actualErr),
      code(expectedErr),
      `${what}: errors differ (${String(actualErr)} vs ${String(expectedErr)})`,
    );
    return undefined;
  }
  assert.deepEqual(actual, expected, what);
  return actual;
}

function state(log: PartitionLog) {
  return {
    start: log.logStartOffset,
    end: log.logEndOffset,
    hw: log.highWatermark,
    size: log.size,
    producers: log.producerEntries(),
  };
}

const PRODUCER_IDS = [1000n, 1001n, 1002n];

/**
 * The batch an idempotent producer sends for `c`, from the model's state: its next sequence, a retry of a batch it
 * sent before (cached or not), one leaving a gap, the first of a new epoch, or one from an older epoch.
 */
function idemSend(
  model: PartitionLog,
  sent: Map<bigint, { epoch: number; seq: number; records: number }[]>,
  c: Extract<Command, { kind: 'idem' }>,
): { epoch: number; seq: number; records: number } {
  const pid = PRODUCER_IDS[c.producer]!;
  const entry = model.producerEntries().find((e) => e.producerId === pid);
  const epoch = entry?.epoch ?? 0;
  const last = entry?.batches.at(-1)?.lastSeq ?? -1;
  const next = last === 2 ** 31 - 1 ? 0 : last + 1;
  const history = sent.get(pid) ?? [];
  switch (c.action) {
    case 'retry':
      if (history.length > 0) return history[history.length - 1 - (c.pick % history.length)]!;
      return { epoch, seq: next, records: c.records };
    case 'gap':
      return { epoch, seq: next + 1 + (c.pick % 3), records: c.records };
    case 'bump':
      return { epoch: epoch + 1, seq: c.pick % 2 === 0 ? 0 : 1 + c.pick, records: c.records };
    case 'stale':
      return { epoch: epoch - 1, seq: next, records: c.records };
    default:
      return { epoch, seq: next, records: c.records };
  }
}

export function conformanceProperty(factory: EngineFactory, options: { runs: number; restarts: boolean }) {
  return fc.asyncProperty(
    configArb,
    fc.array(commandArb(options.restarts), { minLength: 5, maxLength: 60, size: 'max' }),
    async (cfg, commands) => {
      const config: Partial<LogConfig> = { ...cfg, segmentMs: Number.MAX_SAFE_INTEGER, segmentIndexBytes: 1 << 20 };
      const model = new MemoryLog(config, 0n, { now: () => CONFORMANCE_NOW });
      const engine = await factory(config);
      let real = engine.log;
      let epoch = 0;
      let appendNo = 0;
      const sent = new Map<bigint, { epoch: number; seq: number; records: number }[]>();
      try {
        for (const [step, c] of commands.entries()) {
          const what = `step ${step} ${JSON.stringify(c)}`;
          const now = BASE_TS + 100_000 + appendNo;
          switch (c.kind) {
            case 'append': {
              if (c.epochBump) epoch++;
              const set = Buffer.concat(
                c.batches.map((b, i) =>
                  encodeRecordBatch({
                    compression: b.codec,
                    baseTimestamp: BigInt(BASE_TS + b.tsOffset),
                    records: Array.from({ length: b.records }, (_, r) => ({
                      key: r % 3 === 0 ? null : `k${appendNo}-${i}-${r}`,
                      value: Buffer.alloc(b.valueSize, r),
                      timestamp: BigInt(BASE_TS + b.tsOffset + ((r * 37) % 50)),
                    })),
                  }),
                ),
              );
              appendNo++;
              both(model, real, what, (log) => log.append(Buffer.from(set), { leaderEpoch: epoch, now }));
              break;
            }
            case 'read': {
              const span = model.logEndOffset - model.logStartOffset;
              const at = model.logStartOffset + BigInt(Math.floor(Number(span + 2n) * c.at)) - 1n;
              both(model, real, what, (log) => {
                const r = log.read(at, { maxBytes: c.maxBytes, maxOffset: c.toHw ? log.highWatermark : undefined });
                return { ...r, records: r.records.toString('hex') };
              });
              break;
            }
            case 'hw': {
              const hw = pick(c.at, model.logStartOffset, model.logEndOffset);
              model.highWatermark = hw;
              real.highWatermark = hw;
              break;
            }
            case 'truncate': {
              // Arguments come from the model's state before the call, the same for both logs.
              const at = pick(c.at, model.logStartOffset, model.logEndOffset);
              both(model, real, what, (log) => log.truncateTo(at));
              break;
            }
            case 'deleteRecords': {
              const at = pick(c.at, model.logStartOffset, model.highWatermark);
              both(model, real, what, (log) => log.deleteRecordsBefore(at));
              break;
            }
            case 'roll':
              both(model, real, what, (log) => log.roll(now));
              break;
            case 'retention':
              both(model, real, what, (log) => log.applyRetention(BASE_TS + c.nowOffset));
              break;
            case 'timestamp':
              both(model, real, what, (log) =>
                log.offsetForTimestamp(c.ts < 0 ? BigInt(c.ts) : BigInt(BASE_TS + c.ts)),
              );
              break;
            case 'epoch':
              both(model, real, what, (log) => log.endOffsetForEpoch(c.epoch));
              break;
            case 'idem': {
              const pid = PRODUCER_IDS[c.producer]!;
              const b = idemSend(model, sent, c);
              const set = encodeRecordBatch({
                compression: c.codec,
                producerId: pid,
                producerEpoch: b.epoch,
                baseSequence: b.seq,
                baseTimestamp: BigInt(BASE_TS + appendNo),
                records: Array.from({ length: b.records }, (_, r) => ({
                  key: `p${pid}`,
                  value: `${b.epoch}/${b.seq + r}`,
                  timestamp: BigInt(BASE_TS + appendNo + r),
                })),
              });
              appendNo++;
              const result = both(model, real, what, (log) =>
                log.append(Buffer.from(set), { leaderEpoch: epoch, now }),
              );
              if (result !== undefined && result.duplicate === undefined) {
                const history = sent.get(pid) ?? [];
                history.push(b);
                sent.set(pid, history.slice(-8));
              }
              break;
            }
            case 'restart': {
              if (!engine.restart) break;
              const hw = real.highWatermark;
              real = await engine.restart(c.clean);
              real.highWatermark = hw;
              break;
            }
          }
          assert.deepEqual(state(real), state(model), `${what}: state differs`);
        }
      } finally {
        await engine.dispose();
      }
    },
  );
}
