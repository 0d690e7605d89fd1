/**
 * The cleaner checkpoint: the first dirty offset of a log (everything below it was cleaned by a completed pass).
 *
 * Kafka keeps one `cleaner-offset-checkpoint` per log dir with `<topic> <partition> <offset>` lines. Samsa keeps one
 * file of that name per partition directory, holding a single `<offset>` entry in Kafka's checkpoint format
 * (`0\n1\n<offset>\n`), written atomically and durably by writeCheckpoint. Reasons: a SegmentLog knows its own
 * directory but not its topic/partition, and a per-partition file needs no coordination between logs. A missing,
 * empty or unreadable file means "nothing cleaned yet" (the next pass treats the whole log as dirty, which is only
 * more work, never wrong).
 */
import { join } from 'node:path';
import { parseInt64Field, readCheckpoint, splitFields, writeCheckpoint } from '../checkpoint.js';

export const CLEANER_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';

export function cleanerCheckpointPath(partitionDir: string): string {
  return join(partitionDir, CLEANER_CHECKPOINT_FILE);
}

/** The stored first dirty offset, or null when none is stored (or the file cannot be read). */
export function readCleanerCheckpoint(partitionDir: string): bigint | null {
  try {
    const entries = readCheckpoint(cleanerCheckpointPath(partitionDir), (line) =>
      parseInt64Field(splitFields(line, 1)[0]!, 'offset', 0n),
    );
    return entries === null || entries.length === 0 ? null : entries[entries.length - 1]!;
  } catch {
    return null;
  }
}

export function writeCleanerCheckpoint(partitionDir: string, firstDirty: bigint): void {
  writeCheckpoint(cleanerCheckpointPath(partitionDir), 0, [firstDirty.toString()]);
}
