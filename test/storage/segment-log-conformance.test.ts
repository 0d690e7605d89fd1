// The on-disk engine must answer exactly like the MemoryLog model under random operation sequences, including
// clean restarts and restarts as after a crash (reopened without close, recovered by scanning).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { logConfig } from '../../src/storage/config.js';
import { FileCache } from '../../src/storage/file-cache.js';
import { SegmentLog } from '../../src/storage/segment-log.js';
import { CONFORMANCE_NOW, conformanceProperty, type EngineFactory } from './conformance.js';

const RUNS = Number(process.env.SAMSA_PROPERTY_RUNS ?? 40);

const segmentEngine: EngineFactory = async (overrides) => {
  const dir = mkdtempSync(join(tmpdir(), 'samsa-conformance-'));
  const config = logConfig(overrides);
  // A tiny descriptor budget so that the LRU closes and reopens files all the time.
  const files = new FileCache({ maxOpen: 6 });
  const now = () => CONFORMANCE_NOW;
  let log = SegmentLog.open(dir, config, { files, now });
  return {
    get log() {
      return log;
    },
    async restart(clean: boolean) {
      const logStartOffset = log.logStartOffset;
      if (clean) {
        const recoveryPoint = log.recoveryPoint;
        await log.close();
        log = SegmentLog.open(dir, config, { files, cleanShutdown: true, recoveryPoint, logStartOffset, now });
      } else {
        // As after kill -9: the old instance is abandoned without closing; everything written is in the page
        // cache, and the new instance recovers from the start.
        log = SegmentLog.open(dir, config, {
          files: new FileCache({ maxOpen: 6 }),
          cleanShutdown: false,
          recoveryPoint: 0n,
          logStartOffset,
          now,
        });
      }
      return log;
    },
    async dispose() {
      await log.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

test('SegmentLog agrees with the MemoryLog model (appends, reads, truncation, rolls, retention, restarts)', {
  timeout: 300_000,
}, async () => {
  await fc.assert(conformanceProperty(segmentEngine, { runs: RUNS, restarts: true }), { numRuns: RUNS });
});
