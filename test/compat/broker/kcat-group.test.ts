/**
 * kcat's balanced consumer (`kcat -G`, librdkafka's KafkaConsumer) against the real broker process:
 *
 * - two `kcat -G` processes join one group on a 6-partition topic; DescribeGroups (KafkaJS admin) shows the group
 *   Stable with both members and their assignments (librdkafka's range assignor, decoded from the member
 *   assignment bytes): disjoint and covering all six partitions;
 * - 600 messages are produced; each is printed exactly once, by the member assigned its partition;
 * - kcat auto-commits (auto.commit.interval.ms=500): OffsetFetch reaches the log end of every partition;
 * - SIGTERM (kcat closes its consumer, leaving the group): the group is Empty;
 * - a third `kcat -G ... -e` of the same group starts at the committed offsets, finds every partition at its end
 *   and exits by itself (kcat 1.7.1 honours -e in -G mode) having printed nothing; after 60 more messages another
 *   `-e` member prints exactly those and exits.
 *
 * Waiting is by polling with a bound; nothing about timing is asserted. Logs are printed only on failure.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type Admin, AssignerProtocol, type Kafka, Partitioners } from 'kafkajs';
import { describeChild, requireTool, runChild, skipUnless } from '../harness.js';
import { kcatTool } from '../tools.js';
import type { BrokerProcess } from './broker-process.js';
import { startGroupTestBroker, stopGroupTestBroker, waitFor } from './group-members.js';
import { withLogsOnFailure } from './workload.js';

const kcat = kcatTool();

const TOPIC = 'kcat-group';
const GROUP = 'kcat-group';
const PARTITIONS = 6;
const TEST_TIMEOUT_MS = 60_000;

let broker: BrokerProcess | undefined;
let kafka: Kafka;
let admin: Admin;
const clientLogs: string[] = [];

function kcatArgs(extra: string[] = []): string[] {
  return [
    '-b',
    broker!.bootstrap,
    '-G',
    GROUP,
    '-X',
    'session.timeout.ms=6000',
    '-X',
    'heartbeat.interval.ms=500',
    '-X',
    'auto.offset.reset=earliest',
    '-X',
    'auto.commit.interval.ms=500',
    '-X',
    'fetch.wait.max.ms=200',
    '-u',
    '-q',
    '-f',
    '%p %o %k\\n',
    ...extra,
    TOPIC,
  ];
}

/** A long-running `kcat -G` member: its stdout lines as [partition, offset, key]. */
class KcatMember {
  readonly lines: [number, number, string][] = [];
  stdout = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(readonly name: string) {
    this.child = spawn('kcat', kcatArgs(['-X', `client.id=${name}`]), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      const nl = this.stdout.lastIndexOf('\n');
      if (nl < 0) return;
      for (const line of this.stdout.slice(0, nl).split('\n')) {
        const [p, o, k] = line.split(' ');
        this.lines.push([Number(p), Number(o), k ?? '']);
      }
      this.stdout = this.stdout.slice(nl + 1);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
  }

  describe(): string {
    return `--- ${this.name}: ${this.lines.length} lines\n--- stderr\n${this.stderr.slice(-3000)}`;
  }
}

async function produce(from: number, count: number): Promise<void> {
  const producer = kafka.producer({ idempotent: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({
      partition: (from + i) % PARTITIONS,
      key: `key-${from + i}`,
      value: `value-${from + i}`,
    }));
    await producer.send({ topic: TOPIC, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** The group's state and each member's (client id) assigned partitions of TOPIC, from DescribeGroups. */
async function describeGroup(): Promise<{ state: string; members: Map<string, number[]> }> {
  const { groups } = await admin.describeGroups([GROUP]);
  const g = groups[0]!;
  const members = new Map<string, number[]>();
  for (const m of g.members) {
    const decoded = m.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
    members.set(
      m.clientId,
      [...(decoded?.assignment[TOPIC] ?? [])].sort((a, b) => a - b),
    );
  }
  return { state: g.state, members };
}

describe(`kcat ${kcat.version ?? ''} balanced consumer (-G) against the broker process`, {
  skip: skipUnless(kcat),
}, () => {
  before(async () => {
    if (kcat.missing !== undefined) return;
    ({ broker, kafka, admin } = await startGroupTestBroker('samsa-compat-kcat-group', clientLogs));
  });

  after(() => stopGroupTestBroker(broker, admin));

  it('two kcat -G members split six partitions, consume everything once and commit; -e resumes at the commits', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    requireTool(kcat);
    const members: KcatMember[] = [];
    let group = { state: '', members: new Map<string, number[]>() };
    const state = (): string =>
      `${group.state} ${JSON.stringify([...group.members])}\n${members.map((m) => m.describe()).join('\n')}`;
    try {
      await withLogsOnFailure(t, broker, clientLogs, async () => {
        assert.equal(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] }), true);
        members.push(new KcatMember('kcat-1'), new KcatMember('kcat-2'));
        await waitFor(
          'DescribeGroups to show two members splitting six partitions',
          async () => {
            group = await describeGroup();
            const all = [...group.members.values()].flat();
            return (
              group.state === 'Stable' &&
              group.members.size === 2 &&
              [...group.members.values()].every((ps) => ps.length > 0) &&
              all.length === PARTITIONS &&
              new Set(all).size === PARTITIONS
            );
          },
          state,
        );
        t.diagnostic(`DescribeGroups: ${JSON.stringify([...group.members])}`);

        await produce(0, 600);
        const total = (): number => members.reduce((n, m) => n + m.lines.length, 0);
        await waitFor('600 messages printed', () => total() >= 600, state);
        const seen = new Set<string>();
        for (const m of members) {
          const mine = group.members.get(m.name)!;
          for (const [p, o, k] of m.lines) {
            assert.ok(mine.includes(p), `${m.name} printed partition ${p}, assigned ${mine}`);
            assert.equal(k, `key-${o * PARTITIONS + p}`, `key at ${p}/${o}`);
            seen.add(`${p}/${o}`);
          }
        }
        assert.equal(total(), 600, 'nothing printed twice');
        assert.equal(seen.size, 600);

        const ends = new Map((await admin.fetchTopicOffsets(TOPIC)).map((o) => [o.partition, o.high]));
        let offsets = new Map<number, string>();
        await waitFor(
          'auto-commits to reach the log end',
          async () => {
            const [tp] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
            offsets = new Map((tp?.partitions ?? []).map((p) => [p.partition, p.offset]));
            return [...ends].every(([p, end]) => offsets.get(p) === end);
          },
          () => JSON.stringify([...offsets]),
        );

        for (const m of members) m.child.kill('SIGTERM');
        for (const m of members) assert.equal(await m.exited, 0, `${m.name} exits cleanly on SIGTERM`);
        await waitFor(
          'the group to be Empty',
          async () => {
            group = await describeGroup();
            return group.state === 'Empty';
          },
          state,
        );

        const atEnd = await runChild('kcat', kcatArgs(['-e', '-X', 'client.id=kcat-e1']), { timeoutMs: 30_000 });
        assert.equal(atEnd.code, 0, describeChild(atEnd));
        assert.equal(atEnd.stdout, '', 'nothing after the committed offsets');
        await produce(600, 60);
        const more = await runChild('kcat', kcatArgs(['-e', '-X', 'client.id=kcat-e2']), { timeoutMs: 30_000 });
        assert.equal(more.code, 0, describeChild(more));
        const lines = more.stdout.trim().split('\n').sort();
        const want = Array.from({ length: 60 }, (_, i) => {
          const n = 600 + i;
          return `${n % PARTITIONS} ${Math.floor(n / PARTITIONS)} key-${n}`;
        }).sort();
        assert.deepEqual(lines, want, 'exactly the 60 new messages');
      }).catch((e: unknown) => {
        for (const line of state().split('\n')) t.diagnostic(line);
        throw e;
      });
    } finally {
      for (const m of members) m.child.kill('SIGKILL');
    }
  });
});
