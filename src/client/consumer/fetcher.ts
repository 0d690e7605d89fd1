/**
 * Fetching for the consumer: one Fetch at a time in flight per broker, for the assigned partitions that broker
 * leads, sent again as soon as the previous answer is in, while the application still works through buffered
 * records. That keeps the next fetch in flight during processing (pipelining) instead of one round trip per batch;
 * the buffer is bounded (a partition is not fetched while `maxPartitionFetchBytes` of it wait, nor any while
 * `fetchMaxBytes` wait in total).
 *
 * Fetches travel on connections of their own, one per broker, not the cluster's shared ones: a broker answers a
 * connection's requests in order, and a long poll (up to `fetchMaxWaitMs`) would hold up metadata, offset lookups
 * and commits queued behind it.
 *
 * Requests: Fetch v4-17, the newest the broker speaks (topic ids from v13 when the metadata has them), with the
 * partition's current leader epoch (v9+) so that a stale leader answers FENCED_LEADER_EPOCH. With incremental fetch
 * sessions (KIP-227, v7+, on by default) each broker keeps the fetch set: a request carries only the partitions
 * whose fetch offset or leader epoch changed, forgets those no longer fetched (paused, buffer full, backing off),
 * and the answer carries only partitions with news; a session error or a broken connection starts a new session
 * with a full request. The partition listed first in a full request gets its first batch whole even over the limits
 * (KIP-74), so the order rotates between requests and no partition starves behind another's large batches (in a
 * session the broker rotates).
 *
 * Answers: whole batches are kept as they came (decoded only when delivered, by `decodeFetch`) and the partition's
 * next fetch offset moves past the last whole batch; a cut-off tail is fetched again. OFFSET_OUT_OF_RANGE resets the
 * position by `autoOffsetReset` (or raises with 'none'); stale-metadata errors refresh the metadata and retry after
 * `retryBackoffMs`; other errors are raised in the delivery loop. Answers for a partition whose epoch moved on (a
 * seek or a revocation since the request) are dropped.
 *
 * Concurrency: single-threaded; `schedule()` may be called any time something changes and sends what it can.
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { FetchResponse } from '../../protocol/index.js';
import { decodeRecordBatches } from '../../protocol/records/decode.js';
import { type Cluster, type ClusterMetadata, isStaleMetadataError } from '../network/cluster.js';
import { BrokerConnection } from '../network/connection.js';
import type { Deserializer } from '../serde.js';
import type { AssignmentState, CompletedFetch, PartitionState } from './state.js';
import type { ConsumerMessage, MessageHeader } from './types.js';

const FETCH = 1;
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Fetch versions with sessions (KIP-227) and with topic ids (KIP-516). */
const SESSION_VERSION = 7;
const TOPIC_ID_VERSION = 13;
/** Session epochs: a full fetch that opens a session, one that asks for none. */
const INITIAL_EPOCH = 0;
const FINAL_EPOCH = -1;
const INT32_MAX = 0x7fffffff;
const SESSION_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
  ErrorCode.INVALID_FETCH_SESSION_EPOCH,
  ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR,
]);

/** A partition as the broker's fetch session knows it (what was last sent for it). */
interface SessionPartition {
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: bigint;
  leaderEpoch: number;
}

interface FetchSession {
  id: number;
  /** The epoch of the next request. */
  epoch: number;
  /** The Fetch version it was opened with (topic ids or names must stay the same). */
  version: number;
  partitions: Map<string, SessionPartition>;
}

function groupForgotten(list: readonly SessionPartition[]): { topic: string; topicId: string; partitions: number[] }[] {
  const byTopic = new Map<string, { topic: string; topicId: string; partitions: number[] }>();
  for (const p of list) {
    let t = byTopic.get(p.topic);
    if (t === undefined) {
      t = { topic: p.topic, topicId: p.topicId, partitions: [] };
      byTopic.set(p.topic, t);
    }
    t.partitions.push(p.partition);
  }
  return [...byTopic.values()];
}
/** How long to wait before asking for the metadata of a topic or leader that is not there. */
const MISSING_METADATA_BACKOFF_MS = 1000;

