// LogManager: partitions spread over several log dirs, clean vs crash startup, Kafka-format checkpoints, deletion,
// retention, and thousands of partitions within a small fd budget.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { CLEAN_SHUTDOWN_FILE, LogManager, type LogManagerOptions } from '../../src/storage/log-manager.js';
import { BASE_TS, batch, capturingLogger, readAllManaged, tempDir } from './segment/helpers.js';

const SMALL = { segmentBytes: 2048, indexIntervalBytes: 256, fileDeleteDelayMs: 0 };

function dirs(n: number): string[] {
  const root = tempDir('samsa-lm-');
  return Array.from({ length: n }, (_, i) => join(root, `d${i}`));
}

function manager(logDirs: string[], extra: Partial<LogManagerOptions> = {}): LogManager {
  const m = new LogManager({ logDirs, defaultConfig: SMALL, ...extra });
  m.startup();
  return m;
}

/** Appends and returns a copy of the bytes as stored (offsets assigned in place). */
function put(m: LogManager, topic: string, partition: number, buf: Buffer): Buffer {
  m.append(topic, partition, buf);
  return Buffer.from(buf);
}

function checkpointText(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8');
}

/** Kafka's offset checkpoint format: version 0, a count, `<topic> <partition> <offset>` lines. */
function parseCheckpoint(text: string): Map<string, bigint> {
  const lines = text.split('\n');
  assert.equal(lines.at(-1), '', 'ends with a newline');
  lines.pop();
  assert.equal(lines[0], '0');
  assert.equal(Number(lines[1]), lines.length - 2);
  const out = new Map<string, bigint>();
  for (const line of lines.slice(2)) {
    const [topic, partition, offset] = line.split(' ');
    assert.match(line, /^\S+ \d+ -?\d+$/);
    out.set(`${topic}-${partition}`, BigInt(offset!));
  }
  return out;
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('LogManager', () => {
  test('getOrCreate spreads partitions over the log dirs (fewest partitions first)', async () => {
    const ds = dirs(3);
    const m = manager(ds);
    for (let p = 0; p < 9; p++) m.getOrCreate('spread', p);
    const perDir = ds.map((d) => readdirSync(d).filter((n) => n.startsWith('spread-')).length);
    assert.deepEqual(perDir, [3, 3, 3]);
    for (let p = 0; p < 9; p++) {
      const dir = m.dirOf('spread', p)!;
      assert.ok(statSync(join(dir, `spread-${p}`)).isDirectory());
      assert.equal(m.get('spread', p)!.dir, join(dir, `spread-${p}`));
    }
    assert.equal(m.getOrCreate('spread', 4), m.get('spread', 4), 'an existing log is returned, not recreated');
    assert.equal(m.partitions().length, 9);
    assert.deepEqual(m.onlineDirs(), ds);
    await m.shutdown();
  });

  test('rejects invalid topic names and partitions without touching the dirs', async () => {
    const ds = dirs(1);
    const m = manager(ds);
    for (const bad of ['', 'has space', 'a/b', '..', 'x'.repeat(250)]) {
      assert.throws(
        () => m.getOrCreate(bad, 0),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_TOPIC_EXCEPTION,
      );
    }
    assert.throws(
      () => m.getOrCreate('ok', -1),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.INVALID_PARTITIONS,
    );
    assert.throws(
      () => m.append('nowhere', 0, batch(1)),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    assert.deepEqual(m.onlineDirs(), ds);
    m.checkpoint();
    await m.shutdown();
    assert.ok(existsSync(join(ds[0]!, CLEAN_SHUTDOWN_FILE)));
  });

  test('a partition found in two log dirs refuses to start', () => {
    const ds = dirs(2);
    for (const d of ds) mkdirSync(join(d, 'dup-0'), { recursive: true });
    const m = new LogManager({ logDirs: ds });
    assert.throws(() => m.startup(), /dup-0 is in two log dirs/);
  });

  test('a clean shutdown writes the marker and checkpoints; the next start skips recovery and keeps the data', async () => {
    const ds = dirs(2);
    const m1 = manager(ds);
    const stored = new Map<string, Buffer[]>();
    for (let p = 0; p < 4; p++) {
      m1.getOrCreate('clean', p);
      const list: Buffer[] = [];
      for (let i = 0; i < 20; i++) list.push(put(m1, 'clean', p, batch(3, BASE_TS + i, 40, p * 7 + i)));
      stored.set(`clean-${p}`, list);
    }
    const ends = [0, 1, 2, 3].map((p) => m1.get('clean', p)!.logEndOffset);
    await m1.shutdown();
    for (const d of ds) {
      assert.ok(existsSync(join(d, CLEAN_SHUTDOWN_FILE)), `marker in ${d}`);
      const rp = parseCheckpoint(checkpointText(d, 'recovery-point-offset-checkpoint'));
      const starts = parseCheckpoint(checkpointText(d, 'log-start-offset-checkpoint'));
      assert.equal(rp.size, 2, 'each dir checkpoints its own partitions');
      for (const [key, offset] of rp) {
        const p = Number(key.split('-')[1]);
        assert.equal(offset, ends[p], 'recovery point is the log end after a clean shutdown');
        assert.equal(starts.get(key), 0n);
      }
    }

    const { logger, lines } = capturingLogger();
    const m2 = manager(ds, { logger });
    for (const d of ds) assert.ok(!existsSync(join(d, CLEAN_SHUTDOWN_FILE)), 'marker removed once loaded');
    const loaded = lines.filter((l) => l.msg.startsWith('log dir loaded'));
    assert.equal(loaded.length, 2);
    for (const l of loaded) assert.equal(l.obj.cleanShutdown, true);
    assert.equal(lines.filter((l) => l.level === 'warn' || l.level === 'error').length, 0, 'nothing repaired');
    for (let p = 0; p < 4; p++) {
      const log = m2.get('clean', p)!;
      assert.equal(log.logEndOffset, ends[p]);
      assert.equal(log.recoveryPoint, ends[p]);
      assert.deepEqual(readAllManaged(m2, 'clean', p), Buffer.concat(stored.get(`clean-${p}`)!));
    }
    const r = m2.append('clean', 0, batch(2));
    assert.equal(r.firstOffset, ends[0]);
    await m2.shutdown();
  });

  test('after a crash logs are recovered from the checkpointed recovery points and a torn tail is cut', async () => {
    const ds = dirs(2);
    const m1 = manager(ds);
    const acked = new Map<number, Buffer[]>();
    for (let p = 0; p < 2; p++) {
      m1.getOrCreate('crash', p);
      acked.set(p, []);
      for (let i = 0; i < 30; i++) acked.get(p)!.push(put(m1, 'crash', p, batch(2, BASE_TS + i, 50, i)));
      await m1.flush('crash', p);
    }
    m1.checkpoint();
    const checkpointed = [0, 1].map((p) => m1.get('crash', p)!.recoveryPoint);
    assert.ok(checkpointed[0]! > 0n);
    // Appended after the checkpoint: in the page cache, above the recovery point.
    for (let p = 0; p < 2; p++) {
      for (let i = 0; i < 5; i++) acked.get(p)!.push(put(m1, 'crash', p, batch(2, BASE_TS + 100 + i, 50, i)));
    }
    const ends = [0, 1].map((p) => m1.get('crash', p)!.logEndOffset);
    // The crash: half a batch reaches the active segment of crash-0; m1 is abandoned without shutdown.
    const victim = m1.get('crash', 0)!;
    const active = victim.segments.at(-1)!;
    const torn = batch(4, BASE_TS + 999, 200).subarray(0, 150);
    appendFileSync(active.path, torn);
    for (const d of ds) assert.ok(!existsSync(join(d, CLEAN_SHUTDOWN_FILE)));

    const { logger, lines } = capturingLogger();
    const m2 = manager(ds, { logger });
    const loaded = lines.filter((l) => l.msg.startsWith('log dir loaded'));
    assert.equal(loaded.length, 2);
    for (const l of loaded) assert.equal(l.obj.cleanShutdown, false);
    const cuts = lines.filter((l) => l.msg.includes('torn or corrupt tail'));
    assert.equal(cuts.length, 1, 'exactly the torn tail is reported');
    assert.equal(cuts[0]!.obj.bytesRemoved, torn.length);
    assert.equal(cuts[0]!.obj.segment, active.path.split('/').at(-1));
    for (let p = 0; p < 2; p++) {
      const log = m2.get('crash', p)!;
      assert.equal(log.recoveryPoint, checkpointed[p], 'recovery starts from the checkpointed point');
      assert.equal(log.logEndOffset, ends[p]);
      assert.deepEqual(readAllManaged(m2, 'crash', p), Buffer.concat(acked.get(p)!));
      assert.equal(m2.append('crash', p, batch(1)).firstOffset, ends[p], 'offsets continue without a gap');
    }
    assert.equal(statSync(active.path).size, active.size + batch(1).length, 'tail cut at the batch boundary');
    await m2.shutdown();
  });

  test('the log start offset survives a restart through log-start-offset-checkpoint', async () => {
    const ds = dirs(1);
    const m1 = manager(ds);
    const log = m1.getOrCreate('starts', 0);
    for (let i = 0; i < 40; i++) put(m1, 'starts', 0, batch(2, BASE_TS + i, 60));
    log.highWatermark = log.logEndOffset;
    assert.ok(log.segmentCount > 2);
    const mid = log.segments[2]!.baseOffset + 1n;
    m1.guard('starts', 0, (l) => l.deleteRecordsBefore(mid));
    m1.checkpoint();
    assert.equal(parseCheckpoint(checkpointText(ds[0]!, 'log-start-offset-checkpoint')).get('starts-0'), mid);
    await m1.shutdown();
    const m2 = manager(ds);
    assert.equal(m2.get('starts', 0)!.logStartOffset, mid, 'mid-segment start comes back from the checkpoint');
    await m2.shutdown();
  });

  test('delete() renames the partition to -delete, then removes it; the partition can be created afresh', async () => {
    const ds = dirs(1);
    const m = manager(ds);
    m.getOrCreate('gone', 0);
    m.getOrCreate('kept', 0);
    for (let i = 0; i < 10; i++) {
      put(m, 'gone', 0, batch(2));
      put(m, 'kept', 0, batch(2));
    }
    const pending = m.delete('gone', 0);
    assert.throws(
      () => m.getOrCreate('gone', 0),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      'cannot be recreated while being deleted',
    );
    await pending;
    const names = readdirSync(ds[0]!);
    assert.ok(!names.includes('gone-0'));
    assert.equal(names.filter((n) => /^gone-0\..+-delete$/.test(n)).length, 1, 'renamed out of the way');
    assert.equal(m.get('gone', 0), undefined);
    await new Promise((r) => setImmediate(r));
    assert.equal(readdirSync(ds[0]!).filter((n) => n.startsWith('gone-0')).length, 0, 'then removed');
    const fresh = m.getOrCreate('gone', 0);
    assert.equal(fresh.logEndOffset, 0n);
    assert.equal(readAllManaged(m, 'kept', 0).length, batch(2).length * 10);
    m.checkpoint();
    const rp = parseCheckpoint(checkpointText(ds[0]!, 'recovery-point-offset-checkpoint'));
    assert.deepEqual([...rp.keys()].sort(), ['gone-0', 'kept-0']);
    await m.shutdown();
  });

  test('-delete leftovers are removed at startup; other dirs and files are left alone', async () => {
    const ds = dirs(1);
    const m1 = manager(ds);
    m1.getOrCreate('live', 0);
    const data = put(m1, 'live', 0, batch(3));
    await m1.shutdown();
    const leftover = join(ds[0]!, 'old-3.l0x1z-delete');
    mkdirSync(leftover);
    writeFileSync(join(leftover, '00000000000000000000.log'), 'junk');
    mkdirSync(join(ds[0]!, 'lost+found'));
    const m2 = manager(ds);
    assert.ok(!existsSync(leftover));
    assert.ok(existsSync(join(ds[0]!, 'lost+found')));
    assert.deepEqual(
      m2.partitions().map((p) => `${p.topic}-${p.partition}`),
      ['live-0'],
    );
    assert.deepEqual(readAllManaged(m2, 'live', 0), data);
    await m2.shutdown();
  });

  test('retention runs through the manager for every log with a delete policy', async () => {
    const ds = dirs(2);
    let now = BASE_TS;
    const m = manager(ds, { now: () => now, defaultConfig: { ...SMALL, retentionMs: 60_000 } });
    m.getOrCreate('old', 0);
    m.getOrCreate('old', 1);
    m.getOrCreate('compacted', 0, { cleanupPolicy: ['compact'] });
    for (let i = 0; i < 60; i++) {
      put(m, 'old', 0, batch(2, BASE_TS + i, 60));
      put(m, 'old', 1, batch(2, BASE_TS + i, 60));
      put(m, 'compacted', 0, batch(2, BASE_TS + i, 60));
    }
    const before = ['old-0', 'old-1', 'compacted-0'].map((k) => {
      const [t, p] = k.split('-');
      return m.get(t!, Number(p))!.segmentCount;
    });
    assert.ok(before.every((n) => n > 3));
    // Single node: everything appended is committed.
    for (const { log } of m.partitions()) log.highWatermark = log.logEndOffset;
    assert.equal(m.applyRetention(), 0, 'nothing is old enough yet');
    now = BASE_TS + 10 * 60_000;
    const deleted = m.applyRetention();
    assert.equal(deleted, before[0]! - 1 + (before[1]! - 1), 'all but the active segment of each delete log');
    assert.equal(m.get('compacted', 0)!.segmentCount, before[2], 'compact-only logs keep their segments');
    for (const p of [0, 1]) {
      const log = m.get('old', p)!;
      assert.equal(log.segmentCount, 1);
      assert.equal(log.logStartOffset, log.segments[0]!.baseOffset);
    }
    m.checkpoint();
    const dir = m.dirOf('old', 0)!;
    const starts = parseCheckpoint(checkpointText(dir, 'log-start-offset-checkpoint'));
    assert.equal(starts.get('old-0'), m.get('old', 0)!.logStartOffset);
    await m.shutdown();
  });

  test('2000 partitions with maxOpenFiles 64: all readable and writable, open fds stay bounded', async () => {
    const ds = dirs(4);
    const baseline = openFds();
    const N = 2000;
    const m1 = manager(ds, { maxOpenFiles: 64 });
    let peak = 0;
    const stored: Buffer[] = [];
    for (let p = 0; p < N; p++) {
      m1.getOrCreate('many', p);
      stored.push(put(m1, 'many', p, batch(1, BASE_TS, 10, p)));
      if (p % 100 === 0) peak = Math.max(peak, openFds());
    }
    for (let p = 0; p < N; p++) {
      assert.deepEqual(m1.read('many', p, 0n, { maxBytes: 4096 }).records, stored[p]);
      if (p % 100 === 0) peak = Math.max(peak, openFds());
    }
    // A second append to each, in a different order than the first pass.
    for (let p = N - 1; p >= 0; p -= 7) {
      stored[p] = Buffer.concat([stored[p]!, put(m1, 'many', p, batch(1, BASE_TS + 1, 10, p + 1))]);
    }
    peak = Math.max(peak, openFds());
    assert.ok(peak - baseline <= 64 + 16, `open fds grew by ${peak - baseline} (limit 64 + slack)`);
    await m1.shutdown();
    assert.ok(openFds() - baseline <= 4, 'shutdown releases the fds');

    const m2 = manager(ds, { maxOpenFiles: 64 });
    assert.equal(m2.partitions().length, N);
    for (let p = 0; p < N; p++) {
      assert.deepEqual(readAllManaged(m2, 'many', p), stored[p]);
      if (p % 100 === 0) peak = Math.max(peak, openFds());
    }
    assert.ok(peak - baseline <= 64 + 16, `open fds grew by ${peak - baseline} after restart`);
    await m2.shutdown();
  });
});

describe('compaction through the manager', () => {
  test('the background cleaner compacts a compacted topic and leaves the latest value of each key', async () => {
    const [dir] = dirs(1);
    const m = manager([dir!], { cleanerBackoffMs: 5 });
    try {
      const log = m.getOrCreate('compacted', 0, { cleanupPolicy: ['compact'], minCleanableDirtyRatio: 0.01 });
      for (let round = 0; round < 40; round++) m.append('compacted', 0, batch(5, BASE_TS + round * 10, 40, round));
      log.highWatermark = log.logEndOffset;
      const before = log.size;
      m.startScheduler();
      const deadline = Date.now() + 20_000;
      while (log.size >= before / 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(log.size < before / 2, `compacted from ${before} to ${log.size} bytes`);
      // Every key still reads back with its latest value (round 39 wrote fill 39 + i), offsets still increase.
      const { decodeRecordBatches } = await import('../../src/protocol/records/index.js');
      const latest = new Map<string, number>();
      let previous = -1n;
      for (const b of decodeRecordBatches(readAllManaged(m, 'compacted', 0))) {
        for (const r of b.records) {
          assert.ok(r.offset > previous);
          previous = r.offset;
          latest.set(r.key!.toString(), r.value![0]!);
        }
      }
      assert.deepEqual([...latest.keys()].sort(), ['k0', 'k1', 'k2', 'k3', 'k4']);
      for (const [key, fill] of latest) assert.equal(fill, (39 + Number(key.slice(1))) & 0xff);
    } finally {
      await m.shutdown();
    }
  });
});
