// ProducerIdManager and the single-node block store on a real disk: ids unique within a process and across
// restarts and crashes (a new manager on the same file continues after the last claimed block), blocks claimed
// before use, concurrent callers, the int64 limit, and a damaged block file refused rather than guessed around.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  FileProducerIdBlockStore,
  formatProducerIdBlock,
  PRODUCER_ID_BLOCK_FILE,
  parseProducerIdBlock,
} from '../../../src/coordinator/txn/producer-id-block-file.js';
import {
  type ProducerIdBlock,
  type ProducerIdBlockStore,
  ProducerIdManager,
  ProducerIdUnavailableError,
} from '../../../src/coordinator/txn/producer-id-manager.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'samsa-pid-'));
  dirs.push(d);
  return d;
}

function blockFile(dir: string): ProducerIdBlock {
  const path = join(dir, PRODUCER_ID_BLOCK_FILE);
  return parseProducerIdBlock(readFileSync(path, 'utf8'), path);
}

describe('ProducerIdManager', () => {
  it('hands out consecutive ids from blocks of 1000 recorded before use', async () => {
    const dir = tempDir();
    const m = new ProducerIdManager({ brokerId: 3, store: new FileProducerIdBlockStore(dir) });
    assert.equal(await m.generate(), 0n);
    assert.deepEqual(blockFile(dir), { brokerId: 3, firstId: 0n, lastId: 999n });
    const ids = [];
    for (let i = 0; i < 1500; i++) ids.push(await m.generate());
    assert.deepEqual(
      ids,
      Array.from({ length: 1500 }, (_, i) => BigInt(i + 1)),
    );
    // The second block was claimed (at 90% of the first) before any of its ids was given out.
    assert.deepEqual(blockFile(dir), { brokerId: 3, firstId: 1000n, lastId: 1999n });
  });

  it('never repeats an id after a restart or a crash: the rest of the last block is skipped', async () => {
    const dir = tempDir();
    const first = new ProducerIdManager({ brokerId: 1, store: new FileProducerIdBlockStore(dir) });
    const seen = new Set<bigint>();
    for (let i = 0; i < 10; i++) seen.add(await first.generate());
    // The first manager is abandoned as if the process had died.
    const second = new ProducerIdManager({ brokerId: 1, store: new FileProducerIdBlockStore(dir) });
    const next = await second.generate();
    assert.equal(next, 1000n);
    assert.ok(!seen.has(next));
    const third = new ProducerIdManager({ brokerId: 1, store: new FileProducerIdBlockStore(dir) });
    assert.equal(await third.generate(), 2000n);
  });

  it('serves concurrent callers distinct ids with one claim in flight', async () => {
    let claims = 0;
    let latest: ProducerIdBlock | null = null;
    const store: ProducerIdBlockStore = {
      async claimNextBlock(brokerId, size) {
        claims++;
        await new Promise((r) => setTimeout(r, 5));
        const firstId = latest === null ? 0n : latest.lastId + 1n;
        latest = { brokerId, firstId, lastId: firstId + BigInt(size) - 1n };
        return latest;
      },
    };
    const m = new ProducerIdManager({ brokerId: 1, store, blockSize: 10 });
    const ids = await Promise.all(Array.from({ length: 35 }, () => m.generate()));
    assert.equal(new Set(ids).size, 35);
    assert.deepEqual(
      [...ids].sort((a, b) => Number(a - b)),
      Array.from({ length: 35 }, (_, i) => BigInt(i)),
    );
    assert.equal(claims, 4);
  });

  it('rejects when the store fails, and recovers when it works again', async () => {
    let fail = true;
    const store: ProducerIdBlockStore = {
      async claimNextBlock(brokerId, size) {
        if (fail) throw new Error('disk full');
        return { brokerId, firstId: 5000n, lastId: 5000n + BigInt(size) - 1n };
      },
    };
    const m = new ProducerIdManager({ brokerId: 1, store });
    await assert.rejects(m.generate(), /disk full/);
    fail = false;
    assert.equal(await m.generate(), 5000n);
  });

  it('stops at the end of the int64 id space', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, PRODUCER_ID_BLOCK_FILE),
      formatProducerIdBlock({ brokerId: 1, firstId: 2n ** 63n - 1500n, lastId: 2n ** 63n - 501n }),
    );
    const m = new ProducerIdManager({ brokerId: 1, store: new FileProducerIdBlockStore(dir) });
    await assert.rejects(m.generate(), ProducerIdUnavailableError);
  });

  it('refuses a damaged block file instead of guessing where ids continue', async () => {
    for (const content of [
      'garbage',
      '{"version":2,"broker":1,"block_start":"0","block_end":"999"}',
      '{"version":1,"broker":1,"block_start":"1000","block_end":"999"}',
      '{"version":1,"broker":1,"block_start":0,"block_end":999}',
    ]) {
      const dir = tempDir();
      writeFileSync(join(dir, PRODUCER_ID_BLOCK_FILE), content);
      const m = new ProducerIdManager({ brokerId: 1, store: new FileProducerIdBlockStore(dir) });
      await assert.rejects(m.generate(), ProducerIdUnavailableError, content);
      assert.equal(readFileSync(join(dir, PRODUCER_ID_BLOCK_FILE), 'utf8'), content, 'left as it was');
    }
  });
});
