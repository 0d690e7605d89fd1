// Crash tests: a real child process appends with fsync-before-ack and is killed with SIGKILL mid-stream, several
// times over the same log. After each recovery every acknowledged batch is present and intact, offsets run from
// 0 without gaps or duplicates, and the next writer continues right after the recovered end.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeRecordBatches } from '../../src/protocol/records/index.js';
import { SegmentLog } from '../../src/storage/segment-log.js';
import { CRASH_CONFIG, crashBatch } from './crash-child.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));

/** Runs the child until it has acknowledged `acks` more batches, then SIGKILLs it; returns the last ack. */
function runAndKill(dir: string, acks: number): Promise<{ batch: number; offset: bigint } | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last: { batch: number; offset: bigint } | null = null;
    let seen = 0;
    let buffered = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
        if (line.startsWith('start')) continue;
        const [b, o] = line.split(' ');
        last = { batch: Number(b), offset: BigInt(o!) };
        if (++seen === acks) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code}: ${stderr}`));
      else resolve(last);
    });
  });
}

test('SIGKILL during fsync-acknowledged appends loses no acknowledged batch', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-crash-'));
  try {
    let acked: { batch: number; offset: bigint } | null = null;
    for (let round = 0; round < 6; round++) {
      const last = await runAndKill(dir, 20 + ((round * 53) % 150));
      if (last) acked = last;
      const log = SegmentLog.open(dir, CRASH_CONFIG, { recoveryPoint: 0n, cleanShutdown: false });
      try {
        assert.ok(acked, 'the child acknowledged something');
        assert.ok(log.logEndOffset > acked.offset, `round ${round}: acked offset ${acked.offset} survives`);
        // Every batch from offset 0 is intact, numbered 0, 1, 2, ... with contiguous offsets.
        let offset = 0n;
        let n = 0;
        while (offset < log.logEndOffset) {
          const read = log.read(offset, { maxBytes: 256 * 1024 });
          for (const batch of decodeRecordBatches(read.records)) {
            assert.equal(batch.baseOffset, offset, `round ${round}: no gap or duplicate at ${offset}`);
            const expected = decodeRecordBatches(crashBatch(n))[0]!;
            assert.equal(batch.records.length, expected.records.length);
            batch.records.forEach((r, i) => {
              assert.deepEqual(r.key, expected.records[i]!.key);
              assert.deepEqual(r.value, expected.records[i]!.value);
            });
            offset = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n;
            n++;
          }
        }
        assert.ok(n > acked.batch, `round ${round}: batch ${acked.batch} was acknowledged and is stored`);
      } finally {
        await log.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
