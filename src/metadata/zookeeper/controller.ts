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
 * Controlled shutdown (ControlledShutdown from a stopping broker): the broker stops being eligible; partitions it
 * leads move to another live ISR member and it leaves every ISR, so clients move on before it stops. Partitions it
 * is the only in-sync replica of stay with it (reported back as remaining). Preferred leader election (ElectLeaders,
 * and every leader.imbalance.check.interval.seconds with auto.leader.rebalance.enable when a broker leads fewer than
 * (100 - leader.imbalance.per.broker.percentage)% of the partitions it is the first replica of) gives leadership
 * back to the first replica when it is alive and in sync.
 *
 * Topic deletions asked for the ZooKeeper way (a child of /admin/delete_topics, as Kafka's older tools write) are
 * carried out by the controller, which then removes the request.
 *
 * Partition reassignment (KIP-455; the state computations are in ../reassignment.ts): AlterPartitionReassignments
 * writes the full replica set (targets first, then the original replicas) with the replicas being added and removed
 * into the topic znode; the brokers newly listed host the partition and fetch it as followers. Every reconciliation
 * (any metadata change: an ISR growing, a broker coming back, a new controller taking office) completes the
 * reassignments whose targets are all in the ISR, in one write of the topic znode and the partition state (replicas
 * = targets, ISR within them, a new leader when the current one is not a live target); the brokers no longer listed
 * drop the partition and delete its log. Cancelling (null targets) reassigns to the original replicas. Requests
 * written to /admin/reassign_partitions (kafka-reassign-partitions.sh --zookeeper) are started the same way,
 * removed from the znode once done (or refused), and the znode goes once empty; an API request for the same
 * partition supersedes them.
 *
 * Fencing: every write is a multi that also checks the /controller_epoch znode version read when taking office,
 * and sets the state znode only at the version the image holds. A controller that lost its office (its session
 * expired, another broker bumped the epoch) can therefore change nothing; it learns of it from the failed check,
 * the session events or the /controller watch, and steps down.
 */
import type { Logger } from '../../log/logger.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import {
  completeReassignment,
  fitToReplicas,
  invalidTarget,
  isReassigning,
  type LeaderAndIsr,
  type OngoingReassignment,
  originalReplicas,
  type ReassignmentRequest,
  type ReassignmentResult,
  reassignTo,
  sameAssignment,
  sameList,
  targetReplicas,
} from '../reassignment.js';
import { isZkError } from './errors.js';
import type { AssignmentChange, VersionedState, ZkMetadataStore } from './zk-store.js';
import {
  decodeController,
  decodeControllerEpoch,
  decodeReassignment,
  encodeController,
  encodeControllerEpoch,
  encodeReassignment,
  type PartitionReplicas,
  Paths,
} from './znodes.js';

export interface ControllerOptions {
  /** auto.leader.rebalance.enable */
  autoLeaderRebalance: boolean;
  /** leader.imbalance.check.interval.seconds, in ms */
  imbalanceCheckIntervalMs: number;
  /** leader.imbalance.per.broker.percentage */
  imbalancePercentage: number;
}

/** One partition's outcome of a leader election (ElectLeaders). */
export interface ElectionResult {
  topic: string;
  partition: number;
  errorCode: number;
  message: string | null;
}

const PREFERRED = 0;
/** Compare-and-set attempts of a reassignment request against concurrent changes of the same topic. */
const REASSIGN_ATTEMPTS = 5;

