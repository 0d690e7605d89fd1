/**
 * The consumer's line to its group coordinator: found with FindCoordinator, reached over a connection of its own
 * (a JoinGroup waits up to the rebalance timeout for its answer, and a broker answers one connection's requests in
 * order, so group requests must not queue behind fetches or hold up metadata), dropped and found again after
 * NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE or a broken connection.
 *
 * It also serves the group's offset store: OffsetFetch (v1-7) and OffsetCommit (v2-8), retrying coordinator moves,
 * loading coordinators and other retriable errors until the deadline. Commit errors that say the member is no
 * longer part of the generation (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID)
 * are raised at once: retrying cannot help, the member must rejoin.
 *
 * Concurrency: single-threaded; concurrent callers share one lookup and one connection.
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { OffsetCommitResponse, OffsetFetchResponse } from '../../protocol/index.js';
import { isRetriableError, KafkaConnectionError, KafkaTimeoutError } from '../errors.js';
import { type Cluster, COORDINATOR_MOVED_ERRORS } from '../network/cluster.js';
import { BrokerConnection } from '../network/connection.js';
import { groupByTopic } from './consumer-protocol.js';
import { sleep } from './offsets.js';
import { partitionKey } from './state.js';
import type { OffsetToCommit, TopicPartition } from './types.js';

const OFFSET_COMMIT = 8;
const OFFSET_FETCH = 9;

export interface CoordinatorOptions {
  clientId: string;
  requestTimeoutMs: number;
  connectTimeoutMs: number | undefined;
  retryBackoffMs: number;
}

/** Who commits: a group member of a generation, or (generation -1, member '') a consumer without membership. */
export interface CommitIdentity {
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface StoredOffset {
  offset: bigint | null;
  metadata: string | null;
  leaderEpoch: number;
}

export class CoordinatorClient {
  private conn: Promise<BrokerConnection> | null = null;
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    readonly groupId: string,
    private readonly options: CoordinatorOptions,
  ) {}

  /** The connection to the coordinator, found and opened when needed. */
  connection(): Promise<BrokerConnection> {
    if (this.closed) return Promise.reject(new KafkaConnectionError('the consumer is closed'));
    const current = this.conn;
    if (current !== null) {
      return current.then(
        (c) => (c.closed && this.conn === current ? this.reopen() : c),
        () => (this.conn === current ? this.reopen() : this.connection()),
      );
    }
    return this.reopen();
  }

