// Shared helpers for the segment-engine tests: temporary directories and record batches.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { Logger } from '../../../src/log/logger.js';
import { encodeRecordBatch, scanRecordSet } from '../../../src/protocol/records/index.js';
import { type LogConfig, logConfig } from '../../../src/storage/config.js';
import { FileCache } from '../../../src/storage/file-cache.js';
import type { LogManager } from '../../../src/storage/log-manager.js';
import { SegmentLog, type SegmentLogOptions } from '../../../src/storage/segment-log.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under the OS temp dir, removed when the test file ends. */
export function tempDir(prefix = 'samsa-seg-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export const BASE_TS = 1_700_000_000_000;

/** One uncompressed batch of `count` records with timestamps ts, ts+1, ...; values of `valueSize` bytes. */
export function batch(count: number, ts = BASE_TS, valueSize = 20, fill = 0): Buffer {
  return encodeRecordBatch({
    baseTimestamp: BigInt(ts),
    records: Array.from({ length: count }, (_, i) => ({
      key: `k${i}`,
      value: Buffer.alloc(valueSize, (fill + i) & 0xff),
      timestamp: BigInt(ts + i),
    })),
  });
}

/** Config with tiny segments and dense indexes so a few batches exercise rolling and index lookups. */
export function smallConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return logConfig({ segmentBytes: 4096, indexIntervalBytes: 256, fileDeleteDelayMs: 0, ...overrides });
}

/** A private fd pool per test so counts are not shared across tests. */
export function openLog(dir: string, config: LogConfig, options: SegmentLogOptions = {}): SegmentLog {
  return SegmentLog.open(dir, config, { files: new FileCache({ maxOpen: 64 }), ...options });
}

export interface CapturedLog {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

/** A Logger that records what it is given. */
export function capturingLogger(): { logger: Logger; lines: CapturedLog[] } {
  const lines: CapturedLog[] = [];
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push({
        level,
        obj: (typeof obj === 'object' && obj !== null ? obj : {}) as Record<string, unknown>,
        msg: msg ?? String(obj),
      });
    };
  const logger = {
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    debug: at('debug'),
    child: () => logger,
  } as unknown as Logger;
  return { logger, lines };
}

/** Every stored byte of a managed partition from its log start, read batch run by batch run. */
export function readAllManaged(m: LogManager, topic: string, partition: number): Buffer {
  const parts: Buffer[] = [];
  const log = m.get(topic, partition)!;
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const r = m.read(topic, partition, offset, { maxBytes: 1 << 20 });
    const batches = scanRecordSet(r.records);
    if (batches.length === 0) break;
    parts.push(r.records);
    const last = batches.at(-1)!;
    offset = last.baseOffset + BigInt(last.lastOffsetDelta) + 1n;
  }
  return Buffer.concat(parts);
}
