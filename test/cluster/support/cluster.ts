/**
 * A ZooKeeper-mode cluster of broker processes for the fault tests: a real ZooKeeper (zookeeper.ts) and `samsa
 * start` children (broker-process.ts) with ids 1..n under one chroot, short session and lag timeouts, and the faults
 * done to them: SIGKILL and restart on the same port and data directory, SIGSTOP/SIGCONT. Brokers that are dead or
 * frozen are never asked anything (a frozen broker accepts connections and answers nothing). Every wait is bounded
 * and says what it waited for.
 *
 * `close()` kills every broker (thawing frozen ones first so that SIGKILL is not queued behind SIGSTOP; SIGKILL
 * works on a stopped process anyway) and ZooKeeper, and removes the data directories.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BrokerConnection } from '../../../src/client/network/connection.js';
import { Producer } from '../../../src/client/producer/index.js';
import type { MetadataResponse } from '../../../src/protocol/index.js';
import { type BrokerProcess, startBrokerProcess } from '../../compat/broker/broker-process.js';
import { startZooKeeper, type ZooKeeperServer } from './zookeeper.js';

export type PartitionMetadata = MetadataResponse['topics'][number]['partitions'][number];

export interface ClusterOptions {
  /** Broker ids 1..size. */
  size: number;
  /** ZooKeeper chroot of the cluster, e.g. '/faults'. */
  chroot: string;
  /** Broker settings by Kafka name, on top of the ones every fault test uses. */
  config?: Record<string, string>;
}

/** Polls `check` (which throws until it holds) every 100 ms for at most `ms`. */
/**
 * An idempotent acks=all producer for writing through faults: short request timeouts and metadata age so that it
 * follows moved leaders quickly, and a delivery timeout long enough to outlast a leader's session expiry.
 */
export function failoverProducer(bootstrapServers: string[]): Producer {
  return new Producer({
    bootstrapServers,
    acks: 'all',
    lingerMs: 2,
    retryBackoffMs: 50,
    requestTimeoutMs: 5000,
    deliveryTimeoutMs: 60_000,
    metadataMaxAgeMs: 1000,
  });
}

