// Cluster benchmarks (issue 8): a real ZooKeeper and three `samsa start` processes on loopback, each broker with a
// data directory of its own in the OS temp dir, all on this machine. Two measurements:
//
// Fail-over (first, while the logs are small, so that a restart's recovery stays short): two writers, samsa's
// Producer in this process and librdkafka (confluent-kafka-python, bench/py/failover.py) in a child process, each
// write one 1 KiB message at a time with acks=all to partition 0 of a topic with replication factor 3 and
// min.insync.replicas=2, each write awaited before the next. The leader of that partition is then stopped, by
// SIGKILL (a crash) or SIGTERM (a clean stop), alternately. Measured from the signal: when Metadata from a surviving
// broker (polled every 25 ms on a connection of its own) first names another leader, and when each writer got its
// first acknowledgement for a write it sent after the old leader's process had exited (so no acknowledgement of the
// old leader can count; a write in flight at the signal is retried by the client and acknowledged one round trip
// earlier). The stopped broker is then started again on its port and data directory, and the next repeat waits
// until it is back in every ISR of the topic.
//
// Produce throughput: 1 KiB messages to a topic of 6 partitions (leaders spread over the three brokers) with
// replication factor 1 (the reference) and 3 (acks=all, and acks=1), by samsa's Producer and by librdkafka
// (bench/py/produce.py, the broker section's script), the runs of every configuration and client taking turns; also
// the three brokers' CPU time per MB (/proc/<pid>/stat), since on a 2-core machine replication costs CPU above all.
//
// Without ZooKeeper or java the section prints why and is skipped; without confluent_kafka the librdkafka rows are.
// `node dist/bench/run.js cluster` runs only this section. SAMSA_BENCH_CLUSTER_RUNS (throughput runs, default 5),
// SAMSA_BENCH_CLUSTER_REPEATS (fail-overs per signal, default 5) and SAMSA_BENCH_CLUSTER_SESSION_MS (the brokers'
// zookeeper.session.timeout.ms, default 6000) tune it.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '../src/client/admin/index.js';
import { Producer, type ProducerRecord } from '../src/client/producer/index.js';
import { zookeeperMissing } from '../src/metadata/zookeeper/local-server.js';
import { startZooKeeper, type ZooKeeperServer } from '../test/cluster/support/zookeeper.js';
import { type BrokerChild, KafkaClient, PYTHON, type PyRun, runPython, startBroker } from './broker-support.js';
import { Rows, table } from './harness.js';

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const RUNS = env('SAMSA_BENCH_CLUSTER_RUNS', 5);
const REPEATS = env('SAMSA_BENCH_CLUSTER_REPEATS', 5);
/** Kafka's default is 18000; see the notes for why the benchmark uses a shorter one. */
const SESSION_MS = env('SAMSA_BENCH_CLUSTER_SESSION_MS', 6000);
/** ZooKeeper checks session expiry once a tick: a short tick keeps that rounding out of the figures. */
const TICK_MS = 200;
const NODES = [1, 2, 3] as const;
const SIZE = 1024;
const PARTITIONS = 6;
/** Messages per timed throughput run (about 41 MB). */
const MESSAGES = 40_000;
/** Untimed messages through each of samsa's producers before its first run. */
const WARMUP = 5000;
/** Messages per array handed to sendBatch, and arrays outstanding (as the client section). */
const CHUNK = 256;
const WINDOW = 5;
const PROBE_EVERY_MS = 25;
/** Bound on every wait of the section (a new leader, an acknowledgement, a broker back in the ISR). */
const WAIT_MS = 60_000;
const MB = 1e6;

const FAILOVER_TOPIC = 'bench-failover';
const FAILOVER_PARTITIONS = 3;
/** samsa's Producer for the fail-over writer: Kafka's defaults but linger (0, so each write leaves at once). */
const FAILOVER_PRODUCER = {
  lingerMs: 0,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1000,
  reconnectBackoffMs: 50,
  reconnectBackoffMaxMs: 1000,
  metadataMaxAgeMs: 300_000,
  requestTimeoutMs: 30_000,
  deliveryTimeoutMs: 120_000,
} as const;
/** librdkafka's fail-over writer settings (bench/py/failover.py sets them explicitly). */
const FAILOVER_LIBRDKAFKA = {
  retryBackoffMs: 100,
  metadataFastRefreshMs: 100,
  // librdkafka's default is 10000: a broker that was down in an earlier repeat would then be reconnected to
  // seconds late when it becomes the new leader, which is the client's history, not the fail-over.
  reconnectBackoffMaxMs: 1000,
  messageTimeoutMs: 120_000,
} as const;

