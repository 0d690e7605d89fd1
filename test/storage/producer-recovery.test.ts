// Producer state of SegmentLog across reopen: after a clean close (loaded from the snapshot at the log end), as after
// kill -9 (rebuilt from the newest snapshot and the batch headers after it), after recovery cut a torn or corrupt
// tail (snapshots above the new end dropped), with a damaged snapshot, for a log written before snapshots existed,
// and with producers that expired while the log was closed.
import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type LogConfig, logConfig } from '../../src/storage/config.js';
import { FileCache } from '../../src/storage/file-cache.js';
import { SegmentLog } from '../../src/storage/segment-log.js';
import { BASE_TS, idemBatch, logValues } from './producer-helpers.js';

const NOW = BASE_TS + 1000;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'samsa-producer-recovery-'));
  dirs.push(d);
  return d;
}

function open(dir: string, config: Partial<LogConfig>, options: { clean?: boolean; now?: number } = {}): SegmentLog {
  return SegmentLog.open(dir, logConfig(config), {
    // A fresh descriptor pool, as a new process would have.
    files: new FileCache(),
    cleanShutdown: options.clean ?? false,
    recoveryPoint: 0n,
    now: () => options.now ?? NOW,
  });
}

function snapshots(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.snapshot'))
    .sort();
}

/** Three producers, 30 batches, several segments. */
function fill(log: SegmentLog): void {
  for (let i = 0; i < 30; i++)
    log.append(idemBatch({ pid: BigInt(i % 3), seq: Math.floor(i / 3) * 2, count: 2 }), { now: NOW });
}

