// Consumer-group benchmarks (issue 6): how long a group of 10 consumers takes to become stable, and OffsetCommit
// throughput. One broker for the section (group.initial.rebalance.delay.ms=0, everything else default, so offsets
// and group metadata are written to __consumer_offsets), driven by a raw-protocol client built from our generated
// codecs (bench/broker-support.ts KafkaClient): every member runs what a classic consumer runs (JoinGroup with the
// KIP-394 member-id round trip, the leader computes a range assignment, SyncGroup, Heartbeat until the group is
// stable, rejoin on REBALANCE_IN_PROGRESS), without a client library's own timers in the way.
// References measured in the same run: the same join for a group of 1 (so the ratio is the cost of 9 more members)
// and Heartbeat requests through the same pipelined driver (answered by the coordinator without a write).
// `node dist/bench/run.js groups` runs only this section.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import {
  readConsumerProtocolAssignment,
  writeConsumerProtocolAssignment,
} from '../src/protocol/generated/data/consumer-protocol-assignment.js';
import { writeConsumerProtocolSubscription } from '../src/protocol/generated/data/consumer-protocol-subscription.js';
import { Reader, Writer } from '../src/protocol/index.js';
import { type BrokerChild, KafkaClient, startBroker } from './broker-support.js';
import { median, Rows, table } from './harness.js';

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const JOIN_RUNS = env('SAMSA_BENCH_JOIN_RUNS', 7);
const COMMIT_RUNS = env('SAMSA_BENCH_COMMIT_RUNS', 3);
const COMMIT_SECONDS = env('SAMSA_BENCH_COMMIT_SECONDS', 3);
const COMMIT_WARMUP_SECONDS = 0.5;
const GROUP_SIZE = 10;
const PARTITIONS = 20;
const IN_FLIGHT = 16;
/** The driver's heartbeat interval while a member waits for the rest of the group (clients default to 3000 ms). */
const HEARTBEAT_MS = 50;
const SESSION_TIMEOUT_MS = 45_000;
const REBALANCE_TIMEOUT_MS = 60_000;
const TOPIC = 'bench-groups';

const JOIN_VERSION = 9;
const SYNC_VERSION = 5;
const HEARTBEAT_VERSION = 4;
const LEAVE_VERSION = 3;
const COMMIT_VERSION = 8;

const REBALANCE_IN_PROGRESS = 27;
const MEMBER_ID_REQUIRED = 79;

const progress = (msg: string): void => {
  process.stderr.write(`[groups bench] ${msg}\n`);
};

/** ConsumerProtocolSubscription v0 (with its version prefix) for one topic. */
function subscription(topic: string): Buffer {
  const w = new Writer();
  w.int16(0);
  writeConsumerProtocolSubscription(w, 0, {
    topics: [topic],
    userData: null,
    ownedPartitions: [],
    generationId: -1,
    rackId: null,
  });
  return w.toBuffer();
}

/** ConsumerProtocolAssignment v0 (with its version prefix). */
function assignment(topic: string, partitions: number[]): Buffer {
  const w = new Writer();
  w.int16(0);
  writeConsumerProtocolAssignment(w, 0, { assignedPartitions: [{ topic, partitions }], userData: null });
  return w.toBuffer();
}

function assignedPartitions(bytes: Buffer): number[] {
  if (bytes.length === 0) return [];
  const r = new Reader(bytes);
  r.int16();
  return readConsumerProtocolAssignment(r, 0).assignedPartitions.flatMap((tp) => tp.partitions);
}

/** Kafka's RangeAssignor for one topic: members sorted by id, the first `partitions % n` get one more. */
function rangeAssign(memberIds: string[], partitions: number): Map<string, number[]> {
  const ids = [...memberIds].sort();
  const per = Math.floor(partitions / ids.length);
  const extra = partitions % ids.length;
  const out = new Map<string, number[]>();
  let next = 0;
  ids.forEach((id, i) => {
    const count = per + (i < extra ? 1 : 0);
    out.set(
      id,
      Array.from({ length: count }, (_, k) => next + k),
    );
    next += count;
  });
  return out;
}

/** Asks for the group coordinator until it answers (the first ask creates __consumer_offsets). */
async function findCoordinator(client: KafkaClient, groupId: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const res = await client.request(10, 3, { key: groupId, keyType: 0, coordinatorKeys: [] });
    if (res.errorCode === 0) return;
    await sleep(100);
  }
  throw new Error(`FindCoordinator ${groupId}: no coordinator`);
}

