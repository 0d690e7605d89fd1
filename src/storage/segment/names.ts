/** File names of Kafka's partition directory layout: `<20-digit base offset><suffix>[.deleted|.cleaned|.swap]`. */

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const TXN_INDEX_SUFFIX = '.txnindex';
export const DELETED_SUFFIX = '.deleted';
export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';

/** The files a segment consists of (the transaction index is owned elsewhere but moves with the segment). */
export const SEGMENT_SUFFIXES = [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX] as const;

const NAME = /^(\d{20})(\.log|\.index|\.timeindex|\.txnindex)(\.deleted|\.cleaned|\.swap)?$/;

/** `00000000000000000042` for 42n. */
export function offsetName(offset: bigint): string {
  return offset.toString().padStart(20, '0');
}

export function segmentFileName(baseOffset: bigint, suffix: string): string {
  return offsetName(baseOffset) + suffix;
}

export interface ParsedName {
  baseOffset: bigint;
  /** '.log', '.index', '.timeindex' or '.txnindex'. */
  kind: string;
  /** '.deleted', '.cleaned', '.swap' or '' for a live file. */
  state: string;
}

/** Parses a segment file name; null for anything else in the directory (checkpoints, snapshots...). */
export function parseSegmentFileName(name: string): ParsedName | null {
  const m = NAME.exec(name);
  if (!m) return null;
  return { baseOffset: BigInt(m[1]!), kind: m[2]!, state: m[3] ?? '' };
}
