/**
 * The KIP-848 consumer group protocol (ConsumerGroupHeartbeat, ConsumerGroupDescribe, server-side assignors) with
 * the only KIP-848 client available here, @platformatic/kafka (`groupProtocol: 'consumer'`), against the real
 * broker process. Every member is its own process (platformatic-group-member.mjs) reporting its assignment changes,
 * the records it processed and its commits; a long-lived admin process of the same script answers the library's
 * Admin calls (ListOffsets, OffsetFetch, DescribeGroups, CreateTopics, CreatePartitions) and ConsumerGroupDescribe
 * (the library's v0 API: its Admin only has DescribeGroups). The broker runs with a 6 s consumer session timeout
 * and a 500 ms heartbeat interval.
 *
 * - Three members of one group on a 6-partition topic: their assignments are disjoint and cover the six partitions,
 *   by their own reports and by ConsumerGroupDescribe (group Stable, assignor uniform, every member at the group
 *   epoch with its target assignment); 600 keyed messages are consumed and committed: lag 0 per partition (log end
 *   by Admin.listOffsets - committed by Admin.listConsumerGroupOffsets).
 * - One member closes (ConsumerGroupHeartbeat epoch -1): the two others take over its partitions; one of them stops
 *   committing while 600 more arrive: the lag per partition is exactly its uncommitted records on the partitions
 *   ConsumerGroupDescribe says it owns, 0 elsewhere. It is SIGKILLed: after its session times out, the last member
 *   owns all six, re-reads the killed member's uncommitted records and commits everything: lag 0. Accounting over
 *   every process's report: every offset consumed, exactly once under a commit, and the duplicates are exactly the
 *   killed member's uncommitted records (plus records whose commit was refused or not sent during a reassignment).
 * - Restart (a broker of its own, same data directory and port): a group's committed offsets survive a SIGTERM
 *   restart and a new member resumes exactly after them. A member kept running across the restart keeps consuming
 *   and committing, as on Kafka: the coordinator persists KIP-848 membership in __consumer_offsets.
 * - Static membership: a static member leaving temporarily (epoch -2, what Kafka's Java client sends when a static
 *   member closes) keeps its partitions; a new process with the same group.instance.id takes them back at the same
 *   group epoch, and the other member sees no change. A second live process with the same instance id is refused
 *   (UNRELEASED_INSTANCE_ID). The library's own close (epoch -1, even for a static member) is a permanent leave: the
 *   member is gone at once and its partitions move.
 * - Partitions added to the subscribed topic (CreatePartitions 6 -> 8) are assigned and consumed.
 * - DescribeGroups on a KIP-848 group: Kafka answers state Dead with no members (GROUP_ID_NOT_FOUND from v6); this
 *   broker describes the group instead (state, protocol type 'consumer', the assignor, members with their
 *   assignment), so that admin tools that only speak DescribeGroups see KIP-848 groups: a documented difference.
 *
 * Waiting is by polling with a bound; nothing about timing is asserted. Logs are printed only on failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireTool, skipUnless } from '../harness.js';
import { platformaticTool } from '../tools.js';
import { type BrokerProcess, startBrokerProcess } from './broker-process.js';
import {
  account,
  committedByMembers,
  disjointCover,
  type MemberEvent,
  MemberProcess,
  owners,
  waitFor,
} from './group-members.js';
import { withLogsOnFailure } from './workload.js';

const platformatic = platformaticTool();

/** tsc does not copy .mjs files: the script runs from the source tree (this file runs from dist/). */
const SCRIPT = fileURLToPath(new URL('../../../../test/compat/broker/platformatic-group-member.mjs', import.meta.url));
const SESSION_TIMEOUT_MS = 6000;
const BROKER_CONFIG = {
  'group.initial.rebalance.delay.ms': '0',
  'group.consumer.session.timeout.ms': String(SESSION_TIMEOUT_MS),
  'group.consumer.min.session.timeout.ms': '1000',
  'group.consumer.heartbeat.interval.ms': '500',
  'group.consumer.min.heartbeat.interval.ms': '100',
};
const TEST_TIMEOUT_MS = 60_000;
/** Every process exits by itself after this long, whatever happens to the test. */
const DEADLINE_S = 240;

let broker: BrokerProcess | undefined;
let admin: AdminProcess | undefined;
const clientLogs: string[] = [];
/** Every member process started, for cleanup and failure reports. */
const processes: MemberProcess[] = [];