interface Joined {
  /** Milliseconds from the first JoinGroup sent to the last SyncGroup answer of the generation with every member. */
  ms: number;
  /** Generations the group went through before it was stable with all members. */
  generations: number;
  /** JoinGroup requests sent in all (including the MEMBER_ID_REQUIRED round trips and rejoins). */
  joins: number;
}

interface Member {
  client: KafkaClient;
  memberId: string;
  generationId: number;
}

/**
 * `n` members (one connection each, connected before the clock starts) join `groupId` at once; resolves when every
 * member has its assignment of one generation that has all `n` members. Members then leave the group.
 */
async function joinGroup(bootstrap: string, groupId: string, n: number): Promise<Joined> {
  const members: Member[] = await Promise.all(
    Array.from({ length: n }, async () => ({
      client: await KafkaClient.connect(bootstrap),
      memberId: '',
      generationId: -1,
    })),
  );
  await findCoordinator(members[0]!.client, groupId);
  const metadata = subscription(TOPIC);
  const sizeOf = new Map<number, number>();
  const synced = new Map<number, Map<string, number[]>>();
  let joins = 0;
  let stableAt = 0;
  let stableGeneration = -1;
  let failure: Error | null = null;

  const run = async (m: Member): Promise<void> => {
    while (stableAt === 0 && failure === null) {
      joins++;
      const join = await m.client.request(11, JOIN_VERSION, {
        groupId,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
        memberId: m.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata }],
        reason: null,
      });
      if (join.errorCode === MEMBER_ID_REQUIRED) {
        m.memberId = join.memberId;
        continue;
      }
      if (join.errorCode === REBALANCE_IN_PROGRESS) continue;
      if (join.errorCode !== 0) throw new Error(`JoinGroup ${groupId}: error ${join.errorCode}`);
      m.memberId = join.memberId;
      m.generationId = join.generationId;
      const leader = join.leader === join.memberId;
      let assignments: { memberId: string; assignment: Buffer }[] = [];
      if (leader) {
        const ids = (join.members as { memberId: string }[]).map((x) => x.memberId);
        sizeOf.set(join.generationId, ids.length);
        assignments = [...rangeAssign(ids, PARTITIONS)].map(([memberId, parts]) => ({
          memberId,
          assignment: assignment(TOPIC, parts),
        }));
      }
      const sync = await m.client.request(14, SYNC_VERSION, {
        groupId,
        generationId: m.generationId,
        memberId: m.memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments,
      });
      if (sync.errorCode === REBALANCE_IN_PROGRESS) continue;
      if (sync.errorCode !== 0) throw new Error(`SyncGroup ${groupId}: error ${sync.errorCode}`);
      let gen = synced.get(m.generationId);
      if (gen === undefined) {
        gen = new Map();
        synced.set(m.generationId, gen);
      }
      gen.set(m.memberId, assignedPartitions(sync.assignment as Buffer));
      if (gen.size === n && sizeOf.get(m.generationId) === n) {
        stableAt = performance.now();
        stableGeneration = m.generationId;
        return;
      }
      // Wait for the rest of the group; a rebalance shows up as REBALANCE_IN_PROGRESS on the heartbeat.
      while (stableAt === 0 && failure === null) {
        await sleep(HEARTBEAT_MS);
        if (stableAt !== 0) return;
        const hb = await m.client.request(12, HEARTBEAT_VERSION, {
          groupId,
          generationId: m.generationId,
          memberId: m.memberId,
          groupInstanceId: null,
        });
        if (hb.errorCode === REBALANCE_IN_PROGRESS) break;
        if (hb.errorCode !== 0) throw new Error(`Heartbeat ${groupId}: error ${hb.errorCode}`);
      }
    }
  };

  const started = performance.now();
  try {
    await Promise.all(
      members.map((m) =>
        run(m).catch((err: Error) => {
          failure ??= err;
        }),
      ),
    );
    if (failure !== null) throw failure;
    const final = synced.get(stableGeneration)!;
    const covered = [...final.values()].flat().sort((a, b) => a - b);
    if (covered.length !== PARTITIONS || covered.some((p, i) => p !== i)) {
      throw new Error(`group ${groupId}: assignment covers ${covered.join(',')}`);
    }
    await members[0]!.client.request(13, LEAVE_VERSION, {
      groupId,
      memberId: '',
      members: members.map((m) => ({ memberId: m.memberId, groupInstanceId: null, reason: null })),
    });
    return { ms: stableAt - started, generations: synced.size, joins };
  } finally {
    for (const m of members) m.client.close();
  }
}