  private reopen(): Promise<BrokerConnection> {
    const opening = (async () => {
      const node = await this.cluster.coordinatorOf(this.groupId);
      let broker = (await this.cluster.metadata()).brokers.get(node);
      if (broker === undefined) broker = (await this.cluster.refresh()).brokers.get(node);
      if (broker === undefined) {
        this.cluster.forgetCoordinator(this.groupId);
        throw new KafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `coordinator ${node} is not a known broker`);
      }
      return BrokerConnection.connect({
        host: broker.host,
        port: broker.port,
        clientId: this.options.clientId,
        requestTimeoutMs: this.options.requestTimeoutMs,
        ...(this.options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: this.options.connectTimeoutMs }),
      });
    })();
    this.conn = opening;
    opening.catch(() => {
      if (this.conn === opening) this.conn = null;
    });
    return opening;
  }

  /** Forgets the coordinator (it moved, or its connection broke): the next request looks it up again. */
  markUnknown(): void {
    this.cluster.forgetCoordinator(this.groupId);
    const c = this.conn;
    this.conn = null;
    c?.then(
      (conn) => conn.close(),
      () => {},
    );
  }

  /** Whether an error means the coordinator must be looked up again. */
  isCoordinatorError(e: unknown): boolean {
    if (e instanceof KafkaError) return COORDINATOR_MOVED_ERRORS.has(e.code);
    return e instanceof KafkaConnectionError || e instanceof KafkaTimeoutError;
  }

  /**
   * Runs `attempt` until it succeeds, retrying (after `retryBackoffMs`) retriable failures until `timeoutMs` has
   * passed; coordinator errors make the next attempt look the coordinator up again.
   */
  async retrying<T>(what: string, timeoutMs: number, attempt: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await attempt();
      } catch (e) {
        if (this.closed) throw e;
        if (this.isCoordinatorError(e)) this.markUnknown();
        else if (!isRetriableError(e)) throw e;
        if (Date.now() + this.options.retryBackoffMs >= deadline) {
          throw new KafkaTimeoutError(`${what} did not succeed within ${timeoutMs} ms: ${(e as Error).message}`, {
            cause: e,
          });
        }
        await sleep(this.options.retryBackoffMs);
      }
    }
  }

  /** The committed offsets of `partitions` (offset null where the group has none). */
  fetchOffsets(partitions: readonly TopicPartition[], timeoutMs: number): Promise<Map<string, StoredOffset>> {
    return this.retrying(`OffsetFetch for group ${this.groupId}`, timeoutMs, async () => {
      const conn = await this.connection();
      const v = conn.version(OFFSET_FETCH, 1, 7);
      const res = await conn.send<OffsetFetchResponse>(OFFSET_FETCH, v, {
        groupId: this.groupId,
        topics: groupByTopic(partitions).map((g) => ({ name: g.topic, partitionIndexes: g.partitions })),
        requireStable: true,
      });
      if (res.errorCode !== ErrorCode.NONE)
        throw new KafkaError(res.errorCode, `OffsetFetch: ${new KafkaError(res.errorCode).message}`);
      const out = new Map<string, StoredOffset>();
      for (const t of res.topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== ErrorCode.NONE) {
            throw new KafkaError(
              p.errorCode,
              `OffsetFetch ${t.name}-${p.partitionIndex}: ${new KafkaError(p.errorCode).message}`,
            );
          }
          out.set(partitionKey(t.name, p.partitionIndex), {
            offset: p.committedOffset < 0n ? null : p.committedOffset,
            metadata: p.metadata,
            leaderEpoch: p.committedLeaderEpoch,
          });
        }
      }
      return out;
    });
  }

  /** Commits the offsets; member errors are raised at once, retriable ones retried until `timeoutMs`. */
  commitOffsets(offsets: readonly OffsetToCommit[], who: CommitIdentity, timeoutMs: number): Promise<void> {
    if (offsets.length === 0) return Promise.resolve();
    return this.retrying(`OffsetCommit for group ${this.groupId}`, timeoutMs, async () => {
      const conn = await this.connection();
      const v = conn.version(OFFSET_COMMIT, 2, 8);
      const byKey = new Map(offsets.map((o) => [partitionKey(o.topic, o.partition), o]));
      const res = await conn.send<OffsetCommitResponse>(OFFSET_COMMIT, v, {
        groupId: this.groupId,
        generationIdOrMemberEpoch: who.generationId,
        memberId: who.memberId,
        groupInstanceId: v >= 7 ? who.groupInstanceId : null,
        retentionTimeMs: -1n,
        topics: groupByTopic(offsets).map((g) => ({
          name: g.topic,
          partitions: g.partitions.map((partition) => {
            const o = byKey.get(partitionKey(g.topic, partition))!;
            return {
              partitionIndex: partition,
              committedOffset: o.offset,
              committedLeaderEpoch: o.leaderEpoch ?? -1,
              commitTimestamp: -1n,
              committedMetadata: o.metadata ?? '',
            };
          }),
        })),
      });
      for (const t of res.topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== ErrorCode.NONE) {
            throw new KafkaError(
              p.errorCode,
              `OffsetCommit ${t.name}-${p.partitionIndex} for group ${this.groupId}: ${new KafkaError(p.errorCode).message}`,
            );
          }
        }
      }
    });
  }

  close(): void {
    this.closed = true;
    const c = this.conn;
    this.conn = null;
    c?.then(
      (conn) => conn.close(),
      () => {},
    );
  }
}
