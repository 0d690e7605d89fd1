/**
 * The classic group coordinator: one object per broker holding the groups it coordinates and answering JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch (one or many groups, KIP-709), OffsetDelete,
 * ListGroups (KIP-518 state filter, KIP-848 type filter), DescribeGroups and DeleteGroups with Kafka's semantics
 * and error codes. Results are plain data; the handler layer maps them to wire responses.
 *
 * This module does the checks every request shares (Kafka's validateGroupStatus: INVALID_GROUP_ID for an empty id
 * where a group is required, COORDINATOR_NOT_AVAILABLE after `close()`, COORDINATOR_LOAD_IN_PROGRESS while loading,
 * NOT_COORDINATOR for groups this broker does not own) and the group lifecycle (load, unload, describe, list,
 * delete); membership lives in `membership.ts`, offsets in `offset-manager.ts`, the state machine in `group.ts`.
 *
 * Socket- and disk-free: time comes from an injected `Scheduler`, and `__consumer_offsets` writes go through the
 * injected `GroupPersistence`, awaited where Kafka waits for its append (see `types.ts`).
 *
 * Concurrency: single-threaded. Operations run synchronously up to a persistence write; results resolve after it.
 * Parked JoinGroup/SyncGroup promises resolve when their round completes (or with NOT_COORDINATOR on unload/close).
 */

import { randomUUID } from 'node:crypto';
import { Writer } from '../../protocol/codec/writer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { writeConsumerProtocolAssignment } from '../../protocol/generated/data/consumer-protocol-assignment.js';
import { writeConsumerProtocolSubscription } from '../../protocol/generated/data/consumer-protocol-subscription.js';
import type { GroupMetadataValue } from '../../protocol/generated/data/group-metadata-value.js';
import type { Assignment } from './consumer/assignment.js';
import { ConsumerGroup } from './consumer/consumer-group.js';
import { ConsumerMembership } from './consumer/consumer-membership.js';
import { type ConsumerGroupSnapshot, restoreConsumerGroup } from './consumer/restore.js';
import {
  type ConsumerGroupDescribed,
  type ConsumerGroupHeartbeatRequest,
  type ConsumerGroupHeartbeatResult,
  EMPTY_CATALOG,
  type TopicCatalog,
} from './consumer/types.js';
import { type AnyGroup, type CoordinatorContext, type GroupLogger, SILENT_LOGGER } from './context.js';
import { ClassicGroup } from './group.js';
import { restoreGroup } from './load.js';
import { joinError, Membership, syncError } from './membership.js';
import { OffsetManager } from './offset-manager.js';
import { realScheduler, type Scheduler, TimerTable } from './scheduler.js';
import {
  type CommitValidation,
  DEFAULT_GROUP_COORDINATOR_CONFIG,
  type DeleteGroupsResultEntry,
  type DescribedGroup,
  type GroupCoordinatorConfig,
  type GroupPersistence,
  type HeartbeatRequest,
  type JoinGroupRequest,
  type JoinGroupResult,
  type LeaveGroupRequest,
  type LeaveGroupResult,
  type ListGroupsRequest,
  type ListGroupsResult,
  type OffsetCommitEntry,
  type OffsetCommitRequest,
  type OffsetDeleteResult,
  type OffsetFetchResult,
  type PartitionError,
  type StoredOffset,
  type SyncGroupRequest,
  type SyncGroupResult,
  type TopicPartition,
} from './types.js';

/** Persistence that keeps nothing (state lives in memory only). */
export const NO_PERSISTENCE: GroupPersistence = {
  storeGroup: () => Promise.resolve(),
  storeOffsets: () => Promise.resolve(),
  removeOffsets: () => Promise.resolve(),
};

export interface GroupCoordinatorOptions {
  config?: Partial<GroupCoordinatorConfig>;
  scheduler?: Scheduler;
  persistence?: GroupPersistence;
  logger?: GroupLogger;
  /** Whether this broker coordinates the group (leads its `__consumer_offsets` partition); default always. */
  isCoordinatorFor?: (groupId: string) => boolean;
  /** Whether the group's records are being loaded (its partition just became led here): COORDINATOR_LOAD_IN_PROGRESS. */
  isLoadingFor?: (groupId: string) => boolean;
  /** UUIDs for member ids; default crypto.randomUUID. */
  randomId?: () => string;
  /** The cluster's topics, for KIP-848 subscriptions (names, regexes) and assignments (topic ids). */
  topics?: TopicCatalog;
}

