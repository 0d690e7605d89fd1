/**
 * Incremental fetch sessions (KIP-227, Fetch v7+; topic ids from v13, KIP-516): the broker remembers what a fetcher
 * asks for, so later requests carry only changes and responses carry only partitions with news.
 *
 * Request metadata (sessionId, epoch), as in Kafka's FetchManager:
 * - 0 / -1: sessionless full fetch (also every request below v7). Response session id 0.
 * - 0 / 0: full fetch that creates a session when the cache has room (else sessionless, id 0).
 * - X / -1: closes X, then sessionless full fetch.  X / 0: closes X, then creates a new session.
 * - X / N>0: incremental. Unknown X: FETCH_SESSION_ID_NOT_FOUND; N not the expected epoch:
 *   INVALID_FETCH_SESSION_EPOCH; topic-id use differing from the session's creation (v13+ vs older):
 *   FETCH_SESSION_TOPIC_ID_ERROR. Otherwise `topics` adds or updates partitions, `forgottenTopicsData` removes them,
 *   and the next expected epoch is N+1 (after 2^31-1 comes 1). A request that leaves the session empty closes it
 *   and is answered sessionless, like Kafka.
 *
 * Full fetches answer every requested partition. Incremental fetches read every partition of the session but answer
 * only those with news: records, an error, a forced reason (`mustRespond`), or a high watermark, last stable offset
 * or log start offset other than the one last sent. A partition that had an error, or was just added, is always
 * answered next time. Partitions keep insertion order, and one that is answered in an incremental response moves to
 * the end, so a response cut short by `max_bytes` does not starve the partitions at the end (Kafka's rotation).
 *
 * From v13 partitions are keyed by topic id; an id the resolver does not know is kept in the session (answered with
 * UNKNOWN_TOPIC_ID until forgotten). Names are re-resolved on every request, so a topic that appears later is read
 * and one deleted meanwhile gets the error.
 *
 * Cache bound (`max.incremental.fetch.session.cache.slots`, `min.incremental.fetch.session.eviction.ms`): when full,
 * a new session may evict (1) the least recently used session if it has been idle longer than the eviction time,
 * else (2) the least valuable evictable session, if the new one is strictly more valuable. Value orders followers
 * (replicaId >= 0, "privileged") above consumers, then by partition count. A consumer may evict only sessions
 * created longer ago than the eviction time; a follower may also evict any consumer session. Kafka keeps sorted
 * indexes updated on each use; we scan the sessions instead when the cache is full (at most `maxSlots`, only on
 * session creation), which judges age at eviction time rather than at last use: a simplification, documented here.
 */
import { ErrorCode } from '../protocol/errors.js';

/** Session id meaning "no session". */
export const INVALID_SESSION_ID = 0;
/** Epoch of a full fetch that creates a session. */
export const INITIAL_EPOCH = 0;
/** Epoch of a full fetch that asks for no session. */
export const FINAL_EPOCH = -1;
/** Kafka's `max.incremental.fetch.session.cache.slots` default. */
export const DEFAULT_MAX_SLOTS = 1000;
/** Kafka's `min.incremental.fetch.session.eviction.ms` default. */
export const DEFAULT_EVICTION_MS = 120_000;

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
const INT32_MAX = 0x7fffffff;
/** First version with fetch sessions and first naming topics by id. */
const SESSION_VERSION = 7;
const TOPIC_ID_VERSION = 13;

/** The epoch after `epoch` (Kafka's FetchMetadata.nextEpoch). */
export function nextEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  return epoch === INT32_MAX ? 1 : epoch + 1;
}

/** One partition to read, as the session knows it. Objects are owned by the cache: read, do not keep or change. */
export interface FetchPartitionRequest {
  /** Topic name; '' when the request's topic id is unknown (then `errorCode` is UNKNOWN_TOPIC_ID). */
  readonly topic: string;
  /** Topic id as sent (the zero uuid below v13). */
  readonly topicId: string;
  readonly partition: number;
  readonly fetchOffset: bigint;
  readonly partitionMaxBytes: number;
  readonly logStartOffset: bigint;
  readonly currentLeaderEpoch: number;
  readonly lastFetchedEpoch: number;
  /** An error decided before reading (UNKNOWN_TOPIC_ID); when non-zero answer with it and do not read. */
  readonly errorCode: number;
}

/** What the response says about a partition; one object may be reused across calls. */
export interface PartitionResultState {
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  hasRecords: boolean;
  /** Answer even if nothing above changed (diverging epoch, preferred read replica, ...). */
  mustRespond?: boolean;
}