interface Throughput {
  label: string;
  topic: string;
  acks: -1 | 1;
}
const THROUGHPUT: readonly Throughput[] = [
  { label: 'rf 1, acks=all', topic: 'bench-rf1', acks: -1 },
  { label: 'rf 3, acks=all', topic: 'bench-rf3', acks: -1 },
  { label: 'rf 3, acks=1', topic: 'bench-rf3', acks: 1 },
];
const REFERENCE = THROUGHPUT[0]!.label;

const progress = (msg: string): void => {
  process.stderr.write(`[cluster bench] ${msg}\n`);
};

/** Wall-clock milliseconds with a fraction: the clock Python's time.time() reads, so the two compare. */
const wall = (): number => performance.timeOrigin + performance.now();

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = WAIT_MS): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    let failure = '';
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      failure = `: ${(e as Error).message}`;
    }
    if (Date.now() > deadline) throw new Error(`cluster bench: not ${what} within ${ms} ms${failure}`);
    await sleep(PROBE_EVERY_MS);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface PartitionView {
  leader: number;
  isr: number[];
  replicas: number[];
}
interface ClusterView {
  brokers: number[];
  controller: number;
  /** By topic, by partition index. */
  topics: Map<string, PartitionView[]>;
}

async function describe(client: KafkaClient, topics: readonly string[]): Promise<ClusterView> {
  const res = await withTimeout(
    client.request(3, 12, {
      topics: topics.map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })),
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    }),
    5000,
    'Metadata',
  );
  const view: ClusterView = {
    brokers: (res.brokers as { nodeId: number }[]).map((b) => b.nodeId).sort(),
    controller: res.controllerId as number,
    topics: new Map(),
  };
  for (const t of res.topics as {
    name: string;
    errorCode: number;
    partitions: { partitionIndex: number; leaderId: number; isrNodes: number[]; replicaNodes: number[] }[];
  }[]) {
    if (t.errorCode !== 0) continue;
    const parts: PartitionView[] = [];
    for (const p of t.partitions) {
      parts[p.partitionIndex] = { leader: p.leaderId, isr: p.isrNodes, replicas: p.replicaNodes };
    }
    view.topics.set(t.name, parts);
  }
  return view;
}

