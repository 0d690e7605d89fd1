/**
 * KIP-848 consumer groups through the coordinator (fake clock, in-memory topic catalog): ConsumerGroupHeartbeat
 * joins, epochs, reconciliation (revoke before assign: no partition is ever owned by two members), leaves, session
 * and revocation timeouts, epoch fencing, static members, request validation, server assignors, topic metadata
 * changes; ConsumerGroupDescribe, ListGroups, DescribeGroups, DeleteGroups; OffsetCommit/OffsetFetch member-epoch
 * checks; conversions between empty classic and consumer groups; and a fast-check property over random members.
 *
 * Expected behaviour is Apache Kafka's (GroupMetadataManager, ConsumerGroup and CurrentAssignmentBuilder of the
 * 4.0.0-SNAPSHOT the protocol specs come from).
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConsumerGroup } from '../../../src/coordinator/group/consumer/consumer-group.js';
import { type ConsumerMember, ownedBy } from '../../../src/coordinator/group/consumer/member.js';
import type {
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResult,
  TopicCatalog,
  TopicView,
  WireTopicPartitions,
} from '../../../src/coordinator/group/consumer/types.js';
import { ClassicGroup } from '../../../src/coordinator/group/group.js';
import type { GroupCoordinator } from '../../../src/coordinator/group/group-coordinator.js';
import type { GroupCoordinatorConfig } from '../../../src/coordinator/group/types.js';
import { Reader } from '../../../src/protocol/codec/reader.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { readConsumerProtocolAssignment } from '../../../src/protocol/generated/data/consumer-protocol-assignment.js';
import { readConsumerProtocolSubscription } from '../../../src/protocol/generated/data/consumer-protocol-subscription.js';
import { harness, joinRequest, startJoin } from './helpers.js';

// ---- fixtures -------------------------------------------------------------------------------------------------

const SESSION_MS = 45_000;
const REBALANCE_MS = 10_000;

/** A mutable in-memory view of the cluster's topics. */
class Catalog implements TopicCatalog {
  private readonly topics = new Map<string, TopicView>();

  add(name: string, numPartitions: number, internal = false): TopicView {
    const t = { id: `id-${name}`, name, numPartitions, internal };
    this.topics.set(name, t);
    return t;
  }

  grow(name: string, numPartitions: number): void {
    const t = this.topics.get(name)!;
    this.topics.set(name, { ...t, numPartitions });
  }

  delete(name: string): void {
    this.topics.delete(name);
  }

  byName(name: string): TopicView | undefined {
    return this.topics.get(name);
  }

  byId(id: string): TopicView | undefined {
    for (const t of this.topics.values()) if (t.id === id) return t;
    return undefined;
  }

  all(): Iterable<TopicView> {
    return [...this.topics.values()];
  }
}

function setup(topics: Record<string, number> = { foo: 6 }, config: Partial<GroupCoordinatorConfig> = {}) {
  const catalog = new Catalog();
  for (const [name, n] of Object.entries(topics)) catalog.add(name, n);
  const h = harness({ topics: catalog, config });
  return { ...h, catalog, c: h.coordinator };
}

function request(o: Partial<ConsumerGroupHeartbeatRequest> = {}): ConsumerGroupHeartbeatRequest {
  return {
    groupId: 'g',
    memberId: '',
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: REBALANCE_MS,
    subscribedTopicNames: ['foo'],
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: [],
    clientId: 'client',
    clientHost: '/127.0.0.1',
    ...o,
  };
}

const tp = (topic: string, ...partitions: number[]): WireTopicPartitions => ({ topicId: `id-${topic}`, partitions });

/** Wire partitions as sorted "topicId:partition" keys. */
function keys(parts: readonly WireTopicPartitions[] | null | undefined): string[] {
  return (parts ?? []).flatMap((t) => t.partitions.map((p) => `${t.topicId}:${p}`)).sort();
}

interface ClientOptions {
  memberId?: string;
  topics?: string[];
  instanceId?: string | null;
  assignor?: string | null;
  rebalanceTimeoutMs?: number;
  clientId?: string;
}

/**
 * A well-behaved KIP-848 consumer: joins with epoch 0, then heartbeats with its epoch and the partitions it owns
 * (its last received assignment: it revokes and takes partitions as soon as it is told).
 */
class Client {
  memberId: string;
  epoch = 0;
  owned: WireTopicPartitions[] = [];
  joined = false;
  last: ConsumerGroupHeartbeatResult | null = null;

  constructor(
    private readonly c: GroupCoordinator,
    readonly opts: ClientOptions = {},
  ) {
    this.memberId = opts.memberId ?? '';
  }

  private apply(r: ConsumerGroupHeartbeatResult): ConsumerGroupHeartbeatResult {
    this.last = r;
    if (r.errorCode === ErrorCode.NONE) {
      this.joined = true;
      this.memberId = r.memberId!;
      this.epoch = r.memberEpoch;
      if (r.assignment !== null) this.owned = r.assignment;
    } else if (r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || r.errorCode === ErrorCode.FENCED_MEMBER_EPOCH) {
      // The member lost its partitions and starts over.
      this.reset();
    }
    return r;
  }

  reset(): void {
    this.joined = false;
    this.memberId = this.opts.memberId ?? '';
    this.epoch = 0;
    this.owned = [];
  }

  async join(o: Partial<ConsumerGroupHeartbeatRequest> = {}): Promise<ConsumerGroupHeartbeatResult> {
    return this.apply(
      await this.c.consumerGroupHeartbeat(
        request({
          memberId: this.memberId,
          instanceId: this.opts.instanceId ?? null,
          subscribedTopicNames: this.opts.topics ?? ['foo'],
          serverAssignor: this.opts.assignor ?? null,
          rebalanceTimeoutMs: this.opts.rebalanceTimeoutMs ?? REBALANCE_MS,
          clientId: this.opts.clientId ?? 'client',
          ...o,
        }),
      ),
    );
  }

  /** An incremental heartbeat: unchanged fields null/-1, the owned partitions always reported. */
  async heartbeat(o: Partial<ConsumerGroupHeartbeatRequest> = {}): Promise<ConsumerGroupHeartbeatResult> {
    return this.apply(
      await this.c.consumerGroupHeartbeat(
        request({
          memberId: this.memberId,
          memberEpoch: this.epoch,
          instanceId: this.opts.instanceId ?? null,
          rebalanceTimeoutMs: -1,
          subscribedTopicNames: null,
          serverAssignor: null,
          topicPartitions: this.owned,
          clientId: this.opts.clientId ?? 'client',
          ...o,
        }),
      ),
    );
  }