export type FetchContextKind = 'error' | 'sessionless' | 'full' | 'incremental';

export interface FetchContext {
  readonly kind: FetchContextKind;
  /** To put in the response. */
  readonly sessionId: number;
  /** Top-level error (then no partitions). */
  readonly errorCode: number;
  /** What to read, in order. */
  readonly partitions: readonly FetchPartitionRequest[];
  /**
   * Whether this partition's result goes into the response; also records the state the client now knows. Call it
   * once per partition of `partitions`, when building the response actually sent.
   */
  include(p: FetchPartitionRequest, state: PartitionResultState): boolean;
}

export interface FetchSessionRequestPartition {
  partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  logStartOffset: bigint;
  currentLeaderEpoch: number;
  lastFetchedEpoch?: number;
}

/** The parts of a FetchRequest sessions depend on (the generated FetchRequest fits). */
export interface FetchSessionRequest {
  version: number;
  /** >= 0 for a follower (its session is privileged for eviction), -1 for a consumer. */
  replicaId: number;
  sessionId: number;
  sessionEpoch: number;
  topics: readonly { topic: string; topicId: string; partitions: readonly FetchSessionRequestPartition[] }[];
  forgottenTopicsData: readonly { topic: string; topicId: string; partitions: readonly number[] }[];
}

export interface FetchSessionCacheOptions {
  /** `max.incremental.fetch.session.cache.slots`; 0 disables sessions. */
  maxSlots?: number;
  /** `min.incremental.fetch.session.eviction.ms`. */
  evictionMs?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Uniform in [0, 1), for session ids (tests). */
  random?: () => number;
}

/** A caller misused the API (e.g. passed a partition object the context did not hand out). */
export class FetchSessionError extends Error {
  override readonly name = 'FetchSessionError';
}

/** A partition in a session (or in a sessionless request): request parameters plus what the client was last told. */
class CachedPartition implements FetchPartitionRequest {
  topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly key: string;
  fetchOffset: bigint;
  partitionMaxBytes: number;
  logStartOffset: bigint;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  errorCode: number;
  /** Last sent to the client. */
  sentHighWatermark = -1n;
  sentLastStableOffset = -1n;
  sentLogStartOffset = -1n;
  /** The client must hear about it next time: just added, or last answered with an error. */
  mustSend = true;

  constructor(key: string, topic: string, topicId: string, p: FetchSessionRequestPartition) {
    this.key = key;
    this.topic = topic;
    this.topicId = topicId;
    this.partition = p.partition;
    this.errorCode = topic === '' ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.NONE;
    this.fetchOffset = p.fetchOffset;
    this.partitionMaxBytes = p.partitionMaxBytes;
    this.logStartOffset = p.logStartOffset;
    this.currentLeaderEpoch = p.currentLeaderEpoch;
    this.lastFetchedEpoch = p.lastFetchedEpoch ?? -1;
  }

  update(p: FetchSessionRequestPartition): void {
    this.fetchOffset = p.fetchOffset;
    this.partitionMaxBytes = p.partitionMaxBytes;
    this.logStartOffset = p.logStartOffset;
    this.currentLeaderEpoch = p.currentLeaderEpoch;
    this.lastFetchedEpoch = p.lastFetchedEpoch ?? -1;
  }

  setTopic(topic: string): void {
    this.topic = topic;
    this.errorCode = topic === '' ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.NONE;
  }

  /** Records what the response says; true when it carries news for the client. */
  record(state: PartitionResultState): boolean {
    const news =
      this.mustSend ||
      state.hasRecords ||
      state.errorCode !== ErrorCode.NONE ||
      state.mustRespond === true ||
      state.highWatermark !== this.sentHighWatermark ||
      state.lastStableOffset !== this.sentLastStableOffset ||
      state.logStartOffset !== this.sentLogStartOffset;
    this.sentHighWatermark = state.highWatermark;
    this.sentLastStableOffset = state.lastStableOffset;
    this.sentLogStartOffset = state.logStartOffset;
    // After an error the partition is sent again even if the offsets then match (Kafka resets its cached HW).
    this.mustSend = state.errorCode !== ErrorCode.NONE;
    return news;
  }
}

class Session {
  readonly id: number;
  readonly privileged: boolean;
  readonly usesTopicIds: boolean;
  readonly creationMs: number;
  lastUsedMs: number;
  /** The epoch the next incremental request must carry. */
  epoch = 1;
  /** Insertion order is the read order. */
  readonly partitions: Map<string, CachedPartition>;