/**
 * The same group formed with the KIP-848 protocol: `n` members (one connection each) send ConsumerGroupHeartbeat
 * with epoch 0 at once, then heartbeat every HEARTBEAT_MS reporting the partitions they were given, as a consumer
 * does; the group is stable once every member is at the same epoch and their partitions cover the topic exactly
 * once (revocations done, nothing unreleased). Timed from the first heartbeat sent; members then leave (epoch -1).
 */
async function consumerProtocolJoin(bootstrap: string, groupId: string, n: number): Promise<number> {
  const members = await Promise.all(
    Array.from({ length: n }, async () => ({
      client: await KafkaClient.connect(bootstrap),
      memberId: '',
      epoch: 0,
      owned: [] as { topicId: string; partitions: number[] }[],
    })),
  );
  await findCoordinator(members[0]!.client, groupId);
  type M = (typeof members)[number];
  /** One heartbeat; true when it changed what the member owns (a client then acknowledges at once). */
  const beat = async (m: M): Promise<boolean> => {
    const res = await m.client.request(68, 0, {
      groupId,
      memberId: m.memberId,
      memberEpoch: m.epoch,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: m.epoch === 0 ? REBALANCE_TIMEOUT_MS : -1,
      subscribedTopicNames: m.epoch === 0 ? [TOPIC] : null,
      serverAssignor: null,
      topicPartitions: m.owned,
    });
    if (res.errorCode !== 0) throw new Error(`ConsumerGroupHeartbeat ${groupId}: error ${res.errorCode}`);
    m.memberId = res.memberId ?? m.memberId;
    m.epoch = res.memberEpoch;
    if (res.assignment === null) return false;
    m.owned = res.assignment.topicPartitions;
    return true;
  };
  const stable = (): boolean => {
    const epoch = members[0]!.epoch;
    const seen = members.flatMap((m) => m.owned.flatMap((t) => t.partitions)).sort((a, b) => a - b);
    return members.every((m) => m.epoch === epoch) && seen.length === PARTITIONS && seen.every((p, i) => p === i);
  };
  let done = false;
  const run = async (m: M): Promise<void> => {
    while (!done) {
      const changed = await beat(m);
      if (stable()) done = true;
      else if (!changed) await sleep(HEARTBEAT_MS);
    }
  };
  const started = performance.now();
  try {
    await Promise.all(members.map(run));
    const ms = performance.now() - started;
    for (const m of members) {
      m.epoch = -1;
      await beat(m);
    }
    return ms;
  } finally {
    for (const m of members) m.client.close();
  }
}

/**
 * The same join with `n` KafkaJS consumers in this process (connected and subscribed before the clock starts):
 * from the first JoinGroup request KafkaJS sends (its REQUEST instrumentation event) to the GROUP_JOIN event (after
 * SyncGroup) that completes an assignment of every partition, one share per member. KafkaJS heartbeats every
 * 3000 ms by default, so a group that needs a second generation shows it.
 */
