/**
 * Property test: random interleavings of JoinGroup / SyncGroup / Heartbeat / LeaveGroup / OffsetCommit by a few
 * clients (dynamic and static, some with changing subscriptions), garbage requests and time jumps keep the group's
 * invariants, and every parked request is eventually answered.
 */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ClassicGroup } from '../../../src/coordinator/group/group.js';
import type { JoinGroupResult } from '../../../src/coordinator/group/types.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { harness, joinRequest, subscription } from './helpers.js';

interface Client {
  clientId: string;
  instanceId: string | null;
  memberId: string;
  generation: number;
  leaderOf: JoinGroupResult | null;
  busy: boolean;
  synced: boolean;
}

type Action =
  | { kind: 'join'; c: number; alt: boolean }
  | { kind: 'sync'; c: number }
  | { kind: 'heartbeat'; c: number }
  | { kind: 'leave'; c: number }
  | { kind: 'commit'; c: number }
  | { kind: 'garbage'; memberId: string; generation: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'step' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('join' as const), c: fc.nat(3), alt: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('sync' as const), c: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('heartbeat' as const), c: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), c: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('commit' as const), c: fc.nat(3) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('garbage' as const),
      memberId: fc.constantFrom('', 'x', 'c0-uuid1', 's1-uuid2'),
      generation: fc.integer({ min: -1, max: 3 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3000 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  },
  { weight: 4, arbitrary: fc.constant({ kind: 'step' as const }) },
);

function checkInvariants(g: ClassicGroup | undefined): void {
  if (g === undefined) return;
  const members = [...g.members];
  assert.equal(g.numAwaitingJoin, members.filter((m) => m.isAwaitingJoin).length, 'awaiting-join count');
  if (members.length > 0) {
    assert.ok(g.leaderId !== null && g.has(g.leaderId), 'the leader is a member');
  } else {
    assert.equal(g.leaderId, null);
  }
  if (g.is('Empty')) assert.equal(members.length, 0, 'Empty has no members');
  if (g.is('Stable') || g.is('CompletingRebalance')) {
    assert.ok(members.length > 0);
    assert.ok(g.protocolName !== null);
    for (const m of members) assert.ok(m.metadata(g.protocolName) !== undefined, 'every member supports the protocol');
  }
  for (const m of members) {
    if (m.isAwaitingSync) assert.equal(g.state, 'CompletingRebalance', 'SyncGroup parks only in CompletingRebalance');
    if (m.isAwaitingJoin) assert.equal(g.state, 'PreparingRebalance', 'JoinGroup parks only in PreparingRebalance');
    if (m.groupInstanceId !== null) assert.equal(g.staticMemberId(m.groupInstanceId), m.memberId);
  }
  assert.equal(g.staticMemberCount, members.filter((m) => m.isStatic).length);
}