/** A long-lived admin process (platformatic-group-member.mjs, role admin): one call, one result. */
class AdminProcess {
  private readonly proc: MemberProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(bootstrap: string) {
    this.proc = new MemberProcess(
      'admin',
      { command: platformatic.details.node!, args: [SCRIPT] },
      {
        role: 'admin',
        bootstrap,
        deadlineSeconds: DEADLINE_S,
      },
    );
    this.proc.onEvent = (e: MemberEvent) => {
      if (e.ev !== 'result') return;
      const w = this.waiting.get(e.id);
      this.waiting.delete(e.id);
      if (e.error !== undefined) w?.reject(new Error(e.error));
      else w?.resolve(e.ok);
    };
  }

  call<T>(op: string, args: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`admin ${op} timed out\n${this.proc.describe()}`));
      }, 20_000);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(new Error(`admin ${op}: ${e.message}`));
        },
      });
      this.proc.command(JSON.stringify({ id, op, ...args }));
    });
  }

  close(): Promise<void> {
    return this.proc.close();
  }
}

interface DescribedMember {
  memberId: string;
  instanceId: string | null;
  memberEpoch: number;
  clientId: string;
  subscribedTopicNames: string[];
  assignment: { topicPartitions: { topicName: string; partitions: number[] }[] };
  targetAssignment: { topicPartitions: { topicName: string; partitions: number[] }[] };
}

interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: DescribedMember[];
}

/** ConsumerGroupDescribe v0 through the library's API. */
const describeGroup = (a: AdminProcess, groupId: string): Promise<DescribedGroup> =>
  a.call<DescribedGroup>('consumerGroupDescribe', { groupId });