export interface FetcherOptions {
  clientId: string;
  requestTimeoutMs: number;
  connectTimeoutMs: number | undefined;
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
  fetchMaxBytes: number;
  maxPartitionFetchBytes: number;
  /** 0 read_uncommitted, 1 read_committed. */
  isolationLevel: number;
  retryBackoffMs: number;
  /** Use incremental fetch sessions (KIP-227). */
  fetchSessions: boolean;
}

export interface FetcherHooks {
  /** Some assigned partitions have no position yet: look them up. */
  resolvePositions(): void;
  /** The partition's fetch offset is out of range. */
  outOfRange(state: PartitionState): void;
}

export class Fetcher {
  private readonly connections = new Map<number, Promise<BrokerConnection>>();
  /** The fetch session with each broker. */
  private readonly sessions = new Map<number, FetchSession>();
  /** Consecutive failed fetches per broker, for an exponential backoff (up to 1 s, as reconnect.backoff.max.ms). */
  private readonly failures = new Map<number, number>();
  /** Brokers with a fetch in flight. */
  private readonly busy = new Set<number>();
  private metadata: ClusterMetadata | null = null;
  private refreshing = false;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Number.POSITIVE_INFINITY;
  private rotation = 0;
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly state: AssignmentState,
    private readonly options: FetcherOptions,
    private readonly hooks: FetcherHooks,
  ) {}

  /** Sends a fetch to every leader with fetchable partitions and no fetch in flight. */
  schedule(): void {
    if (this.closed) return;
    const md = this.metadata;
    if (md === null) {
      this.refreshMetadata();
      return;
    }
    const now = Date.now();
    const byNode = new Map<number, PartitionState[]>();
    let needPositions = false;
    let needMetadata = false;
    let wakeAt = Number.POSITIVE_INFINITY;
    const full = this.state.totalBufferedBytes >= this.options.fetchMaxBytes;
    for (const s of this.state.partitions.values()) {
      if (s.paused || s.revoking || s.error !== null || s.stopped || s.inFlight) continue;
      if (s.position === null) {
        if (s.retryAt > now) wakeAt = Math.min(wakeAt, s.retryAt);
        else needPositions = true;
        continue;
      }
      if (s.retryAt > now) {
        wakeAt = Math.min(wakeAt, s.retryAt);
        continue;
      }
      if (full || s.bufferedBytes >= this.options.maxPartitionFetchBytes) continue;
      const leader = md.topics.get(s.topic)?.partitions[s.partition]?.leader ?? -1;
      if (leader < 0) {
        needMetadata = true;
        s.retryAt = now + MISSING_METADATA_BACKOFF_MS;
        wakeAt = Math.min(wakeAt, s.retryAt);
        continue;
      }
      if (this.busy.has(leader)) continue;
      let list = byNode.get(leader);
      if (list === undefined) {
        list = [];
        byNode.set(leader, list);
      }
      list.push(s);
    }
    for (const [node, list] of byNode) void this.fetch(node, list, md);
    if (needPositions) this.hooks.resolvePositions();
    if (needMetadata) this.refreshMetadata(true);
    if (wakeAt < this.wakeAt) {
      if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
      this.wakeAt = wakeAt;
      this.wakeTimer = setTimeout(
        () => {
          this.wakeTimer = null;
          this.wakeAt = Number.POSITIVE_INFINITY;
          this.schedule();
        },
        Math.max(0, wakeAt - now),
      );
    }
  }

  /** Fetches metadata for the assigned topics (once at a time), then schedules. */
  refreshMetadata(force = false): void {
    if (this.refreshing || this.closed) return;
    this.refreshing = true;
    if (force) this.cluster.invalidate();
    const topics = [...new Set(this.state.list().map((s) => s.topic))];
    this.cluster.metadata(topics).then(
      (md) => {
        this.refreshing = false;
        this.metadata = md;
        this.schedule();
      },
      () => {
        this.refreshing = false;
        setTimeout(() => this.schedule(), MISSING_METADATA_BACKOFF_MS).unref();
        if (this.metadata === null) return;
        // Keep the old view; partitions retry after the backoff.
      },
    );
  }

  private async connection(node: number, md: ClusterMetadata): Promise<BrokerConnection> {
    const existing = this.connections.get(node);
    if (existing !== undefined) {
      const c = await existing.catch(() => null);
      if (c !== null && !c.closed) return c;
      if (this.connections.get(node) === existing) this.connections.delete(node);
    }
    const broker = md.brokers.get(node);
    if (broker === undefined) throw new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `broker ${node} is not known`);
    const opening = BrokerConnection.connect({
      host: broker.host,
      port: broker.port,
      clientId: this.options.clientId,
      requestTimeoutMs: this.options.requestTimeoutMs,
      ...(this.options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: this.options.connectTimeoutMs }),
    });
    this.connections.set(node, opening);
    opening.catch(() => {
      if (this.connections.get(node) === opening) this.connections.delete(node);
    });
    return opening;
  }

  private async fetch(node: number, partitions: PartitionState[], md: ClusterMetadata): Promise<void> {
    this.busy.add(node);
    // Rotate which partition comes first (KIP-74 only guarantees progress to the first one).
    const start = this.rotation++ % partitions.length;
    const list = [...partitions.slice(start), ...partitions.slice(0, start)];
    const sent = list.map((s) => ({ s, epoch: s.epoch, offset: s.fetchOffset! }));
    for (const s of list) s.inFlight = true;
    let refresh = false;
    try {
      const conn = await this.connection(node, md);
      let v = conn.version(FETCH, 4, 17);
      const topicIds = new Map<string, string>();
      for (const s of list) topicIds.set(s.topic, md.topics.get(s.topic)?.topicId ?? ZERO_UUID);
      if (v >= 13 && [...topicIds.values()].some((id) => id === ZERO_UUID)) v = 12;
      // The fetch set as it goes to the broker now: with a session, only what changed since the last request, and
      // the partitions no longer fetched are forgotten.
      const wanted = new Map<string, SessionPartition>();
      for (const { s, offset } of sent) {
        wanted.set(s.key, {
          topic: s.topic,
          topicId: topicIds.get(s.topic)!,
          partition: s.partition,
          fetchOffset: offset,
          leaderEpoch: md.topics.get(s.topic)?.partitions[s.partition]?.leaderEpoch ?? -1,
        });
      }
      const sessionsOn = this.options.fetchSessions && v >= SESSION_VERSION;
      let session = sessionsOn ? this.sessions.get(node) : undefined;
      if (session !== undefined && session.version >= TOPIC_ID_VERSION !== v >= TOPIC_ID_VERSION) {
        this.sessions.delete(node);
        session = undefined;
      }
      const changed: SessionPartition[] = [];
      const forgotten: SessionPartition[] = [];
      for (const [key, w] of wanted) {
        const known = session?.partitions.get(key);
        if (
          known === undefined ||
          known.fetchOffset !== w.fetchOffset ||
          known.leaderEpoch !== w.leaderEpoch ||
          known.topicId !== w.topicId
        ) {
          changed.push(w);
        }
      }
      if (session !== undefined) for (const [key, k] of session.partitions) if (!wanted.has(key)) forgotten.push(k);
      const topics: { topic: string; topicId: string; partitions: object[] }[] = [];
      const byTopic = new Map<string, object[]>();
      for (const w of changed) {
        let parts = byTopic.get(w.topic);
        if (parts === undefined) {
          parts = [];
          byTopic.set(w.topic, parts);
          topics.push({ topic: w.topic, topicId: w.topicId, partitions: parts });
        }
        parts.push({
          partition: w.partition,
          currentLeaderEpoch: w.leaderEpoch,
          fetchOffset: w.fetchOffset,
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: this.options.maxPartitionFetchBytes,
        });
      }
      const forgottenTopicsData = groupForgotten(forgotten);
      const sessionEpoch = !sessionsOn ? FINAL_EPOCH : session === undefined ? INITIAL_EPOCH : session.epoch;
      const res = await conn.send<FetchResponse>(
        FETCH,
        v,
        {
          ...(v < 15 ? { replicaId: -1 } : {}),
          maxWaitMs: this.options.fetchMaxWaitMs,
          minBytes: this.options.fetchMinBytes,
          maxBytes: this.options.fetchMaxBytes,
          isolationLevel: this.options.isolationLevel,
          sessionId: session?.id ?? 0,
          sessionEpoch,
          topics,
          forgottenTopicsData,
          rackId: '',
        },
        { timeoutMs: this.options.requestTimeoutMs + this.options.fetchMaxWaitMs },
      );
      if (this.closed) return;
      this.failures.delete(node);
      if (res.errorCode !== ErrorCode.NONE) {
        // A session the broker lost (evicted, restarted) or whose epoch went astray: start a new one at once.
        this.sessions.delete(node);
        if (SESSION_ERRORS.has(res.errorCode)) return;
        refresh = isStaleMetadataError(res.errorCode);
        this.backoff(list);
        return;
      }
      if (sessionsOn) {
        if (res.sessionId === 0) this.sessions.delete(node);
        else if (session === undefined || session.id !== res.sessionId) {
          this.sessions.set(node, { id: res.sessionId, epoch: 1, version: v, partitions: wanted });
        } else {
          session.epoch = session.epoch === INT32_MAX ? 1 : session.epoch + 1;
          session.partitions = wanted;
        }
      }
      const names = new Map<string, string>();
      if (v >= 13) for (const [name, id] of topicIds) names.set(id, name);
      const bySent = new Map(sent.map((x) => [x.s.key, x]));
      let delivered = false;
      for (const t of res.responses) {
        const name = v >= 13 ? names.get(t.topicId) : t.topic;
        if (name === undefined) continue;
        for (const p of t.partitions) {
          const req = bySent.get(`${name}:${p.partitionIndex}`);
          if (req === undefined) continue;
          const s = req.s;
          if (s.epoch !== req.epoch || this.state.partitions.get(s.key) !== s) continue;
          if (p.errorCode === ErrorCode.NONE) {
            s.highWatermark = p.highWatermark;
            s.logStartOffset = p.logStartOffset;
            if (p.records !== null && p.records.length > 0 && this.accept(s, req.offset, p)) delivered = true;
          } else if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
            this.hooks.outOfRange(s);
          } else if (isStaleMetadataError(p.errorCode) || new KafkaError(p.errorCode).retriable) {
            if (isStaleMetadataError(p.errorCode)) refresh = true;
            s.retryAt = Date.now() + this.options.retryBackoffMs;
          } else {
            s.error = new KafkaError(
              p.errorCode,
              `fetching ${s.topic}-${s.partition}: ${new KafkaError(p.errorCode).message}`,
            );
            delivered = true;
          }
        }
      }
      if (delivered) this.state.changed();
    } catch {
      // The connection failed or timed out (it is closed then) or the broker is unknown: retry after a backoff
      // with fresh metadata, in case the leader moved, in a new fetch session (where the old one stands is unknown).
      this.sessions.delete(node);
      refresh = true;
      const failures = (this.failures.get(node) ?? 0) + 1;
      this.failures.set(node, failures);
      this.backoff(list, Math.min(MISSING_METADATA_BACKOFF_MS, this.options.retryBackoffMs * 2 ** (failures - 1)));
    } finally {
      this.busy.delete(node);
      for (const s of list) s.inFlight = false;
      if (refresh) this.refreshMetadata(true);
      else this.schedule();
    }
  }

  private backoff(list: PartitionState[], ms = this.options.retryBackoffMs): void {
    const at = Date.now() + ms;
    for (const s of list) s.retryAt = at;
  }

  /** Buffers the whole batches of an answer; false when it had none. */
  private accept(
    s: PartitionState,
    fetchOffset: bigint,
    p: FetchResponse['responses'][number]['partitions'][number],
  ): boolean {
    const records = p.records!;
    let pos = 0;
    let next = -1n;
    while (records.length - pos >= 17) {
      const size = 12 + records.readInt32BE(pos + 8);
      if (size > records.length - pos) break;
      const magic = records.readInt8(pos + 16);
      // v2 batches: base offset + last offset delta; v0/v1 entries: the offset field is the (last) offset.
      const last =
        magic === 2 && size >= 27
          ? records.readBigInt64BE(pos) + BigInt(records.readInt32BE(pos + 23))
          : records.readBigInt64BE(pos);
      next = last + 1n;
      pos += size;
    }
    if (pos === 0 || next <= fetchOffset) {
      // Nothing whole (a batch over the limits not listed first) or only what was already read (compaction
      // leftovers): move past it when that is safe, else fetch again later.
      if (pos > 0 && next > s.fetchOffset!) s.fetchOffset = next;
      return false;
    }
    const whole = pos === records.length ? records : records.subarray(0, pos);
    s.fetchOffset = next;
    s.bufferedBytes += whole.length;
    this.state.totalBufferedBytes += whole.length;
    this.state.ready.push({
      state: s,
      epoch: s.epoch,
      records: whole,
      abortedTransactions: p.abortedTransactions,
      highWatermark: p.highWatermark,
      messages: null,
      next: 0,
    });
    return true;
  }

  close(): void {
    this.closed = true;
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    for (const c of this.connections.values()) {
      c.then(
        (conn) => conn.close(),
        () => {},
      );
    }
    this.connections.clear();
  }
}

