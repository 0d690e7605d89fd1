import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GroupCoordinator } from '../../../src/coordinator/group/group-coordinator.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { harness, joinRequest, startJoin, subscription, track } from './helpers.js';

/** Two-step joins for each client id and completes the (delay 0) round; returns the member ids in join order. */
async function formGroup(
  h: ReturnType<typeof harness>,
  clients: string[],
): Promise<{ ids: string[]; generation: number; leader: string }> {
  const joins = [];
  for (const clientId of clients) joins.push(await startJoin(h.coordinator, { clientId }));
  await h.clock.advance(0);
  const results = joins.map((j) => j.join.value());
  for (const r of results) assert.equal(r.errorCode, ErrorCode.NONE);
  return { ids: joins.map((j) => j.memberId), generation: results[0]!.generationId, leader: results[0]!.leader };
}

async function syncAll(c: GroupCoordinator, ids: string[], generation: number, leader: string) {
  const assignments = ids.map((memberId) => ({ memberId, assignment: Buffer.from(`a-${memberId}`) }));
  return Promise.all(
    ids.map((memberId) =>
      c.syncGroup({
        groupId: 'g',
        generationId: generation,
        memberId,
        groupInstanceId: null,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments: memberId === leader ? assignments : [],
      }),
    ),
  );
}