/** A described member's partitions of `topic`, sorted. */
function partitionsOf(m: DescribedMember, topic: string, which: 'assignment' | 'targetAssignment' = 'assignment') {
  return m[which].topicPartitions
    .filter((t) => t.topicName === topic)
    .flatMap((t) => t.partitions)
    .sort((x, y) => x - y);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const sorted = (ps: Iterable<number>): number[] => [...ps].sort((x, y) => x - y);

/** Log end offset per partition (Admin.listOffsets, latest). */
async function ends(a: AdminProcess, topic: string, partitions: number): Promise<Map<number, number>> {
  return new Map(await a.call<[number, number][]>('ends', { topic, partitions: range(partitions) }));
}

/** Committed offset per partition (Admin.listConsumerGroupOffsets), -1 for none. */
async function committed(a: AdminProcess, groupId: string, topic: string, partitions: number) {
  return new Map(await a.call<[number, number][]>('committed', { groupId, topic, partitions: range(partitions) }));
}

interface PartitionLag {
  partition: number;
  end: number;
  committed: number;
  lag: number;
  /** The member ConsumerGroupDescribe says owns the partition. */
  owner: string | undefined;
}

/** Lag per partition as an admin tool computes it: ConsumerGroupDescribe, OffsetFetch, ListOffsets. */
async function lag(a: AdminProcess, groupId: string, topic: string, partitions: number): Promise<PartitionLag[]> {
  const [group, done, end] = await Promise.all([
    describeGroup(a, groupId),
    committed(a, groupId, topic, partitions),
    ends(a, topic, partitions),
  ]);
  const owner = new Map<number, string>();
  for (const m of group.members) for (const p of partitionsOf(m, topic)) owner.set(p, m.memberId);
  return range(partitions).map((p) => {
    const c = done.get(p) ?? -1;
    const e = end.get(p)!;
    return { partition: p, end: e, committed: c, lag: e - Math.max(c, 0), owner: owner.get(p) };
  });
}

const showLag = (ls: PartitionLag[]): string => ls.map((l) => `${l.partition}:${l.lag}`).join(' ');

function member(
  name: string,
  topic: string,
  groupId: string,
  options: { groupInstanceId?: string; bootstrap?: string; refreshMetadataForAssignments?: boolean } = {},
): MemberProcess {
  const m = new MemberProcess(
    name,
    { command: platformatic.details.node!, args: [SCRIPT] },
    {
      role: 'member',
      bootstrap: options.bootstrap ?? broker!.bootstrap,
      topic,
      groupId,
      ...(options.groupInstanceId === undefined ? {} : { groupInstanceId: options.groupInstanceId }),
      deadlineSeconds: DEADLINE_S,
      sessionTimeout: SESSION_TIMEOUT_MS,
      rebalanceTimeout: 60_000,
      heartbeatInterval: 500,
      // Enough retries (at 300 ms) to ride out a broker restart without the stream giving up.
      options: { retries: 10, retryDelay: 300 },
      refreshMetadataForAssignments: options.refreshMetadataForAssignments === true,
    },
  );
  processes.push(m);
  return m;
}

/** The member id a member process reported on joining (the latest, after a rejoin). */
function memberIdOf(m: MemberProcess): string | undefined {
  let id: string | undefined;
  for (const e of m.events) if (e.ev === 'joined') id = e.memberId;
  return id;
}

/** True once the members' successful commits reached `end` on every partition. */
function allCommitted(members: readonly MemberProcess[], end: ReadonlyMap<number, number>): () => boolean {
  return () => {
    const done = committedByMembers(members);
    return [...end].every(([p, e]) => (done.get(p) ?? 0) === e);
  };
}

/** Highest offset + 1 each member process reported consuming, per partition. */
function consumedTo(m: MemberProcess): Map<number, number> {
  const out = new Map<number, number>();
  for (const e of m.events) {
    if (e.ev !== 'msgs') continue;
    for (const [p, o] of e.recs) out.set(p, Math.max(out.get(p) ?? 0, o + 1));
  }
  return out;
}

/** Distinct errors (and commit failures) of a member process since event index `from`, member ids elided. */
function errorsOf(m: MemberProcess, from = 0): string[] {
  const seen = new Set<string>();
  const add = (s: string): void => {
    seen.add(s.replace(/[0-9a-f-]{36}/g, '<id>'));
  };
  for (const e of m.events.slice(from)) {
    if (e.ev === 'error') add(e.error);
    else if (e.ev === 'commit') for (const [, , why] of e.failed) add(`commit: ${why}`);
  }
  return [...seen];
}

/** Index in `processes` of the first process the running scenario started. */
let scenarioFrom = 0;

/** For failure messages: the members' partitions and last events (by default the running scenario's processes). */
const state = (ms: readonly MemberProcess[] = processes.slice(scenarioFrom)): string =>
  `${owners(ms)}\n${ms.map((m) => m.describe()).join('\n')}`;

/** Runs a scenario with the broker's warnings and every member's last events printed if it fails. */
async function scenario(
  t: TestContext,
  on: BrokerProcess | undefined,
  fn: () => Promise<void>,
  also: readonly MemberProcess[] = [],
): Promise<void> {
  requireTool(platformatic);
  scenarioFrom = processes.length;
  await withLogsOnFailure(t, on, clientLogs, fn).catch((e: unknown) => {
    for (const line of state([...also, ...processes.slice(scenarioFrom)]).split('\n')) t.diagnostic(line);
    throw e;
  });
}

/** Scenario 1 and 2 share a group: three members, then one closes and one is killed. */
const SHARED = { topic: 'kip848-shared', group: 'kip848-shared', partitions: 6, batch: 600 };
const shared: { a?: MemberProcess; b?: MemberProcess; c?: MemberProcess } = {};

describe(`@platformatic/kafka ${platformatic.version ?? ''} KIP-848 consumer groups against the broker process`, {
  skip: skipUnless(platformatic),
}, () => {
  before(async () => {
    if (platformatic.missing !== undefined) return;
    broker = await startBrokerProcess({ config: BROKER_CONFIG });
    admin = new AdminProcess(broker.bootstrap);
  });

  after(async () => {
    await Promise.all(processes.map((m) => m.kill()));
    await admin?.close();
    if (broker !== undefined) {
      assert.equal(await broker.stop(), 0, 'the broker exits cleanly on SIGTERM');
      broker.cleanup();
    }
  });

  it('three members split six partitions (their reports and ConsumerGroupDescribe) and commit 600 keyed messages', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    await scenario(t, broker, async () => {
      const { topic, group, partitions, batch } = SHARED;
      await admin!.call('createTopics', { topic, partitions });
      const [a, b, c] = ['a', 'b', 'c'].map((n) => member(`shared-${n}`, topic, group)) as [
        MemberProcess,
        MemberProcess,
        MemberProcess,
      ];
      Object.assign(shared, { a, b, c });
      await waitFor('three members to split six partitions', () => disjointCover([a, b, c], partitions), state);
      t.diagnostic(`members' reports: ${owners([a, b, c])}`);

      // The coordinator's view agrees: every member at the group epoch, owning its target, as each reported.
      let described: DescribedGroup | undefined;
      await waitFor(
        'ConsumerGroupDescribe to show the three members reconciled',
        async () => {
          described = await describeGroup(admin!, group);
          return (
            described.members.length === 3 &&
            described.members.every(
              (m) =>
                m.memberEpoch === described!.groupEpoch &&
                partitionsOf(m, topic).join() === partitionsOf(m, topic, 'targetAssignment').join(),
            )
          );
        },
        () => JSON.stringify(described),
      );
      const g = described!;
      assert.equal(g.errorCode, 0);
      assert.equal(g.groupState, 'Stable');
      assert.equal(g.assignorName, 'uniform');
      assert.equal(g.assignmentEpoch, g.groupEpoch);
      for (const m of [a, b, c]) {
        const d = g.members.find((x) => x.memberId === memberIdOf(m));
        assert.ok(d !== undefined, `${m.name} (${memberIdOf(m)}) is described: ${JSON.stringify(g.members)}`);
        assert.deepEqual(partitionsOf(d, topic), m.owned, `${m.name}: described assignment = its own report`);
        assert.deepEqual(d.subscribedTopicNames, [topic]);
        assert.equal(d.clientId, m.name);
        assert.equal(d.instanceId, null);
      }
      assert.deepEqual(sorted(g.members.flatMap((m) => partitionsOf(m, topic))), range(partitions));
      t.diagnostic(`ConsumerGroupDescribe: state ${g.groupState}, epoch ${g.groupEpoch}, assignor ${g.assignorName}`);

      // DescribeGroups (Admin.describeGroups): whatever the broker shows there must agree with the above.
      const classic = await admin!.call<Record<string, ClassicDescribed>>('describeGroups', { groupId: group });
      const cg = classic[group]!;
      t.diagnostic(
        `DescribeGroups: state ${cg.state}, protocolType '${cg.protocolType}', protocol '${cg.protocol}', ` +
          `${Object.keys(cg.members).length} members`,
      );
      for (const [id, m] of Object.entries(cg.members)) {
        const d = g.members.find((x) => x.memberId === id);
        assert.ok(d !== undefined, `DescribeGroups member ${id} is a ConsumerGroupDescribe member`);
        if (m.assignments !== undefined) {
          assert.deepEqual(sorted(m.assignments[topic]?.partitions ?? []), partitionsOf(d, topic));
        }
      }

      // 600 keyed messages (the library's default partitioner) while they run: all consumed and committed.
      await admin!.call('produce', { topic, from: 0, count: batch });
      const end = await ends(admin!, topic, partitions);
      assert.equal(sum(end.values()), batch);
      await waitFor(`${batch} messages consumed and committed`, allCommitted([a, b, c], end), state);
      const lags = await lag(admin!, group, topic, partitions);
      t.diagnostic(`log ends ${JSON.stringify([...end])}; lag ${showLag(lags)}`);
      assert.deepEqual(
        lags.map((l) => l.lag),
        range(partitions).map(() => 0),
      );
    });
  });

  it('one member closes, one stops committing (lag = its uncommitted records) and is SIGKILLed: the last one takes over', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    await scenario(
      t,
      broker,
      async () => {
        const { topic, group, partitions, batch } = SHARED;
        const { a, b, c } = shared;
        assert.ok(a !== undefined && b !== undefined && c !== undefined, 'the previous test started the members');
        const members = [a, b, c];
        const st = (): string => state(members);

        // c leaves (the library's close: ConsumerGroupHeartbeat with epoch -1).
        await c.close();
        await waitFor("a and b to take over c's partitions", () => disjointCover([a, b], partitions), st);
        const afterLeave = await describeGroup(admin!, group);
        assert.deepEqual(afterLeave.members.map((m) => m.clientId).sort(), ['shared-a', 'shared-b']);
        t.diagnostic(`after c closed: ${owners([a, b])}`);
        await admin!.call('produce', { topic, from: batch, count: batch });
        const end2 = await ends(admin!, topic, partitions);
        await waitFor(`${batch} more consumed and committed`, allCommitted(members, end2), st);

        // b stops committing; 600 more: the lag is exactly b's uncommitted records, on b's partitions only.
        b.command('nocommit');
        await waitFor('b to stop committing', () => b.events.some((e) => e.ev === 'nocommit'), st);
        const bOwns = b.owned!;
        const aOwns = a.owned!;
        await admin!.call('produce', { topic, from: 2 * batch, count: batch });
        const end3 = await ends(admin!, topic, partitions);
        await waitFor(
          'a to commit its partitions and b to consume its share',
          () =>
            allCommitted([a], new Map(aOwns.map((p) => [p, end3.get(p)!])))() &&
            bOwns.every((p) => consumedTo(b).get(p) === end3.get(p)),
          st,
        );
        const bMemberId = memberIdOf(b);
        const lagged = await lag(admin!, group, topic, partitions);
        t.diagnostic(`lag while b does not commit (b owns ${bOwns}): ${showLag(lagged)}`);
        for (const l of lagged) {
          assert.equal(l.end, end3.get(l.partition));
          if (bOwns.includes(l.partition)) {
            assert.equal(l.owner, bMemberId, `ConsumerGroupDescribe: b owns partition ${l.partition}`);
            assert.equal(l.committed, end2.get(l.partition), `b's partition ${l.partition}: committed where b stopped`);
            assert.equal(l.lag, end3.get(l.partition)! - end2.get(l.partition)!);
            assert.ok(l.lag > 0, `partition ${l.partition} got some of the third batch`);
          } else {
            assert.equal(l.owner, memberIdOf(a), `ConsumerGroupDescribe: a owns partition ${l.partition}`);
            assert.equal(l.lag, 0, `a's partition ${l.partition}`);
          }
        }
        const bUncommitted = sum(bOwns.map((p) => end3.get(p)! - end2.get(p)!));

        // b is killed: once its session times out, a owns all six, re-reads b's uncommitted records, commits them.
        await b.kill();
        await waitFor('a to own all six partitions', () => disjointCover([a], partitions), st);
        await waitFor('a to commit everything', allCommitted([a], end3), st);
        const final = await lag(admin!, group, topic, partitions);
        t.diagnostic(`lag at the end: ${showLag(final)}`);
        assert.deepEqual(
          final.map((l) => [l.partition, l.lag, l.owner]),
          range(partitions).map((p) => [p, 0, memberIdOf(a)]),
        );
        await a.close();

        const summary = account(members, end3);
        t.diagnostic(`accounting: ${JSON.stringify(summary)}; b's uncommitted records: ${bUncommitted}`);
        assert.equal(sum(end3.values()), 3 * batch);
        assert.equal(summary.uncommitted.killed ?? 0, bUncommitted, "the killed member's uncommitted records");
        assert.equal(
          summary.duplicates,
          bUncommitted + (summary.uncommitted.refused ?? 0),
          'duplicates: only the killed member uncommitted records and refused commits',
        );
        const strays = sum(members.flatMap((m) => m.events.map((e) => (e.ev === 'stray' ? e.recs.length : 0))));
        t.diagnostic(`records dropped because their partition was gone when they arrived: ${strays}`);
      },
      Object.values(shared),
    );
  });

  it('static membership: a temporary leave (epoch -2) and a restart with the same instance id keep the assignment', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    await scenario(t, broker, async () => {
      const topic = 'kip848-static';
      const group = 'kip848-static';
      const partitions = 6;
      await admin!.call('createTopics', { topic, partitions });
      await admin!.call('produce', { topic, from: 0, count: 120 });
      const s1 = member('static-1', topic, group, { groupInstanceId: 'instance-1' });
      const s2 = member('static-2', topic, group, { groupInstanceId: 'instance-2' });
      await waitFor('two static members to split six partitions', () => disjointCover([s1, s2], partitions), state);
      let end = await ends(admin!, topic, partitions);
      await waitFor('120 messages committed', allCommitted([s1, s2], end), state);
      let g = await describeGroup(admin!, group);
      const epoch = g.groupEpoch;
      const s1Id = memberIdOf(s1)!;
      const s1Owns = s1.owned!;
      const s2Owns = s2.owned!;
      const s2Changes = s2.rebalances;
      assert.deepEqual(g.members.map((m) => [m.instanceId, m.memberEpoch]).sort(), [
        ['instance-1', epoch],
        ['instance-2', epoch],
      ]);
      t.diagnostic(`epoch ${epoch}: ${owners([s1, s2])}`);

      // s1 leaves temporarily: it stays in the group with epoch -2 and keeps its partitions; nothing moves.
      s1.command('leave-static');
      await s1.waitExit();
      const left = s1.events.find((e) => e.ev === 'left');
      assert.deepEqual(left, { ev: 'left', memberId: s1Id, memberEpoch: -2 });
      g = await describeGroup(admin!, group);
      const away = g.members.find((m) => m.instanceId === 'instance-1');
      assert.ok(away !== undefined, `the static member is kept: ${JSON.stringify(g.members)}`);
      assert.deepEqual([away.memberId, away.memberEpoch, partitionsOf(away, topic)], [s1Id, -2, s1Owns]);
      assert.equal(g.groupEpoch, epoch, 'a temporary leave does not bump the group epoch');

      // While it is away, 60 more messages; then a new process with the same instance id, within the session timeout.
      await admin!.call('produce', { topic, from: 120, count: 60 });
      const s1b = member('static-1b', topic, group, { groupInstanceId: 'instance-1' });
      await waitFor(
        "the new instance-1 process to get s1's partitions back",
        () => s1b.owned !== null && s1b.owned.join() === s1Owns.join(),
        state,
      );
      end = await ends(admin!, topic, partitions);
      await waitFor('the 60 messages consumed and committed', allCommitted([s1, s1b, s2], end), state);
      g = await describeGroup(admin!, group);
      t.diagnostic(`after the rejoin: epoch ${g.groupEpoch}, ${owners([s1b, s2])}`);
      assert.equal(g.groupEpoch, epoch, 'no rebalance: the group epoch is unchanged');
      assert.deepEqual(g.members.map((m) => [m.instanceId, m.memberEpoch, partitionsOf(m, topic)]).sort(), [
        ['instance-1', epoch, s1Owns],
        ['instance-2', epoch, s2Owns],
      ]);
      assert.notEqual(memberIdOf(s1b), s1Id, 'the new process is a new member id');
      assert.equal(g.members.find((m) => m.instanceId === 'instance-1')?.memberId, memberIdOf(s1b));
      assert.equal(s2.rebalances, s2Changes, 'the other member saw no assignment change');
      assert.deepEqual(s2.owned, s2Owns);

      // A second live process with instance-1 is refused while s1b holds it; s1b is unaffected.
      const dup = member('static-1-duplicate', topic, group, { groupInstanceId: 'instance-1' });
      await waitFor(
        'the duplicate to be refused with UNRELEASED_INSTANCE_ID',
        () => errorsOf(dup).some((e) => e.includes('UNRELEASED_INSTANCE_ID')),
        state,
      );
      t.diagnostic(`duplicate instance id: ${errorsOf(dup).join(' | ')}`);
      await dup.kill();
      assert.ok(!dup.events.some((e) => e.ev === 'msgs'), 'the duplicate consumed nothing');
      g = await describeGroup(admin!, group);
      assert.equal(g.groupEpoch, epoch);
      assert.equal(g.members.find((m) => m.instanceId === 'instance-1')?.memberId, memberIdOf(s1b));

      // The library's own close sends epoch -1 even for a static member: a permanent leave, as on Kafka.
      await s1b.close();
      g = await describeGroup(admin!, group);
      assert.deepEqual(
        g.members.map((m) => m.instanceId),
        ['instance-2'],
        'after a leave with epoch -1 the static member is gone at once',
      );
      assert.ok(g.groupEpoch > epoch, 'and the group epoch moved');
      await waitFor('s2 to own all six partitions', () => disjointCover([s2], partitions), state);
      const s1c = member('static-1c', topic, group, { groupInstanceId: 'instance-1' });
      await waitFor('instance-1 to rejoin as a new member', () => disjointCover([s1c, s2], partitions), state);
      await admin!.call('produce', { topic, from: 180, count: 60 });
      end = await ends(admin!, topic, partitions);
      await waitFor('everything committed', allCommitted([s1, s1b, s1c, s2], end), state);
      await Promise.all([s1c.close(), s2.close()]);
      const summary = account([s1, s1b, s1c, s2], end);
      t.diagnostic(`accounting: ${JSON.stringify(summary)}`);
      assert.deepEqual(
        (await lag(admin!, group, topic, partitions)).map((l) => l.lag),
        range(partitions).map(() => 0),
      );
    });
  });

  it('partitions added to the subscribed topic (6 -> 8) are assigned and consumed', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    await scenario(t, broker, async () => {
      const topic = 'kip848-grow';
      const group = 'kip848-grow';
      await admin!.call('createTopics', { topic, partitions: 6 });
      await admin!.call('produce', { topic, from: 0, count: 60, spread: 6 });
      // The library does not refresh its metadata cache (metadataMaxAge, 5 s) when the coordinator assigns a
      // partition the cache lacks: its stream destroys itself (a fetch without fetch offset) or its process dies (a
      // TypeError reading the partition's leader). Kafka assigns new partitions on the next heartbeat just the same,
      // so the members run with a shim that redoes such lookups with forceUpdate (platformatic-group-member.mjs).
      const fresh = { refreshMetadataForAssignments: true };
      const p1 = member('grow-1', topic, group, fresh);
      const p2 = member('grow-2', topic, group, fresh);
      await waitFor('two members to split six partitions', () => disjointCover([p1, p2], 6), state);
      await waitFor('60 messages committed', allCommitted([p1, p2], await ends(admin!, topic, 6)), state);
      const before = (await describeGroup(admin!, group)).groupEpoch;

      await admin!.call('createPartitions', { topic, count: 8 });
      await admin!.call('produce', { topic, from: 60, count: 80, spread: 8 });
      const end = await ends(admin!, topic, 8);
      assert.deepEqual([end.get(6), end.get(7)], [10, 10]);
      await waitFor('the members to split eight partitions', () => disjointCover([p1, p2], 8), state);
      await waitFor('everything consumed and committed, the new partitions too', allCommitted([p1, p2], end), state);
      const g = await describeGroup(admin!, group);
      t.diagnostic(`epoch ${before} -> ${g.groupEpoch}: ${owners([p1, p2])}`);
      assert.ok(g.groupEpoch > before, 'the new partitions bumped the group epoch');
      assert.deepEqual(sorted(g.members.flatMap((m) => partitionsOf(m, topic))), range(8));
      assert.deepEqual(
        (await lag(admin!, group, topic, 8)).map((l) => l.lag),
        range(8).map(() => 0),
      );
      await Promise.all([p1.close(), p2.close()]);
      t.diagnostic(`accounting: ${JSON.stringify(account([p1, p2], end))}`);
    });
  });

  it('DescribeGroups describes a KIP-848 group (Kafka: Dead; a documented difference)', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    await scenario(t, broker, async () => {
      // The group of the first two tests (its members are gone: Empty) and a live one.
      const topic = 'kip848-describe';
      await admin!.call('createTopics', { topic, partitions: 2 });
      const m = member('describe-1', topic, topic);
      await waitFor('the member to get both partitions', () => disjointCover([m], 2), state);
      const answers = [];
      for (const groupId of [topic, SHARED.group]) {
        const described = await admin!.call<Record<string, ClassicDescribed>>('describeGroups', { groupId });
        const g = described[groupId]!;
        t.diagnostic(`DescribeGroups ${groupId}: ${JSON.stringify(g).slice(0, 600)}`);
        answers.push({
          groupId,
          state: g.state,
          protocolType: g.protocolType,
          protocol: g.protocol,
          members: Object.values(g.members).map((x) => ({
            id: x.id,
            partitions: Object.values(x.assignments ?? {})
              .flatMap((a) => a.partitions)
              .sort((a, b) => a - b),
          })),
        });
      }
      const memberId = answers[0]!.members[0]?.id;
      await m.close();
      assert.deepEqual(answers, [
        {
          groupId: topic,
          state: 'Stable',
          protocolType: 'consumer',
          protocol: 'uniform',
          members: [{ id: memberId, partitions: [0, 1] }],
        },
        { groupId: SHARED.group, state: 'Empty', protocolType: 'consumer', protocol: 'uniform', members: [] },
      ]);
      assert.equal(typeof memberId, 'string');
    });
  });
});