  constructor(
    id: number,
    privileged: boolean,
    usesTopicIds: boolean,
    partitions: Map<string, CachedPartition>,
    now: number,
  ) {
    this.id = id;
    this.privileged = privileged;
    this.usesTopicIds = usesTopicIds;
    this.partitions = partitions;
    this.creationMs = now;
    this.lastUsedMs = now;
  }

  get size(): number {
    return this.partitions.size;
  }
}

const NO_PARTITIONS: readonly FetchPartitionRequest[] = Object.freeze([]);

class Context implements FetchContext {
  readonly kind: FetchContextKind;
  readonly sessionId: number;
  readonly errorCode: number;
  readonly partitions: readonly FetchPartitionRequest[];
  private readonly session: Session | undefined;

  constructor(
    kind: FetchContextKind,
    errorCode: number,
    partitions: readonly FetchPartitionRequest[],
    session: Session | undefined,
  ) {
    this.kind = kind;
    this.errorCode = errorCode;
    this.partitions = partitions;
    this.session = session;
    this.sessionId = session?.id ?? INVALID_SESSION_ID;
  }

  include(p: FetchPartitionRequest, state: PartitionResultState): boolean {
    switch (this.kind) {
      case 'error':
        return false;
      case 'sessionless':
        return true;
      case 'full':
        asCached(p).record(state);
        return true;
      case 'incremental': {
        const cached = asCached(p);
        if (!cached.record(state)) return false;
        const partitions = this.session!.partitions;
        // Move to the end only if still in the session (a later request may have forgotten it meanwhile).
        if (partitions.get(cached.key) === cached) {
          partitions.delete(cached.key);
          partitions.set(cached.key, cached);
        }
        return true;
      }
    }
  }
}

function asCached(p: FetchPartitionRequest): CachedPartition {
  if (p instanceof CachedPartition) return p;
  throw new FetchSessionError('include() needs a partition object taken from this context');
}

/** One per broker: the sessions of all its fetchers. Not thread-shared; all calls are synchronous. */
export class FetchSessionCache {
  readonly maxSlots: number;
  readonly evictionMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  /** By id, least recently used first (re-inserted on use). */
  private readonly sessions = new Map<number, Session>();
  private evictionCount = 0;