describe('group coordinator properties', () => {
  it('random client behaviour keeps the invariants and answers every request', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(action, { minLength: 5, maxLength: 60 }),
        fc.integer({ min: 0, max: 2 }),
        async (actions, delayIx) => {
          const h = harness({ config: { groupInitialRebalanceDelayMs: [0, 1000, 3000][delayIx]! } });
          const c = h.coordinator;
          const clients: Client[] = [0, 1, 2, 3].map((i) => ({
            clientId: `c${i}`,
            instanceId: i >= 2 ? `s${i}` : null,
            memberId: '',
            generation: -1,
            leaderOf: null,
            busy: false,
            synced: false,
          }));
          const outstanding = new Set<Promise<unknown>>();
          /** Generation -> leader, protocol, and what the leader assigned. */
          const generations = new Map<
            number,
            { leader: string; protocol: string | null; assigned: Map<string, string> }
          >();
          const watch = <T>(p: Promise<T>, then: (v: T) => void) => {
            const q = p.then(then);
            outstanding.add(q);
            void q.finally(() => outstanding.delete(q));
          };

          const perform = async (a: Action): Promise<void> => {
            switch (a.kind) {
              case 'join': {
                const cl = clients[a.c]!;
                if (cl.busy) break;
                cl.busy = true;
                const topics = a.alt ? ['t', 'u'] : ['t'];
                watch(
                  c.joinGroup(
                    joinRequest({
                      clientId: cl.clientId,
                      memberId: cl.memberId,
                      groupInstanceId: cl.instanceId,
                      protocols: [
                        { name: a.alt ? 'cooperative-sticky' : 'range', metadata: subscription(topics) },
                        { name: a.alt ? 'range' : 'cooperative-sticky', metadata: subscription(topics) },
                      ],
                      supportSkippingAssignment: true,
                    }),
                  ),
                  (r) => {
                    cl.busy = false;
                    if (r.errorCode === ErrorCode.MEMBER_ID_REQUIRED) cl.memberId = r.memberId;
                    else if (r.errorCode === ErrorCode.NONE) {
                      cl.synced = false;
                      cl.memberId = r.memberId;
                      cl.generation = r.generationId;
                      const known = generations.get(r.generationId);
                      if (known === undefined) {
                        generations.set(r.generationId, {
                          leader: r.leader,
                          protocol: r.protocolName,
                          assigned: new Map(),
                        });
                      } else if (!r.skipAssignment && r.leader !== r.memberId) {
                        assert.equal(known.protocol, r.protocolName, 'one protocol per generation');
                      }
                      cl.leaderOf = r.leader === r.memberId && !r.skipAssignment ? r : null;
                      if (cl.leaderOf !== null) {
                        assert.ok(
                          r.members.some((m) => m.memberId === r.memberId),
                          'the leader is in its member list',
                        );
                      }
                    } else if (
                      r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID ||
                      r.errorCode === ErrorCode.FENCED_INSTANCE_ID
                    ) {
                      cl.memberId = '';
                      cl.generation = -1;
                    }
                  },
                );
                break;
              }
              case 'sync': {
                const cl = clients[a.c]!;
                if (cl.busy || cl.generation < 0) break;
                cl.busy = true;
                const gen = cl.generation;
                const assignments =
                  cl.leaderOf?.generationId === gen
                    ? cl.leaderOf.members.map((m) => ({
                        memberId: m.memberId,
                        assignment: Buffer.from(`${gen}:${m.memberId}`),
                      }))
                    : [];
                const memberId = cl.memberId;
                watch(
                  c.syncGroup({
                    groupId: 'g',
                    generationId: gen,
                    memberId,
                    groupInstanceId: cl.instanceId,
                    protocolType: 'consumer',
                    protocolName: null,
                    assignments,
                  }),
                  (r) => {
                    cl.busy = false;
                    if (r.errorCode === ErrorCode.NONE) {
                      cl.synced = true;
                      const text = r.assignment.toString();
                      // An assignment is always one the leader of that generation made for this member (or empty).
                      if (text !== '')
                        assert.ok(text.startsWith(`${gen}:`), `assignment ${text} from generation ${gen}`);
                    } else if (
                      r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID ||
                      r.errorCode === ErrorCode.FENCED_INSTANCE_ID
                    ) {
                      cl.memberId = '';
                      cl.generation = -1;
                    }
                  },
                );
                break;
              }
              case 'heartbeat': {
                const cl = clients[a.c]!;
                if (cl.generation < 0) break;
                watch(
                  c.heartbeat({
                    groupId: 'g',
                    generationId: cl.generation,
                    memberId: cl.memberId,
                    groupInstanceId: cl.instanceId,
                  }),
                  (r) => {
                    if (r.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) cl.generation = -1;
                    if (r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || r.errorCode === ErrorCode.FENCED_INSTANCE_ID) {
                      cl.memberId = '';
                      cl.generation = -1;
                    }
                  },
                );
                break;
              }
              case 'leave': {
                const cl = clients[a.c]!;
                watch(
                  c.leaveGroup({ groupId: 'g', members: [{ memberId: cl.memberId, groupInstanceId: cl.instanceId }] }),
                  () => {},
                );
                cl.memberId = '';
                cl.generation = -1;
                break;
              }
              case 'commit': {
                const cl = clients[a.c]!;
                watch(
                  c.offsetCommit({
                    groupId: 'g',
                    generationId: cl.generation,
                    memberId: cl.generation < 0 ? '' : cl.memberId,
                    groupInstanceId: cl.generation < 0 ? null : cl.instanceId,
                    offsets: [{ topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null }],
                  }),
                  () => {},
                );
                break;
              }
              case 'garbage':
                watch(
                  c.heartbeat({
                    groupId: 'g',
                    generationId: a.generation,
                    memberId: a.memberId,
                    groupInstanceId: null,
                  }),
                  () => {},
                );
                watch(
                  c.syncGroup({
                    groupId: 'g',
                    generationId: a.generation,
                    memberId: a.memberId,
                    groupInstanceId: null,
                    protocolType: null,
                    protocolName: null,
                    assignments: [{ memberId: a.memberId, assignment: Buffer.from('evil') }],
                  }),
                  () => {},
                );
                break;
              case 'advance':
                await h.clock.advance(a.ms);
                break;
              case 'step':
                // Every client does what a well-behaved consumer would do next.
                for (let i = 0; i < clients.length; i++) {
                  const cl = clients[i]!;
                  if (cl.generation < 0) await perform({ kind: 'join', c: i, alt: false });
                  else if (!cl.synced) await perform({ kind: 'sync', c: i });
                  else await perform({ kind: 'heartbeat', c: i });
                }
                break;
            }
          };
          for (const a of actions) {
            await perform(a);
            await h.clock.advance(0);
            checkInvariants(c.inspect('g'));
          }

          // Let every deadline pass: nothing may stay parked, and nothing may be left behind.
          for (let i = 0; i < 10; i++) await h.clock.advance(400_000);
          assert.equal(outstanding.size, 0, 'every request was answered');
          const g = c.inspect('g');
          checkInvariants(g);
          if (g !== undefined) {
            assert.equal(g.size, 0, 'silent members were all removed');
            assert.equal(g.state, 'Empty');
          }
          assert.equal(c.timerCount, 0, 'no timers left');
        },
      ),
      { numRuns: 300 },
    );
  });
});