async function kafkajsJoin(bootstrap: string, groupId: string, n: number): Promise<number> {
  const kafka = new Kafka({ clientId: 'samsa-bench', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const consumers: Consumer[] = Array.from({ length: n }, () =>
    kafka.consumer({ groupId, sessionTimeout: SESSION_TIMEOUT_MS, rebalanceTimeout: REBALANCE_TIMEOUT_MS }),
  );
  let firstJoin = Number.POSITIVE_INFINITY;
  const latest = new Map<number, number[]>();
  let resolveStable: (at: number) => void = () => {};
  const stable = new Promise<number>((resolve) => {
    resolveStable = resolve;
  });
  const share = PARTITIONS / n;
  try {
    await Promise.all(consumers.map((c) => c.connect()));
    await Promise.all(consumers.map((c) => c.subscribe({ topic: TOPIC })));
    consumers.forEach((c, i) => {
      c.on(c.events.REQUEST, (e) => {
        if (e.payload.apiName === 'JoinGroup') firstJoin = Math.min(firstJoin, e.payload.sentAt);
      });
      c.on(c.events.GROUP_JOIN, (e) => {
        latest.set(i, e.payload.memberAssignment[TOPIC] ?? []);
        const all = [...latest.values()];
        const covered = new Set(all.flat());
        if (latest.size === n && covered.size === PARTITIONS && all.every((p) => p.length === share)) {
          resolveStable(e.timestamp);
        }
      });
    });
    await Promise.all(consumers.map((c) => c.run({ eachMessage: async () => {} })));
    const at = await Promise.race([stable, sleep(60_000, undefined, { ref: false }).then(() => Number.NaN)]);
    if (Number.isNaN(at)) throw new Error(`KafkaJS group ${groupId} not stable after 60 s`);
    return at - firstJoin;
  } finally {
    await Promise.all(consumers.map((c) => c.disconnect()));
  }
}

interface Rate {
  requests: number;
  seconds: number;
}

/** `IN_FLIGHT` requests outstanding on one connection for `seconds`; `send` issues one request and checks it. */
async function pipelined(send: (k: number) => Promise<void>, seconds: number): Promise<Rate> {
  let k = 0;
  let done = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < deadline) {
        await send(k++);
        done++;
      }
    }),
  );
  return { requests: done, seconds: (performance.now() - start) / 1000 };
}

type Kind = 'heartbeat' | 'commit-1' | 'commit-20';

async function commitBench(broker: BrokerChild, rows: Rows, partRows: Rows, order: Kind[]): Promise<void> {
  const groupId = `bench-commit-${Math.random().toString(36).slice(2, 8)}`;
  const client = await KafkaClient.connect(broker.bootstrap);
  try {
    // A stable group of one: its member commits (generation + member id, as a consumer does) and heartbeats.
    await findCoordinator(client, groupId);
    let memberId = '';
    let join: { errorCode: number; memberId: string; generationId: number };
    for (;;) {
      join = await client.request(11, JOIN_VERSION, {
        groupId,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: subscription(TOPIC) }],
        reason: null,
      });
      if (join.errorCode !== MEMBER_ID_REQUIRED) break;
      memberId = join.memberId;
    }
    if (join.errorCode !== 0) throw new Error(`JoinGroup ${groupId}: error ${join.errorCode}`);
    memberId = join.memberId;
    const generationId = join.generationId;
    const sync = await client.request(14, SYNC_VERSION, {
      groupId,
      generationId,
      memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId, assignment: assignment(TOPIC, rangeAssign([memberId], PARTITIONS).get(memberId)!) }],
    });
    if (sync.errorCode !== 0) throw new Error(`SyncGroup ${groupId}: error ${sync.errorCode}`);

    let offset = 0n;
    const heartbeat = async () => {
      const res = await client.request(12, HEARTBEAT_VERSION, {
        groupId,
        generationId,
        memberId,
        groupInstanceId: null,
      });
      if (res.errorCode !== 0) throw new Error(`Heartbeat: error ${res.errorCode}`);
    };
    const commit = (count: number) => async (k: number) => {
      offset++;
      const partitions = count === 1 ? [k % PARTITIONS] : Array.from({ length: count }, (_, p) => p);
      const res = await client.request(8, COMMIT_VERSION, {
        groupId,
        generationIdOrMemberEpoch: generationId,
        memberId,
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [
          {
            name: TOPIC,
            partitions: partitions.map((partitionIndex) => ({
              partitionIndex,
              committedOffset: offset,
              committedLeaderEpoch: -1,
              commitTimestamp: -1n,
              committedMetadata: '',
            })),
          },
        ],
      });
      for (const t of res.topics as { partitions: { partitionIndex: number; errorCode: number }[] }[]) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) throw new Error(`OffsetCommit partition ${p.partitionIndex}: error ${p.errorCode}`);
        }
      }
    };
    const ops: Record<Kind, { send: (k: number) => Promise<void>; name: string; parts: number }> = {
      heartbeat: { send: heartbeat, name: HB, parts: 0 },
      'commit-1': { send: commit(1), name: COMMIT_1, parts: 1 },
      'commit-20': { send: commit(PARTITIONS), name: COMMIT_20, parts: PARTITIONS },
    };
    for (const kind of order) {
      const op = ops[kind];
      await pipelined(op.send, COMMIT_WARMUP_SECONDS);
      const r = await pipelined(op.send, COMMIT_SECONDS);
      const perSecond = r.requests / r.seconds;
      rows.add(op.name, 'req/s', perSecond, kind === 'heartbeat' ? undefined : HB);
      if (op.parts > 0) {
        partRows.add(op.name, 'partitions/s', perSecond * op.parts, op.parts === 1 ? undefined : COMMIT_1);
      }
    }
    await client.request(13, LEAVE_VERSION, {
      groupId,
      memberId: '',
      members: [{ memberId, groupInstanceId: null, reason: null }],
    });
  } finally {
    client.close();
  }
}

