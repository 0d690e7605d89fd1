/**
 * One cleaning pass over one log (cleanup.policy containing `compact`).
 *
 * Sections (Kafka's terms). The *cleanable* segments are the inactive segments from the log start that lie wholly
 * below the last stable offset (the high watermark, or the first open transaction: a superseding record that could
 * still be truncated away must not remove what it supersedes) and whose largest timestamp is at least
 * min.compaction.lag.ms old; the first segment failing either test, and everything after it, is left alone, and the
 * active segment is never touched. Below the cleaner checkpoint (the first dirty offset) the cleanable segments are
 * *clean* (already deduplicated), above it *dirty*.
 *
 * When: dirty bytes / cleanable bytes >= min.cleanable.dirty.ratio, or the first dirty batch is older than
 * max.compaction.lag.ms, or a tombstone's delete horizon seen by an earlier pass has passed (`force` skips the test).
 *
 * How: (1) read the dirty segments and map every key of a non-transactional record to its latest offset (bounded:
 * once the map holds `maxMapEntries` keys, the pass stops at the end of the current segment and the rest stays
 * dirty); (2) split the cleanable segments into groups of adjacent segments whose total size fits segment.bytes,
 * the 32-bit relative offsets and the index files; (3) for each group, copy every batch through `filterBatch` into
 * one new segment written as `.cleaned` files, make it durable (data, indexes), and have SegmentLog install it in
 * place of the group (`replaceSegments`: `.cleaned` -> `.swap`, old -> `.deleted`, `.swap` -> live; what a crash
 * leaves is repaired at open). (4) When every group is done, the checkpoint moves to the end of the cleanable
 * section.
 *
 * Offsets: batches keep their base offset and last offset delta; a batch whose records all go is dropped, except
 * that the last batch of every group is kept as an empty batch then, so a cleaned segment covers exactly the offsets
 * of the segments it replaces (this is what lets open's `.swap` install find every segment it replaces) and the
 * offsets never move back.
 *
 * Chunks: the pass reads at most `chunkBytes` per step and calls `pace(bytes)` between steps; the caller yields to
 * the event loop there and throttles. Between steps the log is appended to, read, rolled, retained, or truncated;
 * the pass re-checks its input segments after every step and before installing, and abandons the group (and the
 * pass) when one was deleted or changed size. A group that changed nothing (one segment, every batch unchanged) is
 * not installed: its output is discarded.
 */
import * as fs from 'node:fs';
import type { Logger } from '../../log/logger.js';
import { decodeRecordBatches, type RecordBatchHeader, readBatchHeader } from '../../protocol/records/index.js';
import type { LogSegment } from '../segment/log-segment.js';
import type { SegmentLog } from '../segment-log.js';
import { emptyBatchLike, filterBatch, isCleanable, mapKey } from './batch-filter.js';
import { readBatchChunk } from './segment-reader.js';

const INT32_MAX = 0x7fffffff;
const LONG_MAX = Number.MAX_SAFE_INTEGER;
const OFFSET_INDEX_ENTRY = 8;
const TIME_INDEX_ENTRY = 12;

/** Thrown inside a pass to abandon it (the log changed under it, or the cleaner was told to stop). */
export class CleanAborted extends Error {
  override readonly name = 'CleanAborted';
}

export interface PassOptions {
  chunkBytes: number;
  maxMapEntries: number;
  logger: Logger;
  /** Ignore the dirty-ratio test. */
  force: boolean;
  /** Earliest delete horizon seen by earlier passes (a reason to clean), or null. */
  earliestHorizon: bigint | null;
  /** Called between chunks with the bytes just read or written. */
  pace: (bytes: number) => void | Promise<void>;
  /** Checked between chunks: true abandons the pass. */
  aborted: () => boolean;
}

export interface CleanPlan {
  /** Cleanable segments, oldest first. */
  segments: LogSegment[];
  firstDirty: bigint;
  /** The offset after the cleanable section (the next checkpoint when the whole section is cleaned). */
  cleanableEnd: bigint;
  cleanBytes: number;
  dirtyBytes: number;
  dirtyRatio: number;
  /** Why the log must be cleaned now regardless of the ratio, or null. */
  urgent: string | null;
  /** Whether the log qualifies for cleaning (ratio or urgency). */
  eligible: boolean;
}

export interface CleanResult {
  /** False when the pass did not run or was abandoned; `reason` says why. */
  cleaned: boolean;
  reason: string;
  firstDirty: bigint;
  /** The cleaner checkpoint after the pass (the end of what was cleaned, or firstDirty when nothing was). */
  cleanedUpTo: bigint;
  segmentsCleaned: number;
  groupsInstalled: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  /** Earliest delete horizon of the tombstones kept, or null. */
  earliestHorizon: bigint | null;
}