export async function eventually<T>(what: string, check: () => Promise<T>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms: ${(e as Error).message}`);
      await sleep(100);
    }
  }
}

export class Cluster {
  readonly brokers = new Map<number, BrokerProcess>();
  /** Every process started, restarts included, for their logs. */
  private readonly runs: { id: number; process: BrokerProcess }[] = [];
  private readonly frozen = new Set<number>();

  private constructor(
    readonly zk: ZooKeeperServer,
    private readonly options: ClusterOptions,
  ) {}

  static async start(options: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster(await startZooKeeper(), options);
    try {
      await Promise.all(Array.from({ length: options.size }, (_, i) => cluster.startNode(i + 1)));
    } catch (e) {
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  get zookeeperConnect(): string {
    return `${this.zk.connectString}${this.options.chroot}`;
  }

  get ids(): number[] {
    return Array.from({ length: this.options.size }, (_, i) => i + 1);
  }

  /** Starts broker `id`; again on its old port and data directory when it ran before. */
  async startNode(id: number): Promise<BrokerProcess> {
    const old = this.brokers.get(id);
    const b = await startBrokerProcess({
      ...(old === undefined ? {} : { dataDir: old.dataDir, port: old.port }),
      config: {
        'node.id': String(id),
        'zookeeper.connect': this.zookeeperConnect,
        'replica.fetch.wait.max.ms': '200',
        'group.initial.rebalance.delay.ms': '0',
        'offsets.topic.num.partitions': '3',
        ...this.options.config,
      },
    });
    this.brokers.set(id, b);
    this.runs.push({ id, process: b });
    this.frozen.delete(id);
    return b;
  }

  broker(id: number): BrokerProcess {
    const b = this.brokers.get(id);
    if (b === undefined) throw new Error(`no broker ${id}`);
    return b;
  }

  isRunning(id: number): boolean {
    const b = this.brokers.get(id);
    return b !== undefined && b.child.exitCode === null && b.child.signalCode === null;
  }

  /** Running and not frozen: the brokers that can answer. */
  get serving(): number[] {
    return this.ids.filter((id) => this.isRunning(id) && !this.frozen.has(id));
  }

  bootstraps(ids = this.serving): string[] {
    return ids.map((id) => this.broker(id).bootstrap);
  }

  async kill(id: number): Promise<void> {
    await this.broker(id).kill();
  }

  freeze(id: number): void {
    this.broker(id).child.kill('SIGSTOP');
    this.frozen.add(id);
  }

  thaw(id: number): void {
    this.broker(id).child.kill('SIGCONT');
    this.frozen.delete(id);
  }

  /** Metadata (v12) from broker `id`, for `topics` (null: all). */
  async metadataFrom(id: number, topics: string[] | null = null): Promise<MetadataResponse> {
    const b = this.broker(id);
    const conn = await BrokerConnection.connect({
      host: b.host,
      port: b.port,
      clientId: 'fault-test',
      connectTimeoutMs: 3000,
      requestTimeoutMs: 3000,
    });
    try {
      return await conn.send<MetadataResponse>(3, 12, {
        topics: topics === null ? null : topics.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })),
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
    } finally {
      conn.close();
    }
  }

  /** Metadata from the first serving broker among `among`. */
  async metadata(topics: string[] | null = null, among = this.serving): Promise<MetadataResponse> {
    const id = among.find((x) => this.serving.includes(x));
    if (id === undefined) throw new Error('no broker is serving');
    return this.metadataFrom(id, topics);
  }

  /** The partitions of `topic` as broker `id` (default: any serving one) describes them, by index. */
  async partitions(topic: string, id?: number): Promise<PartitionMetadata[]> {
    const m = id === undefined ? await this.metadata([topic]) : await this.metadataFrom(id, [topic]);
    const t = m.topics.find((x) => x.name === topic);
    if (t === undefined || t.errorCode !== 0) throw new Error(`topic ${topic}: ${t?.errorCode ?? 'missing'}`);
    return [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex);
  }

  /**
   * Waits until every serving broker describes all brokers registered, one controller, and every partition of
   * `topic` led and with all its replicas in sync; returns the partitions as the first broker described them.
   */
  async waitFullIsr(topic: string, ms: number): Promise<PartitionMetadata[]> {
    return eventually(
      `every broker registered and every ISR of ${topic} full`,
      async () => {
        let first: PartitionMetadata[] | undefined;
        let controller: number | undefined;
        for (const id of this.ids) {
          if (!this.serving.includes(id)) throw new Error(`broker ${id} is not serving`);
          const m = await this.metadataFrom(id, [topic]);
          const brokers = m.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
          if (brokers.join() !== this.ids.join()) throw new Error(`broker ${id} knows brokers ${brokers.join()}`);
          if (m.controllerId < 0) throw new Error(`broker ${id} knows no controller`);
          if (controller !== undefined && controller !== m.controllerId) {
            throw new Error(`controllers ${controller} and ${m.controllerId}`);
          }
          controller = m.controllerId;
          const parts = m.topics[0]!.partitions;
          for (const p of parts) {
            const isr = [...p.isrNodes].sort((a, b) => a - b).join();
            const replicas = [...p.replicaNodes].sort((a, b) => a - b).join();
            if (p.errorCode !== 0 || p.leaderId < 0 || isr !== replicas) {
              throw new Error(
                `broker ${id}: ${topic}-${p.partitionIndex} error ${p.errorCode} leader ${p.leaderId} isr ${isr} of ${replicas}`,
              );
            }
          }
          first ??= [...parts].sort((a, b) => a.partitionIndex - b.partitionIndex);
        }
        return first!;
      },
      ms,
    );
  }

  /**
   * How often broker `id` (its current process) gave its ZooKeeper session up and how often it got a new one:
   * equal counts mean it holds a session now.
   */
  sessionChanges(id: number): { expired: number; renewed: number } {
    let expired = 0;
    let renewed = 0;
    for (const l of this.broker(id).logs) {
      if (l.msg === 'ZooKeeper session expired: opening a new one') expired++;
      else if (l.msg === 'ZooKeeper session renewed') renewed++;
    }
    return { expired, renewed };
  }

  /**
   * Log lines of every broker process so far (restarts included) at `minLevel` (pino's numbers: 30 info, 40 warn)
   * or above, in time order, as `time broker msg {fields}`: what happened in the cluster, for failure messages.
   */
  timeline(minLevel = 30, last = 200): string {
    const lines: [number, string][] = [];
    for (const { id, process } of this.runs) {
      for (const l of process.logs) {
        if ((l.level as number) < minLevel) continue;
        const { level: _l, time, msg, pid: _p, hostname: _h, name: _n, ...rest } = l;
        lines.push([
          time as number,
          `${new Date(time as number).toISOString()} [${id}] ${msg} ${JSON.stringify(rest)}`,
        ]);
      }
    }
    return lines
      .sort((a, b) => a[0] - b[0])
      .slice(-last)
      .map(([, s]) => s)
      .join('\n');
  }

  async close(): Promise<void> {
    for (const id of this.frozen) this.brokers.get(id)?.child.kill('SIGCONT');
    this.frozen.clear();
    await Promise.all([...this.brokers.values()].map((b) => b.kill()));
    for (const b of this.brokers.values()) b.cleanup();
    await this.zk.close();
  }
}
