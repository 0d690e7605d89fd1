/**
 * Membership in a classic consumer group (the JoinGroup/SyncGroup protocol), as Kafka's consumers do it:
 *
 * - Join: JoinGroup with the subscription (topics, owned partitions and generation: KIP-429) under every configured
 *   assignor's name; a first join without member id gets MEMBER_ID_REQUIRED and the id to use, and joins again with
 *   it (KIP-394). Static members send their `groupInstanceId` (KIP-345, JoinGroup v5+).
 * - The leader runs the agreed assignor over all members' subscriptions and the topics' partition counts, unless
 *   the coordinator says to skip it (a static leader that merely restarted, JoinGroup v9).
 * - SyncGroup hands out the assignment. Eager protocols gave up every partition before joining; cooperative ones
 *   keep them, give up only those the new assignment moves elsewhere, and then rejoin at once so that the moved
 *   partitions can be handed over in a second rebalance.
 * - Heartbeats every `heartbeatIntervalMs` while stable. REBALANCE_IN_PROGRESS means rejoin (keeping the
 *   partitions until the rejoin gives them up); ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID mean the partitions are
 *   lost (their new owners may already have them), FENCED_INSTANCE_ID that another process took this static
 *   member's place (fatal).
 * - Every `metadataMaxAgeMs` the subscribed topics' partition counts (and, for a pattern, the topics it matches)
 *   are compared with those of the last join; a change triggers a rejoin, so added partitions get assigned.
 * - Leaving: LeaveGroup on close for dynamic members. Static members do not leave (as in Kafka): a restart within
 *   the session timeout takes the same place without a rebalance.
 *
 * What happens to the partitions themselves (waiting for the application, committing, calling the rebalance
 * listener) is up to the consumer, through the hooks, each awaited before the rebalance goes on.
 *
 * Concurrency: one membership loop at a time (joins never overlap); heartbeats run on a timer beside it and only
 * while the member is stable; group requests share the coordinator connection, which answers in order.
 */

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type {
  HeartbeatResponse,
  JoinGroupResponse,
  LeaveGroupResponse,
  SyncGroupResponse,
} from '../../protocol/index.js';
import { isRetriableError, KafkaClientError } from '../errors.js';
import type { Cluster, ClusterMetadata } from '../network/cluster.js';
import type { Assignor, GroupMemberSubscription } from './assignors.js';
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from './consumer-protocol.js';
import type { CoordinatorClient } from './coordinator.js';
import { sleep } from './offsets.js';
import { partitionKey } from './state.js';
import type { GroupEvent, TopicPartition } from './types.js';

const JOIN_GROUP = 11;
const HEARTBEAT = 12;
const LEAVE_GROUP = 13;
const SYNC_GROUP = 14;

export interface MembershipOptions {
  groupId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  metadataMaxAgeMs: number;
  retryBackoffMs: number;
  assignors: readonly Assignor[];
}

export interface MembershipHooks {
  /** The partitions this member owns now. */
  owned(): TopicPartition[];
  /** Gives partitions up cleanly (the application may commit). */
  revoke(partitions: TopicPartition[]): Promise<void>;
  /** Takes partitions on. */
  assign(partitions: TopicPartition[]): Promise<void>;
  /** Drops partitions that were taken away (no commit possible). */
  lose(partitions: TopicPartition[]): Promise<void>;
  /** The member cannot go on (e.g. fenced by another instance with its group.instance.id). */
  fatal(e: Error): void;
  /** Membership milestones, for monitoring. */
  event?(e: GroupEvent): void;
}

export type MemberState = 'unjoined' | 'preparing' | 'joining' | 'stable';

/** Join errors after which joining again cannot succeed. */
const FATAL_JOIN_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.FENCED_INSTANCE_ID,
  ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  ErrorCode.INVALID_SESSION_TIMEOUT,
  ErrorCode.GROUP_AUTHORIZATION_FAILED,
  ErrorCode.GROUP_MAX_SIZE_REACHED,
  ErrorCode.INVALID_GROUP_ID,
  ErrorCode.UNSUPPORTED_VERSION,
  ErrorCode.UNRELEASED_INSTANCE_ID,
]);

