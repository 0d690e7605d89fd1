// Storage benchmarks: appends of 1 KiB records in 16 KiB batches (OS-flushed and fsync-before-ack), reads from a
// warm and a cold page cache, and recovery of a large log after a clean stop and after a crash, each next to the
// raw sequential speed of the same disk measured in the same run. Also the cost of idempotent producers' checks:
// the same appends with batches carrying a producer id and consecutive sequences, next to plain batches.
import {
  closeSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecordBatch } from '../src/protocol/records/index.js';
import { logConfig } from '../src/storage/config.js';
import { SegmentLog } from '../src/storage/segment-log.js';
import type { Row } from './harness.js';

const BATCH_RECORDS = 16;
const RECORD_VALUE = 1024 - 40;
const RUNS = 3;
const MB = 1e6;

/** `count` distinct batches of `records` x `size`-byte values; with `producer`, one producer's consecutive sequences. */
function batches(count: number, records: number, size: number, producer: boolean): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      encodeRecordBatch({
        baseTimestamp: 1_700_000_000_000n + BigInt(i),
        ...(producer ? { producerId: 42n, producerEpoch: 0, baseSequence: i * records } : {}),
        records: Array.from({ length: records }, (_, r) => ({ key: `key-${r}`, value: Buffer.alloc(size, i + r) })),
      }),
    );
  }
  return out;
}

/**
 * Appends of plain batches and of an idempotent producer's batches (checked: epoch, sequence, duplicate window),
 * both prepared beforehand and alternating which goes first; 16 KiB batches and single 100 B records, where the
 * per-batch check weighs most.
 */
