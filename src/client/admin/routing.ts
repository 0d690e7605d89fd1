/**
 * Where the Admin client's requests go, and which failures it retries:
 * - topic APIs (CreateTopics, DeleteTopics, CreatePartitions) go to the controller (any broker when the metadata
 *   names none); items answered NOT_CONTROLLER are sent again once after a metadata refresh;
 * - ListOffsets and DeleteRecords go to each partition's leader, one request per leader; partitions answered with
 *   a stale-metadata error (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, ...) or whose leader cannot be reached are
 *   sent again, up to three attempts, after refreshing the metadata;
 * - group APIs go to the group's coordinator, one request per coordinator; groups answered NOT_COORDINATOR,
 *   COORDINATOR_NOT_AVAILABLE or COORDINATOR_LOAD_IN_PROGRESS, or whose coordinator cannot be reached, are sent
 *   again once after forgetting the cached coordinator.
 * Retries wait `retryBackoffMs`. Only broken connections are retried, never timeouts: a request that timed out may
 * have taken effect, and the caller's time budget is spent.
 *
 * Items are handled by index, so a batch may name one thing twice and still get one outcome per entry.
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { KafkaConnectionError } from '../errors.js';
import { type Cluster, isStaleMetadataError } from '../network/cluster.js';
import type { BrokerConnection } from '../network/connection.js';
import type { TopicPartitionRef } from './types.js';

/** What became of one item in one attempt. */
export type Outcome<R> = { ok: R } | { error: Error; retry: boolean };

export const ok = <R>(value: R): Outcome<R> => ({ ok: value });
export const failed = (error: Error, retry = false): Outcome<never> => ({ error, retry });

/** Coordinator errors after which the coordinator is looked up again (KIP-848 lists the same three). */
export const COORDINATOR_RETRY_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);

const LEADER_ATTEMPTS = 3;
const COORDINATOR_ATTEMPTS = 2;
const CONTROLLER_ATTEMPTS = 2;

