import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FileCache } from '../../../src/storage/file-cache.js';
import { tempDir } from './helpers.js';

describe('FileCache', () => {
  test('keeps at most maxOpen fds, reopening evicted files transparently', () => {
    const dir = tempDir();
    const cache = new FileCache({ maxOpen: 3 });
    const handles = Array.from({ length: 10 }, (_, i) => cache.file(join(dir, `f${i}`), 'create'));
    assert.ok(cache.openCount <= 3);
    for (let round = 0; round < 3; round++) {
      handles.forEach((h, i) => {
        const b = Buffer.from(`r${round}-f${i};`);
        h.write(b, 0, b.length, round * 6);
        assert.ok(cache.openCount <= 3);
      });
    }
    handles.forEach((h, i) => {
      const b = Buffer.alloc(18);
      assert.equal(h.read(b, 0, 18, 0), 18);
      assert.equal(b.toString(), `r0-f${i};r1-f${i};r2-f${i};`);
      assert.equal(h.size(), 18);
    });
    assert.ok(cache.stats.evictions > 0);
    cache.closeAll();
    assert.equal(cache.openCount, 0);
  });

  test('the least recently used idle fd is the one closed', () => {
    const dir = tempDir();
    const cache = new FileCache({ maxOpen: 2 });
    const a = cache.file(join(dir, 'a'), 'create');
    const b = cache.file(join(dir, 'b'), 'create');
    a.fd(); // a is now most recent
    cache.file(join(dir, 'c'), 'create');
    assert.equal(a.isOpen, true);
    assert.equal(b.isOpen, false);
  });

  test('never closes an fd with an fsync in flight; a release during the sync closes it afterwards', async () => {
    const dir = tempDir();
    const cache = new FileCache({ maxOpen: 1 });
    const a = cache.file(join(dir, 'a'), 'create');
    a.write(Buffer.from('x'), 0, 1, 0);
    const syncing = a.sync();
    const b = cache.file(join(dir, 'b'), 'create');
    assert.equal(a.isOpen, true, 'pinned by the sync');
    assert.equal(cache.openCount, 2, 'the pool exceeds its maximum while the only other fd is pinned');
    a.release();
    assert.equal(a.isOpen, true, 'release waits for the sync');
    await syncing;
    assert.equal(a.isOpen, false);
    b.fd();
    assert.equal(cache.openCount, 1);
  });

  test('I/O errors are KAFKA_STORAGE_ERROR with the errno error as cause', () => {
    const dir = tempDir();
    const cache = new FileCache({ maxOpen: 4 });
    const missing = cache.file(join(dir, 'missing'));
    assert.throws(
      () => missing.fd(),
      (err: Error & { errorName?: string; cause?: { code?: string } }) =>
        err.errorName === 'KAFKA_STORAGE_ERROR' && err.cause?.code === 'ENOENT',
    );
    cache.file(join(dir, 'exists'), 'create');
    assert.throws(() => cache.file(join(dir, 'exists'), 'new'), { errorName: 'KAFKA_STORAGE_ERROR' });
  });

  test('a renamed file keeps working, also after its fd was evicted', () => {
    const dir = tempDir();
    const cache = new FileCache({ maxOpen: 1 });
    const a = cache.file(join(dir, 'a'), 'create');
    a.write(Buffer.from('hello'), 0, 5, 0);
    a.rename(join(dir, 'a2'));
    cache.file(join(dir, 'other'), 'create');
    assert.equal(a.isOpen, false);
    const b = Buffer.alloc(5);
    a.read(b, 0, 5, 0);
    assert.equal(b.toString(), 'hello');
    assert.ok(!existsSync(join(dir, 'a')));
    assert.equal(readFileSync(join(dir, 'a2'), 'utf8'), 'hello');
  });

  test('a released file refuses use', () => {
    const cache = new FileCache({ maxOpen: 2 });
    const a = cache.file(join(tempDir(), 'a'), 'create');
    a.release();
    assert.throws(() => a.fd(), { errorName: 'KAFKA_STORAGE_ERROR' });
  });
});
