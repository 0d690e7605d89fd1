/**
 * Followers (cluster mode): for every partition hosted here that another broker leads, a fetcher per leader pulls
 * the leader's batches with Fetch requests carrying this broker's id as replica id (long polls of
 * replica.fetch.wait.max.ms), appends them with their offsets and leader epochs kept, and moves the local high
 * watermark to the leader's. One connection and one request in flight per leader, covering all its partitions.
 *
 * Before fetching under a leader epoch it has not fetched under, a partition finds where its log stops agreeing
 * with the leader's (KIP-101/KIP-279): OffsetForLeaderEpoch for the newest epoch in its own log tells where that
 * epoch ends on the leader; everything after that (or after the high watermark, when the leader does not know the
 * epoch) is truncated. A fetch offset the leader no longer has (retention moved its log start) restarts the local
 * log at the leader's log start.
 *
 * Errors: a lost connection or a leader that says it no longer leads makes the fetcher back off and retry with
 * the metadata of the moment; the role changes that follow from the metadata move partitions between fetchers.
 */
import { BrokerConnection } from '../../client/network/connection.js';
import type { Logger } from '../../log/logger.js';
import type { MetadataStore } from '../../metadata/types.js';
import {
  ErrorCode,
  type FetchRequest,
  type FetchResponse,
  type OffsetForLeaderEpochResponse,
} from '../../protocol/index.js';
import type { Partition } from './partition.js';
import type { ReplicaManager } from './replica-manager.js';

const FETCH = 1;
const FETCH_VERSION = 12;
const OFFSET_FOR_LEADER_EPOCH = 23;
const OFFSET_FOR_LEADER_EPOCH_VERSION = 4;
const BACKOFF_MS = 200;

export interface ReplicaFetcherOptions {
  nodeId: number;
  metadata: MetadataStore;
  replicas: ReplicaManager;
  logger: Logger;
  /** The listener followers connect to on leaders (Kafka's inter.broker.listener.name; the first listener here). */
  listener: string;
  /** replica.fetch.wait.max.ms */
  maxWaitMs: number;
  /** replica.fetch.max.bytes (per partition) */
  maxBytesPerPartition: number;
  /** replica.fetch.response.max.bytes */
  maxBytes: number;
}

interface Followed {
  partition: Partition;
  /** The leader epoch this partition last truncated for (-1: truncation still to do). */
  epochChecked: number;
}

/** Moves hosted partitions between fetchers as their leaders change. */
export class ReplicaFetcherManager {
  private readonly fetchers = new Map<number, LeaderFetcher>();
  private stopped = false;

  constructor(private readonly options: ReplicaFetcherOptions) {
    options.replicas.onRoleChanged((p, hosted) => this.sync(p, hosted));
  }

  private sync(partition: Partition, hosted: boolean): void {
    if (this.stopped) return;
    const leader = hosted && !partition.isLeader ? partition.leaderId : -1;
    for (const [id, f] of this.fetchers) if (id !== leader) f.remove(partition);
    if (leader < 0 || leader === this.options.nodeId) return;
    let f = this.fetchers.get(leader);
    if (f === undefined) {
      f = new LeaderFetcher(leader, this.options);
      this.fetchers.set(leader, f);
    }
    f.add(partition);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.fetchers.values()].map((f) => f.stop()));
    this.fetchers.clear();
  }
}