const sameCounts = (a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean =>
  a.size === b.size && [...a].every(([t, n]) => b.get(t) === n);

export class GroupMembership {
  memberId = '';
  generationId = -1;
  protocolName: string | null = null;
  state: MemberState = 'unjoined';
  private subscription: readonly string[] | RegExp = [];
  private rejoinReason: string | null = 'first join';
  /** The partitions were taken away (fenced generation): the next join reports them lost, not revoked. */
  private lostPartitions = false;
  /** Partition count per topic the member watches (its own, plus the whole group's when leader) at the last join. */
  private watched = new Map<string, number>();
  private watchedGroupTopics: string[] = [];
  private loop: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private metadataTimer: NodeJS.Timeout | null = null;
  private readonly cooperative: boolean;

  constructor(
    private readonly cluster: Cluster,
    private readonly coordinator: CoordinatorClient,
    private readonly options: MembershipOptions,
    private readonly hooks: MembershipHooks,
  ) {
    // A member rebalances cooperatively only when every protocol it offers is cooperative (as in Kafka).
    this.cooperative = options.assignors.every((a) => a.rebalanceProtocol === 'cooperative');
  }

  get isCooperative(): boolean {
    return this.cooperative;
  }

  subscribe(topics: readonly string[] | RegExp): void {
    this.subscription = topics;
    this.requestRejoin('the subscription changed');
    this.start();
  }

  /** Asks for a rejoin at the next opportunity. */
  requestRejoin(reason: string): void {
    this.rejoinReason ??= reason;
    this.wake?.();
  }

  private start(): void {
    if (this.loop !== null || this.stopped) return;
    this.loop = this.run().finally(() => {
      this.loop = null;
    });
    this.metadataTimer = setInterval(() => void this.checkMetadata(), this.options.metadataMaxAgeMs);
    this.metadataTimer.unref();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      if (this.rejoinReason === null) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = null;
        continue;
      }
      const reason = this.rejoinReason;
      this.rejoinReason = null;
      try {
        await this.join(reason);
        failures = 0;
      } catch (e) {
        if (this.stopped) break;
        if (e instanceof KafkaError && FATAL_JOIN_ERRORS.has(e.code)) {
          this.state = 'unjoined';
          this.stopped = true;
          this.hooks.fatal(e);
          break;
        }
        if (this.coordinator.isCoordinatorError(e)) this.coordinator.markUnknown();
        this.state = 'unjoined';
        this.rejoinReason ??= `the last join failed: ${(e as Error).message}`;
        failures++;
        // Member errors are answered by an immediate rejoin; anything else waits a growing backoff.
        const memberError =
          e instanceof KafkaError &&
          (e.code === ErrorCode.UNKNOWN_MEMBER_ID ||
            e.code === ErrorCode.ILLEGAL_GENERATION ||
            e.code === ErrorCode.REBALANCE_IN_PROGRESS ||
            e.code === ErrorCode.MEMBER_ID_REQUIRED);
        if (!memberError) await sleep(Math.min(this.options.retryBackoffMs * 2 ** Math.min(failures, 5), 5000));
      }
    }
  }

  /** The topics the subscription stands for now (fresh metadata), and the partition counts of those that exist. */
  private async subscribedTopics(): Promise<{ topics: string[]; counts: Map<string, number> }> {
    const sub = this.subscription;
    let md: ClusterMetadata;
    if (sub instanceof RegExp) md = await this.cluster.refresh({ allTopics: true });
    else {
      this.cluster.addTopics(sub);
      md = await this.cluster.refresh();
    }
    const topics =
      sub instanceof RegExp
        ? [...md.topics.values()].filter((t) => !t.internal && sub.test(t.name)).map((t) => t.name)
        : [...sub];
    topics.sort();
    const counts = new Map<string, number>();
    for (const t of topics) {
      const tm = md.topics.get(t);
      if (tm !== undefined && tm.errorCode === ErrorCode.NONE) counts.set(t, tm.partitions.length);
    }
    return { topics, counts };
  }

  private identity(): { groupId: string; memberId: string; groupInstanceId: string | null } {
    return { groupId: this.options.groupId, memberId: this.memberId, groupInstanceId: this.options.groupInstanceId };
  }

  private async join(reason: string): Promise<void> {
    // Heartbeats go on while the partitions are given up (that may wait for the application), so that the
    // coordinator does not expire the member meanwhile; they stop once the JoinGroup is sent.
    const startedAt = Date.now();
    if (this.memberId !== '') {
      this.hooks.event?.({
        type: 'rebalancing',
        groupId: this.options.groupId,
        memberId: this.memberId,
        generationId: this.generationId,
        reason,
      });
    }
    this.state = 'preparing';
    const { topics, counts } = await this.subscribedTopics();
    const owned = this.hooks.owned();
    if (this.lostPartitions) {
      this.lostPartitions = false;
      if (owned.length > 0) await this.hooks.lose(owned);
    } else if (!this.cooperative) {
      if (owned.length > 0) await this.hooks.revoke(owned);
    } else {
      const gone = owned.filter((tp) => !topics.includes(tp.topic));
      if (gone.length > 0) await this.hooks.revoke(gone);
    }
    if (this.stopped) return;
    this.state = 'joining';
    this.stopHeartbeats();
    const stillOwned = this.hooks.owned();
    const metadata = encodeSubscription({
      topics,
      userData: null,
      ownedPartitions: stillOwned,
      generationId: this.generationId,
    });
    const conn = await this.coordinator.connection();
    const minJoin = this.options.groupInstanceId === null ? 1 : 5;
    const joinVersion = conn.version(JOIN_GROUP, minJoin, 9);
    const timeoutMs = this.options.rebalanceTimeoutMs + 5000;
    let joined: JoinGroupResponse;
    for (let attempt = 0; ; attempt++) {
      joined = await conn.send<JoinGroupResponse>(
        JOIN_GROUP,
        joinVersion,
        {
          ...this.identity(),
          groupInstanceId: joinVersion >= 5 ? this.options.groupInstanceId : null,
          sessionTimeoutMs: this.options.sessionTimeoutMs,
          rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
          protocolType: CONSUMER_PROTOCOL_TYPE,
          protocols: this.options.assignors.map((a) => ({ name: a.name, metadata })),
          reason: joinVersion >= 8 ? reason : null,
        },
        { timeoutMs },
      );
      // KIP-394: the coordinator hands out the member id first; join again with it.
      if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED && attempt === 0) {
        this.memberId = joined.memberId;
        continue;
      }
      break;
    }
    if (joined.errorCode !== ErrorCode.NONE) {
      if (joined.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.resetMember(false);
      throw new KafkaError(
        joined.errorCode,
        `JoinGroup ${this.options.groupId}: ${new KafkaError(joined.errorCode).message}`,
      );
    }
    this.memberId = joined.memberId;
    this.generationId = joined.generationId;
    this.protocolName = joined.protocolName;
    const leader = joined.leader === this.memberId;
    this.watched = counts;
    this.watchedGroupTopics = [];
    let assignments: { memberId: string; assignment: Buffer }[] = [];
    if (leader && !joined.skipAssignment) assignments = await this.assignAsLeader(joined);

    const syncVersion = conn.version(SYNC_GROUP, 0, 5);
    const synced = await conn.send<SyncGroupResponse>(
      SYNC_GROUP,
      syncVersion,
      {
        ...this.identity(),
        groupInstanceId: syncVersion >= 3 ? this.options.groupInstanceId : null,
        generationId: this.generationId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName: this.protocolName,
        assignments,
      },
      { timeoutMs },
    );
    if (synced.errorCode !== ErrorCode.NONE) {
      if (synced.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || synced.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        this.resetMember(synced.errorCode === ErrorCode.ILLEGAL_GENERATION);
      }
      throw new KafkaError(
        synced.errorCode,
        `SyncGroup ${this.options.groupId}: ${new KafkaError(synced.errorCode).message}`,
      );
    }
    const assigned = decodeAssignment(synced.assignment).partitions;
    this.state = 'stable';
    this.scheduleHeartbeat();

    const current = this.hooks.owned();
    const assignedKeys = new Set(assigned.map((tp) => partitionKey(tp.topic, tp.partition)));
    const currentKeys = new Set(current.map((tp) => partitionKey(tp.topic, tp.partition)));
    const revoked = current.filter((tp) => !assignedKeys.has(partitionKey(tp.topic, tp.partition)));
    const added = assigned.filter((tp) => !currentKeys.has(partitionKey(tp.topic, tp.partition)));
    if (revoked.length > 0) await this.hooks.revoke(revoked);
    await this.hooks.assign(added);
    this.hooks.event?.({
      type: 'joined',
      groupId: this.options.groupId,
      memberId: this.memberId,
      generationId: this.generationId,
      leaderId: joined.leader,
      protocol: this.protocolName ?? '',
      durationMs: Date.now() - startedAt,
      assignment: assigned,
    });
    // KIP-429: partitions given up go to their new owners in a follow-up rebalance.
    if (revoked.length > 0 && this.cooperative) this.requestRejoin('partitions were revoked for other members');
  }

  private async assignAsLeader(joined: JoinGroupResponse): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.options.assignors.find((a) => a.name === joined.protocolName);
    if (assignor === undefined) {
      throw new KafkaClientError(`the group chose protocol ${joined.protocolName}, which this consumer does not offer`);
    }
    const members: GroupMemberSubscription[] = joined.members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      subscription: decodeSubscription(m.metadata),
    }));
    const allTopics = [...new Set(members.flatMap((m) => m.subscription.topics))].sort();
    this.cluster.addTopics(allTopics);
    const md = await this.cluster.refresh();
    const partitionsPerTopic = new Map<string, number>();
    for (const t of allTopics) {
      const tm = md.topics.get(t);
      if (tm !== undefined && tm.errorCode === ErrorCode.NONE) partitionsPerTopic.set(t, tm.partitions.length);
    }
    // The leader watches every member's topics: a partition added to any of them needs a new assignment.
    this.watchedGroupTopics = allTopics;
    for (const [t, n] of partitionsPerTopic) this.watched.set(t, n);
    const result = assignor.assign(members, partitionsPerTopic);
    return members.map((m) => ({
      memberId: m.memberId,
      assignment: encodeAssignment({ partitions: result.get(m.memberId) ?? [], userData: null }),
    }));
  }

  /** After a fenced generation: forget the generation (and the member id when the coordinator forgot it). */
  private resetMember(keepMemberId: boolean): void {
    if (!keepMemberId) this.memberId = '';
    this.generationId = -1;
    this.lostPartitions = true;
  }

  /** Called when a commit or heartbeat says this member is out of its generation. */
  fenced(code: number): void {
    if (code === ErrorCode.REBALANCE_IN_PROGRESS) {
      if (this.state === 'stable') this.requestRejoin('the group is rebalancing');
      return;
    }
    this.stopHeartbeats();
    this.state = 'unjoined';
    this.resetMember(code !== ErrorCode.UNKNOWN_MEMBER_ID);
    this.requestRejoin(`the member was fenced (${new KafkaError(code).errorName})`);
  }

  private scheduleHeartbeat(): void {
    this.stopHeartbeats();
    this.heartbeatTimer = setTimeout(() => void this.heartbeat(), this.options.heartbeatIntervalMs);
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private beating(): boolean {
    return (this.state === 'stable' || this.state === 'preparing') && !this.stopped;
  }

  private async heartbeat(): Promise<void> {
    this.heartbeatTimer = null;
    if (!this.beating()) return;
    const generation = this.generationId;
    let code: number;
    try {
      const conn = await this.coordinator.connection();
      const v = conn.version(HEARTBEAT, 0, 4);
      const res = await conn.send<HeartbeatResponse>(HEARTBEAT, v, {
        ...this.identity(),
        groupInstanceId: v >= 3 ? this.options.groupInstanceId : null,
        generationId: generation,
      });
      code = res.errorCode;
    } catch (e) {
      if (this.coordinator.isCoordinatorError(e) || isRetriableError(e)) this.coordinator.markUnknown();
      code = -1;
    }
    if (!this.beating() || generation !== this.generationId) return;
    switch (code) {
      case ErrorCode.NONE:
        this.hooks.event?.({
          type: 'heartbeat',
          groupId: this.options.groupId,
          memberId: this.memberId,
          generationId: generation,
        });
        break;
      case -1:
        break;
      case ErrorCode.REBALANCE_IN_PROGRESS:
        // While preparing, the rejoin under way answers it.
        if (this.state === 'stable') this.requestRejoin('the group is rebalancing');
        break;
      case ErrorCode.ILLEGAL_GENERATION:
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.fenced(code);
        return;
      case ErrorCode.FENCED_INSTANCE_ID:
        this.stopped = true;
        this.state = 'unjoined';
        this.hooks.fatal(new KafkaError(code, `group ${this.options.groupId}: ${new KafkaError(code).message}`));
        this.wake?.();
        return;
      default:
        if (this.coordinator.isCoordinatorError(new KafkaError(code))) this.coordinator.markUnknown();
    }
    if (this.heartbeatTimer === null && this.beating()) {
      this.heartbeatTimer = setTimeout(
        () => void this.heartbeat(),
        code === ErrorCode.NONE ? this.options.heartbeatIntervalMs : this.options.retryBackoffMs,
      );
    }
  }

  /** Rejoins when a watched topic's partition count changed or the pattern matches other topics. */
  private async checkMetadata(): Promise<void> {
    if (this.state !== 'stable' || this.stopped) return;
    try {
      // The group's topics join the refresh that the subscription's check makes.
      this.cluster.addTopics(this.watchedGroupTopics);
      const { counts } = await this.subscribedTopics();
      if (this.watchedGroupTopics.length > 0) {
        const md = await this.cluster.metadata();
        for (const t of this.watchedGroupTopics) {
          const tm = md.topics.get(t);
          if (tm !== undefined && tm.errorCode === ErrorCode.NONE) counts.set(t, tm.partitions.length);
        }
      }
      if (this.state === 'stable' && !sameCounts(counts, this.watched)) {
        this.requestRejoin('the subscribed topics or their partition counts changed');
      }
    } catch {
      // The next check tries again.
    }
  }

  /** Stops joining and heartbeating; waits for a join in progress to end (a JoinGroup in flight is cut off). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopHeartbeats();
    if (this.metadataTimer !== null) clearInterval(this.metadataTimer);
    this.metadataTimer = null;
    if (this.state === 'joining') this.coordinator.markUnknown();
    this.wake?.();
    await this.loop?.catch(() => {});
  }

  /** Sends LeaveGroup (dynamic members only; static members keep their place for a restart). */
  async leave(reason: string): Promise<void> {
    const memberId = this.memberId;
    this.state = 'unjoined';
    this.generationId = -1;
    if (memberId === '' || this.options.groupInstanceId !== null) return;
    this.memberId = '';
    try {
      const conn = await this.coordinator.connection();
      const v = conn.version(LEAVE_GROUP, 0, 5);
      await conn.send<LeaveGroupResponse>(
        LEAVE_GROUP,
        v,
        v >= 3
          ? {
              groupId: this.options.groupId,
              members: [{ memberId, groupInstanceId: null, reason: v >= 5 ? reason : null }],
            }
          : { groupId: this.options.groupId, memberId },
      );
    } catch {
      // The session timeout removes the member anyway.
    }
  }
}