/** Which part of `log` is cleanable now and whether it qualifies for cleaning. Null when nothing is cleanable. */
export function planClean(
  log: SegmentLog,
  checkpoint: bigint | null,
  now: number,
  earliestHorizon: bigint | null,
): CleanPlan | null {
  const cfg = log.config;
  const inactive = log.inactiveSegments();
  const upper = log.lastStableOffset;
  const lagLimit = now - cfg.minCompactionLagMs;
  let n = 0;
  for (; n < inactive.length; n++) {
    const s = inactive[n]!;
    const wasLoaded = s.indexesLoaded;
    const next = s.nextOffset;
    const tooYoung = cfg.minCompactionLagMs > 0 && s.size > 0 && s.largestTimestamp > lagLimit;
    if (!wasLoaded) s.unloadIndexes();
    if (next > upper || tooYoung) break;
  }
  if (n === 0) return null;
  const segments = inactive.slice(0, n);
  const cleanableEnd = n < inactive.length ? inactive[n]!.baseOffset : log.segments.at(-1)!.baseOffset;
  let firstDirty = checkpoint ?? log.logStartOffset;
  if (firstDirty < log.logStartOffset || firstDirty > log.logEndOffset) firstDirty = log.logStartOffset;
  let cleanBytes = 0;
  let dirtyBytes = 0;
  let firstDirtySeg: LogSegment | null = null;
  for (const s of segments) {
    if (s.nextOffset > firstDirty) {
      dirtyBytes += s.size;
      if (firstDirtySeg === null && s.size > 0) firstDirtySeg = s;
    } else {
      cleanBytes += s.size;
    }
  }
  const total = cleanBytes + dirtyBytes;
  const dirtyRatio = total === 0 ? 0 : dirtyBytes / total;
  let urgent: string | null = null;
  if (firstDirtySeg !== null && cfg.maxCompactionLagMs < LONG_MAX) {
    const first = firstDirtySeg.firstBatchTimestamp;
    if (first >= 0 && now - first > cfg.maxCompactionLagMs) urgent = 'max.compaction.lag.ms';
  }
  if (urgent === null && earliestHorizon !== null && BigInt(Math.trunc(now)) >= earliestHorizon) {
    urgent = 'delete horizon passed';
  }
  const eligible = urgent !== null || (dirtyBytes > 0 && dirtyRatio >= cfg.minCleanableDirtyRatio);
  return { segments, firstDirty, cleanableEnd, cleanBytes, dirtyBytes, dirtyRatio, urgent, eligible };
}