  async leave(epoch = -1): Promise<ConsumerGroupHeartbeatResult> {
    const r = await this.c.consumerGroupHeartbeat(
      request({
        memberId: this.memberId,
        memberEpoch: epoch,
        instanceId: this.opts.instanceId ?? null,
        rebalanceTimeoutMs: -1,
        subscribedTopicNames: null,
        topicPartitions: null,
      }),
    );
    this.last = r;
    // Either way the member starts over: a static member comes back under a new member id (v0).
    this.reset();
    return r;
  }

  /** Heartbeat or (re)join, whichever a consumer would do now. */
  step(): Promise<ConsumerGroupHeartbeatResult> {
    return this.joined ? this.heartbeat() : this.join();
  }
}

/**
 * No partition is owned by two members (assigned or still to be revoked), the owner index agrees, and every live
 * client uses only partitions the coordinator counts as its own (so no two live clients use the same partition).
 */
function checkOwnership(c: GroupCoordinator, clients: readonly Client[] = [], groupId = 'g'): void {
  const g = c.inspectConsumerGroup(groupId);
  if (g === undefined) return;
  const owner = new Map<string, string>();
  for (const m of g.members) {
    for (const [topicId, parts] of ownedBy(m)) {
      for (const p of parts) {
        const key = `${topicId}:${p}`;
        assert.ok(!owner.has(key), `${key} owned by both ${owner.get(key)} and ${m.memberId}`);
        owner.set(key, m.memberId);
        assert.equal(g.ownerOf(topicId, p), m.memberId, `owner index of ${key}`);
      }
    }
  }
  const used = new Map<string, string>();
  for (const cl of clients) {
    const m: ConsumerMember | undefined = cl.joined ? g.get(cl.memberId) : undefined;
    if (m === undefined) continue;
    for (const key of keys(cl.owned)) {
      assert.equal(owner.get(key), m.memberId, `client ${m.memberId} uses ${key} it does not own`);
      assert.ok(!used.has(key), `${key} used by both ${used.get(key)} and ${m.memberId}`);
      used.set(key, m.memberId);
    }
  }
}

/**
 * Rounds of heartbeats of every client (checking ownership after each) until the group is Stable and the clients
 * agree with it.
 */
async function converge(c: GroupCoordinator, clients: readonly Client[], maxRounds = 10): Promise<void> {
  for (let round = 0; round < maxRounds; round++) {
    for (const cl of clients) {
      const r = await cl.step();
      assert.equal(r.errorCode, ErrorCode.NONE, `heartbeat of ${cl.memberId}: ${r.errorMessage}`);
      checkOwnership(c, clients);
    }
    const g = c.inspectConsumerGroup('g')!;
    const settled =
      g.state === 'Stable' &&
      clients.every((cl) => {
        const m = g.get(cl.memberId);
        return m !== undefined && cl.epoch === m.memberEpoch && sameKeys(cl.owned, assignedWire(g, cl.memberId));
      });
    if (settled) return;
  }
  assert.fail(`group did not converge: ${c.inspectConsumerGroup('g')?.state}`);
}

function assignedWire(g: ConsumerGroup, memberId: string): WireTopicPartitions[] {
  const m = g.get(memberId);
  if (m === undefined) return [];
  return [...m.assigned].map(([topicId, parts]) => ({ topicId, partitions: [...parts] }));
}

function sameKeys(a: readonly WireTopicPartitions[], b: readonly WireTopicPartitions[]): boolean {
  return keys(a).join() === keys(b).join();
}

/** Every partition of `topics` exactly once across the clients. */
function assertCovers(clients: readonly Client[], topics: Record<string, number>): void {
  const all = clients.flatMap((cl) => keys(cl.owned)).sort();
  const expected = Object.entries(topics)
    .flatMap(([t, n]) => Array.from({ length: n }, (_, p) => `id-${t}:${p}`))
    .sort();
  assert.deepEqual(all, expected);
}

async function describeOne(c: GroupCoordinator, groupId = 'g') {
  const [d] = await c.consumerGroupDescribe([groupId]);
  return d!;
}

// ---- tests ----------------------------------------------------------------------------------------------------

describe('ConsumerGroupHeartbeat: joining and epochs', () => {
  it('a v0 join with an empty member id gets one from the coordinator, the group epoch and the whole assignment', async () => {
    const { c } = setup();
    const r = await c.consumerGroupHeartbeat(request());
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.errorMessage, null);
    assert.equal(r.memberId, 'uuid1');
    assert.equal(r.heartbeatIntervalMs, 5000);
    assert.deepEqual(r.assignment, [tp('foo', 0, 1, 2, 3, 4, 5)]);
    const g = c.inspectConsumerGroup('g')!;
    assert.equal(r.memberEpoch, g.groupEpoch);
    assert.equal(g.assignmentEpoch, g.groupEpoch);
    assert.equal(g.state, 'Stable');
  });

  it('the group epoch moves by exactly one per change: first join 1, second join 2, new subscription 3, leave 4', async () => {
    // Kafka bumps once per heartbeat even when the member change also changes the subscribed topics' metadata
    // (GroupMetadataManager.consumerGroupHeartbeat: bumpGroupEpoch |= metadata changed; groupEpoch += 1).
    const { c } = setup({ foo: 2, bar: 2 });
    const a = new Client(c);
    const b = new Client(c);
    assert.equal((await a.join()).memberEpoch, 1);
    const g = c.inspectConsumerGroup('g')!;
    assert.equal(g.groupEpoch, 1);
    await b.join();
    assert.equal(g.groupEpoch, 2);
    await b.heartbeat({ subscribedTopicNames: ['foo', 'bar'] });
    assert.equal(g.groupEpoch, 3);
    await b.leave();
    assert.equal(g.groupEpoch, 4);
  });

  it('a member id chosen by the client is kept; the heartbeat interval is the configured one', async () => {
    const { c } = setup({ foo: 2 }, { consumerGroupHeartbeatIntervalMs: 1234 });
    const r = await c.consumerGroupHeartbeat(request({ memberId: 'my-own-id' }));
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.memberId, 'my-own-id');
    assert.equal(r.heartbeatIntervalMs, 1234);
    assert.ok(c.inspectConsumerGroup('g')!.get('my-own-id'));
  });

  it('every join bumps the group epoch; a heartbeat without changes keeps it and sends no assignment', async () => {
    const { c } = setup();
    const a = new Client(c);
    const b = new Client(c);
    await a.join();
    const g = c.inspectConsumerGroup('g')!;
    const e = g.groupEpoch;
    assert.equal(a.epoch, e);
    const same = await a.heartbeat();
    assert.equal(same.memberEpoch, e);
    assert.equal(same.assignment, null, 'nothing changed: no assignment');
    await b.join();
    assert.equal(g.groupEpoch, e + 1);
    assert.equal(g.assignmentEpoch, e + 1);
    // B's target partitions are still A's: B reaches the new epoch with nothing yet.
    assert.equal(b.epoch, e + 1);
    assert.deepEqual(b.owned, []);
    assert.equal(g.state, 'Reconciling');
    await converge(c, [a, b]);
    assert.equal(a.epoch, e + 1);
    assert.equal(keys(a.owned).length, 3);
    assert.equal(keys(b.owned).length, 3);
  });

  it('three members on six partitions converge to a disjoint, complete assignment; never a shared partition', async () => {
    const { c } = setup();
    const clients = [new Client(c), new Client(c), new Client(c)];
    let first = 0;
    for (const cl of clients) {
      await cl.join();
      if (first === 0) first = cl.epoch;
      checkOwnership(c, clients);
      // Interleave: everybody heartbeats once after each join.
      for (const other of clients) {
        if (!other.joined) continue;
        await other.heartbeat();
        checkOwnership(c, clients);
      }
    }
    await converge(c, clients);
    assertCovers(clients, { foo: 6 });
    for (const cl of clients) assert.equal(keys(cl.owned).length, 2);
    const g = c.inspectConsumerGroup('g')!;
    assert.equal(g.state, 'Stable');
    assert.equal(g.groupEpoch, first + 2);
    for (const m of g.members) assert.equal(m.memberEpoch, first + 2);
  });

  it('revoke before assign: the previous owner gives a partition up before the new one receives it', async () => {
    const { c } = setup({ foo: 2 });
    const a = new Client(c);
    const b = new Client(c);
    await a.join();
    const e = a.epoch;
    await b.join();
    // B's target is a partition A still owns: it gets nothing yet.
    assert.deepEqual(b.owned, []);
    await b.heartbeat();
    assert.deepEqual(b.owned, []);
    // A is told to drop it and keeps its epoch until it confirms.
    const revoke = await a.heartbeat();
    assert.equal(revoke.memberEpoch, e);
    assert.equal(keys(revoke.assignment).length, 1);
    await b.heartbeat();
    assert.deepEqual(b.owned, [], 'not before A confirmed the revocation');
    // A confirms (reports the smaller set): it moves to the new epoch, and B can now have the partition.
    const confirm = await a.heartbeat();
    assert.equal(confirm.memberEpoch, e + 1);
    await b.heartbeat();
    assert.equal(keys(b.owned).length, 1);
    checkOwnership(c, [a, b]);
    assertCovers([a, b], { foo: 2 });
    assert.equal(c.inspectConsumerGroup('g')!.state, 'Stable');
  });
});