/** A failure worth another attempt at a possibly different broker: the connection broke (not a timeout). */
function connectionBroke(e: unknown): boolean {
  return e instanceof KafkaConnectionError;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Router {
  constructor(
    readonly cluster: Cluster,
    private readonly retryBackoffMs: number,
  ) {}

  /**
   * Runs `attempt` over the pending item indices until each has a final outcome: a result, a final error, or a
   * retriable error on the last attempt. `attempt` answers every index it was given.
   */
  private async retrying<R>(
    count: number,
    maxAttempts: number,
    attempt: (indices: number[], n: number) => Promise<Map<number, Outcome<R>>>,
  ): Promise<Outcome<R>[]> {
    const final: Outcome<R>[] = new Array(count);
    let pending = Array.from({ length: count }, (_, i) => i);
    for (let n = 0; pending.length > 0; n++) {
      if (n > 0) await sleep(this.retryBackoffMs);
      const outcomes = await attempt(pending, n);
      const again: number[] = [];
      for (const i of pending) {
        const o = outcomes.get(i) ?? failed(new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer for this item'));
        if ('error' in o && o.retry && n + 1 < maxAttempts) again.push(i);
        else final[i] = o;
      }
      pending = again;
    }
    return final;
  }

  /** Sends a request per broker for the items mapped to it, turning thrown errors into outcomes for its items. */
  private async fanOut<R>(
    byNode: Map<number, number[]>,
    connect: (nodeId: number) => Promise<BrokerConnection>,
    send: (conn: BrokerConnection, indices: number[], nodeId: number) => Promise<Map<number, Outcome<R>>>,
    into: Map<number, Outcome<R>>,
  ): Promise<void> {
    await Promise.all(
      [...byNode].map(async ([nodeId, indices]) => {
        try {
          const conn = await connect(nodeId);
          for (const [i, o] of await send(conn, indices, nodeId)) into.set(i, o);
        } catch (e) {
          const error = e instanceof Error ? e : new Error(String(e));
          for (const i of indices) into.set(i, failed(error, connectionBroke(e)));
        }
      }),
    );
  }

  // ---- controller -----------------------------------------------------------------------------------------------

  /** A connection to the controller, or to any broker when the metadata names no reachable controller. */
  async controller(): Promise<BrokerConnection> {
    const md = await this.cluster.metadata();
    if (md.controllerId >= 0 && md.brokers.has(md.controllerId)) {
      try {
        return await this.cluster.connection(md.controllerId);
      } catch {
        // Another broker may forward or answer NOT_CONTROLLER, which is retried after a refresh.
      }
    }
    return this.cluster.anyConnection();
  }

  /** Items sent to the controller in one request; NOT_CONTROLLER items and broken connections are retried once. */
  toController<R>(
    count: number,
    send: (conn: BrokerConnection, indices: number[]) => Promise<Map<number, Outcome<R>>>,
  ): Promise<Outcome<R>[]> {
    return this.retrying(count, CONTROLLER_ATTEMPTS, async (indices, n) => {
      if (n > 0) await this.cluster.refresh();
      const out = new Map<number, Outcome<R>>();
      // One destination whatever its id: `controller()` picks the broker.
      await this.fanOut(new Map([[-1, indices]]), () => this.controller(), send, out);
      return out;
    });
  }

  /** One request to any broker (metadata-like questions every broker can answer). */
  async toAny<T>(send: (conn: BrokerConnection) => Promise<T>): Promise<T> {
    try {
      return await send(await this.cluster.anyConnection());
    } catch (e) {
      if (!connectionBroke(e)) throw e;
      await sleep(this.retryBackoffMs);
      return send(await this.cluster.anyConnection());
    }
  }

  /** One request to broker `nodeId` (retried once on a broken connection). */
  async toBroker<T>(nodeId: number, send: (conn: BrokerConnection) => Promise<T>): Promise<T> {
    try {
      return await send(await this.cluster.connection(nodeId));
    } catch (e) {
      if (!connectionBroke(e)) throw e;
      await sleep(this.retryBackoffMs);
      return send(await this.cluster.connection(nodeId));
    }
  }

  // ---- partition leaders ----------------------------------------------------------------------------------------

  /**
   * Items grouped by their partition's leader, one request per leader. `send` marks stale-metadata answers as
   * retriable (see `partitionOutcome`); a missing topic or partition is final.
   */
  toLeaders<R>(
    partitions: readonly TopicPartitionRef[],
    send: (conn: BrokerConnection, indices: number[]) => Promise<Map<number, Outcome<R>>>,
  ): Promise<Outcome<R>[]> {
    return this.retrying(partitions.length, LEADER_ATTEMPTS, async (indices, n) => {
      if (n > 0) this.cluster.invalidate();
      const out = new Map<number, Outcome<R>>();
      const topics = [...new Set(indices.map((i) => partitions[i]!.topic))];
      let md: Awaited<ReturnType<Cluster['metadata']>>;
      try {
        md = await this.cluster.metadata(topics);
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        for (const i of indices) out.set(i, failed(error, connectionBroke(e)));
        return out;
      }
      const byLeader = new Map<number, number[]>();
      for (const i of indices) {
        const { topic, partition } = partitions[i]!;
        const t = md.topics.get(topic);
        if (t === undefined) {
          out.set(i, failed(new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${topic} does not exist`)));
          continue;
        }
        const p = t.partitions.find((x) => x.partition === partition);
        if (p === undefined) {
          out.set(
            i,
            failed(
              new KafkaError(
                ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                `partition ${partition} does not exist (topic ${topic} has ${t.partitions.length})`,
              ),
            ),
          );
          continue;
        }
        if (p.leader < 0) {
          out.set(
            i,
            failed(new KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${topic}-${partition} has no leader`), true),
          );
          continue;
        }
        const list = byLeader.get(p.leader) ?? [];
        list.push(i);
        byLeader.set(p.leader, list);
      }
      await this.fanOut(byLeader, (nodeId) => this.cluster.connection(nodeId), send, out);
      return out;
    });
  }

  // ---- group coordinators ---------------------------------------------------------------------------------------

  /** Items grouped by their group's coordinator, one request per coordinator; moved coordinators retried once. */
  toCoordinators<R>(
    groupIds: readonly string[],
    send: (conn: BrokerConnection, indices: number[], nodeId: number) => Promise<Map<number, Outcome<R>>>,
  ): Promise<Outcome<R>[]> {
    return this.retrying(groupIds.length, COORDINATOR_ATTEMPTS, async (indices, n) => {
      if (n > 0) for (const i of indices) this.cluster.forgetCoordinator(groupIds[i]!);
      const out = new Map<number, Outcome<R>>();
      const byNode = new Map<number, number[]>();
      await Promise.all(
        indices.map(async (i) => {
          try {
            const nodeId = await this.cluster.coordinatorOf(groupIds[i]!);
            const list = byNode.get(nodeId) ?? [];
            list.push(i);
            byNode.set(nodeId, list);
          } catch (e) {
            const error = e instanceof Error ? e : new Error(String(e));
            const retry = connectionBroke(e) || (e instanceof KafkaError && COORDINATOR_RETRY_ERRORS.has(e.code));
            out.set(i, failed(error, retry));
          }
        }),
      );
      await this.fanOut(byNode, (nodeId) => this.cluster.connection(nodeId), send, out);
      return out;
    });
  }

  /**
   * One request about one group to its coordinator. `codeOf` reads the answer's group-level error: a moved
   * coordinator is retried once, and still moved after that is thrown; any other answer is the caller's to read.
   */
  async toCoordinator<T>(
    groupId: string,
    send: (conn: BrokerConnection, nodeId: number) => Promise<T>,
    codeOf: (answer: T) => number,
  ): Promise<{ answer: T; coordinator: number }> {
    const [o] = await this.toCoordinators([groupId], async (conn, _indices, nodeId) => {
      const answer = await send(conn, nodeId);
      const code = codeOf(answer);
      const outcome: Outcome<{ answer: T; coordinator: number }> = COORDINATOR_RETRY_ERRORS.has(code)
        ? failed(new KafkaError(code), true)
        : ok({ answer, coordinator: nodeId });
      return new Map([[0, outcome]]);
    });
    if ('error' in o!) throw o.error;
    return o!.ok;
  }
}

/** The outcome of a partition-level answer from a leader: stale-metadata codes are retried elsewhere. */
export function partitionOutcome<R>(code: number, value: () => R, message?: string | null): Outcome<R> {
  if (code === ErrorCode.NONE) return ok(value());
  return failed(new KafkaError(code, message ?? undefined), isStaleMetadataError(code));
}

/** What every Admin operation works with. */
export interface AdminContext {
  readonly cluster: Cluster;
  readonly router: Router;
  readonly requestTimeoutMs: number;
}

/** The request timeout for an API whose broker-side wait is `brokerTimeoutMs`: long enough to hear its answer. */
export function requestTimeoutFor(ctx: AdminContext, brokerTimeoutMs: number): number {
  return Math.max(ctx.requestTimeoutMs, brokerTimeoutMs + 5_000);
}

/** Splits outcomes into the caller's results (in order) and failures named by `nameOf`. */
export function partition<R>(
  outcomes: readonly Outcome<R>[],
  nameOf: (index: number) => string,
): { results: R[]; failures: { item: string; error: Error }[] } {
  const results: R[] = [];
  const failures: { item: string; error: Error }[] = [];
  outcomes.forEach((o, i) => {
    if ('ok' in o) results.push(o.ok);
    else failures.push({ item: nameOf(i), error: o.error });
  });
  return { results, failures };
}