class LeaderFetcher {
  private readonly followed = new Map<string, Followed>();
  private conn: BrokerConnection | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly leaderId: number,
    private readonly options: ReplicaFetcherOptions,
  ) {}

  add(partition: Partition): void {
    const known = this.followed.get(partition.key);
    if (known !== undefined && known.partition === partition && known.epochChecked === partition.leaderEpoch) return;
    this.followed.set(partition.key, { partition, epochChecked: -1 });
    this.running ??= this.loop().finally(() => {
      this.running = null;
    });
    this.wake?.();
  }

  remove(partition: Partition): void {
    const known = this.followed.get(partition.key);
    if (known?.partition === partition) this.followed.delete(partition.key);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.conn?.close();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped && this.followed.size > 0) {
      try {
        const conn = await this.connection();
        for (const f of this.followed.values()) {
          if (f.epochChecked !== f.partition.leaderEpoch) await this.truncate(conn, f);
        }
        await this.fetch(conn);
      } catch (err) {
        if (this.stopped) return;
        this.options.logger.debug({ leader: this.leaderId, err: (err as Error).message }, 'replica fetch failed');
        this.conn?.close();
        this.conn = null;
        await this.pause(BACKOFF_MS);
      }
    }
    this.conn?.close();
    this.conn = null;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  private async connection(): Promise<BrokerConnection> {
    if (this.conn !== null && !this.conn.closed) return this.conn;
    const broker = this.options.metadata.broker(this.leaderId);
    const ep = broker?.endpoints.find((e) => e.listener === this.options.listener) ?? broker?.endpoints[0];
    if (ep === undefined) throw new Error(`leader ${this.leaderId} is not registered`);
    this.conn = await BrokerConnection.connect({
      host: ep.host,
      port: ep.port,
      clientId: `samsa-replica-fetcher-${this.options.nodeId}`,
      requestTimeoutMs: this.options.maxWaitMs + 30_000,
    });
    return this.conn;
  }

  /** Truncates the partition's log where it diverges from the leader's (KIP-101/KIP-279). */
  private async truncate(conn: BrokerConnection, f: Followed): Promise<void> {
    const p = f.partition;
    const epoch = p.leaderEpoch;
    const log = p.log;
    const ours = log.latestEpoch;
    if (ours < 0 || log.logEndOffset === log.logStartOffset) {
      f.epochChecked = epoch;
      return;
    }
    const res = await conn.send<OffsetForLeaderEpochResponse>(
      OFFSET_FOR_LEADER_EPOCH,
      OFFSET_FOR_LEADER_EPOCH_VERSION,
      {
        replicaId: this.options.nodeId,
        topics: [
          { topic: p.topic, partitions: [{ partition: p.index, currentLeaderEpoch: epoch, leaderEpoch: ours }] },
        ],
      },
    );
    const answer = res.topics[0]?.partitions[0];
    if (answer === undefined || answer.errorCode !== ErrorCode.NONE) {
      throw new Error(`OffsetForLeaderEpoch ${p.key}: error ${answer?.errorCode ?? 'missing'}`);
    }
    // The leader does not know our epoch: only what was committed (the high watermark) is certainly shared.
    let to = answer.endOffset < 0n ? log.highWatermark : answer.endOffset;
    // The leader's epoch is older than ours: our batches of the newer epochs never made it; cut at its end.
    if (to > log.logEndOffset) to = log.logEndOffset;
    if (to < log.logEndOffset) {
      this.options.logger.info(
        { partition: p.key, from: String(log.logEndOffset), to: String(to), leaderEpoch: epoch, ourEpoch: ours },
        'truncating diverging replica',
      );
      p.log.truncateTo(to);
    }
    if (this.followed.get(p.key) === f) f.epochChecked = epoch;
  }

  private async fetch(conn: BrokerConnection): Promise<void> {
    const byTopic = new Map<string, FetchRequest['topics'][number]>();
    const sent: Followed[] = [];
    for (const f of this.followed.values()) {
      if (f.epochChecked !== f.partition.leaderEpoch) continue;
      const p = f.partition;
      let t = byTopic.get(p.topic);
      if (t === undefined) {
        t = { topic: p.topic, topicId: p.topicId, partitions: [] };
        byTopic.set(p.topic, t);
      }
      const log = p.log;
      t.partitions.push({
        partition: p.index,
        currentLeaderEpoch: p.leaderEpoch,
        fetchOffset: log.logEndOffset,
        lastFetchedEpoch: -1,
        logStartOffset: log.logStartOffset,
        partitionMaxBytes: this.options.maxBytesPerPartition,
        replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
      });
      sent.push(f);
    }
    if (sent.length === 0) return;
    const res = await conn.send<FetchResponse>(FETCH, FETCH_VERSION, {
      clusterId: null,
      replicaId: this.options.nodeId,
      replicaState: { replicaId: this.options.nodeId, replicaEpoch: -1 },
      maxWaitMs: this.options.maxWaitMs,
      minBytes: 1,
      maxBytes: this.options.maxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...byTopic.values()],
      forgottenTopicsData: [],
      rackId: '',
    });
    if (res.errorCode !== ErrorCode.NONE) throw new Error(`fetch from leader ${this.leaderId}: error ${res.errorCode}`);
    let backoff = false;
    for (const t of res.responses) {
      for (const r of t.partitions) {
        const f = this.followed.get(`${t.topic}-${r.partitionIndex}`);
        if (f === undefined || !sent.includes(f)) continue;
        if (!this.apply(f, r)) backoff = true;
      }
    }
    if (backoff) await this.pause(BACKOFF_MS);
  }

  /** Applies one partition's answer; false when the fetcher should back off before the next fetch. */
  private apply(f: Followed, r: FetchResponse['responses'][number]['partitions'][number]): boolean {
    const p = f.partition;
    switch (r.errorCode) {
      case ErrorCode.NONE:
        break;
      case ErrorCode.OFFSET_OUT_OF_RANGE: {
        const log = p.log;
        if (r.logStartOffset > log.logEndOffset) {
          // The leader deleted what we would fetch next: start over where its log starts.
          this.options.logger.info({ partition: p.key, at: String(r.logStartOffset) }, 'restarting replica log');
          log.truncateFullyAndStartAt(r.logStartOffset);
        } else f.epochChecked = -1;
        return true;
      }
      default:
        // Not (or no longer) the leader, a stale or future epoch, the partition gone: wait for the metadata.
        return false;
    }
    try {
      if (r.records !== null && r.records.length > 0) p.appendAsFollower(r.records);
      p.followLeaderHighWatermark(r.highWatermark);
      this.options.replicas.dataChanged(p);
    } catch (err) {
      this.options.logger.warn({ partition: p.key, err: (err as Error).message }, 'replica append failed');
      f.epochChecked = -1;
      return false;
    }
    return true;
  }
}