/** Who asks in an OffsetFetch v9+ (KIP-848 members are checked against their group). */
export interface FetchingMember {
  memberId: string | null;
  memberEpoch: number;
}

type DescribedTopicList = ConsumerGroupDescribed['members'][number]['assignment'];

/** Which requests accept the empty group id (Kafka keeps it for offsets and admin APIs). */
type GroupIdRule = 'non-empty' | 'any';

export class GroupCoordinator {
  private readonly ctx: CoordinatorContext;
  private readonly membership: Membership;
  private readonly consumerMembership: ConsumerMembership;
  private readonly offsetManager: OffsetManager;
  private readonly isCoordinatorFor: (groupId: string) => boolean;
  private readonly isLoadingFor: (groupId: string) => boolean;
  private active = true;
  private loading = false;

  constructor(options: GroupCoordinatorOptions = {}) {
    const scheduler = options.scheduler ?? realScheduler;
    this.ctx = {
      config: Object.freeze({ ...DEFAULT_GROUP_COORDINATOR_CONFIG, ...options.config }),
      scheduler,
      timers: new TimerTable(scheduler),
      persistence: options.persistence ?? NO_PERSISTENCE,
      groups: new Map(),
      log: options.logger ?? SILENT_LOGGER,
      randomId: options.randomId ?? randomUUID,
    };
    this.membership = new Membership(this.ctx);
    const topics = options.topics ?? EMPTY_CATALOG;
    this.consumerMembership = new ConsumerMembership(this.ctx, () => topics);
    this.offsetManager = new OffsetManager(this.ctx, this.membership);
    this.isCoordinatorFor = options.isCoordinatorFor ?? (() => true);
    this.isLoadingFor = options.isLoadingFor ?? (() => false);
  }

  get config(): Readonly<GroupCoordinatorConfig> {
    return this.ctx.config;
  }

