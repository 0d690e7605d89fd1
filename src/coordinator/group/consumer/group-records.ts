/**
 * What a KIP-848 group writes to `__consumer_offsets` after a change: the records describing its state now
 * (group epoch, assignment epoch, and per member its metadata, target and current assignment), compared with what
 * was last written for it, so that only changed records and tombstones for removed members go out. Comparing
 * encoded bytes keeps the rule simple: whatever would decode differently is rewritten.
 *
 * Concurrency: single-threaded; the image is updated when the write is issued (writes of one group land in call
 * order), and dropped when a write fails so that the next change rewrites everything.
 */

import { ErrorCode } from '../../../protocol/errors.js';
import type { CoordinatorContext } from '../context.js';
import { storeErrorCode } from '../store-errors.js';
import type { ConsumerGroup } from './consumer-group.js';
import { type ConsumerGroupRecord, encodeConsumerGroupRecord } from './records.js';

/** Per encoded key (latin1): the value last written, and the tombstone that would delete it. */
export type WrittenImage = Map<string, { value: Buffer; tombstone: ConsumerGroupRecord }>;

/** Every record that describes the group as it is now. */
export function recordsOf(group: ConsumerGroup): ConsumerGroupRecord[] {
  const groupId = group.groupId;
  const out: ConsumerGroupRecord[] = [];
  for (const m of group.members) {
    out.push({
      type: 'member',
      group: groupId,
      memberId: m.memberId,
      value: {
        instanceId: m.instanceId,
        rackId: m.rackId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        subscribedTopicRegex: m.subscribedTopicRegex,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        serverAssignor: m.serverAssignor,
      },
    });
    out.push({ type: 'target', group: groupId, memberId: m.memberId, value: group.targetOf(m.memberId) });
    out.push({
      type: 'current',
      group: groupId,
      memberId: m.memberId,
      value: {
        memberEpoch: m.memberEpoch,
        previousMemberEpoch: m.previousMemberEpoch,
        state: m.state,
        assigned: m.assigned,
        pendingRevocation: m.pendingRevocation,
      },
    });
  }
  out.push({ type: 'targetEpoch', group: groupId, value: { assignmentEpoch: group.assignmentEpoch } });
  out.push({ type: 'group', group: groupId, value: { epoch: group.groupEpoch } });
  return out;
}

function tombstoneOf(r: ConsumerGroupRecord): ConsumerGroupRecord {
  return { ...r, value: null } as ConsumerGroupRecord;
}

/** Group-level records (epochs) are tombstoned after the members' ones, as Kafka orders a removal. */
const isGroupLevel = (r: ConsumerGroupRecord): boolean => r.type === 'group' || r.type === 'targetEpoch';

/**
 * The records to write so that the log says what `current` says: changed or new records, then tombstones for keys
 * no longer present (removed members; everything when the group is `deleted`). `image` is updated to match.
 */
export function diffRecords(
  image: WrittenImage,
  current: readonly ConsumerGroupRecord[],
  deleted = false,
): ConsumerGroupRecord[] {
  const out: ConsumerGroupRecord[] = [];
  const present = new Set<string>();
  if (!deleted) {
    for (const r of current) {
      const e = encodeConsumerGroupRecord(r);
      const k = e.key.toString('latin1');
      present.add(k);
      const before = image.get(k);
      if (e.value === null || before?.value.equals(e.value)) continue;
      out.push(r);
      image.set(k, { value: e.value, tombstone: tombstoneOf(r) });
    }
  }
  const gone = [...image].filter(([k]) => !present.has(k));
  gone.sort(([, a], [, b]) => Number(isGroupLevel(a.tombstone)) - Number(isGroupLevel(b.tombstone)));
  for (const [k, { tombstone }] of gone) {
    out.push(tombstone);
    image.delete(k);
  }
  return out;
}

/**
 * Writes what changed in `group` since its last write (everything as tombstones when `deleted`) and resolves with
 * the error code clients should see (NONE when written or when nothing changed). Without KIP-848 persistence in
 * the context, nothing is written.
 */
export function persistConsumerGroup(ctx: CoordinatorContext, group: ConsumerGroup, deleted = false): Promise<number> {
  const persistence = ctx.persistence;
  if (persistence.storeConsumerGroupRecords === undefined) return Promise.resolve(ErrorCode.NONE);
  const records = diffRecords(group.written, deleted ? [] : recordsOf(group), deleted);
  if (records.length === 0) return Promise.resolve(ErrorCode.NONE);
  let write: Promise<void>;
  try {
    write = persistence.storeConsumerGroupRecords(group.groupId, records);
  } catch (e) {
    write = Promise.reject(e);
  }
  return write.then(
    () => ErrorCode.NONE,
    (e: unknown) => {
      ctx.log.warn(`group ${group.groupId}: storing consumer group records failed: ${String(e)}`);
      // What the log holds is now unknown: the next change rewrites every record.
      group.written.clear();
      return storeErrorCode(e, 'consumer-group');
    },
  );
}

/** Marks the group's current records as written (a group just loaded from them). */
export function markWritten(group: ConsumerGroup): void {
  group.written.clear();
  diffRecords(group.written, recordsOf(group));
}