  constructor(options: FetchSessionCacheOptions = {}) {
    this.maxSlots = options.maxSlots ?? DEFAULT_MAX_SLOTS;
    this.evictionMs = options.evictionMs ?? DEFAULT_EVICTION_MS;
    if (!(this.maxSlots >= 0)) throw new RangeError(`maxSlots must be >= 0, got ${this.maxSlots}`);
    if (!(this.evictionMs >= 0)) throw new RangeError(`evictionMs must be >= 0, got ${this.evictionMs}`);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** Sessions in the cache. */
  get size(): number {
    return this.sessions.size;
  }

  /** Partitions summed over all sessions (Kafka's NumIncrementalFetchPartitionsCached). */
  get partitionCount(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.partitions.size;
    return n;
  }

  /** Sessions evicted to make room so far (Kafka's IncrementalFetchSessionEvictionsPerSec, as a count). */
  get evictions(): number {
    return this.evictionCount;
  }

  /** Whether a session exists (tests, admin). */
  has(sessionId: number): boolean {
    return this.sessions.has(sessionId);
  }

  /** Closes a session; true if it existed. */
  remove(sessionId: number): boolean {
    return this.sessions.delete(sessionId);
  }

  /** Works out what a Fetch request reads and how its response is filtered; updates the session it names. */
  newContext(request: FetchSessionRequest, resolveTopicId: (id: string) => string | undefined): FetchContext {
    const { version, sessionId, sessionEpoch } = request;
    const usesTopicIds = version >= TOPIC_ID_VERSION;
    if (version < SESSION_VERSION || sessionEpoch === FINAL_EPOCH || sessionEpoch === INITIAL_EPOCH) {
      // Any session named by a full fetch is closed (KIP-227), even when a new one cannot be created.
      if (sessionId !== INVALID_SESSION_ID && version >= SESSION_VERSION) this.sessions.delete(sessionId);
      const partitions = new Map<string, CachedPartition>();
      for (const t of request.topics) {
        const topic = usesTopicIds ? resolveName(t.topicId, resolveTopicId) : t.topic;
        const id = usesTopicIds ? t.topicId : t.topic;
        for (const p of t.partitions) {
          const key = `${id}:${p.partition}`;
          const existing = partitions.get(key);
          // A partition listed twice: the last parameters win, the first position stays.
          if (existing !== undefined) existing.update(p);
          else partitions.set(key, new CachedPartition(key, topic, t.topicId, p));
        }
      }
      const list = [...partitions.values()];
      if (version >= SESSION_VERSION && sessionEpoch === INITIAL_EPOCH) {
        const session = this.create(request.replicaId >= 0, usesTopicIds, partitions);
        if (session !== undefined) return new Context('full', ErrorCode.NONE, list, session);
      }
      return new Context('sessionless', ErrorCode.NONE, list, undefined);
    }

    const session = this.sessions.get(sessionId);
    if (session === undefined) return errorContext(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    if (session.epoch !== sessionEpoch) return errorContext(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    if (session.usesTopicIds !== usesTopicIds) return errorContext(ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);

    const partitions = session.partitions;
    for (const t of request.topics) {
      const id = usesTopicIds ? t.topicId : t.topic;
      for (const p of t.partitions) {
        const key = `${id}:${p.partition}`;
        const existing = partitions.get(key);
        if (existing !== undefined) existing.update(p);
        // The name is set below for id-keyed sessions.
        else partitions.set(key, new CachedPartition(key, usesTopicIds ? '' : t.topic, t.topicId, p));
      }
    }
    for (const t of request.forgottenTopicsData) {
      const id = usesTopicIds ? t.topicId : t.topic;
      for (const partition of t.partitions) partitions.delete(`${id}:${partition}`);
    }
    if (partitions.size === 0) {
      this.sessions.delete(session.id);
      return new Context('sessionless', ErrorCode.NONE, NO_PARTITIONS, undefined);
    }
    const list: CachedPartition[] = new Array(partitions.size);
    let i = 0;
    for (const p of partitions.values()) {
      if (usesTopicIds) p.setTopic(resolveName(p.topicId, resolveTopicId));
      list[i++] = p;
    }
    session.epoch = nextEpoch(session.epoch);
    this.touch(session);
    return new Context('incremental', ErrorCode.NONE, list, session);
  }

  private touch(session: Session): void {
    session.lastUsedMs = this.now();
    this.sessions.delete(session.id);
    this.sessions.set(session.id, session);
  }

  /** A new session if there is (or can be made) room. */
  private create(
    privileged: boolean,
    usesTopicIds: boolean,
    partitions: Map<string, CachedPartition>,
  ): Session | undefined {
    if (this.maxSlots === 0) return undefined;
    const now = this.now();
    if (this.sessions.size >= this.maxSlots && !this.evictFor(privileged, partitions.size, now)) return undefined;
    const session = new Session(this.newId(), privileged, usesTopicIds, partitions, now);
    this.sessions.set(session.id, session);
    return session;
  }

  private evictFor(privileged: boolean, size: number, now: number): boolean {
    const lru = this.sessions.values().next().value;
    if (lru === undefined) return false;
    if (now - lru.lastUsedMs > this.evictionMs) {
      this.evict(lru);
      return true;
    }
    let victim: Session | undefined;
    for (const s of this.sessions.values()) {
      const old = now - s.creationMs > this.evictionMs;
      // Young sessions are protected from consumers, so a busy cache does not churn; followers outrank consumers.
      if (!(old || (privileged && !s.privileged))) continue;
      // Ties keep the first seen: the least recently used.
      if (victim === undefined || ranksBelow(s, victim)) victim = s;
    }
    if (victim === undefined || !ranksBelow(victim, { privileged, size })) return false;
    this.evict(victim);
    return true;
  }

  private evict(session: Session): void {
    this.sessions.delete(session.id);
    this.evictionCount++;
  }

  /** A random positive int32 not in use. */
  private newId(): number {
    for (let i = 0; i < 32; i++) {
      const id = Math.min(INT32_MAX, 1 + Math.floor(this.random() * INT32_MAX));
      if (id >= 1 && !this.sessions.has(id)) return id;
    }
    // A degenerate random source: probe upwards; at most maxSlots ids are taken, so this ends quickly.
    let id = 1;
    while (this.sessions.has(id)) id++;
    return id;
  }
}

/** Followers outrank consumers, then more partitions outrank fewer; strict, so equals do not evict each other. */
function ranksBelow(a: { privileged: boolean; size: number }, b: { privileged: boolean; size: number }): boolean {
  if (a.privileged !== b.privileged) return !a.privileged;
  return a.size < b.size;
}

function resolveName(topicId: string, resolve: (id: string) => string | undefined): string {
  if (topicId === ZERO_UUID) return '';
  return resolve(topicId) ?? '';
}

function errorContext(errorCode: number): FetchContext {
  return new Context('error', errorCode, NO_PARTITIONS, undefined);
}