describe('ConsumerGroupHeartbeat: leaving and timeouts', () => {
  it('leaving with epoch -1 removes the member, bumps the epoch, and the others take its partitions', async () => {
    const { c } = setup();
    const [a, b, d] = [new Client(c), new Client(c), new Client(c)];
    await a.join();
    await b.join();
    await d.join();
    await converge(c, [a, b, d]);
    const epoch = c.inspectConsumerGroup('g')!.groupEpoch;
    const leavingId = d.memberId;
    const r = await d.leave();
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.memberId, leavingId);
    assert.equal(r.memberEpoch, -1);
    const g = c.inspectConsumerGroup('g')!;
    assert.equal(g.get(leavingId), undefined);
    assert.equal(g.groupEpoch, epoch + 1);
    await converge(c, [a, b]);
    assertCovers([a, b], { foo: 6 });
  });

  it('a member that stops heartbeating is removed after the session timeout; the others get its partitions', async () => {
    const { c, clock } = setup({ foo: 6 }, { consumerGroupSessionTimeoutMs: SESSION_MS });
    const a = new Client(c);
    const b = new Client(c);
    await a.join();
    await b.join();
    await converge(c, [a, b]);
    const epoch = c.inspectConsumerGroup('g')!.groupEpoch;
    await clock.advance(SESSION_MS - 10_000);
    await a.heartbeat();
    await clock.advance(10_000);
    const g = c.inspectConsumerGroup('g')!;
    assert.equal(g.get(b.memberId), undefined, 'B expired');
    assert.ok(g.get(a.memberId), 'A heartbeated in time');
    assert.equal(g.groupEpoch, epoch + 1);
    await converge(c, [a]);
    assertCovers([a], { foo: 6 });
    // B learns it is gone.
    assert.equal((await b.heartbeat()).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('a member that never confirms a revocation is removed after its rebalance timeout', async () => {
    const { c, clock } = setup({ foo: 4 });
    const a = new Client(c, { rebalanceTimeoutMs: REBALANCE_MS });
    const b = new Client(c);
    await a.join();
    await b.join();
    const all = a.owned;
    const told = await a.heartbeat();
    assert.equal(keys(told.assignment).length, 2);
    // A ignores it and keeps reporting all four partitions (and keeps its session alive).
    for (let t = 0; t < REBALANCE_MS - 2000; t += 4000) {
      await clock.advance(4000);
      const r = await a.heartbeat({ topicPartitions: all });
      assert.equal(r.errorCode, ErrorCode.NONE);
      await b.heartbeat();
      assert.deepEqual(b.owned, []);
    }
    await clock.advance(2000);
    const g = c.inspectConsumerGroup('g')!;
    assert.equal(g.get(a.memberId), undefined, 'A was removed');
    await converge(c, [b]);
    assertCovers([b], { foo: 4 });
    assert.equal((await a.heartbeat({ topicPartitions: all })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('no timers are left once every member has left', async () => {
    const { c } = setup();
    const clients = [new Client(c), new Client(c), new Client(c, { instanceId: 'i1' })];
    for (const cl of clients) await cl.join();
    await converge(c, clients);
    assert.ok(c.timerCount > 0);
    for (const cl of clients) assert.equal((await cl.leave()).errorCode, ErrorCode.NONE);
    assert.equal(c.inspectConsumerGroup('g')!.state, 'Empty');
    assert.equal(c.timerCount, 0);
  });
});

describe('ConsumerGroupHeartbeat: epoch fencing and unknown members', () => {
  it('FENCED_MEMBER_EPOCH for an epoch above the member’s', async () => {
    const { c } = setup();
    const a = new Client(c);
    await a.join();
    const r = await a.heartbeat({ memberEpoch: a.epoch + 1 });
    assert.equal(r.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    assert.ok(r.errorMessage);
  });

  it('the previous epoch with a subset of the assignment is accepted (lost response); otherwise fenced', async () => {
    const { c } = setup();
    const a = new Client(c);
    const b = new Client(c);
    await a.join();
    const previous = a.epoch;
    await b.join();
    await converge(c, [a, b]);
    const mA = c.inspectConsumerGroup('g')!.get(a.memberId)!;
    assert.equal(mA.memberEpoch, previous + 1);
    assert.equal(mA.previousMemberEpoch, previous);
    // The previous epoch, owning a subset of its current partitions: accepted, told the current epoch.
    const subset = [{ topicId: 'id-foo', partitions: a.owned[0]!.partitions.slice(0, 2) }];
    const ok = await c.consumerGroupHeartbeat(
      request({ memberId: a.memberId, memberEpoch: previous, rebalanceTimeoutMs: -1, topicPartitions: subset }),
    );
    assert.equal(ok.errorCode, ErrorCode.NONE);
    assert.equal(ok.memberEpoch, previous + 1);
    // The previous epoch with a partition it does not have: fenced.
    const notMine = keys(b.owned)[0]!.split(':');
    const bad = await c.consumerGroupHeartbeat(
      request({
        memberId: a.memberId,
        memberEpoch: previous,
        rebalanceTimeoutMs: -1,
        topicPartitions: [...a.owned, { topicId: notMine[0]!, partitions: [Number(notMine[1])] }],
      }),
    );
    assert.equal(bad.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    // The previous epoch without owned partitions (null): fenced (Kafka's isSubset(null) is false).
    const noOwned = await c.consumerGroupHeartbeat(
      request({ memberId: a.memberId, memberEpoch: previous, rebalanceTimeoutMs: -1, topicPartitions: null }),
    );
    assert.equal(noOwned.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  });

  it('an older epoch that is not the previous one is fenced, even with a subset', async () => {
    const { c } = setup();
    const clients = [new Client(c), new Client(c), new Client(c)];
    await clients[0]!.join();
    const oldest = clients[0]!.epoch;
    await clients[1]!.join();
    await converge(c, clients.slice(0, 2));
    await clients[2]!.join();
    await converge(c, clients);
    const a = clients[0]!;
    const m = c.inspectConsumerGroup('g')!.get(a.memberId)!;
    assert.equal(m.memberEpoch, oldest + 2);
    assert.equal(m.previousMemberEpoch, oldest + 1);
    const r = await c.consumerGroupHeartbeat(
      request({ memberId: a.memberId, memberEpoch: oldest, rebalanceTimeoutMs: -1, topicPartitions: a.owned }),
    );
    assert.equal(r.errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
  });

  it('UNKNOWN_MEMBER_ID for a member id the group does not have (heartbeat and leave)', async () => {
    const { c } = setup();
    await new Client(c).join();
    const hb = await c.consumerGroupHeartbeat(request({ memberId: 'nobody', memberEpoch: 1, topicPartitions: null }));
    assert.equal(hb.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(hb.errorMessage, 'Member nobody is not a member of group g.');
    const leave = await c.consumerGroupHeartbeat(
      request({ memberId: 'nobody', memberEpoch: -1, topicPartitions: null }),
    );
    assert.equal(leave.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('a heartbeat to a consumer group that does not exist is GROUP_ID_NOT_FOUND (Kafka), not an unknown member', async () => {
    const { c } = setup();
    const hb = await c.consumerGroupHeartbeat(
      request({ groupId: 'missing', memberId: 'm', memberEpoch: 3, topicPartitions: null }),
    );
    assert.equal(hb.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(hb.errorMessage, 'Consumer group missing not found.');
    const leave = await c.consumerGroupHeartbeat(
      request({ groupId: 'missing', memberId: 'm', memberEpoch: -1, topicPartitions: null }),
    );
    assert.equal(leave.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(c.inspectConsumerGroup('missing'), undefined);
  });
});

describe('ConsumerGroupHeartbeat: static members', () => {
  async function staticPair() {
    const s = setup();
    const a = new Client(s.c, { instanceId: 'inst-a' });
    const b = new Client(s.c);
    await a.join();
    await b.join();
    await converge(s.c, [a, b]);
    return { ...s, a, b };
  }

  it('leaving with -2 keeps the member and its partitions; no rebalance', async () => {
    const { c, a, b } = await staticPair();
    const g = c.inspectConsumerGroup('g')!;
    const epoch = g.groupEpoch;
    const owned = keys(a.owned);
    const id = a.memberId;
    const r = await a.leave(-2);
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.memberId, id);
    assert.equal(r.memberEpoch, -2);
    assert.equal(g.groupEpoch, epoch);
    const away = g.get(id)!;
    assert.equal(away.memberEpoch, -2);
    assert.deepEqual(keys(assignedWire(g, id)), owned);
    // B does not get A's partitions.
    const hb = await b.heartbeat();
    assert.equal(hb.assignment, null);
    assert.equal(keys(b.owned).length, 3);
    checkOwnership(c, [b]);
  });

  it('a static member rejoining under a new member id takes its partitions over without bumping the epoch', async () => {
    const { c, a, b } = await staticPair();
    const g = c.inspectConsumerGroup('g')!;
    const epoch = g.groupEpoch;
    const owned = keys(a.owned);
    const oldId = a.memberId;
    await a.leave(-2);
    const again = new Client(c, { instanceId: 'inst-a' });
    const r = await again.join();
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.notEqual(r.memberId, oldId);
    assert.equal(r.memberEpoch, epoch);
    assert.deepEqual(keys(r.assignment), owned);
    assert.equal(g.groupEpoch, epoch);
    assert.equal(g.get(oldId), undefined, 'the old member id is gone');
    assert.equal(g.memberIdOfInstance('inst-a'), r.memberId);
    assert.equal(g.state, 'Stable');
    await converge(c, [again, b]);
    assert.equal(g.groupEpoch, epoch);
  });

  it('UNRELEASED_INSTANCE_ID when the instance id is held by a member that did not leave', async () => {
    const { c, a } = await staticPair();
    const twin = new Client(c, { instanceId: 'inst-a' });
    const r = await twin.join();
    assert.equal(r.errorCode, ErrorCode.UNRELEASED_INSTANCE_ID);
    assert.ok(r.errorMessage);
    assert.ok(c.inspectConsumerGroup('g')!.get(a.memberId));
  });

  it('FENCED_INSTANCE_ID when a member uses an instance id held by another member', async () => {
    const { b } = await staticPair();
    const r = await b.heartbeat({ instanceId: 'inst-a' });
    assert.equal(r.errorCode, ErrorCode.FENCED_INSTANCE_ID);
  });

  it('FENCED_INSTANCE_ID for the replaced member after a takeover (heartbeat and leave)', async () => {
    const { c, a } = await staticPair();
    const oldId = a.memberId;
    const oldEpoch = a.epoch;
    const oldOwned = a.owned;
    await a.leave(-2);
    assert.equal((await new Client(c, { instanceId: 'inst-a' }).join()).errorCode, ErrorCode.NONE);
    // The old incarnation comes back (a zombie): Kafka looks the member up by instance id and fences it.
    const hb = await c.consumerGroupHeartbeat(
      request({
        memberId: oldId,
        memberEpoch: oldEpoch,
        instanceId: 'inst-a',
        rebalanceTimeoutMs: -1,
        subscribedTopicNames: null,
        topicPartitions: oldOwned,
      }),
    );
    assert.equal(hb.errorCode, ErrorCode.FENCED_INSTANCE_ID, `got ${hb.errorCode}: ${hb.errorMessage}`);
    const leave = await c.consumerGroupHeartbeat(
      request({ memberId: oldId, memberEpoch: -2, instanceId: 'inst-a', topicPartitions: null }),
    );
    assert.equal(leave.errorCode, ErrorCode.FENCED_INSTANCE_ID, `got ${leave.errorCode}: ${leave.errorMessage}`);
  });

  it('a static member away (-2) past its session timeout is removed and its partitions reassigned', async () => {
    const { c, a, b, clock } = await staticPair();
    const epoch = c.inspectConsumerGroup('g')!.groupEpoch;
    const id = a.memberId;
    await a.leave(-2);
    for (let t = 0; t < SESSION_MS; t += 10_000) {
      await clock.advance(10_000);
      await b.heartbeat();
    }
    const g = c.inspectConsumerGroup('g')!;
    assert.equal(g.get(id), undefined);
    assert.equal(g.memberIdOfInstance('inst-a'), undefined);
    assert.equal(g.groupEpoch, epoch + 1);
    await converge(c, [b]);
    assertCovers([b], { foo: 6 });
  });

  it('leaving with -2 while revoking releases the partitions pending revocation (Kafka clears them)', async () => {
    const { c } = setup({ foo: 4 });
    const a = new Client(c, { instanceId: 'inst-a' });
    const b = new Client(c);
    await a.join();
    await b.join();
    // A is asked to revoke two partitions and leaves temporarily before confirming.
    const told = await a.heartbeat();
    assert.equal(keys(told.assignment).length, 2);
    await a.leave(-2);
    // Kafka's consumerGroupStaticMemberGroupLeave writes the member with no partitions pending revocation: they
    // are free, so B gets its target now.
    await b.heartbeat();
    checkOwnership(c, [b]);
    assert.equal(keys(b.owned).length, 2, `B owns ${keys(b.owned)}`);
  });

  it('while a static member is away (-2) the group is Reconciling, as in Kafka (it is not reconciled to the epoch)', async () => {
    const { c, a } = await staticPair();
    await a.leave(-2);
    const d = await describeOne(c);
    assert.equal(d.groupState, 'Reconciling');
  });
});

describe('ConsumerGroupHeartbeat: request validation', () => {
  const cases: [string, Partial<ConsumerGroupHeartbeatRequest>, number, string | string[]][] = [
    ['an empty group id', { groupId: '' }, ErrorCode.INVALID_REQUEST, "GroupId can't be empty."],
    ['an empty instance id', { instanceId: '' }, ErrorCode.INVALID_REQUEST, "InstanceId can't be empty."],
    ['an empty rack id', { rackId: '' }, ErrorCode.INVALID_REQUEST, "RackId can't be empty."],
    [
      'a join without a rebalance timeout',
      { rebalanceTimeoutMs: -1 },
      ErrorCode.INVALID_REQUEST,
      'RebalanceTimeoutMs must be provided in first request.',
    ],
    [
      'a join owning partitions',
      { topicPartitions: [tp('foo', 0)] },
      ErrorCode.INVALID_REQUEST,
      'TopicPartitions must be empty when (re-)joining.',
    ],
    [
      'a join without a subscription',
      { subscribedTopicNames: null, subscribedTopicRegex: null },
      ErrorCode.INVALID_REQUEST,
      // The snapshot's message, and Kafka 4.0's once regexes were supported.
      [
        'SubscribedTopicNames must be set in first request.',
        'Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.',
      ],
    ],
    [
      'a heartbeat without a member id',
      { memberId: '', memberEpoch: 3, topicPartitions: null },
      ErrorCode.INVALID_REQUEST,
      "MemberId can't be empty.",
    ],
    [
      'a leave without a member id',
      { memberId: '', memberEpoch: -1, topicPartitions: null },
      ErrorCode.INVALID_REQUEST,
      "MemberId can't be empty.",
    ],
    [
      'a static leave without an instance id',
      { memberId: 'm', memberEpoch: -2, topicPartitions: null },
      ErrorCode.INVALID_REQUEST,
      "InstanceId can't be null.",
    ],
    [
      'an unknown server assignor',
      { serverAssignor: 'sticky' },
      ErrorCode.UNSUPPORTED_ASSIGNOR,
      'ServerAssignor sticky is not supported. Supported assignors: uniform, range.',
    ],
  ];
  for (const [what, overrides, code, message] of cases) {
    it(`${what}: ${code === ErrorCode.INVALID_REQUEST ? 'INVALID_REQUEST' : 'UNSUPPORTED_ASSIGNOR'}`, async () => {
      const { c } = setup();
      const r = await c.consumerGroupHeartbeat(request(overrides));
      assert.equal(r.errorCode, code);
      if (Array.isArray(message)) assert.ok(message.includes(r.errorMessage!), `message: ${r.errorMessage}`);
      else assert.equal(r.errorMessage, message);
      assert.equal(c.inspectConsumerGroup(overrides.groupId ?? 'g'), undefined, 'nothing was created');
    });
  }

  it('a join whose TopicPartitions is null (not an empty list) is INVALID_REQUEST, as in Kafka', async () => {
    const { c } = setup();
    const r = await c.consumerGroupHeartbeat(request({ topicPartitions: null }));
    assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(r.errorMessage, 'TopicPartitions must be empty when (re-)joining.');
  });

  it('an epoch below -2 is INVALID_REQUEST with Kafka’s message', async () => {
    const { c } = setup();
    const r = await c.consumerGroupHeartbeat(request({ memberId: 'm', memberEpoch: -3, topicPartitions: null }));
    assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(r.errorMessage, 'MemberEpoch is invalid.');
  });

  it('a blank group id counts as empty (Kafka trims)', async () => {
    const { c } = setup();
    const r = await c.consumerGroupHeartbeat(request({ groupId: '  ' }));
    assert.equal(r.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(r.errorMessage, "GroupId can't be empty.");
  });

  it('GROUP_MAX_SIZE_REACHED for a new member of a full group; members already in keep heartbeating', async () => {
    const { c } = setup({ foo: 6 }, { consumerGroupMaxSize: 2 });
    const a = new Client(c);
    const b = new Client(c);
    await a.join();
    await b.join();
    const r = await new Client(c).join();
    assert.equal(r.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
    assert.equal(r.errorMessage, 'The consumer group has reached its maximum capacity of 2 members.');
    assert.equal(c.inspectConsumerGroup('g')!.size, 2);
    assert.equal((await a.heartbeat()).errorCode, ErrorCode.NONE);
  });

  it('a static member away (-2) still counts towards group.consumer.max.size: the group never exceeds it', async () => {
    // Kafka's throwIfConsumerGroupIsFull counts group.numMembers(), the member that left temporarily included.
    const { c } = setup({ foo: 6 }, { consumerGroupMaxSize: 2 });
    const a = new Client(c, { instanceId: 'inst-a' });
    const b = new Client(c);
    await a.join();
    await b.join();
    await a.leave(-2);
    const newcomer = await new Client(c).join();
    assert.equal(newcomer.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
    await new Client(c, { instanceId: 'inst-a' }).join();
    assert.ok(c.inspectConsumerGroup('g')!.size <= 2, `${c.inspectConsumerGroup('g')!.size} members`);
  });
});

describe('ConsumerGroupHeartbeat: assignors and topic metadata', () => {
  it('members asking for the range assignor get contiguous ranges in member-id order', async () => {
    const { c } = setup({ foo: 5 });
    const m2 = new Client(c, { memberId: 'member-2', assignor: 'range' });
    const m1 = new Client(c, { memberId: 'member-1', assignor: 'range' });
    await m2.join();
    await m1.join();
    await converge(c, [m1, m2]);
    assert.deepEqual(m1.owned, [tp('foo', 0, 1, 2)]);
    assert.deepEqual(m2.owned, [tp('foo', 3, 4)]);
    assert.equal((await describeOne(c)).assignorName, 'range');
  });

  it('the range assignor puts static members first, by instance id (Kafka’s sortMemberIds)', async () => {
    const { c } = setup({ foo: 4 });
    const dynamic = new Client(c, { memberId: 'a-dynamic', assignor: 'range' });
    const stat = new Client(c, { memberId: 'z-static', instanceId: 'instance-1', assignor: 'range' });
    await dynamic.join();
    await stat.join();
    await converge(c, [dynamic, stat]);
    assert.deepEqual(stat.owned, [tp('foo', 0, 1)]);
    assert.deepEqual(dynamic.owned, [tp('foo', 2, 3)]);
  });

  it('the default assignor is the first configured one (uniform)', async () => {
    const { c } = setup();
    await new Client(c).join();
    assert.equal((await describeOne(c)).assignorName, 'uniform');
  });

  it('partitions added to a subscribed topic bump the group epoch on the next heartbeat and get assigned', async () => {
    const { c, catalog } = setup({ foo: 4 });
    const a = new Client(c);
    const b = new Client(c);
    await a.join();
    await b.join();
    await converge(c, [a, b]);
    const g = c.inspectConsumerGroup('g')!;
    const epoch = g.groupEpoch;
    catalog.grow('foo', 7);
    await a.heartbeat();
    assert.equal(g.groupEpoch, epoch + 1);
    await converge(c, [a, b]);
    assertCovers([a, b], { foo: 7 });
  });

  it('a deleted topic disappears from the assignments; a created one matching a subscription is assigned', async () => {
    const { c, catalog } = setup({ foo: 2, bar: 2 });
    const a = new Client(c, { topics: ['foo', 'bar', 'baz'] });
    const b = new Client(c, { topics: ['foo', 'bar', 'baz'] });
    await a.join();
    await b.join();
    await converge(c, [a, b]);
    assertCovers([a, b], { foo: 2, bar: 2 });
    const g = c.inspectConsumerGroup('g')!;
    const epoch = g.groupEpoch;
    catalog.delete('bar');
    await a.heartbeat();
    assert.equal(g.groupEpoch, epoch + 1);
    await converge(c, [a, b]);
    assertCovers([a, b], { foo: 2 });
    catalog.add('baz', 2);
    await converge(c, [a, b]);
    assertCovers([a, b], { foo: 2, baz: 2 });
    assert.equal(g.groupEpoch, epoch + 2);
  });

  it('a subscription change bumps the epoch and moves the member to its new topics', async () => {
    const { c } = setup({ foo: 2, bar: 3 });
    const a = new Client(c);
    await a.join();
    const g = c.inspectConsumerGroup('g')!;
    const e = g.groupEpoch;
    const r = await a.heartbeat({ subscribedTopicNames: ['bar'] });
    assert.ok(g.groupEpoch > e);
    // Revoke first: foo goes, bar comes on a later heartbeat.
    assert.deepEqual(r.assignment, []);
    await converge(c, [a]);
    assert.deepEqual(a.owned, [tp('bar', 0, 1, 2)]);
  });
});

describe('ConsumerGroupDescribe, ListGroups, DescribeGroups, DeleteGroups', () => {
  it('ConsumerGroupDescribe shows state, epochs, assignor and members with assignment and target', async () => {
    const { c } = setup({ foo: 4 });
    const a = new Client(c, { memberId: 'ma', clientId: 'client-a', instanceId: 'ia' });
    const b = new Client(c, { memberId: 'mb', clientId: 'client-b' });
    await a.join({ rackId: 'rack-1' });
    const e = a.epoch;
    await b.join();
    let d = await describeOne(c);
    assert.equal(d.errorCode, ErrorCode.NONE);
    assert.equal(d.groupId, 'g');
    assert.equal(d.groupState, 'Reconciling');
    assert.equal(d.groupEpoch, e + 1);
    assert.equal(d.assignmentEpoch, e + 1);
    assert.equal(d.assignorName, 'uniform');
    const ma = d.members.find((m) => m.memberId === 'ma')!;
    assert.equal(ma.instanceId, 'ia');
    assert.equal(ma.rackId, 'rack-1');
    assert.equal(ma.clientId, 'client-a');
    assert.equal(ma.clientHost, '/127.0.0.1');
    assert.deepEqual(ma.subscribedTopicNames, ['foo']);
    assert.equal(ma.subscribedTopicRegex, null);
    assert.equal(ma.memberEpoch, e);
    assert.deepEqual(ma.assignment, [{ topicId: 'id-foo', topicName: 'foo', partitions: [0, 1, 2, 3] }]);
    assert.equal(ma.targetAssignment[0]!.partitions.length, 2);
    const mb = d.members.find((m) => m.memberId === 'mb')!;
    assert.equal(mb.memberEpoch, e + 1);
    assert.deepEqual(mb.assignment, []);
    assert.equal(mb.targetAssignment[0]!.partitions.length, 2);
    await converge(c, [a, b]);
    d = await describeOne(c);
    assert.equal(d.groupState, 'Stable');
    for (const m of d.members) {
      assert.equal(m.memberEpoch, e + 1);
      assert.deepEqual(m.assignment, m.targetAssignment);
    }
  });

  it('ConsumerGroupDescribe: GROUP_ID_NOT_FOUND for missing and classic groups, INVALID_GROUP_ID for ""', async () => {
    const { c } = setup();
    await c.offsetCommit({
      groupId: 'classic',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      offsets: [{ topic: 'foo', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }],
    });
    const [missing, classic, empty] = await c.consumerGroupDescribe(['missing', 'classic', '']);
    assert.equal(missing!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(classic!.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(empty!.errorCode, ErrorCode.INVALID_GROUP_ID);
  });

  it('ListGroups filters by type (consumer vs classic), case-insensitively', async () => {
    const { c } = setup();
    await new Client(c).join();
    await c.offsetCommit({
      groupId: 'classic',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      offsets: [{ topic: 'foo', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }],
    });
    const consumer = await c.listGroups({ typesFilter: ['consumer'] });
    assert.deepEqual(consumer.groups, [
      { groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' },
    ]);
    const classic = await c.listGroups({ typesFilter: ['Classic'] });
    assert.deepEqual(
      classic.groups.map((g) => [g.groupId, g.groupType]),
      [['classic', 'classic']],
    );
    const all = await c.listGroups({});
    assert.deepEqual(all.groups.map((g) => g.groupId).sort(), ['classic', 'g']);
    const stable = await c.listGroups({ typesFilter: ['consumer'], statesFilter: ['stable'] });
    assert.equal(stable.groups.length, 1);
  });

  it('DescribeGroups describes a consumer group in the classic encodings (Kafka answers Dead: a deliberate difference)', async () => {
    const { c } = setup();
    const a = new Client(c);
    await a.join();
    const [d] = await c.describeGroups(['g']);
    assert.equal(d!.groupId, 'g');
    assert.equal(d!.errorCode, ErrorCode.NONE);
    assert.equal(d!.groupState, 'Stable');
    assert.equal(d!.protocolType, 'consumer');
    assert.equal(d!.protocolData, 'uniform');
    assert.equal(d!.members.length, 1);
    const m = d!.members[0]!;
    assert.equal(m.memberId, a.memberId);
    const sub = new Reader(m.memberMetadata);
    assert.equal(sub.int16(), 0);
    assert.deepEqual(readConsumerProtocolSubscription(sub, 0).topics, ['foo']);
    const asg = new Reader(m.memberAssignment);
    assert.equal(asg.int16(), 0);
    assert.deepEqual(
      readConsumerProtocolAssignment(asg, 0).assignedPartitions.map((t) => [t.topic, t.partitions]),
      [['foo', [0, 1, 2, 3, 4, 5]]],
    );
  });

  it('DeleteGroups: NON_EMPTY_GROUP while members remain; deleted once empty', async () => {
    const { c } = setup();
    const a = new Client(c);
    await a.join();
    await c.offsetCommit({
      groupId: 'g',
      generationId: a.epoch,
      memberId: a.memberId,
      groupInstanceId: null,
      apiVersion: 9,
      offsets: [{ topic: 'foo', partition: 0, offset: 7n, leaderEpoch: -1, metadata: null }],
    });
    assert.deepEqual(await c.deleteGroups(['g']), [{ groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP }]);
    await a.leave();
    assert.deepEqual(await c.deleteGroups(['g']), [{ groupId: 'g', errorCode: ErrorCode.NONE }]);
    assert.equal(c.inspectConsumerGroup('g'), undefined);
    assert.equal((await describeOne(c)).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    const fetched = await c.fetchOffsets('g', [{ topic: 'foo', partition: 0 }]);
    assert.equal(fetched.offsets[0]!.offset, -1n, 'offsets went with the group');
    assert.equal(c.timerCount, 0);
  });
});

describe('offsets of consumer groups', () => {
  const commit = (c: GroupCoordinator, generationId: number, memberId: string, apiVersion = 9) =>
    c.offsetCommit({
      groupId: 'g',
      generationId,
      memberId,
      groupInstanceId: null,
      apiVersion,
      offsets: [{ topic: 'foo', partition: 0, offset: 42n, leaderEpoch: -1, metadata: null }],
    });

  it('a member commits at its epoch; other epochs are STALE_MEMBER_EPOCH (Kafka’s validateMemberEpoch)', async () => {
    const { c } = setup();
    const a = new Client(c);
    const b = new Client(c);
    await a.join();
    await b.join();
    await converge(c, [a, b]);
    const e = a.epoch;
    assert.equal((await commit(c, e, a.memberId))[0]!.errorCode, ErrorCode.NONE);
    assert.equal((await commit(c, e - 1, a.memberId))[0]!.errorCode, ErrorCode.STALE_MEMBER_EPOCH);
    // Kafka's ConsumerGroup.validateOffsetCommit answers STALE_MEMBER_EPOCH for any epoch that is not the member's
    // (validateMemberEpoch: receivedMemberEpoch != expectedMemberEpoch), a higher one included.
    assert.equal((await commit(c, e + 1, a.memberId))[0]!.errorCode, ErrorCode.STALE_MEMBER_EPOCH);
  });

  it('members must commit with OffsetCommit v9+ (UNSUPPORTED_VERSION); unknown members are UNKNOWN_MEMBER_ID', async () => {
    const { c } = setup();
    const a = new Client(c);
    await a.join();
    assert.equal((await commit(c, a.epoch, a.memberId, 8))[0]!.errorCode, ErrorCode.UNSUPPORTED_VERSION);
    assert.equal((await commit(c, a.epoch, 'nobody'))[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('epoch -1 (admin, standalone): UNKNOWN_MEMBER_ID while the group has members, accepted once it is empty', async () => {
    const { c } = setup();
    const a = new Client(c);
    await a.join();
    assert.equal((await commit(c, -1, ''))[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    await a.leave();
    assert.equal(c.inspectConsumerGroup('g')!.state, 'Empty');
    assert.equal((await commit(c, -1, ''))[0]!.errorCode, ErrorCode.NONE);
    const fetched = await c.fetchOffsets('g', [{ topic: 'foo', partition: 0 }]);
    assert.equal(fetched.offsets[0]!.offset, 42n);
    assert.ok(c.inspectConsumerGroup('g'), 'still a consumer group');
  });

  it('OffsetFetch v9 checks the member: STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID; admin fetches are not checked', async () => {
    const { c } = setup();
    const a = new Client(c);
    await a.join();
    const e = a.epoch;
    assert.equal((await commit(c, e, a.memberId))[0]!.errorCode, ErrorCode.NONE);
    const parts = [{ topic: 'foo', partition: 0 }];
    const ok = await c.fetchOffsets('g', parts, false, { memberId: a.memberId, memberEpoch: e });
    assert.equal(ok.errorCode, ErrorCode.NONE);
    assert.equal(ok.offsets[0]!.offset, 42n);
    const stale = await c.fetchOffsets('g', parts, false, { memberId: a.memberId, memberEpoch: e - 1 });
    assert.equal(stale.errorCode, ErrorCode.STALE_MEMBER_EPOCH);
    const ahead = await c.fetchOffsets('g', parts, false, { memberId: a.memberId, memberEpoch: e + 1 });
    assert.equal(ahead.errorCode, ErrorCode.STALE_MEMBER_EPOCH);
    const unknown = await c.fetchOffsets('g', parts, false, { memberId: 'nobody', memberEpoch: e });
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const admin = await c.fetchOffsets('g', parts, false, { memberId: null, memberEpoch: -1 });
    assert.equal(admin.errorCode, ErrorCode.NONE);
    assert.equal(admin.offsets[0]!.offset, 42n);
    const none = await c.fetchOffsets('g', parts);
    assert.equal(none.offsets[0]!.offset, 42n);
  });
});

describe('conversions between classic and consumer groups', () => {
  const simpleCommit = (c: GroupCoordinator, offset: bigint) =>
    c.offsetCommit({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      offsets: [{ topic: 'foo', partition: 1, offset, leaderEpoch: -1, metadata: 'm' }],
    });

  it('an Empty classic group with offsets becomes a consumer group on the first join, keeping its offsets', async () => {
    const { c } = setup();
    await simpleCommit(c, 9n);
    assert.ok(c.inspect('g') instanceof ClassicGroup);
    const r = await new Client(c).join();
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.ok(c.inspectConsumerGroup('g') instanceof ConsumerGroup);
    assert.equal(c.inspect('g'), undefined);
    const fetched = await c.fetchOffsets('g', [{ topic: 'foo', partition: 1 }]);
    assert.equal(fetched.offsets[0]!.offset, 9n);
    assert.equal(fetched.offsets[0]!.metadata, 'm');
  });

  it('a classic group with members answers GROUP_ID_NOT_FOUND to a consumer-protocol join', async () => {
    const { c, clock } = setup();
    const { join } = await startJoin(c);
    await clock.advance(0);
    assert.equal(join.value().errorCode, ErrorCode.NONE);
    const r = await new Client(c).join();
    assert.equal(r.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.ok(c.inspect('g') instanceof ClassicGroup);
  });

  it('JoinGroup to a consumer group with members is INCONSISTENT_GROUP_PROTOCOL', async () => {
    const { c } = setup();
    await new Client(c).join();
    const r = await c.joinGroup(joinRequest());
    assert.equal(r.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.ok(c.inspectConsumerGroup('g'));
  });

  it('JoinGroup to an empty consumer group converts it back to a classic group, keeping its offsets', async () => {
    const { c, clock } = setup();
    const a = new Client(c);
    await a.join();
    await c.offsetCommit({
      groupId: 'g',
      generationId: a.epoch,
      memberId: a.memberId,
      groupInstanceId: null,
      apiVersion: 9,
      offsets: [{ topic: 'foo', partition: 2, offset: 5n, leaderEpoch: -1, metadata: null }],
    });
    await a.leave();
    assert.equal(c.timerCount, 0);
    const { join } = await startJoin(c);
    await clock.advance(0);
    assert.equal(join.value().errorCode, ErrorCode.NONE);
    assert.equal(c.inspectConsumerGroup('g'), undefined);
    assert.ok(c.inspect('g') instanceof ClassicGroup);
    const fetched = await c.fetchOffsets('g', [{ topic: 'foo', partition: 2 }]);
    assert.equal(fetched.offsets[0]!.offset, 5n);
  });
});

// ---- property -------------------------------------------------------------------------------------------------

type Action =
  | { kind: 'step'; c: number }
  | { kind: 'leave'; c: number; temporarily: boolean }
  | { kind: 'tick'; ms: number }
  | { kind: 'grow'; topic: 'foo' | 'bar'; by: number }
  | { kind: 'round' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('step' as const), c: fc.nat(3) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('leave' as const), c: fc.nat(3), temporarily: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 20_000 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('grow' as const),
      topic: fc.constantFrom('foo' as const, 'bar' as const),
      by: fc.integer({ min: 1, max: 2 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'round' as const }) },
);

describe('consumer group property', () => {
  it('random joins, heartbeats, leaves (static ones too), expiries, new partitions: never a shared partition; converges', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(action, { minLength: 1, maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
        fc.constantFrom('uniform', 'range'),
        async (actions, both, assignor) => {
          const sizes = { foo: 3, bar: 2 };
          const { c, clock, catalog } = setup(sizes);
          const clients = both.map(
            (b, i) =>
              new Client(c, {
                topics: b ? ['foo', 'bar'] : ['foo'],
                assignor: i % 2 === 0 ? assignor : null,
                instanceId: i >= 2 ? `static-${i}` : null,
                rebalanceTimeoutMs: 15_000,
              }),
          );
          const run = async (cl: Client) => {
            const r = await cl.step();
            assert.ok(
              r.errorCode === ErrorCode.NONE || r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID,
              `unexpected ${r.errorCode}: ${r.errorMessage}`,
            );
          };
          for (const a of actions) {
            switch (a.kind) {
              case 'step':
                await run(clients[a.c]!);
                break;
              case 'leave': {
                const cl = clients[a.c]!;
                // Clients 2 and 3 are static: they may leave temporarily (-2) and come back under a new id.
                if (cl.joined) await cl.leave(a.temporarily && cl.opts.instanceId !== null ? -2 : -1);
                break;
              }
              case 'tick':
                await clock.advance(a.ms);
                break;
              case 'grow':
                if (sizes[a.topic] < 8) {
                  sizes[a.topic] += a.by;
                  catalog.grow(a.topic, sizes[a.topic]);
                }
                break;
              case 'round':
                for (const cl of clients) if (cl.joined) await run(cl);
                break;
            }
            checkOwnership(c, clients);
          }

          // Quiet period: every client heartbeats (or rejoins) until the group settles.
          const g = () => c.inspectConsumerGroup('g')!;
          for (let round = 0; round < 8; round++) {
            for (const cl of clients) {
              await run(cl);
              checkOwnership(c, clients);
            }
          }
          assert.equal(g().state, 'Stable');
          const subscribed: Record<string, number> = clients.some((cl) => cl.opts.topics!.includes('bar'))
            ? { foo: sizes.foo, bar: sizes.bar }
            : { foo: sizes.foo };
          assertCovers(clients, subscribed);
          for (const cl of clients) {
            const m = g().get(cl.memberId)!;
            assert.equal(cl.epoch, g().groupEpoch);
            assert.equal(m.memberEpoch, g().assignmentEpoch);
            assert.ok(sameKeys(cl.owned, assignedWire(g(), cl.memberId)));
            assert.deepEqual(
              keys([...g().targetOf(cl.memberId)].map(([topicId, ps]) => ({ topicId, partitions: [...ps] }))),
              keys(cl.owned),
              'assignment = target',
            );
          }

          for (const cl of clients) await cl.leave();
          assert.equal(g().state, 'Empty');
          assert.equal(c.timerCount, 0, 'no timers left');
        },
      ),
      { numRuns: Number(process.env.CG_PROPERTY_RUNS ?? 150) },
    );
  });
});