  /** Kafka's validateGroupStatus. */
  private statusError(groupId: string, rule: GroupIdRule): number {
    if (rule === 'non-empty' && groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (this.loading || this.isLoadingFor(groupId)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (!this.isCoordinatorFor(groupId)) return ErrorCode.NOT_COORDINATOR;
    return ErrorCode.NONE;
  }

  // ---- membership -----------------------------------------------------------------------------------------------

  joinGroup(req: JoinGroupRequest): Promise<JoinGroupResult> {
    const status = this.statusError(req.groupId, 'non-empty');
    if (status !== ErrorCode.NONE) return Promise.resolve(joinError(req.memberId, status));
    return this.membership.joinGroup(req);
  }

  syncGroup(req: SyncGroupRequest): Promise<SyncGroupResult> {
    const status = this.statusError(req.groupId, 'non-empty');
    // While loading, the rebalance state is lost anyway: REBALANCE_IN_PROGRESS makes the member rejoin without
    // looking for the coordinator again (older clients do not expect COORDINATOR_LOAD_IN_PROGRESS here).
    if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) {
      return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    }
    if (status !== ErrorCode.NONE) return Promise.resolve(syncError(status));
    return this.membership.syncGroup(req);
  }

  heartbeat(req: HeartbeatRequest): Promise<{ errorCode: number }> {
    const status = this.statusError(req.groupId, 'non-empty');
    // Kafka answers heartbeats blindly while loading.
    if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return Promise.resolve({ errorCode: ErrorCode.NONE });
    if (status !== ErrorCode.NONE) return Promise.resolve({ errorCode: status });
    return Promise.resolve({ errorCode: this.membership.heartbeat(req) });
  }

  leaveGroup(req: LeaveGroupRequest): Promise<LeaveGroupResult> {
    const status = this.statusError(req.groupId, 'non-empty');
    if (status !== ErrorCode.NONE) return Promise.resolve({ errorCode: status, members: [] });
    return Promise.resolve(this.membership.leaveGroup(req));
  }

  // ---- KIP-848 consumer groups ----------------------------------------------------------------------------------

  /** ConsumerGroupHeartbeat: join, heartbeat, reconcile, leave (see `consumer/consumer-membership.ts`). */
  consumerGroupHeartbeat(req: ConsumerGroupHeartbeatRequest): Promise<ConsumerGroupHeartbeatResult> {
    const status = req.groupId === '' ? ErrorCode.NONE : this.statusError(req.groupId, 'any');
    if (status !== ErrorCode.NONE) {
      return Promise.resolve({
        errorCode: status,
        errorMessage: null,
        memberId: null,
        memberEpoch: -1,
        heartbeatIntervalMs: 0,
        assignment: null,
      });
    }
    return this.consumerMembership.heartbeat(req);
  }

  /** ConsumerGroupDescribe: GROUP_ID_NOT_FOUND for groups that do not exist or are classic groups. */
  consumerGroupDescribe(groupIds: readonly string[]): Promise<ConsumerGroupDescribed[]> {
    return Promise.resolve(
      groupIds.map((groupId) => {
        const failed = (errorCode: number, errorMessage: string | null): ConsumerGroupDescribed => ({
          groupId,
          errorCode,
          errorMessage,
          groupState: '',
          groupEpoch: 0,
          assignmentEpoch: 0,
          assignorName: '',
          members: [],
        });
        const status = this.statusError(groupId, 'non-empty');
        if (status !== ErrorCode.NONE) return failed(status, null);
        const g = this.ctx.groups.get(groupId);
        if (g === undefined || g.is('Dead')) return failed(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} not found.`);
        if (!(g instanceof ConsumerGroup)) {
          return failed(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a consumer group.`);
        }
        return this.consumerMembership.describe(g);
      }),
    );
  }

  // ---- offsets --------------------------------------------------------------------------------------------------

  /** The error an OffsetCommit with this identity would get (NONE when it would be stored). */
  validateCommit(req: CommitValidation): number {
    const status = this.statusError(req.groupId, 'any');
    if (status !== ErrorCode.NONE) return status;
    return this.offsetManager.validateCommit(req);
  }

  /** OffsetCommit: validation, then `storeOffsets`; one result per partition, in request order. */
  offsetCommit(req: OffsetCommitRequest): Promise<PartitionError[]> {
    const status = this.statusError(req.groupId, 'any');
    if (status !== ErrorCode.NONE) {
      return Promise.resolve(req.offsets.map((o) => ({ topic: o.topic, partition: o.partition, errorCode: status })));
    }
    return this.offsetManager.commit(req);
  }

  /**
   * Stores offsets without membership validation (the caller validated, e.g. with `validateCommit`, or is an admin
   * path). `commitTimestamp` defaults to the scheduler's now.
   */
  commitOffsets(
    groupId: string,
    offsets: readonly OffsetCommitEntry[],
    commitTimestamp = this.ctx.scheduler.now(),
  ): Promise<PartitionError[]> {
    const status = this.statusError(groupId, 'any');
    if (status !== ErrorCode.NONE) {
      return Promise.resolve(offsets.map((o) => ({ topic: o.topic, partition: o.partition, errorCode: status })));
    }
    return this.offsetManager.commitOffsets(groupId, offsets, commitTimestamp);
  }

  /** OffsetFetch for one group; `partitions` null means every committed partition. */
  fetchOffsets(
    groupId: string,
    partitions: readonly TopicPartition[] | null,
    requireStable = false,
    member: FetchingMember | null = null,
  ): Promise<OffsetFetchResult> {
    let status = this.statusError(groupId, 'any');
    if (status === ErrorCode.NONE && member !== null) {
      status = this.offsetManager.validateFetch(groupId, member.memberId, member.memberEpoch);
    }
    if (status !== ErrorCode.NONE) return Promise.resolve({ errorCode: status, offsets: [] });
    return Promise.resolve({
      errorCode: ErrorCode.NONE,
      offsets: this.offsetManager.fetch(groupId, partitions, requireStable),
    });
  }

  /** OffsetFetch v8+: several groups in one request, each with its own error. */
  async fetchOffsetsForGroups(
    groups: readonly {
      groupId: string;
      partitions: readonly TopicPartition[] | null;
      member?: FetchingMember | null;
    }[],
    requireStable = false,
  ): Promise<(OffsetFetchResult & { groupId: string })[]> {
    const out: (OffsetFetchResult & { groupId: string })[] = [];
    for (const g of groups) {
      const result = await this.fetchOffsets(g.groupId, g.partitions, requireStable, g.member ?? null);
      out.push({ groupId: g.groupId, ...result });
    }
    return out;
  }

  /** OffsetDelete (KIP-496). */
  deleteOffsets(groupId: string, partitions: readonly TopicPartition[]): Promise<OffsetDeleteResult> {
    const status = this.statusError(groupId, 'non-empty');
    if (status !== ErrorCode.NONE) return Promise.resolve({ errorCode: status, partitions: [] });
    return this.offsetManager.deleteOffsets(groupId, partitions);
  }

  /**
   * Expires offsets (`offsets.retention.minutes`) and removes Empty groups left without offsets; Kafka runs this
   * every `offsets.retention.check.interval.ms`. Returns the number of offsets removed.
   */
  expireOffsets(now = this.ctx.scheduler.now(), retentionMs = this.ctx.config.offsetsRetentionMs): Promise<number> {
    if (!this.active || this.loading) return Promise.resolve(0);
    return this.offsetManager.expire(now, retentionMs);
  }

  // ---- admin ----------------------------------------------------------------------------------------------------

  listGroups(req: ListGroupsRequest = {}): Promise<ListGroupsResult> {
    if (!this.active) return Promise.resolve({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groups: [] });
    const states = new Set((req.statesFilter ?? []).map((s) => s.toLowerCase()));
    const types = new Set((req.typesFilter ?? []).map((s) => s.toLowerCase()));
    const groups: ListGroupsResult['groups'] = [];
    for (const g of this.ctx.groups.values()) {
      const groupType = g instanceof ConsumerGroup ? 'consumer' : 'classic';
      if (types.size > 0 && !types.has(groupType)) continue;
      if (g.is('Dead') || !this.isCoordinatorFor(g.groupId)) continue;
      if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
      groups.push({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state, groupType });
    }
    const errorCode = this.loading ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
    return Promise.resolve({ errorCode, groups });
  }

  describeGroups(groupIds: readonly string[]): Promise<DescribedGroup[]> {
    return Promise.resolve(groupIds.map((id) => this.describe(id)));
  }

  private describe(groupId: string): DescribedGroup {
    const status = this.statusError(groupId, 'any');
    if (status !== ErrorCode.NONE) {
      return { groupId, errorCode: status, groupState: '', protocolType: '', protocolData: '', members: [] };
    }
    const g = this.ctx.groups.get(groupId);
    if (g === undefined) {
      return {
        groupId,
        errorCode: ErrorCode.NONE,
        groupState: 'Dead',
        protocolType: '',
        protocolData: '',
        members: [],
      };
    }
    if (g instanceof ConsumerGroup) return this.describeConsumerGroup(g);
    const stable = g.is('Stable') && g.protocolName !== null;
    const protocol = g.protocolName ?? '';
    return {
      groupId,
      errorCode: ErrorCode.NONE,
      groupState: g.state,
      protocolType: g.protocolType ?? '',
      protocolData: stable ? protocol : '',
      members: [...g.members].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? (m.metadata(protocol) ?? Buffer.alloc(0)) : Buffer.alloc(0),
        memberAssignment: stable ? m.assignment : Buffer.alloc(0),
      })),
    };
  }

  /**
   * A KIP-848 group through DescribeGroups: protocol type "consumer", the assignor as protocol, and per member its
   * subscription and current assignment in the classic consumer protocol's encodings. Kafka answers Dead with no
   * members here (its DescribeGroups only knows classic groups); this broker describes the group instead, so that
   * admin tools that only speak DescribeGroups (KafkaJS, kafka-python, @platformatic/kafka) see consumer groups'
   * members and assignments. A deliberate difference.
   */
  private describeConsumerGroup(g: ConsumerGroup): DescribedGroup {
    const described = this.consumerMembership.describe(g);
    const byName = (a: Assignment | DescribedTopicList) =>
      (a as DescribedTopicList).map((t) => ({ topic: t.topicName, partitions: t.partitions }));
    return {
      groupId: g.groupId,
      errorCode: ErrorCode.NONE,
      groupState: g.state,
      protocolType: g.protocolType,
      protocolData: g.assignorName,
      members: described.members.map((m) => {
        const sub = new Writer();
        sub.int16(0);
        writeConsumerProtocolSubscription(sub, 0, {
          topics: m.subscribedTopicNames,
          userData: null,
          ownedPartitions: [],
          generationId: -1,
          rackId: null,
        });
        const asg = new Writer();
        asg.int16(0);
        writeConsumerProtocolAssignment(asg, 0, { assignedPartitions: byName(m.assignment), userData: null });
        return {
          memberId: m.memberId,
          groupInstanceId: m.instanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: sub.toBuffer(),
          memberAssignment: asg.toBuffer(),
        };
      }),
    };
  }

  /** DeleteGroups: Empty groups are removed with their offsets (tombstones); others get NON_EMPTY_GROUP. */
  async deleteGroups(groupIds: readonly string[]): Promise<DeleteGroupsResultEntry[]> {
    const results = new Map<string, number>();
    const deleted: AnyGroup[] = [];
    for (const groupId of groupIds) {
      if (results.has(groupId)) continue;
      const status = this.statusError(groupId, 'any');
      if (status !== ErrorCode.NONE) {
        results.set(groupId, status);
        continue;
      }
      const g = this.ctx.groups.get(groupId);
      if (g === undefined || g.is('Dead')) results.set(groupId, ErrorCode.GROUP_ID_NOT_FOUND);
      else if (!g.is('Empty')) results.set(groupId, ErrorCode.NON_EMPTY_GROUP);
      else {
        g.transitionTo('Dead', this.ctx.scheduler.now());
        this.ctx.groups.delete(groupId);
        this.ctx.timers.clearGroup(groupId);
        if (g instanceof ClassicGroup) this.membership.abandon(g, ErrorCode.COORDINATOR_NOT_AVAILABLE);
        deleted.push(g);
        results.set(groupId, ErrorCode.NONE);
      }
    }
    await Promise.all(deleted.map((g) => this.offsetManager.writeTombstones(g, g.offsets.clear(), true)));
    return [...results].map(([groupId, errorCode]) => ({ groupId, errorCode }));
  }

  // ---- lifecycle ------------------------------------------------------------------------------------------------

  /** Requests get COORDINATOR_LOAD_IN_PROGRESS until `completeLoading()`. */
  beginLoading(): void {
    this.loading = true;
  }

  completeLoading(): void {
    this.loading = false;
  }

  get isLoading(): boolean {
    return this.loading;
  }

  /**
   * Rebuilds one group from its records (replacing any state held for it). Members come back Stable and must
   * heartbeat within their session timeout; a group above `group.max.size` rebalances at once.
   */
  load(groupId: string, snapshot: GroupMetadataValue | null, offsets: readonly StoredOffset[]): void {
    this.unload(groupId);
    if (snapshot === null && offsets.length === 0) return;
    const group = restoreGroup(groupId, snapshot, offsets);
    this.ctx.groups.set(groupId, group);
    for (const m of group.members) this.membership.scheduleSessionExpiry(group, m);
    if (group.size > this.ctx.config.groupMaxSize) {
      this.membership.prepareRebalance(group, `loaded group is over capacity (${this.ctx.config.groupMaxSize})`);
    }
  }

  /**
   * Rebuilds a KIP-848 group from its records (`consumer/restore.ts`), replacing any state held for it. Its members
   * must heartbeat within their session timeout.
   */
  loadConsumerGroup(groupId: string, snapshot: ConsumerGroupSnapshot, offsets: readonly StoredOffset[]): void {
    this.unload(groupId);
    const defaultAssignor = this.ctx.config.consumerGroupAssignors[0] ?? 'uniform';
    const group = restoreConsumerGroup(groupId, snapshot, offsets, defaultAssignor, this.ctx.scheduler.now());
    this.ctx.groups.set(groupId, group);
    this.consumerMembership.adopt(group);
  }

  /** Forgets a group (its partition moved away): parked requests get NOT_COORDINATOR, timers stop. */
  unload(groupId: string): void {
    const g = this.ctx.groups.get(groupId);
    if (g === undefined) return;
    this.ctx.groups.delete(groupId);
    this.ctx.timers.clearGroup(groupId);
    g.transitionTo('Dead', this.ctx.scheduler.now());
    if (g instanceof ClassicGroup) this.membership.abandon(g, ErrorCode.NOT_COORDINATOR);
  }

  /** Unloads the groups matching `predicate` (e.g. those of one `__consumer_offsets` partition). */
  unloadWhere(predicate: (groupId: string) => boolean): void {
    for (const id of [...this.ctx.groups.keys()]) if (predicate(id)) this.unload(id);
  }

  /** Stops the coordinator: every group is unloaded and later requests get COORDINATOR_NOT_AVAILABLE. */
  close(): void {
    this.unloadWhere(() => true);
    this.ctx.timers.clearAll();
    this.active = false;
  }

  // ---- diagnostics ----------------------------------------------------------------------------------------------

  /** The live group object, for tests and diagnostics only: do not mutate it. */
  inspect(groupId: string): ClassicGroup | undefined {
    const g = this.ctx.groups.get(groupId);
    return g instanceof ClassicGroup ? g : undefined;
  }

  /** The live KIP-848 group object, for tests and diagnostics only: do not mutate it. */
  inspectConsumerGroup(groupId: string): ConsumerGroup | undefined {
    const g = this.ctx.groups.get(groupId);
    return g instanceof ConsumerGroup ? g : undefined;
  }

  groupIds(): string[] {
    return [...this.ctx.groups.keys()];
  }

  /** Armed timers (session, rebalance, sync, pending ids); for leak checks. */
  get timerCount(): number {
    return this.ctx.timers.size;
  }
}