/** What Admin.describeGroups answers for one group (DescribeGroups), as the admin process prints it. */
interface ClassicDescribed {
  id: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: Record<string, { id: string; assignments?: Record<string, { topic: string; partitions: number[] }> }>;
}

function sum(xs: Iterable<number>): number {
  let n = 0;
  for (const x of xs) n += x;
  return n;
}

/**
 * Restart: a broker of its own (the other tests keep theirs), stopped with SIGTERM and started again on the same
 * data directory and port.
 */
describe(`@platformatic/kafka ${platformatic.version ?? ''} KIP-848 groups across a broker restart`, {
  skip: skipUnless(platformatic),
}, () => {
  const topic = 'kip848-restart';
  const partitions = 3;
  let restarted: BrokerProcess | undefined;
  let restartAdmin: AdminProcess | undefined;
  let live: MemberProcess | undefined;
  let liveEventsAtRestart = 0;
  let endAtRestart = new Map<number, number>();

  after(async () => {
    await Promise.all(processes.map((m) => m.kill()));
    await restartAdmin?.close();
    if (restarted !== undefined) {
      assert.equal(await restarted.stop(), 0, 'the restarted broker exits cleanly on SIGTERM');
      restarted.cleanup();
    }
  });

  it('a new member resumes exactly after the offsets committed before a SIGTERM restart', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    requireTool(platformatic);
    restarted = await startBrokerProcess({ config: BROKER_CONFIG });
    await scenario(t, restarted, async () => {
      const first = restarted!;
      restartAdmin = new AdminProcess(first.bootstrap);
      await restartAdmin.call('createTopics', { topic, partitions });
      await restartAdmin.call('produce', { topic, from: 0, count: 300 });
      let end = await ends(restartAdmin, topic, partitions);
      // Group "resume": one member commits everything, then leaves. Group "live": one member stays across the restart.
      const r1 = member('resume-1', topic, 'kip848-resume', { bootstrap: first.bootstrap });
      live = member('live-1', topic, 'kip848-live', { bootstrap: first.bootstrap });
      await waitFor(
        'both groups to commit 300 messages',
        () => allCommitted([r1], end)() && allCommitted([live!], end)(),
        state,
      );
      await r1.close();
      const resumeFrom = await committed(restartAdmin, 'kip848-resume', topic, partitions);
      assert.deepEqual(resumeFrom, end);
      // 150 more, which group "resume" has not consumed; group "live" consumes and commits them.
      await restartAdmin.call('produce', { topic, from: 300, count: 150 });
      end = await ends(restartAdmin, topic, partitions);
      await waitFor('the live member to commit 450 messages', allCommitted([live], end), state);
      await restartAdmin.close();

      assert.equal(await first.stop(), 0, 'the broker exits cleanly on SIGTERM');
      liveEventsAtRestart = live.events.length;
      endAtRestart = end;
      restarted = await startBrokerProcess({ dataDir: first.dataDir, port: first.port, config: BROKER_CONFIG });
      restartAdmin = new AdminProcess(restarted.bootstrap);
      assert.deepEqual(await ends(restartAdmin, topic, partitions), end, 'the log survived');
      assert.deepEqual(
        await committed(restartAdmin, 'kip848-resume', topic, partitions),
        resumeFrom,
        'the committed offsets survived',
      );

      const r2 = member('resume-2', topic, 'kip848-resume', { bootstrap: restarted.bootstrap });
      await waitFor('the new member to commit the 150 new messages', allCommitted([r2], end), state);
      const read = new Map<number, number[]>();
      for (const e of r2.events) {
        if (e.ev === 'msgs') for (const [p, o] of e.recs) read.set(p, [...(read.get(p) ?? []), o]);
      }
      for (const p of range(partitions)) {
        const from = resumeFrom.get(p)!;
        const to = end.get(p)!;
        assert.deepEqual(
          read.get(p) ?? [],
          range(to - from).map((i) => from + i),
          `partition ${p}: exactly offsets ${from}..${to - 1}, nothing before the committed offset, nothing skipped`,
        );
      }
      t.diagnostic(`resumed from ${JSON.stringify([...resumeFrom])} to ${JSON.stringify([...end])}`);
      await r2.close();
    });
  });

  it('a member kept running across the restart keeps consuming and committing', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    requireTool(platformatic);
    await scenario(t, restarted, async () => {
      assert.ok(live !== undefined && restartAdmin !== undefined, 'the previous test ran');
      await restartAdmin.call('produce', { topic, from: 450, count: 150 });
      const end = await ends(restartAdmin, topic, partitions);
      assert.equal(sum(end.values()), sum(endAtRestart.values()) + 150);
      try {
        await waitFor(
          'the live member to commit the 150 messages produced after the restart',
          allCommitted([live], end),
          undefined,
          10_000,
        );
      } finally {
        t.diagnostic(`live member's errors after the restart: ${errorsOf(live, liveEventsAtRestart).join(' | ')}`);
      }
    });
  });
});