export class ZkController {
  private active = false;
  /** Brokers in controlled shutdown: not eligible as leaders or ISR members. */
  private readonly shuttingDown = new Set<number>();
  private rebalanceTimer: NodeJS.Timeout | null = null;
  private epoch = 0;
  /** Version of /controller_epoch when this broker took office: every write checks it. */
  private epochVersion = -1;
  private stopped = false;
  private running: Promise<void> | null = null;
  private again = false;
  /**
   * Reconciliations and AlterPartitionReassignments take turns: a request's writes (its new assignments, then the
   * ZooKeeper-submitted entries it supersedes) never interleave with a reconciliation carrying those entries out.
   */
  private turn: Promise<unknown> = Promise.resolve();
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly store: ZkMetadataStore,
    private readonly nodeId: number,
    private readonly logger: Logger,
    private readonly options: ControllerOptions = {
      autoLeaderRebalance: false,
      imbalanceCheckIntervalMs: 300_000,
      imbalancePercentage: 10,
    },
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
    if (this.options.autoLeaderRebalance) {
      this.rebalanceTimer = setInterval(() => {
        if (this.active && !this.stopped) {
          this.rebalance().catch((e: unknown) =>
            this.logger.warn({ err: (e as Error).message }, 'leader rebalance failed'),
          );
        }
      }, this.options.imbalanceCheckIntervalMs);
      this.rebalanceTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.rebalanceTimer !== null) clearInterval(this.rebalanceTimer);
    for (const u of this.unsubscribe) u();
    await this.running;
    this.active = false;
  }

  /** Runs a reconciliation now and waits for it (and any it triggers) to finish. */
  private async reconcileNow(): Promise<void> {
    this.schedule();
    while (this.running !== null) await this.running;
  }

  /**
   * ControlledShutdown: moves leadership away from `brokerId` and takes it out of the ISRs; resolves with the
   * replicated partitions it still leads (it is their only live in-sync replica), which the broker waits for by
   * asking again. A partition with a single replica has nowhere to go and is not waited for, as in Kafka: counting it
   * would hold every stop of a broker hosting one for the whole retry budget (3 x 5 s by default).
   */
  async controlledShutdown(brokerId: number): Promise<{ topic: string; partition: number }[]> {
    if (!this.active) throw new KafkaError(ErrorCode.NOT_CONTROLLER, `broker ${this.nodeId} is not the controller`);
    if (this.store.broker(brokerId) === undefined) {
      throw new KafkaError(ErrorCode.BROKER_NOT_AVAILABLE, `broker ${brokerId} is not registered`);
    }
    this.shuttingDown.add(brokerId);
    this.logger.info({ brokerId }, 'controlled shutdown: moving leadership away');
    await this.reconcileNow();
    const remaining: { topic: string; partition: number }[] = [];
    for (const t of this.store.topics()) {
      for (const p of t.partitions)
        if (p.leader === brokerId && p.replicas.length > 1) remaining.push({ topic: t.name, partition: p.partition });
    }
    return remaining;
  }

  /**
   * ElectLeaders: preferred (type 0: the first replica, when alive and in sync) or unclean (type 1: any live
   * replica when no leader is alive) elections, for these partitions or (null) every partition that needs one.
   */
  async electLeaders(
    type: number,
    partitions: readonly { topic: string; partition: number }[] | null,
  ): Promise<ElectionResult[]> {
    if (!this.active) throw new KafkaError(ErrorCode.NOT_CONTROLLER, `broker ${this.nodeId} is not the controller`);
    const live = this.eligible();
    const wanted =
      partitions ??
      [...this.store.topics()].flatMap((t) =>
        t.partitions
          .filter((p) => (type === PREFERRED ? p.leader !== p.replicas[0] : !live.has(p.leader)))
          .map((p) => ({ topic: t.name, partition: p.partition })),
      );
    const out: ElectionResult[] = [];
    for (const { topic, partition } of wanted) {
      const result = (errorCode: number, message: string | null = null): void => {
        out.push({ topic, partition, errorCode, message });
      };
      const s = this.store.states(topic)[partition];
      if (s === undefined || s.zkVersion < 0) {
        result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${partition} does not exist`);
        continue;
      }
      let leader: number;
      let isr = s.isr;
      if (type === PREFERRED) {
        const preferred = s.replicas[0]!;
        if (s.leader === preferred) {
          result(ErrorCode.ELECTION_NOT_NEEDED, 'Leader election not needed for topic partition.');
          continue;
        }
        if (!live.has(preferred) || !s.isr.includes(preferred)) {
          result(
            ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
            `Failed to elect leader for partition ${topic}-${partition} under strategy PreferredReplicaPartitionLeaderElectionStrategy`,
          );
          continue;
        }
        leader = preferred;
      } else {
        if (s.leader >= 0 && live.has(s.leader)) {
          result(ErrorCode.ELECTION_NOT_NEEDED, 'Leader election not needed for topic partition.');
          continue;
        }
        const candidate =
          s.replicas.find((r) => live.has(r) && s.isr.includes(r)) ?? s.replicas.find((r) => live.has(r));
        if (candidate === undefined) {
          result(ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, `no live replica of ${topic}-${partition}`);
          continue;
        }
        leader = candidate;
        if (!isr.includes(candidate)) isr = [candidate];
      }
      const ok = await this.store.writePartitionState(
        topic,
        partition,
        { leader, leaderEpoch: s.leaderEpoch + 1, isr: [...isr], controllerEpoch: this.epoch },
        s.zkVersion,
        this.epochVersion,
      );
      if (ok) {
        this.logger.info({ topic, partition, leader, type }, 'leader elected on request');
        result(ErrorCode.NONE);
      } else result(ErrorCode.NOT_CONTROLLER, 'the partition state or the controller changed meanwhile; try again');
    }
    return out;
  }

  /**
   * AlterPartitionReassignments (KIP-455): starts, replaces or (null replicas) cancels the reassignment of each
   * partition; resolves once the new assignments are in ZooKeeper (the new replicas then catch up and the
   * reconciliation completes each reassignment). A ZooKeeper-submitted reassignment of the same partition is
   * superseded and leaves /admin/reassign_partitions.
   */
  async alterPartitionReassignments(requests: readonly ReassignmentRequest[]): Promise<ReassignmentResult[]> {
    if (!this.active) throw new KafkaError(ErrorCode.NOT_CONTROLLER, `broker ${this.nodeId} is not the controller`);
    const out = await this.inTurn(() => this.alterInTurn(requests));
    // Reassignments with nothing to add complete at once.
    if (out.some((r) => r.errorCode === ErrorCode.NONE)) this.schedule();
    return out;
  }

  private async alterInTurn(requests: readonly ReassignmentRequest[]): Promise<ReassignmentResult[]> {
    const byTopic = new Map<string, number[]>();
    for (let i = 0; i < requests.length; i++) {
      const list = byTopic.get(requests[i]!.topic) ?? [];
      list.push(i);
      byTopic.set(requests[i]!.topic, list);
    }
    const out: ReassignmentResult[] = new Array(requests.length);
    for (const [topic, indices] of byTopic) {
      const answers = await this.reassign(
        topic,
        indices.map((i) => requests[i]!),
      );
      indices.forEach((i, k) => {
        out[i] = { topic, partition: requests[i]!.partition, ...answers[k]! };
      });
    }
    const accepted = new Set(
      out.filter((r) => r.errorCode === ErrorCode.NONE).map((r) => `${r.topic}\u0000${r.partition}`),
    );
    if (accepted.size > 0) {
      // The latest reassignment of a partition wins, as in Kafka: one asked for through ZooKeeper is forgotten.
      await this.updateZkReassignments((e) => !accepted.has(`${e.topic}\u0000${e.partition}`)).catch((e: unknown) =>
        this.logger.warn({ err: (e as Error).message }, 'could not update /admin/reassign_partitions'),
      );
    }
    return out;
  }

  /** ListPartitionReassignments: the reassignments in progress, of these partitions or (null) of all. */
  listPartitionReassignments(
    filter: readonly { topic: string; partitions: readonly number[] }[] | null,
  ): OngoingReassignment[] {
    if (!this.active) throw new KafkaError(ErrorCode.NOT_CONTROLLER, `broker ${this.nodeId} is not the controller`);
    const out: OngoingReassignment[] = [];
    const add = (topic: string, s: VersionedState | undefined): void => {
      if (s === undefined || !isReassigning(s)) return;
      out.push({ topic, partition: s.partition, replicas: s.replicas, adding: s.adding, removing: s.removing });
    };
    if (filter === null) {
      for (const t of this.store.topics()) for (const s of this.store.states(t.name)) add(t.name, s);
    } else {
      for (const { topic, partitions } of filter) {
        const states = this.store.states(topic);
        for (const p of new Set(partitions)) add(topic, p >= 0 ? states[p] : undefined);
      }
    }
    return out;
  }

  /**
   * Writes new assignments for partitions of one topic (requests in order; a partition named twice gets the later
   * on top of the earlier), retrying with the image read again when the topic changed meanwhile.
   */
  private async reassign(
    topic: string,
    requests: readonly { partition: number; replicas: readonly number[] | null }[],
  ): Promise<{ errorCode: number; message: string | null }[]> {
    let answers: { errorCode: number; message: string | null }[] = [];
    for (let attempt = 0; attempt < REASSIGN_ATTEMPTS; attempt++) {
      if (!this.active) return requests.map(() => notController(this.nodeId));
      const states = this.store.states(topic);
      const topicVersion = this.store.topicVersion(topic);
      const live = this.eligible();
      const changes = new Map<number, AssignmentChange>();
      answers = requests.map(({ partition, replicas }) => {
        const s = this.store.topic(topic) === undefined || partition < 0 ? undefined : states[partition];
        if (s === undefined || s.zkVersion < 0) {
          return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `${topic}-${partition} does not exist.` };
        }
        const before = changes.get(partition);
        const current = before?.assignment ?? s;
        let target: readonly number[];
        if (replicas === null) {
          if (!isReassigning(current)) {
            return {
              errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
              message: `No reassignment of ${topic}-${partition} is in progress.`,
            };
          }
          target = originalReplicas(current);
        } else {
          const why = invalidTarget(current, replicas, live);
          if (why !== null) return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, message: why };
          target = replicas;
        }
        const assignment = reassignTo(current, target);
        const state: LeaderAndIsr = before?.state ?? s;
        const fitted = fitToReplicas(state, assignment.replicas, live);
        if (fitted === 'no-leader') {
          return {
            errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            message: `Changing the assignment of ${topic}-${partition} to [${assignment.replicas.join(',')}] would leave no in-sync replica to lead it (an unclean leader election).`,
          };
        }
        changes.set(partition, { assignment, state: fitted ?? before?.state ?? null, stateVersion: s.zkVersion });
        return { errorCode: ErrorCode.NONE, message: null };
      });
      for (const [p, change] of [...changes]) {
        if (change.state === null && sameAssignment(change.assignment, states[p]!)) changes.delete(p);
      }
      if (changes.size === 0) return answers;
      let ok: boolean;
      try {
        ok = await this.store.writeAssignments(topic, topicVersion, changes, this.epoch, this.epochVersion);
      } catch (e) {
        // The topic went meanwhile, or ZooKeeper failed: the accepted partitions get that error.
        const errorCode = e instanceof KafkaError ? e.code : ErrorCode.UNKNOWN_SERVER_ERROR;
        return answers.map((a) => (a.errorCode === ErrorCode.NONE ? { errorCode, message: (e as Error).message } : a));
      }
      if (ok) {
        for (const [partition, { assignment, state }] of changes) {
          this.logger.info(
            { topic, partition, ...assignment, ...(state === null ? {} : { leader: state.leader, isr: state.isr }) },
            isReassigning(assignment) ? 'partition reassignment started' : 'partition reassignment cancelled',
          );
        }
        return answers;
      }
      if (await this.lostOffice()) return requests.map(() => notController(this.nodeId));
    }
    return answers.map((a) =>
      a.errorCode === ErrorCode.NONE
        ? { errorCode: ErrorCode.REQUEST_TIMED_OUT, message: `${topic} kept changing meanwhile; try again.` }
        : a,
    );
  }

  /** Whether the controller epoch moved on (then this broker steps down). */
  private async lostOffice(): Promise<boolean> {
    const epoch = await this.store.zk.get(Paths.controllerEpoch);
    if (epoch !== null && epoch.stat.version === this.epochVersion) return false;
    this.resign('the controller epoch moved on');
    this.schedule();
    return true;
  }

  private readonly onReassignRequest = (e: { type: string }): void => {
    if ((e.type === 'created' || e.type === 'dataChanged') && this.active) this.schedule();
  };

  /** Reads /admin/reassign_partitions (and watches it): null when there is none. */
  private async readZkReassignments(): Promise<{ entries: PartitionReplicas[]; version: number } | null> {
    const zk = this.store.zk;
    const found = await zk.get(Paths.reassignPartitions, { watch: this.onReassignRequest });
    if (found === null) {
      // Watch for its creation; created between the two reads, it is read now.
      if ((await zk.exists(Paths.reassignPartitions, { watch: this.onReassignRequest })) !== null) this.again = true;
      return null;
    }
    try {
      return { entries: decodeReassignment(found.data), version: found.stat.version };
    } catch (e) {
      // Never readable: removed, or it would block every later request the ZooKeeper way.
      this.logger.warn({ err: (e as Error).message }, 'unreadable /admin/reassign_partitions removed');
      return { entries: [], version: found.stat.version };
    }
  }

  /** Keeps the /admin/reassign_partitions entries `keep` accepts; removes the znode when none is left. */
  private async updateZkReassignments(keep: (e: PartitionReplicas) => boolean): Promise<void> {
    for (let attempt = 0; attempt < REASSIGN_ATTEMPTS; attempt++) {
      const current = await this.readZkReassignments();
      if (current === null) return;
      const kept = current.entries.filter(keep);
      if (kept.length === current.entries.length && kept.length > 0) return;
      if (await this.writeZkReassignments(kept, current.version)) return;
    }
  }

  private async writeZkReassignments(entries: readonly PartitionReplicas[], version: number): Promise<boolean> {
    try {
      await this.store.zk.multi([
        { op: 'check', path: Paths.controllerEpoch, version: this.epochVersion },
        entries.length === 0
          ? { op: 'delete', path: Paths.reassignPartitions, version }
          : { op: 'set', path: Paths.reassignPartitions, data: encodeReassignment(entries), version },
      ]);
      if (entries.length === 0) this.logger.info('every reassignment of /admin/reassign_partitions is done');
      return true;
    } catch (e) {
      if (isZkError(e, 'BAD_VERSION') || isZkError(e, 'NO_NODE')) return false;
      throw e;
    }
  }

  /**
   * Carries out /admin/reassign_partitions, the way older tools (kafka-reassign-partitions.sh --zookeeper) ask:
   * entries not started yet are started (invalid ones dropped, as Kafka does), finished ones are removed, and the
   * znode goes once none is left.
   */
  private async processZkReassignments(): Promise<void> {
    const current = await this.readZkReassignments();
    if (current === null) return;
    const kept: PartitionReplicas[] = [];
    for (const e of current.entries) {
      if (!this.active) return;
      const s = this.store.states(e.topic)[e.partition];
      if (s === undefined) {
        this.logger.warn({ topic: e.topic, partition: e.partition }, 'reassignment of an unknown partition dropped');
        continue;
      }
      if (!isReassigning(s) && sameList(s.replicas, e.replicas)) {
        this.logger.info({ topic: e.topic, partition: e.partition, replicas: e.replicas }, 'reassignment done');
        continue;
      }
      if (!(isReassigning(s) && sameList(targetReplicas(s), e.replicas))) {
        const [answer] = await this.reassign(e.topic, [{ partition: e.partition, replicas: e.replicas }]);
        if (answer!.errorCode !== ErrorCode.NONE) {
          this.logger.warn(
            { topic: e.topic, partition: e.partition, replicas: e.replicas, err: answer!.message },
            'reassignment in /admin/reassign_partitions refused',
          );
          continue;
        }
      }
      kept.push(e);
    }
    if (kept.length === current.entries.length && kept.length > 0) return;
    if (!(await this.writeZkReassignments(kept, current.version))) this.again = true;
  }

  /** auto.leader.rebalance.enable: preferred elections for brokers leading too few of their preferred partitions. */
  private async rebalance(): Promise<void> {
    const live = this.eligible();
    const preferredOf = new Map<number, { total: number; elsewhere: { topic: string; partition: number }[] }>();
    for (const t of this.store.topics()) {
      for (const p of t.partitions) {
        const preferred = p.replicas[0];
        if (preferred === undefined) continue;
        const entry = preferredOf.get(preferred) ?? { total: 0, elsewhere: [] };
        entry.total++;
        if (p.leader !== preferred && p.isr.includes(preferred))
          entry.elsewhere.push({ topic: t.name, partition: p.partition });
        preferredOf.set(preferred, entry);
      }
    }
    for (const [broker, { total, elsewhere }] of preferredOf) {
      if (!live.has(broker) || elsewhere.length === 0) continue;
      if ((elsewhere.length * 100) / total <= this.options.imbalancePercentage) continue;
      this.logger.info({ broker, partitions: elsewhere.length, of: total }, 'leader imbalance: preferred elections');
      await this.electLeaders(PREFERRED, elsewhere);
    }
  }

  /** Live brokers that may lead and be in sync (not in controlled shutdown). */
  private eligible(): Set<number> {
    const live = new Set(this.store.brokers().map((b) => b.id));
    for (const id of this.shuttingDown) {
      if (live.has(id)) live.delete(id);
      else this.shuttingDown.delete(id);
    }
    return live;
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
    if (this.active) await this.inTurn(() => this.reconcile());
  }

  /** Runs `work` once the reconciliation or request before it has finished. */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.then(work, work);
    this.turn = run.catch(() => {});
    return run;
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

  private readonly onDeleteRequest = (e: { type: string }): void => {
    if (e.type === 'childrenChanged' && this.active) this.schedule();
  };

  /** Deletes the topics named under /admin/delete_topics, then the requests. */
  private async deleteRequestedTopics(): Promise<void> {
    const zk = this.store.zk;
    const requested = await zk.children(Paths.deleteTopics, { watch: this.onDeleteRequest });
    for (const name of requested) {
      if (!this.active) return;
      if (this.store.topic(name) !== undefined) {
        try {
          await this.store.deleteTopic(name);
          this.logger.info({ topic: name }, 'topic deleted on request in /admin/delete_topics');
        } catch (e) {
          this.logger.warn({ topic: name, err: (e as Error).message }, 'requested topic deletion failed');
          continue;
        }
      }
      try {
        await zk.delete(Paths.deleteTopic(name));
      } catch (e) {
        if (!isZkError(e, 'NO_NODE')) throw e;
      }
    }
  }

  /**
   * Completes the reassignment of `s` when every target replica is in sync (see reassignment.ts): the replicas
   * become the targets, the removed ones leave the ISR, the leader moves when it is not a target, all in one
   * write. False when this broker lost its office.
   */
  private async completeReassignment(topic: string, partition: number, live: ReadonlySet<number>): Promise<boolean> {
    // The image as it is now (the reconciliation's copy may be older), with the topic version it goes with.
    const s = this.store.states(topic)[partition];
    const topicVersion = this.store.topicVersion(topic);
    const done = s === undefined || s.zkVersion < 0 ? null : completeReassignment(s, s, live);
    if (s === undefined || done === null) return true;
    const { assignment, state } = done;
    const same = state.leader === s.leader && state.leaderEpoch === s.leaderEpoch && sameList(state.isr, s.isr);
    const ok = await this.store.writeAssignments(
      topic,
      topicVersion,
      new Map([[partition, { assignment, state: same ? null : state, stateVersion: s.zkVersion }]]),
      this.epoch,
      this.epochVersion,
    );
    if (!ok) {
      if (await this.lostOffice()) return false;
      this.again = true;
      return true;
    }
    this.logger.info(
      { topic, partition: s.partition, replicas: assignment.replicas, leader: state.leader, isr: state.isr },
      'partition reassignment completed',
    );
    return true;
  }

  /** Brings every partition's leader and ISR in line with the live brokers. */
  private async reconcile(): Promise<void> {
    await this.deleteRequestedTopics();
    await this.processZkReassignments();
    const registered = new Set(this.store.brokers().map((b) => b.id));
    const live = this.eligible();
    for (const topic of [...this.store.topics()]) {
      const unclean = topic.configs['unclean.leader.election.enable'] === 'true';
      for (const s of this.store.states(topic.name)) {
        if (!this.active) return;
        const next = desiredState(s, live, unclean, registered);
        if (next === null) {
          // Settled: a reassignment whose targets are all in sync completes.
          if (isReassigning(s) && !(await this.completeReassignment(topic.name, s.partition, live))) return;
          continue;
        }
        const ok = await this.store.writePartitionState(
          topic.name,
          s.partition,
          { ...next, controllerEpoch: this.epoch },
          s.zkVersion,
          this.epochVersion,
        );
        if (!ok) {
          // Either the state moved on (read again and retry) or the epoch did (we are no longer the controller).
          if (await this.lostOffice()) return;
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

/** NOT_CONTROLLER for a request whose answer the controller could no longer write. */
function notController(nodeId: number): { errorCode: number; message: string } {
  return { errorCode: ErrorCode.NOT_CONTROLLER, message: `broker ${nodeId} is no longer the controller` };
}

/**
 * The state a partition should have with `live` brokers, or null when it already has it. Leader epochs move on
 * every change of leader (a new epoch is what lets followers and clients tell old leaders from new).
 */
export function desiredState(
  s: VersionedState,
  live: ReadonlySet<number>,
  unclean: boolean,
  registered: ReadonlySet<number> = live,
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
  // A leader in controlled shutdown that is the only one in sync keeps the partition until it really stops.
  if (s.leader >= 0 && registered.has(s.leader)) return null;
  if (unclean) {
    const any = s.replicas.find((r) => live.has(r));
    if (any !== undefined) return { leader: any, leaderEpoch: s.leaderEpoch + 1, isr: [any] };
  }
  // Nobody in sync is alive: leaderless, and the ISR keeps its last members.
  if (s.leader === -1) return null;
  return { leader: -1, leaderEpoch: s.leaderEpoch + 1, isr: s.isr.length > 0 ? [...s.isr] : [] };
}
