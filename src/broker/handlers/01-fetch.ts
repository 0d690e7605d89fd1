/**
 * Fetch (api key 1), versions 4..17, for consumers. Reads each requested partition from its fetch offset up to
 * the high watermark (the last stable offset under READ_COMMITTED), returning the stored batches byte for byte
 * (no decoding, no copying beyond the read). Limits: `partition_max_bytes` per partition and `max_bytes` (capped by
 * the broker's fetch.max.bytes) for the response; the first batch of the first non-empty partition is returned
 * whole even when larger (KIP-74). With fewer than `min_bytes` ready the request waits in the fetch purgatory until
 * an append makes enough data visible or `max_wait_ms` passes (long poll). Fetch sessions (KIP-227, v7+) come
 * from the session cache: incremental responses carry only partitions that changed. Topics are named by id from
 * v13 (KIP-516); client leader epochs are checked from v9 (KIP-320).
 *
 * Followers (replica id >= 0, cluster mode) fetch the same way from the partition's leader, up to its log end
 * rather than the high watermark; the fetch offset tells the leader where the follower's log ends, which moves the
 * high watermark and lets the follower back into the ISR once it reaches it (ReplicaManager.followerFetched).
 */
import {
  ErrorCode,
  type FetchRequest,
  type FetchResponse,
  type FetchResponseFetchableTopicResponse,
  type FetchResponsePartitionData,
} from '../../protocol/index.js';
import type { ReadResult } from '../../storage/types.js';
import type { BrokerContext } from '../context.js';
import type { FetchContext, FetchPartitionRequest } from '../fetch-session.js';
import type { Partition } from '../replica/partition.js';
import type { Handler } from './registry.js';
import { errorCodeOf, leaderPartition } from './support.js';

const READ_COMMITTED = 1;

/** How far a fetch may read: consumers to the high watermark (or the last stable offset), followers to the end. */
type Visible = 'high-watermark' | 'stable' | 'log-end';
const EMPTY = Buffer.alloc(0);

/** One partition of a fetch being served: what was asked, where it is, and the last read. */
interface Slot {
  req: FetchPartitionRequest;
  partition: Partition | null;
  errorCode: number;
  /** The visible end (HW, LSO, or the log end for followers) when `read` was taken; reread only when it moved. */
  limit: bigint;
  read: ReadResult | null;
}

export default function fetchHandler(broker: BrokerContext): Handler<FetchRequest, FetchResponse> {
  return {
    apiKey: 1,
    minVersion: 4,
    maxVersion: 17,
    handle(ctx, request) {
      const version = ctx.apiVersion;
      const replicaId = version >= 15 ? request.replicaState.replicaId : request.replicaId;
      const session = broker.fetchSessions.newContext(
        {
          version,
          replicaId,
          sessionId: request.sessionId,
          sessionEpoch: request.sessionEpoch,
          topics: request.topics,
          forgottenTopicsData: request.forgottenTopicsData,
        },
        (id) => broker.metadata.topicById(id)?.name,
      );
      if (session.errorCode !== ErrorCode.NONE) {
        return { throttleTimeMs: 0, errorCode: session.errorCode, sessionId: 0, responses: [], nodeEndpoints: [] };
      }
      const follower = replicaId >= 0;
      const committed = !follower && request.isolationLevel === READ_COMMITTED;
      const visible: Visible = follower ? 'log-end' : committed ? 'stable' : 'high-watermark';
      const maxBytes = Math.min(request.maxBytes, broker.config.fetchMaxBytes);
      const now = Date.now();
      const slots: Slot[] = session.partitions.map((req) => {
        if (req.topic === '')
          return { req, partition: null, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, limit: -1n, read: null };
        const found = leaderPartition(broker, req.topic, req.partition, version >= 9 ? req.currentLeaderEpoch : -1);
        if (follower && found.partition !== null) {
          if (!found.partition.replicas.includes(replicaId)) {
            return { req, partition: null, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, limit: -1n, read: null };
          }
          try {
            broker.replicas.followerFetched(found.partition, replicaId, req.fetchOffset, now);
          } catch (err) {
            return { req, partition: null, errorCode: errorCodeOf(err), limit: -1n, read: null };
          }
        }
        return { req, partition: found.partition, errorCode: found.errorCode, limit: -1n, read: null };
      });
      let bytes = readAll(slots, visible, maxBytes);
      const waitable = request.maxWaitMs > 0 && bytes < request.minBytes && slots.every((s) => s.errorCode === 0);
      if (!waitable || slots.length === 0) return respond(version, session, slots, committed);

      return new Promise<FetchResponse>((resolve) => {
        const keys = slots.map((s) => s.partition!.key);
        broker.fetchPurgatory.watch(
          {
            tryComplete: () => {
              bytes = readAll(slots, visible, maxBytes);
              if (bytes < request.minBytes && slots.every((s) => s.errorCode === 0)) return false;
              resolve(respond(version, session, slots, committed));
              return true;
            },
            onExpire: () => {
              readAll(slots, visible, maxBytes);
              resolve(respond(version, session, slots, committed));
            },
          },
          keys,
          request.maxWaitMs,
        );
      });
    },
  };
}