describe('JoinGroup', () => {
  it('KIP-394 two-step join: MEMBER_ID_REQUIRED with a clientId-uuid id, then a generation', async () => {
    const h = harness();
    const first = await h.coordinator.joinGroup(joinRequest());
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.equal(first.memberId, 'client-uuid1');
    assert.equal(first.generationId, -1);
    assert.equal(h.coordinator.inspect('g')?.state, 'Empty');
    assert.equal(h.coordinator.inspect('g')?.isPendingMember('client-uuid1'), true);

    const second = track(h.coordinator.joinGroup(joinRequest({ memberId: first.memberId })));
    assert.equal(h.coordinator.inspect('g')?.state, 'PreparingRebalance');
    await h.clock.advance(0);
    const r = second.value();
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.generationId, 1);
    assert.equal(r.leader, first.memberId);
    assert.equal(r.memberId, first.memberId);
    assert.equal(r.protocolType, 'consumer');
    assert.equal(r.protocolName, 'range');
    assert.deepEqual(
      r.members.map((m) => m.memberId),
      [first.memberId],
    );
    assert.equal(h.coordinator.inspect('g')?.state, 'CompletingRebalance');
  });

  it('JoinGroup below v4 joins directly', async () => {
    const h = harness();
    const r = track(h.coordinator.joinGroup(joinRequest({ requireKnownMemberId: false })));
    await h.clock.advance(0);
    assert.equal(r.value().errorCode, ErrorCode.NONE);
    assert.equal(r.value().memberId, 'client-uuid1');
  });

  it('several members get one generation; only the leader sees every member with its metadata', async () => {
    const h = harness();
    const a = await startJoin(h.coordinator, {
      clientId: 'a',
      protocols: [{ name: 'range', metadata: subscription(['x']) }],
    });
    const b = await startJoin(h.coordinator, {
      clientId: 'b',
      protocols: [{ name: 'range', metadata: subscription(['y']) }],
    });
    await h.clock.advance(0);
    const ra = a.join.value();
    const rb = b.join.value();
    assert.equal(ra.generationId, 1);
    assert.equal(rb.generationId, 1);
    assert.equal(ra.leader, a.memberId);
    assert.equal(rb.leader, a.memberId);
    assert.deepEqual(
      ra.members.map((m) => [m.memberId, m.metadata]),
      [
        [a.memberId, subscription(['x'])],
        [b.memberId, subscription(['y'])],
      ],
    );
    assert.deepEqual(rb.members, []);
  });

  it('group.initial.rebalance.delay.ms waits, and waits again while members keep arriving (up to the rebalance timeout)', async () => {
    const h = harness({ config: { groupInitialRebalanceDelayMs: 3000 } });
    const a = await startJoin(h.coordinator, { clientId: 'a', rebalanceTimeoutMs: 7000 });
    await h.clock.advance(1000);
    const b = await startJoin(h.coordinator, { clientId: 'b', rebalanceTimeoutMs: 7000 });
    await h.clock.advance(1999); // t = 2999
    assert.equal(a.join.done(), false);
    await h.clock.advance(1); // t = 3000: a member arrived meanwhile, wait min(3000, 4000) more
    assert.equal(a.join.done(), false);
    await h.clock.advance(2999); // t = 5999
    assert.equal(a.join.done(), false);
    await h.clock.advance(1); // t = 6000
    assert.equal(a.join.value().generationId, 1);
    assert.equal(b.join.value().generationId, 1);
  });

  it('the initial delay is bounded by the rebalance timeout even if members keep coming', async () => {
    const h = harness({ config: { groupInitialRebalanceDelayMs: 3000 } });
    const a = await startJoin(h.coordinator, { clientId: 'a', rebalanceTimeoutMs: 5000 });
    for (let i = 0; i < 5; i++) {
      await h.clock.advance(1000);
      if (a.join.done()) break;
      await startJoin(h.coordinator, { clientId: `c${i}`, rebalanceTimeoutMs: 5000 });
    }
    await h.clock.advance(2000);
    assert.equal(a.join.value().errorCode, ErrorCode.NONE);
    // delay 3000 (remaining 2000), then min(3000, 2000) = 2000 more: done at 5000.
    assert.ok(h.clock.time - 1_000_000 <= 7000);
  });

  it('selects the protocol every member supports, by the members’ preference votes', async () => {
    const h = harness();
    const m = (name: string) => ({ name, metadata: subscription(['t']) });
    const a = await startJoin(h.coordinator, { clientId: 'a', protocols: [m('x'), m('y'), m('z')] });
    const b = await startJoin(h.coordinator, { clientId: 'b', protocols: [m('y'), m('x')] });
    const c = await startJoin(h.coordinator, { clientId: 'c', protocols: [m('y'), m('x')] });
    await h.clock.advance(0);
    for (const j of [a, b, c]) assert.equal(j.join.value().protocolName, 'y');
  });

  it('rejects a member with no protocol in common, another protocol type, or nothing offered', async () => {
    const h = harness();
    await formGroup(h, ['a']);
    const other = await h.coordinator.joinGroup(
      joinRequest({ protocols: [{ name: 'roundrobin', metadata: Buffer.alloc(0) }] }),
    );
    assert.equal(other.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const type = await h.coordinator.joinGroup(joinRequest({ protocolType: 'connect' }));
    assert.equal(type.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const none = await h.coordinator.joinGroup(joinRequest({ groupId: 'h', protocols: [] }));
    assert.equal(none.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const noType = await h.coordinator.joinGroup(joinRequest({ groupId: 'h', protocolType: '' }));
    assert.equal(noType.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.equal(h.coordinator.inspect('g')?.size, 1);
  });

  it('bad input: session timeout out of range, empty group id, unknown member id', async () => {
    const h = harness();
    assert.equal(
      (await h.coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 5999 }))).errorCode,
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
    assert.equal(
      (await h.coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 1_800_001 }))).errorCode,
      ErrorCode.INVALID_SESSION_TIMEOUT,
    );
    assert.equal((await h.coordinator.joinGroup(joinRequest({ groupId: '' }))).errorCode, ErrorCode.INVALID_GROUP_ID);
    const unknown = await h.coordinator.joinGroup(joinRequest({ memberId: 'nope' }));
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(unknown.memberId, 'nope');
    assert.equal(h.coordinator.inspect('g'), undefined);
    await formGroup(h, ['a']);
    assert.equal(
      (await h.coordinator.joinGroup(joinRequest({ memberId: 'nope' }))).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  it('group.max.size: GROUP_MAX_SIZE_REACHED for members beyond it', async () => {
    const h = harness({ config: { groupMaxSize: 2 } });
    await formGroup(h, ['a', 'b']);
    const first = await h.coordinator.joinGroup(joinRequest({ clientId: 'c' }));
    assert.equal(first.errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
    assert.equal(first.memberId, '');
    assert.equal(h.coordinator.inspect('g')?.size, 2);
  });

  it('a follower rejoining a Stable group with the same metadata gets the current generation, no rebalance', async () => {
    const h = harness();
    const { ids, generation, leader } = await formGroup(h, ['a', 'b']);
    await syncAll(h.coordinator, ids, generation, leader);
    const r = await h.coordinator.joinGroup(joinRequest({ clientId: 'b', memberId: ids[1]! }));
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.generationId, generation);
    assert.deepEqual(r.members, []);
    assert.equal(h.coordinator.inspect('g')?.state, 'Stable');
  });

  it('the leader rejoining a Stable group starts a rebalance', async () => {
    const h = harness();
    const { ids, generation, leader } = await formGroup(h, ['a']);
    await syncAll(h.coordinator, ids, generation, leader);
    const r = track(h.coordinator.joinGroup(joinRequest({ clientId: 'a', memberId: ids[0]! })));
    await h.clock.advance(0);
    assert.equal(r.value().generationId, generation + 1);
  });

  it('a member that re-sends the same JoinGroup gets the one answer on both requests', async () => {
    const h = harness({ config: { groupInitialRebalanceDelayMs: 100 } });
    const a = await startJoin(h.coordinator, { clientId: 'a' });
    const again = track(h.coordinator.joinGroup(joinRequest({ clientId: 'a', memberId: a.memberId })));
    await h.clock.advance(100);
    assert.deepEqual(a.join.value(), again.value());
    assert.equal(h.coordinator.inspect('g')?.numAwaitingJoin, 0);
  });
});

describe('SyncGroup', () => {
  it('distributes the leader’s assignments, followers waiting for the leader', async () => {
    const h = harness();
    const { ids, generation, leader } = await formGroup(h, ['a', 'b']);
    const follower = track(
      h.coordinator.syncGroup({
        groupId: 'g',
        generationId: generation,
        memberId: ids[1]!,
        groupInstanceId: null,
        protocolType: null,
        protocolName: null,
        assignments: [],
      }),
    );
    await h.clock.advance(0);
    assert.equal(follower.done(), false);
    const leaderSync = await h.coordinator.syncGroup({
      groupId: 'g',
      generationId: generation,
      memberId: leader,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [
        { memberId: ids[0]!, assignment: Buffer.from('A') },
        { memberId: ids[1]!, assignment: Buffer.from('B') },
        { memberId: 'stranger', assignment: Buffer.from('X') },
      ],
    });
    assert.deepEqual(leaderSync, {
      errorCode: ErrorCode.NONE,
      protocolType: 'consumer',
      protocolName: 'range',
      assignment: Buffer.from('A'),
    });
    await h.clock.advance(0);
    assert.deepEqual(follower.value().assignment, Buffer.from('B'));
    assert.equal(h.coordinator.inspect('g')?.state, 'Stable');
    // A late SyncGroup in Stable gets the stored assignment.
    const late = await h.coordinator.syncGroup({
      groupId: 'g',
      generationId: generation,
      memberId: ids[1]!,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    assert.deepEqual(late.assignment, Buffer.from('B'));
  });

  it('members the leader left out get an empty assignment', async () => {
    const h = harness();
    const { ids, generation, leader } = await formGroup(h, ['a', 'b']);
    const [ra, rb] = await Promise.all(
      ids.map((memberId) =>
        h.coordinator.syncGroup({
          groupId: 'g',
          generationId: generation,
          memberId,
          groupInstanceId: null,
          protocolType: null,
          protocolName: null,
          assignments: memberId === leader ? [{ memberId: leader, assignment: Buffer.from('all') }] : [],
        }),
      ),
    );
    assert.deepEqual(ra!.assignment, Buffer.from('all'));
    assert.equal(rb!.errorCode, ErrorCode.NONE);
    assert.equal(rb!.assignment.length, 0);
  });

  it('errors: unknown group or member, stale generation, protocol mismatch (v5+), rebalance in progress', async () => {
    const h = harness();
    const base = {
      groupId: 'g',
      generationId: 1,
      memberId: 'x',
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [],
    };
    assert.equal((await h.coordinator.syncGroup(base)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await h.coordinator.syncGroup({ ...base, groupId: '' })).errorCode, ErrorCode.INVALID_GROUP_ID);
    const { ids } = await formGroup(h, ['a']);
    const id = ids[0]!;
    assert.equal((await h.coordinator.syncGroup(base)).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(
      (await h.coordinator.syncGroup({ ...base, memberId: id, generationId: 7 })).errorCode,
      ErrorCode.ILLEGAL_GENERATION,
    );
    assert.equal(
      (await h.coordinator.syncGroup({ ...base, memberId: id, protocolType: 'connect' })).errorCode,
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    assert.equal(
      (await h.coordinator.syncGroup({ ...base, memberId: id, protocolName: 'roundrobin' })).errorCode,
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    // A second member joining puts the group back into PreparingRebalance.
    await startJoin(h.coordinator, { clientId: 'b' });
    assert.equal(h.coordinator.inspect('g')?.state, 'PreparingRebalance');
    assert.equal((await h.coordinator.syncGroup({ ...base, memberId: id })).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('a member that never sends SyncGroup is removed after the rebalance timeout', async () => {
    const h = harness();
    const { ids, generation, leader } = await formGroup(h, ['a', 'b']);
    const leaderSync = track(
      h.coordinator.syncGroup({
        groupId: 'g',
        generationId: generation,
        memberId: leader,
        groupInstanceId: null,
        protocolType: null,
        protocolName: null,
        assignments: [],
      }),
    );
    await h.clock.advance(0);
    assert.equal(leaderSync.value().errorCode, ErrorCode.NONE);
    // Both heartbeat; b never syncs.
    for (let t = 0; t < 30_000; t += 5000) {
      for (const memberId of ids) {
        const hb = await h.coordinator.heartbeat({
          groupId: 'g',
          generationId: generation,
          memberId,
          groupInstanceId: null,
        });
        assert.equal(hb.errorCode, ErrorCode.NONE);
      }
      await h.clock.advance(5000);
    }
    const g = h.coordinator.inspect('g')!;
    assert.equal(g.has(ids[1]!), false);
    assert.equal(g.state, 'PreparingRebalance');
  });
});

describe('Heartbeat and session expiry', () => {
  it('errors by state and identity', async () => {
    const h = harness();
    const hb = (memberId: string, generationId: number, groupId = 'g') =>
      h.coordinator.heartbeat({ groupId, generationId, memberId, groupInstanceId: null }).then((r) => r.errorCode);
    assert.equal(await hb('x', 1), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(await hb('x', 1, ''), ErrorCode.INVALID_GROUP_ID);
    const { ids, generation, leader } = await formGroup(h, ['a', 'b']);
    assert.equal(await hb(ids[0]!, generation), ErrorCode.NONE); // CompletingRebalance
    await syncAll(h.coordinator, ids, generation, leader);
    assert.equal(await hb(ids[0]!, generation), ErrorCode.NONE);
    assert.equal(await hb(ids[0]!, generation + 1), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(await hb('x', generation), ErrorCode.UNKNOWN_MEMBER_ID);
    track(h.coordinator.joinGroup(joinRequest({ clientId: 'a', memberId: ids[0]! })));
    assert.equal(await hb(ids[1]!, generation), ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('a member that stops heartbeating is removed after its session timeout and the group rebalances', async () => {
    const h = harness();
    const { ids, generation, leader } = await formGroup(h, ['a', 'b']);
    await syncAll(h.coordinator, ids, generation, leader);
    const hbA = () =>
      h.coordinator
        .heartbeat({ groupId: 'g', generationId: generation, memberId: ids[0]!, groupInstanceId: null })
        .then((r) => r.errorCode);
    await h.clock.advance(6000);
    assert.equal(await hbA(), ErrorCode.NONE);
    await h.clock.advance(4000); // b's session (10 s) expires
    assert.equal(h.coordinator.inspect('g')?.has(ids[1]!), false);
    assert.equal(await hbA(), ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoin = track(h.coordinator.joinGroup(joinRequest({ clientId: 'a', memberId: ids[0]! })));
    await h.clock.advance(0);
    assert.equal(rejoin.value().generationId, generation + 1);
    assert.deepEqual(
      rejoin.value().members.map((m) => m.memberId),
      [ids[0]],
    );
  });

  it('the rebalance timeout removes dynamic members that do not rejoin', async () => {
    const h = harness();
    const { ids, generation, leader } = await formGroup(h, ['a', 'b']);
    await syncAll(h.coordinator, ids, generation, leader);
    const rejoin = track(h.coordinator.joinGroup(joinRequest({ clientId: 'a', memberId: ids[0]! })));
    for (let i = 0; i < 6; i++) {
      await h.clock.advance(5000);
      // b keeps its session alive but ignores REBALANCE_IN_PROGRESS.
      if (!rejoin.done()) {
        await h.coordinator.heartbeat({
          groupId: 'g',
          generationId: generation,
          memberId: ids[1]!,
          groupInstanceId: null,
        });
      }
    }
    assert.equal(rejoin.value().generationId, generation + 1);
    assert.deepEqual(
      rejoin.value().members.map((m) => m.memberId),
      [ids[0]],
    );
    const hb = await h.coordinator.heartbeat({
      groupId: 'g',
      generationId: generation,
      memberId: ids[1]!,
      groupInstanceId: null,
    });
    assert.equal(hb.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('a pending member id that never rejoins expires and stops holding up the rebalance', async () => {
    const h = harness();
    const { ids, generation, leader } = await formGroup(h, ['a']);
    await syncAll(h.coordinator, ids, generation, leader);
    const pending = await h.coordinator.joinGroup(joinRequest({ clientId: 'b' }));
    assert.equal(pending.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    const rejoin = track(h.coordinator.joinGroup(joinRequest({ clientId: 'a', memberId: ids[0]! })));
    await h.clock.advance(9999);
    assert.equal(rejoin.done(), false);
    await h.clock.advance(1);
    assert.equal(rejoin.value().generationId, generation + 1);
    assert.equal(h.coordinator.inspect('g')?.isPendingMember(pending.memberId), false);
  });

  it('the rebalance timeout of the round is the largest among members', async () => {
    const h = harness();
    const a = await startJoin(h.coordinator, { clientId: 'a', rebalanceTimeoutMs: 10_000 });
    const b = await startJoin(h.coordinator, { clientId: 'b', rebalanceTimeoutMs: 60_000 });
    await h.clock.advance(0);
    const gen = a.join.value().generationId;
    await syncAll(h.coordinator, [a.memberId, b.memberId], gen, a.join.value().leader);
    const rejoin = track(h.coordinator.joinGroup(joinRequest({ clientId: 'a', memberId: a.memberId })));
    for (let t = 0; t < 55_000; t += 5000) {
      await h.clock.advance(5000);
      await h.coordinator.heartbeat({ groupId: 'g', generationId: gen, memberId: b.memberId, groupInstanceId: null });
    }
    assert.equal(rejoin.done(), false);
    await h.clock.advance(5000);
    assert.equal(rejoin.done(), true);
  });
});

describe('LeaveGroup', () => {
  it('a single member leaving triggers a rebalance; the last member leaving empties the group', async () => {
    const h = harness();
    const { ids, generation, leader } = await formGroup(h, ['a', 'b']);
    await syncAll(h.coordinator, ids, generation, leader);
    const r = await h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: ids[1]!, groupInstanceId: null }] });
    assert.deepEqual(r, {
      errorCode: ErrorCode.NONE,
      members: [{ memberId: ids[1]!, groupInstanceId: null, errorCode: ErrorCode.NONE }],
    });
    assert.equal(h.coordinator.inspect('g')?.state, 'PreparingRebalance');
    await h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: ids[0]!, groupInstanceId: null }] });
    const g = h.coordinator.inspect('g')!;
    assert.equal(g.state, 'Empty');
    assert.equal(g.generationId, generation + 1);
    assert.equal(g.leaderId, null);
    // The Empty generation is stored.
    const last = h.store.groupWrites('g').at(-1);
    assert.equal(last?.members.length, 0);
    assert.equal(last?.generation, generation + 1);
  });

  it('batch leave (v3+): per-member results, including unknown members and removal by instance id', async () => {
    const h = harness();
    const s = track(h.coordinator.joinGroup(joinRequest({ clientId: 's', groupInstanceId: 'inst-1' })));
    const d = await startJoin(h.coordinator, { clientId: 'd' });
    await h.clock.advance(0);
    const staticId = s.value().memberId;
    assert.equal(staticId, 'inst-1-uuid1');
    const r = await h.coordinator.leaveGroup({
      groupId: 'g',
      members: [
        { memberId: '', groupInstanceId: 'inst-1', reason: 'admin' },
        { memberId: 'ghost', groupInstanceId: null },
        { memberId: d.memberId, groupInstanceId: 'wrong-instance' },
        { memberId: '', groupInstanceId: 'nobody' },
      ],
    });
    assert.deepEqual(
      r.members.map((m) => m.errorCode),
      [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID],
    );
    const g = h.coordinator.inspect('g')!;
    assert.equal(g.has(staticId), false);
    assert.equal(g.has(d.memberId), true);
    const unknownGroup = await h.coordinator.leaveGroup({
      groupId: 'nope',
      members: [{ memberId: 'x', groupInstanceId: null }],
    });
    assert.equal(unknownGroup.members[0]!.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('a member leaving while others wait in JoinGroup completes the round for them', async () => {
    const h = harness();
    const { ids, generation, leader } = await formGroup(h, ['a', 'b']);
    await syncAll(h.coordinator, ids, generation, leader);
    const rejoin = track(h.coordinator.joinGroup(joinRequest({ clientId: 'a', memberId: ids[0]! })));
    await h.clock.advance(0);
    assert.equal(rejoin.done(), false);
    await h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: ids[1]!, groupInstanceId: null }] });
    await h.clock.advance(0);
    assert.equal(rejoin.value().generationId, generation + 1);
  });

  it('a member leaving during CompletingRebalance sends the parked SyncGroups back to rejoin', async () => {
    const h = harness();
    const { ids, generation } = await formGroup(h, ['a', 'b']);
    const follower = track(
      h.coordinator.syncGroup({
        groupId: 'g',
        generationId: generation,
        memberId: ids[1]!,
        groupInstanceId: null,
        protocolType: null,
        protocolName: null,
        assignments: [],
      }),
    );
    await h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: ids[0]!, groupInstanceId: null }] });
    await h.clock.advance(0);
    assert.equal(follower.value().errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  });
});
