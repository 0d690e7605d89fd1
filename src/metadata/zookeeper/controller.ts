/**
 * The controller of a ZooKeeper-mode cluster: every broker stands for election by creating the ephemeral
 * /controller znode; the one that succeeds bumps /controller_epoch (compare-and-set, so two brokers never hold the
 * same epoch) and takes office; the others watch /controller and stand again when it goes (its session ended).
 *
 * In office it keeps every partition led by a live broker: when a broker leaves, partitions it led get a new
 * leader from their ISR (the first live one in replica order), with the leader epoch bumped, and it leaves every
 * ISR it was in; when it comes back, partitions without a leader get it back if it is in their ISR. With no live
 * ISR member a partition stays leaderless (leader -1, ISR kept as it was, so the last in-sync replica can take over
 * again), unless its topic sets `unclean.leader.election.enable`, which elects any live replica and accepts the
 * data loss. Partitions whose state znode is missing (a topic written by another tool) get one.
 *
 * Fencing: every write is a multi that also checks the /controller_epoch znode version read when taking office,
 * and sets the state znode only at the version the image holds. A controller that lost its office (its session
 * expired, another broker bumped the epoch) can therefore change nothing; it learns of it from the failed check,
 * the session events or the /controller watch, and steps down.
 */
import type { Logger } from '../../log/logger.js';
import { isZkError } from './errors.js';
import type { VersionedState, ZkMetadataStore } from './zk-store.js';
import { decodeController, decodeControllerEpoch, encodeController, encodeControllerEpoch, Paths } from './znodes.js';

export class ZkController {
  private active = false;
  private epoch = 0;
  /** Version of /controller_epoch when this broker took office: every write checks it. */
  private epochVersion = -1;
  private stopped = false;
  private running: Promise<void> | null = null;
  private again = false;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly store: ZkMetadataStore,
    private readonly nodeId: number,
    private readonly logger: Logger,
  ) {}

  get isActive(): boolean {
    return this.active;
  }

  get controllerEpoch(): number {
    return this.epoch;
  }

  start(): void {
    this.unsubscribe.push(
      this.store.subscribe((change) => {
        if (change.kind === 'controller-changed') {
          if (change.controllerId !== this.nodeId) this.resign('another broker is the controller');
          if (change.controllerId === -1) this.schedule();
        } else if (this.active) this.schedule();
      }),
      this.store.onSession(() => {
        this.resign('new ZooKeeper session');
        this.schedule();
      }),
    );
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    await this.running;
    this.active = false;
  }

  /** Runs `step` (election or reconciliation) now or right after the one running. */
  private schedule(): void {
    if (this.stopped) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    this.running = this.step()
      .catch((e: unknown) => {
        this.logger.warn({ err: (e as Error).message }, 'controller step failed; trying again');
        setTimeout(() => this.schedule(), 1000).unref();
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      });
  }

  private resign(why: string): void {
    if (!this.active) return;
    this.active = false;
    this.logger.info({ epoch: this.epoch, why }, 'no longer the controller');
  }

  private async step(): Promise<void> {
    if (!this.active) await this.elect();
    if (this.active) await this.reconcile();
  }

  private async elect(): Promise<void> {
    const zk = this.store.zk;
    try {
      await zk.create(Paths.controller, encodeController(this.nodeId), { ephemeral: true });
    } catch (e) {
      if (!isZkError(e, 'NODE_EXISTS')) throw e;
      const found = await zk.get(Paths.controller);
      // Still ours from this session (a retry after a lost answer), or another broker's: then wait for its end
      // (the store watches /controller and tells us through 'controller-changed').
      if (
        found === null ||
        found.stat.ephemeralOwner !== zk.sessionId ||
        decodeController(found.data) !== this.nodeId
      ) {
        if (found === null) this.schedule();
        return;
      }
    }
    // Bump the epoch: compare-and-set, so that a broker that took office in between makes this one stand down.
    for (;;) {
      const current = await zk.get(Paths.controllerEpoch);
      try {
        if (current === null) {
          await zk.create(Paths.controllerEpoch, encodeControllerEpoch(1));
          const created = await zk.get(Paths.controllerEpoch);
          this.epoch = decodeControllerEpoch(created!.data);
          this.epochVersion = created!.stat.version;
        } else {
          const next = decodeControllerEpoch(current.data) + 1;
          const stat = await zk.set(Paths.controllerEpoch, encodeControllerEpoch(next), current.stat.version);
          this.epoch = next;
          this.epochVersion = stat.version;
        }
        break;
      } catch (e) {
        if (!isZkError(e, 'BAD_VERSION') && !isZkError(e, 'NODE_EXISTS')) throw e;
      }
    }
    this.active = true;
    this.logger.info({ nodeId: this.nodeId, epoch: this.epoch }, 'elected controller');
  }

  /** Brings every partition's leader and ISR in line with the live brokers. */
  private async reconcile(): Promise<void> {
    const live = new Set(this.store.brokers().map((b) => b.id));
    for (const topic of [...this.store.topics()]) {
      const unclean = topic.configs['unclean.leader.election.enable'] === 'true';
      for (const s of this.store.states(topic.name)) {
        if (!this.active) return;
        const next = desiredState(s, live, unclean);
        if (next === null) continue;
        const ok = await this.store.writePartitionState(
          topic.name,
          s.partition,
          { ...next, controllerEpoch: this.epoch },
          s.zkVersion,
          this.epochVersion,
        );
        if (!ok) {
          // Either the state moved on (read again and retry) or the epoch did (we are no longer the controller).
          const epoch = await this.store.zk.get(Paths.controllerEpoch);
          if (epoch === null || epoch.stat.version !== this.epochVersion) {
            this.resign('the controller epoch moved on');
            this.schedule();
            return;
          }
          this.again = true;
        } else {
          this.logger.info(
            { topic: topic.name, partition: s.partition, leader: next.leader, epoch: next.leaderEpoch, isr: next.isr },
            'partition state changed',
          );
        }
      }
    }
  }
}

/**
 * The state a partition should have with `live` brokers, or null when it already has it. Leader epochs move on
 * every change of leader (a new epoch is what lets followers and clients tell old leaders from new).
 */
export function desiredState(
  s: VersionedState,
  live: ReadonlySet<number>,
  unclean: boolean,
): { leader: number; leaderEpoch: number; isr: number[] } | null {
  const missing = s.zkVersion < 0;
  if (missing) {
    const isr = s.replicas.filter((r) => live.has(r));
    return { leader: isr[0] ?? -1, leaderEpoch: 0, isr };
  }
  const liveIsr = s.isr.filter((r) => live.has(r));
  if (s.leader >= 0 && live.has(s.leader)) {
    if (liveIsr.length === s.isr.length) return null;
    return { leader: s.leader, leaderEpoch: s.leaderEpoch, isr: liveIsr };
  }
  const candidate = s.replicas.find((r) => liveIsr.includes(r));
  if (candidate !== undefined) return { leader: candidate, leaderEpoch: s.leaderEpoch + 1, isr: liveIsr };
  if (unclean) {
    const any = s.replicas.find((r) => live.has(r));
    if (any !== undefined) return { leader: any, leaderEpoch: s.leaderEpoch + 1, isr: [any] };
  }
  // Nobody in sync is alive: leaderless, and the ISR keeps its last members.
  if (s.leader === -1) return null;
  return { leader: -1, leaderEpoch: s.leaderEpoch + 1, isr: s.isr.length > 0 ? [...s.isr] : [] };
}