/**
 * (Re)reads every partition whose visible end moved since its last read, within the response budget; returns the
 * bytes ready. Only the first non-empty partition may exceed its limits, by one batch.
 */
function readAll(slots: Slot[], visible: Visible, maxBytes: number): number {
  let total = 0;
  for (const s of slots) {
    if (s.errorCode !== 0 || s.partition === null) continue;
    try {
      const log = s.partition.log;
      const limit =
        visible === 'high-watermark'
          ? log.highWatermark
          : visible === 'stable'
            ? log.lastStableOffset
            : log.logEndOffset;
      if (s.read === null || limit !== s.limit) {
        const budget = Math.max(0, Math.min(s.req.partitionMaxBytes, maxBytes - total));
        s.limit = limit;
        s.read = s.partition.read(s.req.fetchOffset, { maxBytes: budget, maxOffset: limit, minOneBatch: total === 0 });
      }
      total += s.read.records.length;
    } catch (err) {
      s.errorCode = errorCodeOf(err);
      s.read = null;
    }
  }
  return total;
}

function respond(version: number, session: FetchContext, slots: Slot[], committed: boolean): FetchResponse {
  const responses: FetchResponseFetchableTopicResponse[] = [];
  let current: FetchResponseFetchableTopicResponse | null = null;
  for (const s of slots) {
    const data = partitionData(s, committed);
    const included = session.include(s.req, {
      errorCode: data.errorCode,
      highWatermark: data.highWatermark,
      lastStableOffset: data.lastStableOffset,
      logStartOffset: data.logStartOffset,
      hasRecords: data.records !== null && data.records.length > 0,
    });
    if (!included) continue;
    const sameTopic =
      current !== null && (version >= 13 ? current.topicId === s.req.topicId : current.topic === s.req.topic);
    if (!sameTopic) {
      current = {
        topic: version >= 13 ? '' : s.req.topic,
        topicId: version >= 13 ? s.req.topicId : 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: [],
      };
      responses.push(current);
    }
    current!.partitions.push(data);
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: session.sessionId, responses, nodeEndpoints: [] };
}

function partitionData(s: Slot, committed: boolean): FetchResponsePartitionData {
  const base: FetchResponsePartitionData = {
    partitionIndex: s.req.partition,
    errorCode: s.errorCode,
    highWatermark: -1n,
    lastStableOffset: -1n,
    logStartOffset: -1n,
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: committed ? [] : null,
    preferredReadReplica: -1,
    records: EMPTY,
  };
  if (s.partition !== null) {
    try {
      const log = s.partition.log;
      base.highWatermark = log.highWatermark;
      base.lastStableOffset = log.lastStableOffset;
      base.logStartOffset = log.logStartOffset;
    } catch (err) {
      base.errorCode = errorCodeOf(err);
    }
  }
  if (base.errorCode === 0 && s.read !== null) base.records = s.read.records;
  return base;
}
