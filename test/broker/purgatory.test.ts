import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type DelayedOperation, Purgatory } from '../../src/broker/purgatory.js';

/** An operation that completes when `ready` is set, counting its calls. */
class Op implements DelayedOperation {
  ready = false;
  tries = 0;
  completions = 0;
  expirations = 0;
  constructor(ready = false) {
    this.ready = ready;
  }
  tryComplete(): boolean {
    this.tries++;
    if (!this.ready) return false;
    this.completions++;
    return true;
  }
  onExpire(): void {
    this.expirations++;
  }
  get finishes(): number {
    return this.completions + this.expirations;
  }
}

/** Awaits `p` with the event loop held open: the purgatory's own timers are unref'd and would not. */
async function held(p: Promise<void>): Promise<void> {
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await p;
  } finally {
    clearInterval(keepAlive);
  }
}

/** An Op whose expiry resolves `expired` (tests wait for the event, never for a fixed time). */
class TimedOp extends Op {
  readonly expired: Promise<void>;
  private resolve!: () => void;
  constructor() {
    super();
    this.expired = new Promise((r) => {
      this.resolve = r;
    });
  }
  override onExpire(): void {
    super.onExpire();
    this.resolve();
  }
}

function assertEmpty(p: Purgatory): void {
  assert.equal(p.size, 0, 'pending');
  assert.equal(p.watchedKeys, 0, 'keys');
  assert.equal(p.watcherCount, 0, 'watchers');
  assert.equal(p.timerCount, 0, 'timers');
}