async function idempotenceRuns(
  root: string,
  run: number,
  add: (name: string, unit: string, v: number, ref?: string) => void,
): Promise<void> {
  for (const [label, count, records, size] of [
    ['16 x 1 KiB batches', 4096, BATCH_RECORDS, RECORD_VALUE],
    ['1 x 100 B batches', 100_000, 1, 100],
  ] as const) {
    const plainName = `append ${label}, no producer id`;
    const sets: [string, Buffer[]][] = [
      [plainName, batches(count, records, size, false)],
      [`append ${label}, idempotent producer`, batches(count, records, size, true)],
    ];
    if (run % 2 === 1) sets.reverse();
    for (const [name, set] of sets) {
      const dir = join(root, `idem-${run}-${name.length}-${set.length}`);
      const log = SegmentLog.open(dir, logConfig({}), {});
      let bytes = 0;
      const secs = timed(() => {
        for (const b of set) bytes += log.append(b).bytes;
      });
      add(name, 'batches/s', set.length / secs, name === plainName ? undefined : plainName);
      add(`${name} (MB/s)`, 'MB/s', bytes / MB / secs);
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

function batch(): Buffer {
  return encodeRecordBatch({
    baseTimestamp: 1_700_000_000_000n,
    records: Array.from({ length: BATCH_RECORDS }, (_, i) => ({
      key: `key-${i}`,
      value: Buffer.alloc(RECORD_VALUE, i),
    })),
  });
}

/** Drops the page cache when allowed (root on Linux); returns false when it cannot. */
function dropCaches(): boolean {
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

function timed(fn: () => void): number {
  const start = performance.now();
  fn();
  return (performance.now() - start) / 1000;
}

async function timedAsync(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

function rawWrite(path: string, chunk: Buffer, total: number, sync: boolean): number {
  const fd = openSync(path, 'w');
  const s = timed(() => {
    for (let written = 0; written < total; written += chunk.length) {
      writeSync(fd, chunk);
      if (sync) fdatasyncSync(fd);
    }
  });
  closeSync(fd);
  return total / MB / s;
}

function rawRead(path: string, total: number): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  const s = timed(() => {
    for (let pos = 0; pos < total; pos += buf.length) readSync(fd, buf, 0, buf.length, pos);
  });
  closeSync(fd);
  return total / MB / s;
}

export async function benchStorage(): Promise<{ rows: Row[]; notes: string[] }> {
  const total = Number(process.env.SAMSA_BENCH_LOG_BYTES ?? 256 * 1024 * 1024);
  const fsyncTotal = Math.min(total, 16 * 1024 * 1024);
  const recoveryTotal = Number(process.env.SAMSA_BENCH_RECOVERY_BYTES ?? 1024 * 1024 * 1024);
  const b = batch();
  const notes: string[] = [];
  const rows: Record<string, Row> = {};
  const add = (name: string, unit: string, value: number, reference?: string) => {
    rows[name] ??= { name, unit, runs: [], ...(reference ? { reference } : {}) };
    rows[name].runs.push(value);
  };
  const root = mkdtempSync(join(tmpdir(), 'samsa-bench-'));
  try {
    for (let run = 0; run < RUNS; run++) {
      const dir = join(root, `run-${run}`);
      add('raw sequential write, 16 KiB chunks (reference)', 'MB/s', rawWrite(join(root, 'raw'), b, total, false));
      add(
        'raw write + fdatasync per 16 KiB (reference)',
        'MB/s',
        rawWrite(join(root, 'raw-sync'), b, fsyncTotal, true),
      );

      const log = SegmentLog.open(dir, logConfig({}), {});
      const copies = Math.ceil(total / b.length);
      const appendSecs = timed(() => {
        for (let i = 0; i < copies; i++) log.append(b);
      });
      add(
        'append, OS flushes',
        'MB/s',
        (copies * b.length) / MB / appendSecs,
        'raw sequential write, 16 KiB chunks (reference)',
      );
      const syncDir = join(root, `sync-${run}`);
      const syncLog = SegmentLog.open(syncDir, logConfig({ flushBeforeAck: true }), {});
      const syncCopies = Math.ceil(fsyncTotal / b.length);
      const syncSecs = await timedAsync(async () => {
        for (let i = 0; i < syncCopies; i++) {
          syncLog.append(b);
          await syncLog.flush();
        }
      });
      add(
        'append, fsync before ack (one writer)',
        'MB/s',
        (syncCopies * b.length) / MB / syncSecs,
        'raw write + fdatasync per 16 KiB (reference)',
      );
      const groupSecs = await timedAsync(async () => {
        const waits: Promise<void>[] = [];
        for (let i = 0; i < syncCopies; i++) {
          syncLog.append(b);
          waits.push(syncLog.flush());
          if (waits.length === 16) await Promise.all(waits.splice(0));
        }
        await Promise.all(waits);
      });
      add(
        'append, fsync before ack (16 concurrent, group commit)',
        'MB/s',
        (syncCopies * b.length) / MB / groupSecs,
        'raw write + fdatasync per 16 KiB (reference)',
      );
      await syncLog.close();

      const readAll = (): number => {
        let offset = log.logStartOffset;
        let bytes = 0;
        const s = timed(() => {
          while (offset < log.logEndOffset) {
            const r = log.read(offset, { maxBytes: 1024 * 1024 });
            bytes += r.records.length;
            offset = r.firstOffset + BigInt(Math.max(1, countOffsets(r.records)));
          }
        });
        return bytes / MB / s;
      };
      add('read, warm page cache', 'MB/s', readAll(), 'raw sequential read, warm (reference)');
      add('raw sequential read, warm (reference)', 'MB/s', rawRead(join(root, 'raw'), total));
      await log.close();
      if (dropCaches()) {
        add('raw sequential read, cold (reference)', 'MB/s', rawRead(join(root, 'raw'), total));
        dropCaches();
        const cold = SegmentLog.open(dir, logConfig({}), { cleanShutdown: true });
        let offset = 0n;
        let bytes = 0;
        const s = timed(() => {
          while (offset < cold.logEndOffset) {
            const r = cold.read(offset, { maxBytes: 1024 * 1024 });
            bytes += r.records.length;
            offset = r.firstOffset + BigInt(Math.max(1, countOffsets(r.records)));
          }
        });
        add('read, cold page cache', 'MB/s', bytes / MB / s, 'raw sequential read, cold (reference)');
        await cold.close();
      } else if (run === 0) {
        notes.push('cold reads skipped: cannot write /proc/sys/vm/drop_caches (needs root)');
      }
      rmSync(dir, { recursive: true, force: true });
      rmSync(syncDir, { recursive: true, force: true });
      await idempotenceRuns(root, run, add);
    }

    // Recovery of one large log: after a clean close (no scan) and as after a crash (full scan from offset 0).
    const recDir = join(root, 'recovery');
    const big = SegmentLog.open(recDir, logConfig({}), {});
    for (let written = 0; written < recoveryTotal; written += b.length) big.append(b);
    await big.close();
    const recoveryPoint = big.recoveryPoint;
    const mib = Math.round(recoveryTotal / 2 ** 20);
    for (let run = 0; run < RUNS; run++) {
      const clean = timed(() => {
        SegmentLog.open(recDir, logConfig({}), { cleanShutdown: true, recoveryPoint });
      });
      add(`open a ${mib} MiB log after a clean stop`, 's', clean);
      const crash = timed(() => {
        SegmentLog.open(recDir, logConfig({}), { cleanShutdown: false, recoveryPoint: 0n });
      });
      add(
        `recover a ${mib} MiB log after a kill (validate every batch)`,
        's',
        crash,
        `raw read of the ${mib} MiB (reference)`,
      );
      add(
        `raw read of the ${mib} MiB (reference)`,
        's',
        timed(() => readDir(recDir)),
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  notes.push(
    `appends: ${BATCH_RECORDS} x 1 KiB records per batch, ${Math.round(total / 2 ** 20)} MiB per run (fsync runs ${Math.round(fsyncTotal / 2 ** 20)} MiB); medians of ${RUNS} runs`,
  );
  return { rows: Object.values(rows), notes };
}

function countOffsets(records: Buffer): number {
  let n = 0;
  for (let pos = 0; pos + 61 <= records.length; ) {
    n += records.readInt32BE(pos + 23) + 1;
    pos += 12 + records.readInt32BE(pos + 8);
  }
  return n;
}

/** Reads every .log file of a partition dir sequentially (the raw cost of a recovery scan). */
function readDir(dir: string): void {
  const buf = Buffer.allocUnsafe(1024 * 1024);
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.log')) continue;
    const fd = openSync(join(dir, name), 'r');
    while (readSync(fd, buf, 0, buf.length, null) > 0);
    closeSync(fd);
  }
}