describe('producer state across reopen (SegmentLog)', () => {
  it('comes back identical after a clean close, from the snapshot at the log end', async () => {
    const dir = tempDir();
    const log = open(dir, { segmentBytes: 600 });
    fill(log);
    const state = log.producerEntries();
    await log.close();
    assert.ok(snapshots(dir).includes('00000000000000000060.snapshot'), 'a snapshot at the log end');
    const again = open(dir, { segmentBytes: 600 }, { clean: true });
    assert.deepEqual(again.producerEntries(), state);
    const r = again.append(idemBatch({ pid: 2n, seq: 18, count: 2 }));
    assert.equal(r.duplicate, true);
    assert.equal(r.firstOffset, 58n);
    await again.close();
  });

  it('comes back identical as after kill -9 (no close), from the roll snapshots and the headers after them', async () => {
    const dir = tempDir();
    const log = open(dir, { segmentBytes: 600 });
    fill(log);
    const state = log.producerEntries();
    assert.ok(log.segmentCount > 2);
    // Abandoned without close: nothing but what the appends and rolls wrote.
    const again = open(dir, { segmentBytes: 600 });
    assert.deepEqual(again.producerEntries(), state);
    for (let seq = 10; seq < 20; seq += 2)
      assert.equal(again.append(idemBatch({ pid: 0n, seq, count: 2 })).duplicate, true);
    assert.equal(again.logEndOffset, 60n);
    await again.close();
  });

  it('rebuilds to match the log when recovery cuts a torn tail', async () => {
    const dir = tempDir();
    const log = open(dir, { segmentBytes: 1 << 20 });
    fill(log);
    const seg = join(dir, '00000000000000000000.log');
    // Tear the last batch (producer 2, seq 18) in half.
    truncateSync(seg, statSync(seg).size - 20);
    const again = open(dir, { segmentBytes: 1 << 20 });
    assert.equal(again.logEndOffset, 58n);
    const p2 = again.producerEntries().find((e) => e.producerId === 2n)!;
    assert.equal(p2.batches.at(-1)!.firstSeq, 16);
    // The torn batch was never stored: its retry is new and lands where it was.
    const r = again.append(idemBatch({ pid: 2n, seq: 18, count: 2 }));
    assert.equal(r.duplicate, undefined);
    assert.equal(r.firstOffset, 58n);
    await again.close();
  });

  it('drops the snapshots above a recovered end that cut into older segments', async () => {
    const dir = tempDir();
    const log = open(dir, { segmentBytes: 600 });
    fill(log);
    const first = snapshots(dir);
    assert.ok(first.length >= 2);
    // Corrupt a byte inside the first segment's 3rd batch: recovery cuts there and removes every later segment.
    const seg = join(dir, '00000000000000000000.log');
    const batchSize = idemBatch({ pid: 0n, seq: 0, count: 2 }).length;
    const fd = openSync(seg, 'r+');
    writeSync(fd, Buffer.from([0xff]), 0, 1, 2 * batchSize + 70);
    closeSync(fd);
    const again = open(dir, { segmentBytes: 600 });
    assert.equal(again.logEndOffset, 4n);
    assert.deepEqual(snapshots(dir), [], 'every snapshot was above the new end');
    assert.deepEqual(
      again.producerEntries().map((e) => [e.producerId, e.batches.map((b) => b.firstSeq)]),
      [
        [0n, [0]],
        [1n, [0]],
      ],
    );
    assert.equal(again.append(idemBatch({ pid: 2n, seq: 0, count: 2 })).duplicate, undefined);
    await again.close();
  });

  it('falls back to scanning when the snapshot at the end is damaged, and removes it', async () => {
    const dir = tempDir();
    const log = open(dir, { segmentBytes: 1 << 20 });
    fill(log);
    const state = log.producerEntries();
    await log.close();
    const snap = join(dir, '00000000000000000060.snapshot');
    writeFileSync(snap, Buffer.from('not a snapshot at all'));
    writeFileSync(join(dir, '00000000000000000060.snapshot.tmp'), 'leftover');
    const again = open(dir, { segmentBytes: 1 << 20 }, { clean: true });
    assert.deepEqual(again.producerEntries(), state);
    assert.equal(existsSync(`${snap}.tmp`), false, 'leftover temporary file removed');
    assert.equal(again.append(idemBatch({ pid: 1n, seq: 18, count: 2 })).firstOffset, 56n);
    await again.close();
  });

  it('reads only the last two segments of a log cleanly shut down before snapshots existed', async () => {
    const dir = tempDir();
    const log = open(dir, { segmentBytes: 300 });
    // Producer 100 writes only into the first segment, producer 200 into the last ones.
    log.append(idemBatch({ pid: 100n, seq: 0 }));
    for (let i = 0; i < 12; i++) log.append(idemBatch({ pid: 200n, seq: i }));
    assert.ok(log.segmentCount > 3);
    await log.close();
    for (const f of snapshots(dir)) rmSync(join(dir, f));
    const again = open(dir, { segmentBytes: 300 }, { clean: true });
    assert.deepEqual(
      again.producerEntries().map((e) => e.producerId),
      [200n],
    );
    assert.equal(again.append(idemBatch({ pid: 200n, seq: 11 })).duplicate, true);
    await again.close();
  });

  it('forgets producers that expired while the log was closed', async () => {
    const dir = tempDir();
    const log = open(dir, { segmentBytes: 1 << 20 });
    log.append(idemBatch({ pid: 1n, seq: 0, ts: BASE_TS }));
    log.append(idemBatch({ pid: 2n, seq: 0, ts: BASE_TS + 3_600_000 }));
    await log.close();
    const again = open(dir, { segmentBytes: 1 << 20 }, { clean: true, now: BASE_TS + 86_400_000 + 1 });
    assert.deepEqual(
      again.producerEntries().map((e) => e.producerId),
      [2n],
    );
    await again.close();
  });

  it('keeps a snapshot per segment base and the newest one, across rolls, restarts and retention', async () => {
    const dir = tempDir();
    let log = open(dir, { segmentBytes: 400, retentionBytes: 700 });
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 5; i++) log.append(idemBatch({ pid: 1n, seq: round * 5 + i }));
      await log.close();
      log = open(dir, { segmentBytes: 400, retentionBytes: 700 }, { clean: true });
    }
    const bases = log.segments.map((s) => s.baseOffset);
    const snaps = log.producerSnapshotOffsets();
    assert.equal(snaps.at(-1), log.logEndOffset);
    for (const o of snaps.slice(0, -1)) assert.ok(bases.includes(o), `snapshot ${o} is at a segment base`);
    log.highWatermark = log.logEndOffset;
    assert.ok(log.applyRetention(NOW) > 0);
    assert.ok(log.producerSnapshotOffsets().every((o) => o >= log.segments[0]!.baseOffset));
    assert.equal(log.append(idemBatch({ pid: 1n, seq: 19 })).duplicate, true);
    assert.equal(logValues(log).at(-1)!.value, 'p1-19');
    await log.close();
  });
});
