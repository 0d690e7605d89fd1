/**
 * Bounded waits for the ZooKeeper tests: the next event of a client, the next firing of a one-shot watch, a
 * condition polled until it holds. Every wait has a deadline and fails with what it waited for, so a broken
 * client fails a test instead of hanging it.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WatchEvent, Watcher, ZkClient, ZkClientEvents } from '../../../src/metadata/zookeeper/zk-client.js';

export const WAIT_MS = 15_000;

/** The arguments of the next `event` the client emits. */
export async function nextEvent<K extends keyof ZkClientEvents>(
  client: ZkClient,
  event: K,
  timeoutMs = WAIT_MS,
): Promise<ZkClientEvents[K]> {
  try {
    return (await once(client as never, event, { signal: AbortSignal.timeout(timeoutMs) })) as ZkClientEvents[K];
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw new Error(`no '${event}' event within ${timeoutMs} ms`);
    throw e;
  }
}

/** A watcher to pass as `{ watch }`, with every event it got and a promise of the first. */
export function watcher(timeoutMs = WAIT_MS): { watch: Watcher; events: WatchEvent[]; fired: Promise<WatchEvent> } {
  const events: WatchEvent[] = [];
  let resolve!: (e: WatchEvent) => void;
  const first = new Promise<WatchEvent>((r) => {
    resolve = r;
  });
  let timer: NodeJS.Timeout | undefined;
  const fired = Promise.race([
    first,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the watch did not fire within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
  // Nobody may await it: a test that only looks at `events` must not fail on the timeout.
  fired.catch(() => {});
  return {
    events,
    fired,
    watch: (e) => {
      events.push(e);
      resolve(e);
    },
  };
}

/** Polls `check` until it returns true. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(20);
  }
}
