// Real storage faults, no mocks: a full disk (a 256 KiB tmpfs, or a segment that is /dev/full), I/O errors (an
// ext4 image on a loop device shut down with EXT4_IOC_SHUTDOWN), a read-only mount, and paths that are files where
// directories should be. In each case the failing log dir goes offline, its partitions report
// KAFKA_STORAGE_ERROR, the other dir keeps serving appends and reads, and after the fault is removed and the broker
// restarts every acknowledged batch reads back intact while a half-written append is gone at the batch boundary.
//
// Faults that need mounting (tmpfs, loop device, bind mount) need root with CAP_SYS_ADMIN; each probes first and
// skips with the reason when the machine does not allow it. The /dev/full and file-for-directory faults always run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorCode, KafkaError } from '../../src/protocol/errors.js';
import { scanRecordSet } from '../../src/protocol/records/index.js';
import { errnoCode } from '../../src/storage/errors.js';
import { CLEAN_SHUTDOWN_FILE, LogManager } from '../../src/storage/log-manager.js';
import { BASE_TS, batch, readAllManaged, tempDir } from './segment/helpers.js';

const CONFIG = { segmentBytes: 64 * 1024, indexIntervalBytes: 1024, fileDeleteDelayMs: 0 };

const mounts: string[] = [];
after(() => {
  for (const m of mounts.reverse()) unmount(m);
});

function run(cmd: string, args: string[]): string | null {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return null;
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    return (e.stderr?.toString().trim() || e.message).split('\n')[0]!;
  }
}

/** Mounts, remembering the mount point for cleanup; returns why it failed, or null. */
function mount(args: string[], target: string): string | null {
  const why = run('mount', [...args, target]);
  if (why === null) mounts.push(target);
  return why;
}

function unmount(target: string): void {
  const at = mounts.indexOf(target);
  if (at >= 0) mounts.splice(at, 1);
  if (run('umount', [target]) !== null) run('umount', ['-l', target]);
}

function storageError(e: unknown): boolean {
  return e instanceof KafkaError && e.code === ErrorCode.KAFKA_STORAGE_ERROR;
}

function manager(logDirs: string[]): LogManager {
  const m = new LogManager({ logDirs, defaultConfig: CONFIG, maxOpenFiles: 32 });
  m.startup();
  return m;
}

/** Appends and keeps a copy of what was stored (offsets assigned in place). */
function put(m: LogManager, topic: string, partition: number, buf: Buffer, acked: Buffer[]): void {
  m.append(topic, partition, buf);
  acked.push(Buffer.from(buf));
}

/** What every fault must leave true while it lasts: the dir is offline, the other one serves. */
async function assertIsolated(
  m: LogManager,
  bad: string,
  good: string,
  badPartition: [string, number],
  goodAcked: Buffer[],
): Promise<void> {
  assert.ok(m.isOffline(bad), `${bad} is offline`);
  assert.ok(!m.isOffline(good), `${good} stays online`);
  assert.deepEqual(m.onlineDirs(), [good]);
  const [t, p] = badPartition;
  assert.throws(() => m.append(t, p, batch(1)), storageError);
  assert.throws(() => m.read(t, p, 0n, { maxBytes: 1000 }), storageError);
  assert.throws(() => m.get(t, p), storageError);
  assert.throws(() => m.getOrCreate(t, p), storageError, 'never recreated in another dir');
  // The healthy dir: appends, reads, flushes, new partitions.
  put(m, 'healthy', 0, batch(2, BASE_TS, 30, 9), goodAcked);
  await m.flush('healthy', 0);
  assert.deepEqual(readAllManaged(m, 'healthy', 0), Buffer.concat(goodAcked));
  m.getOrCreate('newcomer', 0);
  assert.equal(m.dirOf('newcomer', 0), good);
  assert.equal(m.append('newcomer', 0, batch(1)).firstOffset, 0n);
  m.checkpoint();
}

