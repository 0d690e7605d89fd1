/**
 * Partition reassignment state (src/metadata/reassignment.ts): the full replica set while moving (targets first,
 * then the original replicas), adding/removing, replacing and cancelling a move in progress, Kafka's validation of
 * targets, completion only once every target is in sync (the leader moving with an epoch bump only when it is not
 * a live target), and fast-check properties: a move and its cancellation give back the original replica set, a
 * replaced move is computed from the original replicas, and a completed move holds exactly the targets with an ISR
 * inside them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  completeReassignment,
  fitToReplicas,
  invalidTarget,
  isReassigning,
  originalReplicas,
  type ReplicaAssignment,
  reassignTo,
  targetReplicas,
} from '../../src/metadata/reassignment.js';

const settled = (...replicas: number[]): ReplicaAssignment => ({ replicas, adding: [], removing: [] });
const live = (...ids: number[]): Set<number> => new Set(ids);

describe('reassignment: the assignment while moving', () => {
  it('moving {1,2} to {3,4}: targets first, then the originals; adding and removing recorded', () => {
    const a = reassignTo(settled(1, 2), [3, 4]);
    assert.deepEqual(a, { replicas: [3, 4, 1, 2], adding: [3, 4], removing: [1, 2] });
    assert.ok(isReassigning(a));
    assert.deepEqual(originalReplicas(a), [1, 2]);
    assert.deepEqual(targetReplicas(a), [3, 4]);
  });

  it('overlapping targets keep the common replica once, in target order', () => {
    assert.deepEqual(reassignTo(settled(1, 2, 3), [3, 4, 2]), {
      replicas: [3, 4, 2, 1],
      adding: [4],
      removing: [1],
    });
  });

  it('the same replicas in another order is no reassignment in progress (completes at once)', () => {
    const a = reassignTo(settled(1, 2), [2, 1]);
    assert.deepEqual(a, settled(2, 1));
    assert.ok(!isReassigning(a));
  });

  it('replacing a move starts again from the original replicas; cancelling goes back to them', () => {
    const moving = reassignTo(settled(1, 2), [3, 4]);
    assert.deepEqual(reassignTo(moving, [2, 5]), { replicas: [2, 5, 1], adding: [5], removing: [1] });
    assert.deepEqual(reassignTo(moving, originalReplicas(moving)), settled(1, 2));
  });
});

describe('reassignment: validation (INVALID_REPLICA_ASSIGNMENT)', () => {
  const a = settled(1, 2);
  it('refuses empty, duplicate and negative targets and dead brokers to add', () => {
    assert.match(invalidTarget(a, [], live(1, 2, 3)) ?? '', /empty/);
    assert.match(invalidTarget(a, [3, 3], live(1, 2, 3)) ?? '', /twice/);
    assert.match(invalidTarget(a, [-1, 2], live(1, 2, 3)) ?? '', /invalid broker id/);
    assert.match(invalidTarget(a, [2, 9], live(1, 2, 3)) ?? '', /not alive: \[9\]/);
  });
  it('accepts a dead broker the partition already has (only added brokers must be alive)', () => {
    assert.equal(invalidTarget(a, [2, 3], live(2, 3)), null);
    assert.equal(invalidTarget(a, [1, 3], live(2, 3)), null);
  });
});

describe('reassignment: completion', () => {
  const moving = reassignTo(settled(1, 2), [3, 4]);
  it('waits until every target replica is in the ISR', () => {
    assert.equal(completeReassignment(moving, { leader: 1, leaderEpoch: 4, isr: [1, 2, 3] }, live(1, 2, 3, 4)), null);
  });
  it('then holds the targets only, the ISR within them, the leader moved to the first in-sync target', () => {
    const done = completeReassignment(moving, { leader: 1, leaderEpoch: 4, isr: [1, 2, 4, 3] }, live(1, 2, 3, 4));
    assert.deepEqual(done, {
      assignment: settled(3, 4),
      state: { leader: 3, leaderEpoch: 5, isr: [4, 3] },
    });
  });
  it('a leader among the targets keeps leading in its epoch', () => {
    const a = reassignTo(settled(1, 2), [2, 3]);
    const done = completeReassignment(a, { leader: 2, leaderEpoch: 7, isr: [1, 2, 3] }, live(1, 2, 3));
    assert.deepEqual(done?.state, { leader: 2, leaderEpoch: 7, isr: [2, 3] });
    assert.deepEqual(done?.assignment, settled(2, 3));
  });
  it('a target replica that is not alive is not made leader', () => {
    const done = completeReassignment(moving, { leader: 1, leaderEpoch: 0, isr: [1, 3, 4] }, live(1, 4));
    assert.deepEqual(done?.state, { leader: 4, leaderEpoch: 1, isr: [3, 4] });
  });
  it('only removing replicas completes as soon as the remaining ones are in sync', () => {
    const shrink = reassignTo(settled(1, 2, 3), [1, 2]);
    assert.deepEqual(shrink, { replicas: [1, 2, 3], adding: [], removing: [3] });
    assert.deepEqual(completeReassignment(shrink, { leader: 3, leaderEpoch: 2, isr: [3, 1, 2] }, live(1, 2, 3)), {
      assignment: settled(1, 2),
      state: { leader: 1, leaderEpoch: 3, isr: [1, 2] },
    });
  });
  it('nothing to complete without a reassignment', () => {
    assert.equal(completeReassignment(settled(1, 2), { leader: 1, leaderEpoch: 0, isr: [1, 2] }, live(1, 2)), null);
  });
});

describe('reassignment: leader and ISR when replicas leave a replaced or cancelled move', () => {
  it('nothing changes when every ISR member and the leader stay', () => {
    assert.equal(fitToReplicas({ leader: 1, leaderEpoch: 3, isr: [1, 2] }, [1, 2], live(1, 2)), null);
  });
  it('the ISR loses dropped replicas; a dropped leader hands over to an in-sync replica', () => {
    assert.deepEqual(fitToReplicas({ leader: 1, leaderEpoch: 3, isr: [1, 2, 3] }, [1, 2], live(1, 2, 3)), {
      leader: 1,
      leaderEpoch: 3,
      isr: [1, 2],
    });
    assert.deepEqual(fitToReplicas({ leader: 3, leaderEpoch: 3, isr: [1, 2, 3] }, [2, 1], live(1, 2, 3)), {
      leader: 2,
      leaderEpoch: 4,
      isr: [1, 2],
    });
  });
  it('refuses what would need an unclean election', () => {
    assert.equal(fitToReplicas({ leader: 3, leaderEpoch: 3, isr: [3] }, [1, 2], live(1, 2, 3)), 'no-leader');
  });
});

describe('reassignment: properties', () => {
  const ids = fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 5 });

  it('a move then its cancellation gives back the original replica set', () => {
    fc.assert(
      fc.property(ids, ids, (original, target) => {
        const moving = reassignTo(settled(...original), target);
        assert.deepEqual(new Set(moving.replicas), new Set([...original, ...target]));
        assert.deepEqual(moving.replicas.slice(0, target.length), target);
        assert.deepEqual(
          moving.adding,
          target.filter((r) => !original.includes(r)),
        );
        assert.deepEqual(new Set(moving.removing), new Set(original.filter((r) => !target.includes(r))));
        const back = reassignTo(moving, originalReplicas(moving));
        assert.ok(!isReassigning(back));
        assert.deepEqual(new Set(back.replicas), new Set(original));
      }),
    );
  });

  it('replacing a move equals moving from the original replicas', () => {
    fc.assert(
      fc.property(ids, ids, ids, (original, first, second) => {
        const moving = reassignTo(settled(...original), first);
        const replaced = reassignTo(moving, second);
        assert.deepEqual(replaced, reassignTo(settled(...originalReplicas(moving)), second));
        assert.deepEqual(new Set(originalReplicas(replaced)), new Set(original));
        assert.deepEqual(targetReplicas(replaced), second);
      }),
    );
  });

  it('a completed move holds exactly the targets, an ISR inside them and a live in-sync leader', () => {
    fc.assert(
      fc.property(ids, ids, fc.integer({ min: 0, max: 9 }), (original, target, extra) => {
        const moving = reassignTo(settled(...original), target);
        const isr = [...new Set([...target, ...original.slice(0, 1), extra])];
        const done = completeReassignment(moving, { leader: original[0]!, leaderEpoch: 1, isr }, live(...isr));
        if (!isReassigning(moving)) {
          assert.equal(done, null);
          return;
        }
        assert.ok(done !== null);
        assert.deepEqual(done.assignment, settled(...target));
        assert.ok(done.state.isr.every((r) => target.includes(r)));
        assert.ok(done.state.isr.includes(done.state.leader));
        assert.equal(done.state.leaderEpoch, target.includes(original[0]!) ? 1 : 2);
      }),
    );
  });
});