/** Replaces the global timer functions to count timers that were created and neither fired nor cleared. */
function trackTimers(): { live: () => number; restore: () => void } {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Set<unknown>();
  globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const t = realSet(
      (...a: unknown[]) => {
        live.delete(t);
        fn(...a);
      },
      ms,
      ...args,
    );
    live.add(t);
    return t;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((t: NodeJS.Timeout | undefined) => {
    live.delete(t);
    realClear(t);
  }) as typeof clearTimeout;
  return {
    live: () => live.size,
    restore: () => {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}

describe('Purgatory', () => {
  it('completes at once without watching when the first attempt succeeds', () => {
    const p = new Purgatory();
    const op = new Op(true);
    assert.equal(p.watch(op, ['a', 'b'], 1000), true);
    assert.equal(op.tries, 1);
    assertEmpty(p);
  });

  it('watches under every key until a notify completes it, then forgets it everywhere', () => {
    const p = new Purgatory();
    const op = new Op();
    assert.equal(p.watch(op, ['a', 'b', 'c'], 60_000), false);
    assert.equal(p.size, 1);
    assert.equal(p.watchedKeys, 3);
    assert.equal(p.timerCount, 1);
    assert.equal(p.notify('b'), 0, 'not ready yet');
    assert.equal(op.tries, 2);
    op.ready = true;
    assert.equal(p.notify('c'), 1);
    assert.equal(op.completions, 1);
    assertEmpty(p);
    assert.equal(p.notify('a'), 0);
    assert.equal(op.tries, 3, 'a completed operation is not called again');
  });

  it('notify on a key nobody watches does nothing', () => {
    const p = new Purgatory();
    assert.equal(p.notify('nobody'), 0);
    assertEmpty(p);
  });

  it('completes several operations of one key and counts them', () => {
    const p = new Purgatory();
    const ops = [new Op(), new Op(), new Op()];
    for (const op of ops) p.watch(op, ['k'], 60_000);
    ops[0]!.ready = true;
    ops[2]!.ready = true;
    assert.equal(p.notify('k'), 2);
    assert.equal(p.size, 1);
    assert.equal(p.watcherCount, 1);
    p.expireAll();
    assert.deepEqual(
      ops.map((o) => [o.completions, o.expirations]),
      [
        [1, 0],
        [0, 1],
        [1, 0],
      ],
    );
    assertEmpty(p);
  });

  it('expires after the timeout exactly once, and later notifies do not touch it', async () => {
    const p = new Purgatory();
    const op = new TimedOp();
    p.watch(op, ['a', 'b'], 5);
    await held(op.expired);
    assert.equal(op.expirations, 1);
    assertEmpty(p);
    op.ready = true;
    assert.equal(p.notify('a'), 0);
    assert.equal(p.notify('b'), 0);
    assert.equal(op.tries, 1);
    assert.equal(op.finishes, 1);
  });

  it('treats a negative timeout as zero and rejects NaN', async () => {
    const p = new Purgatory();
    const op = new TimedOp();
    p.watch(op, ['a'], -10);
    await held(op.expired);
    assert.equal(op.expirations, 1);
    assert.throws(() => p.watch(new Op(), ['a'], Number.NaN), RangeError);
    assertEmpty(p);
  });

  it('finishes an operation watching many keys once when notifies of all its keys race', () => {
    const p = new Purgatory();
    const keys = ['a', 'b', 'c', 'd'];
    const op = new Op();
    p.watch(op, keys, 60_000);
    op.ready = true;
    const completed = keys.map((k) => p.notify(k));
    assert.deepEqual(completed, [1, 0, 0, 0]);
    assert.equal(op.finishes, 1);
    assertEmpty(p);
  });

  it('does not re-enter tryComplete on a notify during it, but retries afterwards', () => {
    const p = new Purgatory();
    let depth = 0;
    let maxDepth = 0;
    let calls = 0;
    const op: DelayedOperation = {
      tryComplete() {
        depth++;
        maxDepth = Math.max(maxDepth, depth);
        calls++;
        // Second call (from the first notify): data arrives while we look, and is announced.
        if (calls === 2) assert.equal(p.notify('k'), 0);
        depth--;
        return calls === 3;
      },
      onExpire() {
        assert.fail('must not expire');
      },
    };
    assert.equal(p.watch(op, ['k'], 60_000), false);
    assert.equal(p.notify('k'), 1);
    assert.equal(calls, 3, 'the notify during the attempt caused one retry');
    assert.equal(maxDepth, 1);
    assertEmpty(p);
  });

  it('a notify completing one operation from inside another one’s tryComplete counts only once', () => {
    const p = new Purgatory();
    const inner = new Op();
    p.watch(inner, ['x'], 60_000);
    let outerCalls = 0;
    const outer: DelayedOperation = {
      tryComplete() {
        outerCalls++;
        if (outerCalls === 1) return false;
        inner.ready = true;
        assert.equal(p.notify('x'), 1);
        return true;
      },
      onExpire() {},
    };
    p.watch(outer, ['x', 'y'], 60_000);
    assert.equal(p.notify('y'), 1);
    assert.equal(inner.finishes, 1);
    assert.equal(inner.completions, 1);
    assertEmpty(p);
  });

  it('retries after registering when a notify happened during the first attempt', () => {
    const p = new Purgatory();
    let calls = 0;
    const op: DelayedOperation = {
      tryComplete() {
        calls++;
        if (calls === 1) {
          p.notify('k'); // e.g. the data being produced right now; nobody is registered yet
          return false;
        }
        return true;
      },
      onExpire() {
        assert.fail('must not expire');
      },
    };
    assert.equal(p.watch(op, ['k'], 60_000), true);
    assert.equal(calls, 2);
    assertEmpty(p);
  });

  it('does not attempt an operation watched during a notify loop as part of that loop', () => {
    const p = new Purgatory();
    const late = new Op();
    let earlyCalls = 0;
    const early: DelayedOperation = {
      tryComplete() {
        if (++earlyCalls !== 2) return false;
        p.watch(late, ['k'], 60_000);
        late.ready = true; // would complete if the running loop reached it
        return false;
      },
      onExpire() {},
    };
    p.watch(early, ['k'], 60_000);
    assert.equal(late.tries, 0);
    p.notify('k');
    assert.equal(late.tries, 1, 'only its own first attempt');
    assert.equal(late.completions, 0);
    assert.equal(p.notify('k'), 1);
    assert.equal(late.completions, 1);
    p.expireAll();
    assertEmpty(p);
  });

  it('expireAll expires every pending operation once and completes nothing', () => {
    const p = new Purgatory();
    const ops = Array.from({ length: 10 }, () => new Op());
    ops.forEach((op, i) => {
      p.watch(op, [`k${i % 3}`, 'all'], 60_000);
    });
    for (const op of ops) op.ready = true;
    p.expireAll();
    assert.ok(ops.every((o) => o.expirations === 1 && o.completions === 0));
    assertEmpty(p);
    assert.equal(p.notify('all'), 0);
    p.expireAll();
    assert.ok(ops.every((o) => o.finishes === 1));
  });

  it('operations watched by an onExpire during expireAll stay pending', () => {
    const p = new Purgatory();
    const next = new Op();
    p.watch(
      {
        tryComplete: () => false,
        onExpire: () => {
          p.watch(next, ['k'], 60_000);
        },
      },
      ['k'],
      60_000,
    );
    p.expireAll();
    assert.equal(p.size, 1);
    assert.equal(next.expirations, 0);
    p.expireAll();
    assert.equal(next.expirations, 1);
    assertEmpty(p);
  });

  it('an expiry from inside tryComplete wins over its result', () => {
    const p = new Purgatory();
    let expired = 0;
    let calls = 0;
    const op: DelayedOperation = {
      tryComplete() {
        calls++;
        if (calls === 1) return false;
        p.expireAll(); // shutdown while the operation is mid-attempt
        return true;
      },
      onExpire() {
        expired++;
      },
    };
    p.watch(op, ['k'], 60_000);
    assert.equal(p.notify('k'), 0);
    assert.equal(expired, 1);
    assertEmpty(p);
  });

  it('catches exceptions from tryComplete and onExpire and keeps serving the others', () => {
    const errors: [unknown, string, string][] = [];
    const p = new Purgatory({ name: 'fetch', onError: (e, i) => errors.push([e, i.purgatory, i.phase]) });
    const boom = new Error('boom');
    const bad: DelayedOperation = {
      tryComplete: () => {
        throw boom;
      },
      onExpire: () => {
        throw boom;
      },
    };
    const good = new Op();
    assert.equal(p.watch(bad, ['k'], 60_000), false);
    p.watch(good, ['k'], 60_000);
    good.ready = true;
    assert.equal(p.notify('k'), 1);
    assert.equal(good.completions, 1);
    assert.equal(p.size, 1, 'a throwing attempt counts as not complete');
    const other = new Op();
    p.watch(other, ['z'], 60_000);
    p.expireAll();
    assert.equal(other.expirations, 1);
    assertEmpty(p);
    assert.deepEqual(errors, [
      [boom, 'fetch', 'tryComplete'],
      [boom, 'fetch', 'tryComplete'],
      [boom, 'fetch', 'onExpire'],
    ]);
  });

  it('swallows exceptions when there is no onError, and when onError itself throws', () => {
    for (const options of [
      {},
      {
        onError: () => {
          throw new Error('reporter');
        },
      },
    ]) {
      const p = new Purgatory(options);
      const op: DelayedOperation = {
        tryComplete: () => {
          throw new Error('x');
        },
        onExpire: () => {
          throw new Error('y');
        },
      };
      assert.doesNotThrow(() => {
        p.watch(op, ['k'], 60_000);
        p.notify('k');
        p.expireAll();
      });
      assertEmpty(p);
    }
  });

  it('expires at once an operation beyond maxWatched', () => {
    const p = new Purgatory({ maxWatched: 2 });
    const ops = [new Op(), new Op(), new Op()];
    for (const op of ops) assert.equal(p.watch(op, ['k'], 60_000), false);
    assert.deepEqual(
      ops.map((o) => o.expirations),
      [0, 0, 1],
    );
    assert.equal(p.size, 2);
    assert.equal(p.watch(new Op(true), ['k'], 60_000), true, 'ready operations do not need a slot');
    p.expireAll();
    assertEmpty(p);
  });

  it('never keeps the process alive (timers are unref’d)', () => {
    const moduleUrl = new URL('../../src/broker/purgatory.js', import.meta.url).href;
    const script =
      `const { Purgatory } = await import(${JSON.stringify(moduleUrl)});` +
      `new Purgatory().watch({ tryComplete: () => false, onExpire: () => process.exit(3) }, ['k'], 600000);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
    assert.equal(r.signal, null, 'the child had to be killed');
    assert.equal(r.status, 0, r.stderr.toString());
  });

  it('memory growth: 100k operations end with zero watchers and zero timers', () => {
    const timers = trackTimers();
    try {
      const p = new Purgatory();
      const N = 100_000;
      const ops: Op[] = [];
      for (let i = 0; i < N; i++) {
        const op = new Op();
        ops.push(op);
        p.watch(op, [`t-${i % 997}`, `t-${(i * 7) % 997}`, `g-${i % 13}`], 600_000);
      }
      assert.equal(p.size, N);
      assert.equal(timers.live(), N);
      // Half complete through notifies, the rest expire at shutdown.
      for (let i = 0; i < N; i += 2) ops[i]!.ready = true;
      let completed = 0;
      for (let k = 0; k < 997; k++) completed += p.notify(`t-${k}`);
      assert.equal(completed, N / 2);
      p.expireAll();
      assertEmpty(p);
      assert.equal(timers.live(), 0);
      assert.ok(ops.every((o) => o.finishes === 1));

      // Steady state: operations that come and go one by one leave nothing behind either.
      for (let i = 0; i < N; i++) {
        const op = new Op();
        p.watch(op, [`t-${i % 997}`, 'hot'], 600_000);
        op.ready = true;
        if (p.notify('hot') !== 1) assert.fail(`operation ${i} did not complete`);
      }
      assertEmpty(p);
      assert.equal(timers.live(), 0);
    } finally {
      timers.restore();
    }
  });

  it('property: every operation finishes exactly once and the watch lists match the pending set', () => {
    const action = fc.oneof(
      fc.record({
        t: fc.constant('watch' as const),
        keys: fc.uniqueArray(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
        ready: fc.boolean(),
      }),
      fc.record({ t: fc.constant('ready' as const), op: fc.nat() }),
      fc.record({ t: fc.constant('notify' as const), key: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ t: fc.constant('expireAll' as const) }),
    );
    fc.assert(
      fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
        const p = new Purgatory();
        const ops: { op: Op; keys: number[]; pending: boolean }[] = [];
        for (const a of actions) {
          if (a.t === 'watch') {
            const op = new Op(a.ready);
            const done = p.watch(
              op,
              a.keys.map((k) => `k${k}`),
              600_000,
            );
            assert.equal(done, a.ready);
            ops.push({ op, keys: a.keys, pending: !done });
          } else if (a.t === 'ready') {
            if (ops.length > 0) ops[a.op % ops.length]!.op.ready = true;
          } else if (a.t === 'notify') {
            const expected = ops.filter((o) => o.pending && o.op.ready && o.keys.includes(a.key));
            assert.equal(p.notify(`k${a.key}`), expected.length);
            for (const o of expected) o.pending = false;
          } else {
            p.expireAll();
            for (const o of ops) o.pending = false;
          }
          const pending = ops.filter((o) => o.pending);
          assert.equal(p.size, pending.length);
          assert.equal(
            p.watcherCount,
            pending.reduce((n, o) => n + o.keys.length, 0),
          );
          assert.equal(p.timerCount, pending.length);
          for (const o of ops) assert.equal(o.op.finishes, o.pending ? 0 : 1);
        }
        p.expireAll();
        assertEmpty(p);
        for (const o of ops) assert.equal(o.op.finishes, 1);
      }),
    );
  });
});