/** After the fault is gone: a fresh start serves every acknowledged batch, and appends continue after them. */
async function assertIntactAfterRestart(
  dirs: string[],
  badPartition: [string, number],
  badAcked: Buffer[],
  goodAcked: Buffer[],
): Promise<void> {
  const m = manager(dirs);
  try {
    assert.deepEqual(m.offlineDirs(), []);
    const [t, p] = badPartition;
    const all = Buffer.concat(badAcked);
    const log = m.get(t, p)!;
    assert.deepEqual(readAllManaged(m, t, p), all, 'every acknowledged batch is intact, nothing after them');
    const last = scanRecordSet(all).at(-1)!;
    const end = last.baseOffset + BigInt(last.lastOffsetDelta) + 1n;
    assert.equal(log.logEndOffset, end);
    assert.equal(m.append(t, p, batch(1)).firstOffset, end, 'offsets continue without a gap');
    assert.deepEqual(readAllManaged(m, 'healthy', 0), Buffer.concat(goodAcked));
  } finally {
    await m.shutdown();
  }
}

/** Two log dirs: `bad` (where the fault goes) and a healthy one, with `healthy-0` placed in the healthy one. */
function setup(bad: string): { good: string; m: LogManager; goodAcked: Buffer[] } {
  const good = join(tempDir('samsa-fault-'), 'good');
  const m = manager([bad, good]);
  m.getOrCreate('victim', 0);
  m.getOrCreate('healthy', 0);
  assert.equal(m.dirOf('victim', 0), bad);
  assert.equal(m.dirOf('healthy', 0), good);
  const goodAcked: Buffer[] = [];
  put(m, 'healthy', 0, batch(3), goodAcked);
  return { good, m, goodAcked };
}

function mountProbe(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  const probe = tempDir('samsa-probe-');
  const why = mount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs'], probe);
  if (why !== null) return `mounting is not permitted here (${why})`;
  unmount(probe);
  return null;
}

const cannotMount = mountProbe();

