import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import { type Harness, harness, joinRequest, track } from './helpers.js';

/** A Stable group of static members inst-0..inst-(n-1) (plus optional dynamic ones), synced with assignments. */
async function stableStaticGroup(h: Harness, n: number) {
  const joins = [];
  for (let i = 0; i < n; i++) {
    joins.push(track(h.coordinator.joinGroup(joinRequest({ clientId: `c${i}`, groupInstanceId: `inst-${i}` }))));
  }
  await h.clock.advance(0);
  const results = joins.map((j) => j.value());
  const generation = results[0]!.generationId;
  const leader = results[0]!.leader;
  const ids = results.map((r) => r.memberId);
  await Promise.all(
    ids.map((memberId, i) =>
      h.coordinator.syncGroup({
        groupId: 'g',
        generationId: generation,
        memberId,
        groupInstanceId: `inst-${i}`,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments:
          memberId === leader ? ids.map((id) => ({ memberId: id, assignment: Buffer.from(`as-${id}`) })) : [],
      }),
    ),
  );
  assert.equal(h.coordinator.inspect('g')?.state, 'Stable');
  return { ids, generation, leader };
}

describe('static membership (KIP-345)', () => {
  it('static members join without MEMBER_ID_REQUIRED and get instance-id based member ids', async () => {
    const h = harness();
    const j = track(h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst-0' })));
    await h.clock.advance(0);
    assert.equal(j.value().errorCode, ErrorCode.NONE);
    assert.equal(j.value().memberId, 'inst-0-uuid1');
    assert.deepEqual(j.value().members, [
      { memberId: 'inst-0-uuid1', groupInstanceId: 'inst-0', metadata: joinRequest().protocols[0]!.metadata },
    ]);
  });

  it('a follower restarting within the session timeout rejoins without a rebalance; its old id is fenced', async () => {
    const h = harness();
    const { ids, generation } = await stableStaticGroup(h, 2);
    const writesBefore = h.store.groupWrites('g').length;
    const r = await h.coordinator.joinGroup(joinRequest({ clientId: 'c1', groupInstanceId: 'inst-1' }));
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.equal(r.generationId, generation);
    assert.notEqual(r.memberId, ids[1]);
    assert.equal(r.leader, ids[0]);
    assert.equal(r.skipAssignment, false);
    const g = h.coordinator.inspect('g')!;
    assert.equal(g.state, 'Stable');
    assert.equal(g.generationId, generation);
    // The new member id was persisted.
    const written = h.store.groupWrites('g');
    assert.equal(written.length, writesBefore + 1);
    assert.deepEqual(
      written.at(-1)!.members.map((m) => m.memberId),
      [ids[0], r.memberId],
    );
    // The old id is fenced everywhere; the new one keeps the old assignment.
    const hbOld = await h.coordinator.heartbeat({
      groupId: 'g',
      generationId: generation,
      memberId: ids[1]!,
      groupInstanceId: 'inst-1',
    });
    assert.equal(hbOld.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    const sync = await h.coordinator.syncGroup({
      groupId: 'g',
      generationId: generation,
      memberId: r.memberId,
      groupInstanceId: 'inst-1',
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [],
    });
    assert.deepEqual(sync.assignment, Buffer.from(`as-${ids[1]}`));
    const oldJoin = await h.coordinator.joinGroup(joinRequest({ memberId: ids[1]!, groupInstanceId: 'inst-1' }));
    assert.equal(oldJoin.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    const commitOld = h.coordinator.validateCommit({
      groupId: 'g',
      generationId: generation,
      memberId: ids[1]!,
      groupInstanceId: 'inst-1',
    });
    assert.equal(commitOld, ErrorCode.FENCED_INSTANCE_ID);
  });

  it('a restarted static leader: v9+ is told it leads but must skip the assignment; older versions see the old leader id', async () => {
    const h = harness();
    const { ids, generation } = await stableStaticGroup(h, 2);
    const v9 = await h.coordinator.joinGroup(
      joinRequest({ clientId: 'c0', groupInstanceId: 'inst-0', supportSkippingAssignment: true }),
    );
    assert.equal(v9.errorCode, ErrorCode.NONE);
    assert.equal(v9.leader, v9.memberId);
    assert.equal(v9.skipAssignment, true);
    assert.equal(v9.members.length, 2);
    assert.equal(v9.generationId, generation);
    const old = await h.coordinator.joinGroup(joinRequest({ clientId: 'c0', groupInstanceId: 'inst-0' }));
    assert.equal(old.errorCode, ErrorCode.NONE);
    assert.equal(old.leader, v9.memberId); // the previous (replaced) leader id, not the caller's
    assert.notEqual(old.leader, old.memberId);
    assert.deepEqual(old.members, []);
    assert.equal(h.coordinator.inspect('g')?.state, 'Stable');
    assert.notEqual(ids[0], old.memberId);
  });

  it('a restart with a changed protocol choice triggers a rebalance', async () => {
    const h = harness();
    await stableStaticGroup(h, 1);
    const j = track(
      h.coordinator.joinGroup(
        joinRequest({
          groupInstanceId: 'inst-0',
          protocols: [
            { name: 'cooperative-sticky', metadata: Buffer.from('x') },
            { name: 'range', metadata: Buffer.from('y') },
          ],
        }),
      ),
    );
    await h.clock.advance(0);
    assert.equal(j.value().protocolName, 'cooperative-sticky');
    assert.equal(j.value().generationId, 2);
  });

  it('a failed write of the new member id answers with the error and keeps the old id valid', async () => {
    const h = harness();
    const { ids, generation } = await stableStaticGroup(h, 2);
    h.store.failWith = new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const r = await h.coordinator.joinGroup(joinRequest({ clientId: 'c1', groupInstanceId: 'inst-1' }));
    h.store.failWith = null;
    assert.equal(r.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(r.memberId, '');
    const g = h.coordinator.inspect('g')!;
    assert.equal(g.staticMemberId('inst-1'), ids[1]);
    assert.equal(g.numAwaitingJoin, 0);
    const hb = await h.coordinator.heartbeat({
      groupId: 'g',
      generationId: generation,
      memberId: ids[1]!,
      groupInstanceId: 'inst-1',
    });
    assert.equal(hb.errorCode, ErrorCode.NONE);
  });

  it('static members are not removed by the rebalance timeout, only by their session timeout', async () => {
    const h = harness();
    const { ids, generation } = await stableStaticGroup(h, 2);
    // inst-0 (leader) rejoins with its id; inst-1 is silent.
    const rejoin = track(h.coordinator.joinGroup(joinRequest({ memberId: ids[0]!, groupInstanceId: 'inst-0' })));
    const hb = () =>
      h.coordinator.heartbeat({ groupId: 'g', generationId: generation, memberId: ids[1]!, groupInstanceId: 'inst-1' });
    for (let i = 0; i < 6; i++) {
      await h.clock.advance(5000);
      if (!rejoin.done()) await hb();
    }
    const r = rejoin.value();
    assert.equal(r.generationId, generation + 1);
    // The silent static member stays in the group (still listed for the leader).
    assert.deepEqual(
      r.members.map((m) => m.memberId),
      ids,
    );
    assert.equal(h.coordinator.inspect('g')?.has(ids[1]!), true);
  });

  it('unknown instance ids and mismatched member ids', async () => {
    const h = harness();
    const { ids, generation } = await stableStaticGroup(h, 1);
    const unknown = await h.coordinator.joinGroup(joinRequest({ memberId: ids[0]!, groupInstanceId: 'other' }));
    assert.equal(unknown.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const fenced = await h.coordinator.joinGroup(joinRequest({ memberId: 'someone-else', groupInstanceId: 'inst-0' }));
    assert.equal(fenced.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    const hb = await h.coordinator.heartbeat({
      groupId: 'g',
      generationId: generation,
      memberId: ids[0]!,
      groupInstanceId: 'other',
    });
    assert.equal(hb.errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    const leave = await h.coordinator.leaveGroup({
      groupId: 'g',
      members: [{ memberId: 'someone-else', groupInstanceId: 'inst-0' }],
    });
    assert.equal(leave.members[0]!.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    assert.equal(h.coordinator.inspect('g')?.state, 'Stable');
  });

  it('a static member replaced while parked in JoinGroup gets FENCED_INSTANCE_ID', async () => {
    const h = harness({ config: { groupInitialRebalanceDelayMs: 1000 } });
    const first = track(h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst-0' })));
    await h.clock.advance(10);
    const second = track(h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst-0' })));
    await h.clock.advance(0);
    assert.equal(first.value().errorCode, ErrorCode.FENCED_INSTANCE_ID);
    await h.clock.advance(2000);
    assert.equal(second.value().errorCode, ErrorCode.NONE);
    assert.equal(h.coordinator.inspect('g')?.size, 1);
  });
});