const ABORT_MARKER = 0;

/**
 * The messages of a buffered answer from `from` on: control batches (transaction markers) left out, and under
 * read_committed the records of aborted transactions too (the answer lists where each aborted transaction starts;
 * its records are skipped until its abort marker).
 */
export function decodeFetch<K, V>(
  f: CompletedFetch,
  from: bigint,
  options: {
    checkCrcs: boolean;
    readCommitted: boolean;
    keyDeserializer: Deserializer<K> | null;
    valueDeserializer: Deserializer<V> | null;
  },
): ConsumerMessage<K, V>[] {
  const { topic, partition } = f.state;
  const batches = decodeRecordBatches(f.records, { verifyCrc: options.checkCrcs });
  const aborted =
    options.readCommitted && f.abortedTransactions !== null && f.abortedTransactions.length > 0
      ? [...f.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1))
      : null;
  const abortedProducers = new Set<bigint>();
  let nextAborted = 0;
  const kd = options.keyDeserializer;
  const vd = options.valueDeserializer;
  const out: ConsumerMessage<K, V>[] = [];
  for (const batch of batches) {
    const lastOffset = batch.baseOffset + BigInt(batch.lastOffsetDelta);
    if (lastOffset < from) continue;
    if (aborted !== null) {
      while (nextAborted < aborted.length && aborted[nextAborted]!.firstOffset <= lastOffset) {
        abortedProducers.add(aborted[nextAborted++]!.producerId);
      }
    }
    if (batch.isControl) {
      const marker = batch.records[0]?.key;
      if (marker != null && marker.length >= 4 && marker.readInt16BE(2) === ABORT_MARKER) {
        abortedProducers.delete(batch.producerId);
      }
      continue;
    }
    if (aborted !== null && batch.isTransactional && abortedProducers.has(batch.producerId)) continue;
    const leaderEpoch = batch.partitionLeaderEpoch;
    const timestampType = batch.timestampType;
    for (const r of batch.records) {
      if (r.offset < from) continue;
      out.push({
        topic,
        partition,
        offset: r.offset,
        key: kd === null ? (r.key as K) : kd(r.key),
        value: vd === null ? (r.value as V) : vd(r.value),
        headers: r.headers as MessageHeader[],
        timestamp: r.timestamp,
        timestampType,
        leaderEpoch,
      });
    }
  }
  return out;
}