const JOIN_1 = 'group of 1 (reference)';
const JOIN_N = `group of ${GROUP_SIZE}`;
const KJS_1 = 'KafkaJS: group of 1 (reference)';
const KJS_N = `KafkaJS: group of ${GROUP_SIZE}`;
const KAFKAJS_RUNS = env('SAMSA_BENCH_KAFKAJS_JOIN_RUNS', 5);
const CGH_1 = 'KIP-848 protocol: group of 1 (reference)';
const CGH_N = `KIP-848 protocol: group of ${GROUP_SIZE}`;
const HB = 'Heartbeat (reference, no write)';
const COMMIT_1 = 'OffsetCommit, 1 partition/request';
const COMMIT_20 = `OffsetCommit, ${PARTITIONS} partitions/request`;

export async function benchGroups(): Promise<{ blocks: string[] }> {
  const started = performance.now();
  const joinRows = new Rows();
  const commitRows = new Rows();
  const partRows = new Rows();
  const generations: number[] = [];
  const joins: number[] = [];
  const broker = await startBroker({ config: { 'group.initial.rebalance.delay.ms': '0' } });
  try {
    const admin = await KafkaClient.connect(broker.bootstrap);
    try {
      await admin.createTopics([TOPIC], PARTITIONS);
      await findCoordinator(admin, 'bench-warmup');
    } finally {
      admin.close();
    }
    progress('warm-up joins');
    await joinGroup(broker.bootstrap, 'bench-warmup-1', 1);
    await joinGroup(broker.bootstrap, 'bench-warmup-n', GROUP_SIZE);

    for (let run = 0; run < JOIN_RUNS; run++) {
      progress(`join run ${run + 1}/${JOIN_RUNS}`);
      const one = async () => {
        joinRows.add(JOIN_1, 'ms', (await joinGroup(broker.bootstrap, `bench-join-1-${run}`, 1)).ms);
      };
      const many = async () => {
        const r = await joinGroup(broker.bootstrap, `bench-join-n-${run}`, GROUP_SIZE);
        joinRows.add(JOIN_N, 'ms', r.ms, JOIN_1);
        generations.push(r.generations);
        joins.push(r.joins);
      };
      if (run % 2 === 0) {
        await one();
        await many();
      } else {
        await many();
        await one();
      }
    }

    for (let run = 0; run < JOIN_RUNS; run++) {
      progress(`KIP-848 join run ${run + 1}/${JOIN_RUNS}`);
      const one = async () => {
        joinRows.add(CGH_1, 'ms', await consumerProtocolJoin(broker.bootstrap, `bench-cgh-1-${run}`, 1));
      };
      const many = async () => {
        joinRows.add(
          CGH_N,
          'ms',
          await consumerProtocolJoin(broker.bootstrap, `bench-cgh-n-${run}`, GROUP_SIZE),
          CGH_1,
        );
      };
      if (run % 2 === 0) {
        await one();
        await many();
      } else {
        await many();
        await one();
      }
    }

    for (let run = 0; run < KAFKAJS_RUNS; run++) {
      progress(`KafkaJS join run ${run + 1}/${KAFKAJS_RUNS}`);
      const one = async () => {
        joinRows.add(KJS_1, 'ms', await kafkajsJoin(broker.bootstrap, `bench-kjs-1-${run}`, 1));
      };
      const many = async () => {
        joinRows.add(KJS_N, 'ms', await kafkajsJoin(broker.bootstrap, `bench-kjs-n-${run}`, GROUP_SIZE), KJS_1);
      };
      if (run % 2 === 0) {
        await one();
        await many();
      } else {
        await many();
        await one();
      }
    }

    const orders: Kind[][] = [
      ['heartbeat', 'commit-1', 'commit-20'],
      ['commit-20', 'commit-1', 'heartbeat'],
      ['commit-1', 'heartbeat', 'commit-20'],
    ];
    for (let run = 0; run < COMMIT_RUNS; run++) {
      progress(`commit run ${run + 1}/${COMMIT_RUNS}`);
      await commitBench(broker, commitRows, partRows, orders[run % orders.length]!);
    }
  } finally {
    await broker.stop();
    broker.cleanup();
  }

  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  const notes = [
    `client: a raw-protocol driver from our generated codecs (bench/groups.ts), one TCP connection per member, in ` +
      `this Node process, against one broker (child process, defaults but group.initial.rebalance.delay.ms=0, ` +
      `data in the OS temp dir) on the same 2 cores; this machine is shared, so read medians`,
    `join: ${GROUP_SIZE} members (or 1) subscribe to one ${PARTITIONS}-partition topic and join a fresh group at ` +
      `once (JoinGroup v${JOIN_VERSION} with the KIP-394 MEMBER_ID_REQUIRED round trip, range assignment by the ` +
      `leader, SyncGroup v${SYNC_VERSION}); timed from the first JoinGroup sent (connections already open, ` +
      'FindCoordinator done) to the last SyncGroup answer of the first generation that has every member, its ' +
      `assignment checked to cover all ${PARTITIONS} partitions; members that synced in an earlier generation ` +
      `learn of the next rebalance by Heartbeat every ${HEARTBEAT_MS} ms (real clients: heartbeat.interval.ms ` +
      `3000 by default, so a real group that rebalances more than once takes longer); ${JOIN_RUNS} runs, order ` +
      'alternating',
    `join: generations until stable (group of ${GROUP_SIZE}) per run: ${generations.join(', ')} (median ` +
      `${median(generations)}); JoinGroup requests per run: ${joins.join(', ')}`,
    `KIP-848 rows: the same ${GROUP_SIZE} (or 1) members with ConsumerGroupHeartbeat v0 (server-side uniform ` +
      `assignor): all join at once (epoch 0), then heartbeat every ${HEARTBEAT_MS} ms reporting their partitions; ` +
      'a member whose assignment changed heartbeats again at once (as clients acknowledge a revocation or an ' +
      'assignment); stable when all members share one epoch and their partitions cover the topic exactly once ' +
      `(revocations confirmed); ${JOIN_RUNS} runs, order alternating`,
    `KafkaJS rows: ${GROUP_SIZE} (or 1) KafkaJS 2.x consumers in this process (one client each, connected and ` +
      'subscribed first, default heartbeatInterval 3000 ms), timed from the first JoinGroup request KafkaJS sends ' +
      '(REQUEST event sentAt, ms resolution) to the GROUP_JOIN event that completes an assignment of all ' +
      `${PARTITIONS} partitions, ${PARTITIONS / GROUP_SIZE} per member; ${KAFKAJS_RUNS} runs, order alternating`,
    "context: Kafka's default group.initial.rebalance.delay.ms is 3000 ms, i.e. a new group's first rebalance " +
      'waits at least 3 s for more members (and usually forms in one generation); it is 0 here, so the figure is ' +
      'the coordinator cost itself, including the rebalances caused by members arriving after the first generation',
    `commit: one connection, ${IN_FLIGHT} requests in flight, ${COMMIT_SECONDS} s measured after ` +
      `${COMMIT_WARMUP_SECONDS} s warm-up, by the single member of a stable group (its generation and member id); ` +
      `OffsetCommit v${COMMIT_VERSION} of 1 partition (rotating over ${PARTITIONS}) or all ${PARTITIONS} ` +
      `partitions of one topic, every partition answer checked; default offset storage (__consumer_offsets, ` +
      `acks=all on one broker); the reference is Heartbeat v${HEARTBEAT_VERSION} from the same member through the ` +
      `same driver (validated and answered without a write); ${COMMIT_RUNS} runs, order rotating`,
    `groups section took ${minutes} min`,
  ];
  return {
    blocks: [
      table(`Groups: time until a group is stable (every member has its assignment)`, joinRows.list()),
      table(`Groups: OffsetCommit requests/s, ${IN_FLIGHT} in flight on one connection`, commitRows.list()),
      table('Groups: OffsetCommit partition-commits/s', partRows.list()),
      notes.map((n) => `- ${n}`).join('\n'),
    ],
  };
}