describe('storage faults', () => {
  test('ENOSPC on a full tmpfs: dir offline, the half-written append cut, data intact after growing it', {
    skip: cannotMount ?? false,
  }, async () => {
    const bad = tempDir('samsa-enospc-');
    assert.equal(mount(['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs'], bad), null);
    try {
      const { good, m, goodAcked } = setup(bad);
      const acked: Buffer[] = [];
      let failure: unknown = null;
      for (let i = 0; i < 200 && failure === null; i++) {
        // ~10 KiB batches: the one that meets the limit is written in part before ENOSPC.
        try {
          put(m, 'victim', 0, batch(10, BASE_TS + i, 1000, i), acked);
        } catch (err) {
          failure = err;
        }
      }
      assert.ok(failure !== null, 'the tmpfs filled up');
      assert.ok(storageError(failure), String(failure));
      assert.equal(errnoCode(failure), 'ENOSPC');
      assert.ok(acked.length > 5);
      const segs = readdirSync(join(bad, 'victim-0')).filter((n) => n.endsWith('.log'));
      const onDisk = segs.reduce((n, s) => n + statSync(join(bad, 'victim-0', s)).size, 0);
      assert.equal(onDisk, Buffer.concat(acked).length, 'the partial batch was cut back');
      await assertIsolated(m, bad, good, ['victim', 0], goodAcked);
      await m.shutdown();
      assert.ok(!existsSync(join(bad, CLEAN_SHUTDOWN_FILE)), 'no clean-shutdown marker on the failed dir');
      assert.ok(existsSync(join(good, CLEAN_SHUTDOWN_FILE)));
      // Remove the fault: give the file system room (the data stays).
      assert.equal(run('mount', ['-o', 'remount,size=4m', bad]), null);
      await assertIntactAfterRestart([bad, good], ['victim', 0], acked, goodAcked);
    } finally {
      unmount(bad);
    }
  });

  test('ENOSPC from /dev/full as the active segment, whose cut-back fails too: recovery cuts it later', async () => {
    const bad = join(tempDir('samsa-full-'), 'bad');
    const { good, m, goodAcked } = setup(bad);
    const acked: Buffer[] = [];
    for (let i = 0; i < 20; i++) put(m, 'victim', 0, batch(3, BASE_TS + i, 100, i), acked);
    m.guard('victim', 0, (log) => log.roll());
    const activePath = m.get('victim', 0)!.segments.at(-1)!.path;
    await m.shutdown();
    // The fault: the (empty) active segment's file is now the full device.
    unlinkSync(activePath);
    symlinkSync('/dev/full', activePath);

    const m2 = manager([bad, good]);
    assert.deepEqual(m2.offlineDirs(), []);
    assert.deepEqual(readAllManaged(m2, 'victim', 0), Buffer.concat(acked), 'reads of the old segments still work');
    let failure: unknown = null;
    try {
      m2.append('victim', 0, batch(3));
    } catch (err) {
      failure = err;
    }
    assert.ok(storageError(failure), String(failure));
    assert.match(String(failure), /ENOSPC/);
    await assertIsolated(m2, bad, good, ['victim', 0], goodAcked);
    await m2.shutdown();
    // Remove the fault: a regular file again, holding half a batch as if the append had been torn.
    unlinkSync(activePath);
    writeFileSync(activePath, batch(3).subarray(0, 40));
    await assertIntactAfterRestart([bad, good], ['victim', 0], acked, goodAcked);
  });

  test('EIO from an ext4 image shut down under the log (EXT4_IOC_SHUTDOWN): dir offline, data intact after remount', async (t) => {
    if (cannotMount !== null) return t.skip(cannotMount);
    const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const root = tempDir('samsa-eio-');
    const image = join(root, 'disk.img');
    const bad = join(root, 'mnt');
    mkdirSync(bad);
    const mkfs = run('truncate', ['-s', '32M', image]) ?? run('mkfs.ext4', ['-q', '-F', image]);
    if (mkfs !== null) return t.skip(`cannot make an ext4 image: ${mkfs}`);
    const loop = mount(['-o', 'loop', image], bad);
    if (loop !== null) return t.skip(`cannot mount a loop device: ${loop}`);
    try {
      const { good, m, goodAcked } = setup(bad);
      const acked: Buffer[] = [];
      for (let i = 0; i < 40; i++) put(m, 'victim', 0, batch(4, BASE_TS + i, 500, i), acked);
      await m.flush('victim', 0);
      // EXT4_IOC_SHUTDOWN = _IOR('X', 125, __u32), flag 0: sync the file system, then fail every I/O with EIO.
      const shut = run(python, [
        '-c',
        'import fcntl,os,struct,sys\nfd=os.open(sys.argv[1],os.O_RDONLY)\nfcntl.ioctl(fd,0x8004587D,struct.pack("I",0))',
        bad,
      ]);
      if (shut !== null) return t.skip(`cannot shut the file system down: ${shut}`);
      let failure: unknown = null;
      try {
        put(m, 'victim', 0, batch(4, BASE_TS + 99, 500), []);
      } catch (err) {
        failure = err;
      }
      assert.ok(storageError(failure), String(failure));
      // Both the write and its cut-back fail: the error says so (PartialWriteError), recovery cuts the tail later.
      assert.match(String(failure), /EIO/);
      await assertIsolated(m, bad, good, ['victim', 0], goodAcked);
      await m.shutdown();
      // Remove the fault: unmount and mount the image again (the journal is replayed).
      unmount(bad);
      assert.equal(mount(['-o', 'loop', image], bad), null);
      await assertIntactAfterRestart([bad, good], ['victim', 0], acked, goodAcked);
    } finally {
      unmount(bad);
    }
  });

  test('EROFS: a log dir mounted read-only after a crash is offline with all its partitions', {
    skip: cannotMount ?? false,
  }, async () => {
    const bad = join(tempDir('samsa-erofs-'), 'bad');
    const { good, m, goodAcked } = setup(bad);
    const acked: Buffer[] = [];
    m.getOrCreate('victim', 1);
    assert.equal(m.dirOf('victim', 1), bad);
    for (let i = 0; i < 20; i++) put(m, 'victim', 0, batch(3, BASE_TS + i, 100, i), acked);
    put(m, 'victim', 1, batch(2), []);
    await m.flush('victim', 0);
    await m.shutdown();
    unlinkSync(join(bad, CLEAN_SHUTDOWN_FILE)); // as after a crash: recovery must write
    assert.equal(mount(['--bind', bad], bad), null);
    try {
      assert.equal(run('mount', ['-o', 'remount,ro,bind', bad]), null);
      const m2 = manager([bad, good]);
      assert.match(String(m2.offlineReason(bad)), /EROFS/);
      await assertIsolated(m2, bad, good, ['victim', 0], goodAcked);
      assert.throws(() => m2.get('victim', 1), storageError, 'partitions it could not load report the error too');
      await m2.shutdown();
    } finally {
      unmount(bad);
    }
    await assertIntactAfterRestart([bad, good], ['victim', 0], acked, goodAcked);
  });

  test('a log dir that is a regular file (EEXIST/ENOTDIR) is offline at startup; the others serve', async () => {
    const root = tempDir('samsa-notdir-');
    const bad = join(root, 'bad');
    const good = join(root, 'good');
    writeFileSync(bad, 'not a directory');
    const m = manager([bad, good]);
    assert.ok(m.isOffline(bad));
    assert.ok(['EEXIST', 'ENOTDIR'].includes(errnoCode(m.offlineReason(bad)) ?? ''), String(m.offlineReason(bad)));
    const acked: Buffer[] = [];
    for (let p = 0; p < 4; p++) {
      m.getOrCreate('t', p);
      assert.equal(m.dirOf('t', p), good);
    }
    put(m, 't', 0, batch(2), acked);
    assert.deepEqual(readAllManaged(m, 't', 0), Buffer.concat(acked));
    await m.shutdown();
    // Remove the fault: the dir is created at the next start and takes new partitions.
    unlinkSync(bad);
    const m2 = manager([bad, good]);
    assert.deepEqual(m2.offlineDirs(), []);
    m2.getOrCreate('u', 0);
    assert.equal(m2.dirOf('u', 0), bad);
    assert.deepEqual(readAllManaged(m2, 't', 0), Buffer.concat(acked));
    await m2.shutdown();
  });

  test('a partition directory replaced by a file while running (ENOTDIR on roll)', async () => {
    const bad = join(tempDir('samsa-enotdir-'), 'bad');
    const { good, m, goodAcked } = setup(bad);
    const acked: Buffer[] = [];
    const partDir = join(bad, 'victim-0');
    for (let i = 0; i < 5; i++) put(m, 'victim', 0, batch(3, BASE_TS + i, 100, i), acked);
    // The fault: the partition directory moves away and a file takes its path.
    renameSync(partDir, `${partDir}.moved`);
    writeFileSync(partDir, 'in the way');
    let failure: unknown = null;
    for (let i = 0; i < 200 && failure === null; i++) {
      try {
        // Goes to the already-open active segment until a roll needs a new file under the path.
        put(m, 'victim', 0, batch(3, BASE_TS + 10 + i, 1000, i), acked);
      } catch (err) {
        failure = err;
      }
    }
    assert.ok(storageError(failure), String(failure));
    assert.ok(['ENOTDIR', 'EEXIST', 'ENOENT'].includes(errnoCode(failure) ?? ''), String(failure));
    await assertIsolated(m, bad, good, ['victim', 0], goodAcked);
    await m.shutdown();
    // Remove the fault.
    rmSync(partDir);
    renameSync(`${partDir}.moved`, partDir);
    await assertIntactAfterRestart([bad, good], ['victim', 0], acked, goodAcked);
  });

  test('creating a partition where a file is in the way takes that dir offline, not the broker', async () => {
    const root = tempDir('samsa-eexist-');
    const bad = join(root, 'bad');
    const good = join(root, 'good');
    const m = manager([bad, good]);
    writeFileSync(join(bad, 'blocked-0'), 'in the way');
    assert.throws(() => m.getOrCreate('blocked', 0), storageError);
    assert.ok(m.isOffline(bad));
    m.getOrCreate('blocked', 1);
    assert.equal(m.dirOf('blocked', 1), good);
    await m.shutdown();
  });
});