/** Runs one pass (module comment). Throws CleanAborted or a storage error when abandoned midway. */
export async function runCleanPass(
  log: SegmentLog,
  checkpoint: bigint | null,
  now: number,
  opts: PassOptions,
): Promise<CleanResult> {
  const plan = planClean(log, checkpoint, now, opts.earliestHorizon);
  const result = uncleanedResult(plan?.firstDirty ?? checkpoint ?? log.logStartOffset, '');
  if (plan === null) {
    result.reason = 'nothing cleanable';
    return result;
  }
  if (!plan.eligible && !opts.force) {
    result.reason = `dirty ratio ${plan.dirtyRatio.toFixed(3)} below min.cleanable.dirty.ratio`;
    return result;
  }
  const step = async (bytes: number): Promise<void> => {
    const p = opts.pace(bytes);
    if (p !== undefined) await p;
    if (opts.aborted()) throw new CleanAborted('cleaner stopped');
  };

  // (1) The offset map over the dirty section.
  const latest = new Map<string, bigint>();
  let segments = plan.segments;
  let cleanableEnd = plan.cleanableEnd;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.nextOffset <= plan.firstDirty) continue;
    const size = seg.size;
    let pos = 0;
    while (pos < size) {
      checkInput(seg, size);
      const chunk = readBatchChunk(seg, pos, size, opts.chunkBytes);
      for (const b of chunk.batches) {
        const h = readBatchHeader(b, 0);
        if (!isCleanable(h) || h.baseOffset + BigInt(h.lastOffsetDelta) < plan.firstDirty) continue;
        for (const r of decodeRecordBatches(b, { allowPartialTail: false, verifyCrc: false })[0]!.records) {
          if (r.key !== null && r.offset >= plan.firstDirty) latest.set(mapKey(r.key), r.offset);
        }
      }
      pos += chunk.bytes;
      result.bytesRead += chunk.bytes;
      await step(chunk.bytes);
    }
    if (latest.size >= opts.maxMapEntries && i + 1 < segments.length) {
      cleanableEnd = segments[i + 1]!.baseOffset;
      segments = segments.slice(0, i + 1);
      opts.logger.info(
        { dir: log.dir, keys: latest.size, upTo: String(cleanableEnd) },
        'cleaner offset map full; cleaning part of the dirty section',
      );
      break;
    }
  }

  // (2) Groups of adjacent segments that one output segment can hold.
  const cfg = log.config;
  const indexEntries = Math.floor(cfg.segmentIndexBytes / Math.max(OFFSET_INDEX_ENTRY, TIME_INDEX_ENTRY)) - 2;
  const maxGroupBytes = Math.min(
    cfg.segmentBytes,
    INT32_MAX,
    Math.max(1, indexEntries) * Math.max(1, cfg.indexIntervalBytes),
  );
  const groups: LogSegment[][] = [];
  let group: LogSegment[] = [];
  let groupBytes = 0;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const end = i + 1 < segments.length ? segments[i + 1]!.baseOffset : cleanableEnd;
    if (group.length > 0 && (groupBytes + s.size > maxGroupBytes || end - 1n - group[0]!.baseOffset > INT32_MAX)) {
      groups.push(group);
      group = [];
      groupBytes = 0;
    }
    group.push(s);
    groupBytes += s.size;
  }
  if (group.length > 0) groups.push(group);

  // (3) Clean each group into one segment and install it.
  const ctx = { latest, now, deleteRetentionMs: cfg.deleteRetentionMs };
  let earliestHorizon: bigint | null = null;
  for (const g of groups) {
    const sizes = g.map((s) => s.size);
    const cleaned = log.createCleanedSegment(g[0]!.baseOffset);
    let installed = false;
    try {
      let changed = g.length > 1;
      /** Header of the last batch read when it was dropped (it must stand in as an empty batch at the end). */
      let lastDropped: RecordBatchHeader | null = null;
      for (let k = 0; k < g.length; k++) {
        const seg = g[k]!;
        const size = sizes[k]!;
        let pos = 0;
        while (pos < size) {
          checkInput(seg, size);
          const chunk = readBatchChunk(seg, pos, size, opts.chunkBytes);
          const out: Buffer[] = [];
          for (const b of chunk.batches) {
            const f = filterBatch(b, ctx);
            if (f.changed) changed = true;
            result.recordsRemoved += f.recordsRemoved;
            result.tombstonesRemoved += f.tombstonesRemoved;
            if (f.horizon !== null && (earliestHorizon === null || f.horizon < earliestHorizon)) {
              earliestHorizon = f.horizon;
            }
            if (f.out === null) {
              lastDropped = readBatchHeader(b, 0);
            } else {
              lastDropped = null;
              out.push(f.out);
            }
          }
          pos += chunk.bytes;
          result.bytesRead += chunk.bytes;
          let written = 0;
          if (out.length > 0) {
            const buf = out.length === 1 ? out[0]! : Buffer.concat(out);
            cleaned.append(buf);
            written = buf.length;
            result.bytesWritten += written;
          }
          await step(chunk.bytes + written);
        }
      }
      if (lastDropped !== null) {
        const empty = emptyBatchLike(lastDropped);
        cleaned.append(empty);
        result.bytesWritten += empty.length;
      }
      if (!changed) {
        cleaned.discard();
        installed = true;
        result.segmentsCleaned += g.length;
        continue;
      }
      cleaned.onBecomeInactive();
      await Promise.all([cleaned.syncLog(), cleaned.syncIndexes()]);
      if (opts.aborted()) throw new CleanAborted('cleaner stopped');
      for (let k = 0; k < g.length; k++) checkInput(g[k]!, sizes[k]!);
      // Retention by time falls back to the file's mtime when batches carry no timestamps: keep the old one.
      const last = g[g.length - 1]!;
      const mtime = fs.statSync(last.path).mtimeMs / 1000;
      fs.utimesSync(cleaned.path, mtime, mtime);
      if (!log.replaceSegments(g, cleaned)) throw new CleanAborted('the segments being cleaned were replaced');
      installed = true;
      result.groupsInstalled++;
      result.segmentsCleaned += g.length;
    } finally {
      if (!installed) {
        try {
          cleaned.discard();
        } catch (err) {
          opts.logger.warn({ dir: log.dir, err: (err as Error).message }, 'cannot remove abandoned cleaner output');
        }
      }
    }
  }
  result.cleaned = true;
  result.reason = plan.urgent ?? (plan.eligible ? 'dirty ratio' : 'forced');
  result.cleanedUpTo = cleanableEnd;
  result.earliestHorizon = earliestHorizon;
  return result;
}

function checkInput(seg: LogSegment, size: number): void {
  if (seg.isDeleted) throw new CleanAborted(`segment ${seg.name} was deleted while being cleaned`);
  if (seg.size !== size) throw new CleanAborted(`segment ${seg.name} changed size while being cleaned`);
}

/** The result of a pass that cleaned nothing (yet): `reason` says why when it ends like this. */
export function uncleanedResult(firstDirty: bigint, reason: string): CleanResult {
  return {
    cleaned: false,
    reason,
    firstDirty,
    cleanedUpTo: firstDirty,
    segmentsCleaned: 0,
    groupsInstalled: 0,
    bytesRead: 0,
    bytesWritten: 0,
    recordsRemoved: 0,
    tombstonesRemoved: 0,
    earliestHorizon: null,
  };
}