/** The brokers' user + system CPU seconds so far (10 ms ticks). */
function cpuSeconds(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    sum += (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return sum;
}

/** confluent-kafka-python's and librdkafka's versions, or null when confluent_kafka does not import. */
/**
 * Waits until the brokers are idle again (under 10% of a core together over 200 ms, at most 10 s) and returns
 * their CPU seconds then. With acks=1 a run ends when the leaders have the data and the followers may still be
 * fetching: their work belongs to the run, and must not fall on the next one.
 */
async function settle(pids: readonly number[]): Promise<number> {
  const deadline = Date.now() + 10_000;
  let last = cpuSeconds(pids);
  for (;;) {
    await sleep(200);
    const now = cpuSeconds(pids);
    if (now - last < 0.02 || Date.now() > deadline) return now;
    last = now;
  }
}

function confluentKafka(): string | null {
  const probe = spawnSync(
    PYTHON,
    [
      '-c',
      'import confluent_kafka as c; print(f"confluent-kafka-python {c.version()[0]} on librdkafka {c.libversion()[0]}")',
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return probe.status === 0 ? probe.stdout.trim() : null;
}

/** Acknowledgements of one fail-over writer: when each write was sent and when it was acknowledged (wall ms). */
class AckLog {
  sent: number[] = [];
  acked: number[] = [];
  failures = 0;
  lastFailure = '';

  add(sent: number, acked: number): void {
    this.sent.push(sent);
    this.acked.push(acked);
  }

  /** The acknowledgement time of the first write sent at or after `t`, if any. */
  firstSentAfter(t: number): number | undefined {
    for (let i = this.sent.length - 1; i >= 0 && this.sent[i]! >= t; i--) {
      if (i === 0 || this.sent[i - 1]! < t) return this.acked[i];
    }
    return undefined;
  }

  /**
   * The longest time in [from, to] without an acknowledgement: from `from` to the first one after it, between
   * consecutive ones, and from the last one to `to`. With one write at a time, how long writing stalled.
   */
  longestGap(from: number, to: number): number {
    let last = from;
    let longest = 0;
    for (const at of this.acked) {
      if (at <= from || at > to) continue;
      longest = Math.max(longest, at - last);
      last = at;
    }
    return Math.max(longest, to - last);
  }

  /** Forgets what is older than `t` (the log would otherwise hold every write of the section). */
  trim(t: number): void {
    let i = 0;
    while (i < this.sent.length && this.sent[i]! < t) i++;
    this.sent.splice(0, i);
    this.acked.splice(0, i);
  }
}

interface Node {
  id: number;
  broker: BrokerChild;
}

export async function benchCluster(): Promise<{ blocks: string[] }> {
  const title = '### Cluster: three brokers on ZooKeeper';
  const missing = zookeeperMissing();
  if (missing !== undefined) return { blocks: [`${title}\n\n- skipped: ${missing}`] };
  const started = performance.now();
  const rdVersion = confluentKafka();
  const librdkafka = rdVersion !== null;

  const nodes = new Map<number, Node>();
  let zk: ZooKeeperServer | undefined;
  const admin: { current: Admin | null } = { current: null };
  const pythons: { child: ChildProcess; done: Promise<PyRun> }[] = [];
  const failover = new Rows();
  const throughput = new Rows();
  const cpu = new Rows();
  const notes: string[] = [];
  let controllerKills = 0;
  let controllerTerms = 0;
  let leaders = '';

  const brokerConfig = (id: number): Record<string, string> => ({
    'node.id': String(id),
    'zookeeper.connect': `${zk!.connectString}/samsa-bench`,
    'zookeeper.session.timeout.ms': String(SESSION_MS),
  });
  const alive = (n: Node): boolean => n.broker.child.exitCode === null && n.broker.child.signalCode === null;
  const bootstraps = (): string[] => [...nodes.values()].filter(alive).map((n) => n.broker.bootstrap);
  const live = (): Node => [...nodes.values()].find(alive)!;
  /** A Metadata view from a live broker (one short-lived connection). */
  const view = async (topics: readonly string[], from: Node = live()): Promise<ClusterView> => {
    const client = await withTimeout(KafkaClient.connect(from.broker.bootstrap), 5000, 'connect');
    try {
      return await describe(client, topics);
    } finally {
      client.close();
    }
  };
  const fullIsr = (v: ClusterView, topic: string): boolean => {
    const parts = v.topics.get(topic);
    return (
      parts !== undefined &&
      parts.length > 0 &&
      parts.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length && p.replicas.length > 0)
    );
  };

  try {
    zk = await startZooKeeper({ tickTimeMs: TICK_MS });
    progress(`ZooKeeper on ${zk.connectString}; starting brokers ${NODES.join(', ')}`);
    const first = await Promise.all(
      NODES.map(async (id) => ({ id, broker: await startBroker({ config: brokerConfig(id) }) })),
    );
    for (const n of first) nodes.set(n.id, n);
    await until('a cluster of three brokers with a controller', async () => {
      const v = await view([]);
      return v.brokers.length === NODES.length && v.controller >= 0 ? v : undefined;
    });
    admin.current = new Admin({ bootstrapServers: bootstraps(), clientId: 'samsa-bench-admin' });
    const rf3 = { 'min.insync.replicas': '2' };
    await admin.current.createTopics([
      { name: FAILOVER_TOPIC, numPartitions: FAILOVER_PARTITIONS, replicationFactor: 3, configs: rf3 },
      { name: 'bench-rf1', numPartitions: PARTITIONS, replicationFactor: 1 },
      { name: 'bench-rf3', numPartitions: PARTITIONS, replicationFactor: 3, configs: rf3 },
    ]);
    const topics = [FAILOVER_TOPIC, 'bench-rf1', 'bench-rf3'];
    const ready = await until('every partition led with a full ISR', async () => {
      const v = await view(topics);
      return topics.every((t) => fullIsr(v, t)) ? v : undefined;
    });
    leaders = ['bench-rf1', 'bench-rf3']
      .map(
        (t) =>
          `${t}: ${ready.topics
            .get(t)!
            .map((p, i) => `p${i}@${p.leader}`)
            .join(' ')}`,
      )
      .join('; ');

    // ---- fail-over ------------------------------------------------------------------------------------------------
    const value = randomBytes(SIZE);
    const samsaLog = new AckLog();
    const rdLog = new AckLog();
    const writer = new Producer({
      bootstrapServers: bootstraps(),
      clientId: 'samsa-bench-failover',
      acks: 'all',
      ...FAILOVER_PRODUCER,
    });
    let writing = true;
    const samsaWriter = (async () => {
      while (writing) {
        const sent = wall();
        try {
          await writer.send({ topic: FAILOVER_TOPIC, partition: 0, value });
          samsaLog.add(sent, wall());
        } catch (e) {
          samsaLog.failures++;
          samsaLog.lastFailure = (e as Error).message;
          await sleep(10);
        }
      }
    })();
    let rdWriter: { child: ChildProcess; done: Promise<PyRun> } | null = null;
    if (librdkafka) {
      const spec = {
        bootstrap: bootstraps().join(','),
        topic: FAILOVER_TOPIC,
        partition: 0,
        size: SIZE,
        ...FAILOVER_LIBRDKAFKA,
      };
      rdWriter = runPython('failover.py', [JSON.stringify(spec)], 30 * 60_000, (line) => {
        const [kind, sent, acked] = line.split(' ');
        if (kind === 'ack') rdLog.add(Number(sent), Number(acked));
        else if (kind === 'err') {
          rdLog.failures++;
          rdLog.lastFailure = line;
        }
      });
      pythons.push(rdWriter);
    }
    const logs: [string, AckLog][] = [
      ['samsa Producer', samsaLog],
      ...(librdkafka ? [['librdkafka', rdLog] as [string, AckLog]] : []),
    ];

    try {
      for (let repeat = 0; repeat < REPEATS * 2; repeat++) {
        const signal = repeat % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
        const label = signal === 'SIGKILL' ? 'kill -9' : 'SIGTERM';
        progress(`fail-over ${Math.floor(repeat / 2) + 1}/${REPEATS}, ${label}`);
        // Steady state: every writer has a write acknowledged that it sent from now on.
        const mark = wall();
        for (const [name, log] of logs) {
          log.trim(mark - 1000);
          await until(`${name} writing`, () => log.firstSentAfter(mark));
        }
        const before = await view([FAILOVER_TOPIC]);
        const leaderId = before.topics.get(FAILOVER_TOPIC)![0]!.leader;
        if (leaderId === before.controller) {
          if (signal === 'SIGKILL') controllerKills++;
          else controllerTerms++;
        }
        const victim = nodes.get(leaderId)!;
        const survivor = [...nodes.values()].find((n) => n.id !== leaderId && alive(n))!;
        const probe = await KafkaClient.connect(survivor.broker.bootstrap);
        try {
          const exited = new Promise<number>((resolve) => victim.broker.child.once('exit', () => resolve(wall())));
          const t0 = wall();
          victim.broker.child.kill(signal);
          const newLeader = until(`a new leader of ${FAILOVER_TOPIC}-0 after ${label}`, async () => {
            const v = await describe(probe, [FAILOVER_TOPIC]);
            const leader = v.topics.get(FAILOVER_TOPIC)?.[0]?.leader ?? -1;
            return leader >= 0 && leader !== leaderId ? wall() : undefined;
          });
          const exitAt = await exited;
          if (signal === 'SIGTERM') failover.add(`${label}: broker process exited`, 'ms', exitAt - t0);
          failover.add(`${label}: new leader in Metadata`, 'ms', (await newLeader) - t0);
          for (const [name, log] of logs) {
            const acked = await until(`${name}'s first write after ${label}`, () => log.firstSentAfter(exitAt));
            failover.add(
              `${label}: first write acknowledged, ${name}`,
              'ms',
              acked - t0,
              name === 'librdkafka' ? undefined : `${label}: first write acknowledged, librdkafka`,
            );
            failover.add(
              `${label}: longest wait for an acknowledgement, ${name}`,
              'ms',
              log.longestGap(t0, acked),
              name === 'librdkafka' ? undefined : `${label}: longest wait for an acknowledgement, librdkafka`,
            );
          }
          // Back on its port and data directory; the next repeat starts once it is in every ISR again.
          const restartAt = wall();
          const broker = await startBroker({
            dataDir: victim.broker.dataDir,
            port: victim.broker.port,
            config: brokerConfig(leaderId),
          });
          nodes.set(leaderId, { id: leaderId, broker });
          await until(`broker ${leaderId} back in every ISR`, async () =>
            fullIsr(await describe(probe, [FAILOVER_TOPIC]), FAILOVER_TOPIC) ? true : undefined,
          );
          failover.add(`${label}: restarted broker back in the ISR`, 'ms', wall() - restartAt);
        } finally {
          probe.close();
        }
      }
    } finally {
      writing = false;
      await samsaWriter;
      await writer.close();
      if (rdWriter !== null) {
        rdWriter.child.kill('SIGTERM');
        await rdWriter.done.catch((e: unknown) => progress(`librdkafka writer: ${(e as Error).message}`));
      }
    }
    for (const [name, log] of logs) {
      if (log.failures > 0)
        notes.push(`${name}: ${log.failures} fail-over writes failed for good (last: ${log.lastFailure})`);
    }

    // ---- throughput -----------------------------------------------------------------------------------------------
    await until('every partition with a full ISR before the throughput runs', async () => {
      const v = await view(topics);
      return topics.every((t) => fullIsr(v, t)) ? true : undefined;
    });
    const pids = () => [...nodes.values()].map((n) => n.broker.pid);
    const pool = Array.from({ length: 64 }, () => randomBytes(SIZE));
    const producers = new Map<string, Producer>();
    const samsaRun = async (p: Producer, topic: string, count: number): Promise<number> => {
      const outstanding: Promise<unknown>[] = [];
      let next = 0;
      const start = performance.now();
      for (let sent = 0; sent < count; ) {
        const n = Math.min(CHUNK, count - sent);
        const records = new Array<ProducerRecord>(n);
        for (let i = 0; i < n; i++) records[i] = { topic, value: pool[next++ & 63]! };
        if (outstanding.length >= WINDOW) await outstanding.shift();
        outstanding.push(p.sendBatch(records));
        sent += n;
      }
      await Promise.all(outstanding);
      return (performance.now() - start) / 1000;
    };
    try {
      for (const t of THROUGHPUT) {
        const p = new Producer({
          bootstrapServers: bootstraps(),
          clientId: 'samsa-bench-cluster',
          acks: t.acks,
          lingerMs: 5,
          batchSize: 16_384,
          compression: 'none',
        });
        producers.set(t.label, p);
        await p.connect();
        await samsaRun(p, t.topic, WARMUP);
      }
      for (let run = 0; run < RUNS; run++) {
        progress(`throughput run ${run + 1}/${RUNS}`);
        const order = THROUGHPUT.map((_, i) => THROUGHPUT[(i + run) % THROUGHPUT.length]!);
        for (const t of order) {
          const clients = librdkafka ? ['samsa Producer', 'librdkafka'] : ['samsa Producer'];
          if (run % 2 === 1) clients.reverse();
          for (const client of clients) {
            const name = `${client}: ${t.label}`;
            const reference = t.label === REFERENCE ? undefined : `${client}: ${REFERENCE}`;
            const cpu0 = cpuSeconds(pids());
            let bytes: number;
            let seconds: number;
            if (client === 'librdkafka') {
              const spec = {
                bootstrap: bootstraps().join(','),
                topic: t.topic,
                partitions: PARTITIONS,
                size: SIZE,
                count: MESSAGES,
                seconds: 60,
                acks: t.acks === -1 ? 'all' : '1',
                ...(t.acks === -1 ? { idempotence: true } : {}),
              };
              const r = (await runPython('produce.py', [JSON.stringify(spec)]).done).result as {
                bytes: number;
                seconds: number;
              };
              bytes = r.bytes;
              seconds = r.seconds;
            } else {
              seconds = await samsaRun(producers.get(t.label)!, t.topic, MESSAGES);
              bytes = MESSAGES * SIZE;
            }
            const cpuUsed = (await settle(pids())) - cpu0;
            throughput.add(name, 'MB/s', bytes / MB / seconds, reference);
            cpu.add(name, 'brokers CPU ms/MB', (cpuUsed * 1000) / (bytes / MB), reference);
          }
        }
      }
    } finally {
      for (const p of producers.values()) await p.close().catch(() => {});
    }
  } finally {
    for (const py of pythons) {
      if (py.child.exitCode === null && py.child.signalCode === null) py.child.kill('SIGKILL');
      await py.done.catch(() => {});
    }
    await admin.current?.close().catch(() => {});
    for (const n of nodes.values()) {
      if (alive(n)) n.broker.child.kill('SIGKILL');
    }
    for (const n of nodes.values()) {
      await n.broker.stop();
      n.broker.cleanup();
    }
    await zk?.close();
  }

  const seconds = (ms: number): string => `${ms / 1000} s`;
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  const allNotes = [
    `cluster: ZooKeeper ${'(Debian package, standalone, no fsync)'} with tickTime ${TICK_MS} ms and three \`samsa start\` ` +
      `processes on loopback, each with its own data directory in the OS temp dir; broker settings are Kafka's ` +
      `defaults but zookeeper.session.timeout.ms ${SESSION_MS} (replica.lag.time.max.ms 30000, ` +
      'replica.fetch.wait.max.ms 500); this 2-core machine runs ZooKeeper, the brokers and the clients together and ' +
      'is shared, so read medians',
    `fail-over: topic ${FAILOVER_TOPIC}, ${FAILOVER_PARTITIONS} partitions, replication factor 3, ` +
      'min.insync.replicas 2; two writers at once, each writing one 1 KiB message at a time to partition 0 with ' +
      "acks=all and awaiting it before the next: samsa's Producer (idempotent, as by default; " +
      `lingerMs ${FAILOVER_PRODUCER.lingerMs}, retryBackoffMs ${FAILOVER_PRODUCER.retryBackoffMs} ` +
      `(up to retryBackoffMaxMs ${FAILOVER_PRODUCER.retryBackoffMaxMs}), reconnectBackoffMs ` +
      `${FAILOVER_PRODUCER.reconnectBackoffMs}, metadataMaxAgeMs ${FAILOVER_PRODUCER.metadataMaxAgeMs}, ` +
      `requestTimeoutMs ${FAILOVER_PRODUCER.requestTimeoutMs}, deliveryTimeoutMs ` +
      `${FAILOVER_PRODUCER.deliveryTimeoutMs}: Kafka's defaults but linger) and librdkafka ` +
      `(${rdVersion ?? 'not installed'}; bench/py/failover.py: enable.idempotence, linger.ms 0, retry.backoff.ms ` +
      `${FAILOVER_LIBRDKAFKA.retryBackoffMs}, topic.metadata.refresh.fast.interval.ms ` +
      `${FAILOVER_LIBRDKAFKA.metadataFastRefreshMs}, reconnect.backoff.max.ms ` +
      `${FAILOVER_LIBRDKAFKA.reconnectBackoffMaxMs} (its default, 10000, would make a broker restarted in an ` +
      `earlier repeat seconds late to reconnect to when it becomes the leader), message.timeout.ms ` +
      `${FAILOVER_LIBRDKAFKA.messageTimeoutMs})`,
    "how the writers find the new leader: both look it up again while the old leader is unreachable. samsa's " +
      `Producer asks for metadata every retryBackoffMs (${FAILOVER_PRODUCER.retryBackoffMs}) while the leader's ` +
      'broker is failing, on a connection that is open (not one being reopened to the dead broker, which waits out ' +
      'its reconnect backoff), at once on another broker when the one asked goes away mid-request, and sends a ' +
      'batch waiting out a retry backoff as soon as a new leader is known (KIP-951). librdkafka asks right away and ' +
      'then about once a second (QRYLEADER "broker is down: re-query" in its debug log)',
    'fail-over timing: from the signal to the leader of partition 0 (its process) until (a) a Metadata request to a ' +
      `surviving broker, repeated every ${PROBE_EVERY_MS} ms, names another leader, and (b) the first ` +
      "acknowledgement of a write the writer sent after the old leader's process had exited (so no acknowledgement " +
      'from the old leader can count; a write caught by the stop is retried by the client and acknowledged one round ' +
      'trip, a few ms, before it); then the stopped broker is started again on its port and data directory and the ' +
      'next repeat waits until it is back in every ISR of the topic ("back in the ISR" is from spawning it); ' +
      `${REPEATS} repeats per signal, alternating; the leader stopped was also the controller in ${controllerKills} ` +
      `of the kill -9 and ${controllerTerms} of the SIGTERM repeats`,
    `why kill -9 takes about the session timeout: nothing tells ZooKeeper that a killed broker is gone; its session ` +
      `expires ${seconds(SESSION_MS)} (zookeeper.session.timeout.ms) after the broker's last heartbeat, ZooKeeper ` +
      'deletes its ephemeral /brokers/ids znode, and only then does the controller elect a new leader from the ISR ' +
      '(and if the killed broker was the controller, its /controller znode goes at the same moment and another ' +
      `broker is elected first); ZooKeeper checks expiry once a tick (${TICK_MS} ms here; ZooKeeper's default ` +
      'tickTime is 3000 ms and its zoo_sample.cfg has 2000 ms, which round the expiry up by up to a tick, and make ' +
      "6000 ms the shortest session ZooKeeper grants: minSessionTimeout is 2 ticks). With Kafka's default " +
      'zookeeper.session.timeout.ms of 18000 the kill -9 rows grow by about 12 s (SAMSA_BENCH_CLUSTER_SESSION_MS ' +
      "measures it); Kafka's brokers have the same bound in ZooKeeper mode. A broker that only stalls (a long GC " +
      'pause) must not lose its leaderships, which is what keeps the timeout from being much shorter',
    'SIGTERM: controlled shutdown, as in Kafka: the broker first asks the controller (ControlledShutdown) to move ' +
      'its leaderships to other in-sync replicas and take it out of the ISRs, then closes its listeners, flushes its ' +
      'logs and closes its ZooKeeper session. Writers get NOT_LEADER_OR_FOLLOWER from the old leader and go to the ' +
      'new one while the old process is still stopping; "first write acknowledged" still counts only writes sent ' +
      'after the process exited, so it includes the stop itself',
    'longest wait for an acknowledgement: the longest time without one, from the signal to the first ' +
      'acknowledgement of a write sent after the exit (each writer has one write in flight at a time, so this is how ' +
      'long its writing stalled)',
    `throughput: ${MESSAGES.toLocaleString('en')} x 1 KiB random values per timed run, null keys, no compression, ` +
      `to topics of ${PARTITIONS} partitions (rf 3 with min.insync.replicas 2; leaders ${leaders}); samsa's Producer ` +
      `runs in this process (lingerMs 5, batchSize 16384, idempotent with acks=all as by default; arrays of ${CHUNK} ` +
      `messages through sendBatch(), ${WINDOW} outstanding; ${WARMUP.toLocaleString('en')} untimed messages per ` +
      'producer first), librdkafka runs bench/py/produce.py (round-robin over the partitions, linger.ms 5, ' +
      'batch.size 1000000, ' +
      'idempotent with acks=all, plain with acks=1; timed from the first produce() to the end of flush()); ' +
      `${RUNS} runs per row, configurations and clients taking turns; "vs reference" is rf 3 over rf 1 for the ` +
      'same client in the same run. acks=all waits for the whole ISR (all three replicas here), so its latency ' +
      "includes the followers' next fetch",
    'CPU: user + system time of the three broker processes (/proc/<pid>/stat, 10 ms ticks) from the start of a run ' +
      'until they are idle again (under 10% of a core together over 200 ms), per MB of values produced: with ' +
      'acks=1 a run ends when the leaders have the data and the followers may still be fetching, which is counted ' +
      'here (not in MB/s) and does not spill into the next run; with replication factor 3 every byte is also ' +
      "fetched and appended by two followers. It depends on the batches the client sends: samsa's Producer " +
      "closes batches at 16 KiB (larger only while a partition cannot send), librdkafka's may grow up to 1 MB (its batch.size here)",
    ...(librdkafka ? [] : ['librdkafka rows skipped: confluent_kafka does not import in /usr/bin/python3']),
    ...notes,
    `cluster section took ${minutes} min`,
  ];
  return {
    blocks: [
      table(
        `Cluster: fail-over of a partition leader, 3 brokers (zookeeper.session.timeout.ms ${SESSION_MS})`,
        failover.list(),
      ),
      table('Cluster: produce throughput, 3 brokers, 1 KiB messages', throughput.list()),
      table("Cluster: brokers' CPU time per MB produced", cpu.list()),
      allNotes.map((n) => `- ${n}`).join('\n'),
    ],
  };
}
