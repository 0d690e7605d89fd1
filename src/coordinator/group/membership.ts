/**
 * Group membership operations of the classic protocol: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, and the timers
 * that drive rebalances. Behaviour follows Kafka's GroupCoordinator:
 * - KIP-394: a dynamic member without id (JoinGroup v4+) gets MEMBER_ID_REQUIRED and a `${clientId}-${uuid}` id;
 *   the id is pending (the round waits for it) until it joins or its session timeout passes.
 * - KIP-345: a static member (`group.instance.id`) that rejoins without member id replaces its old id; in a Stable
 *   group whose protocol would not change, there is no rebalance, only a metadata write (JoinGroup v9+ tells a
 *   static leader to skip the assignment); the old id is fenced (FENCED_INSTANCE_ID). Static members are not
 *   dropped by the rebalance timeout, only by their session timeout or LeaveGroup.
 * - A JoinGroup round (PreparingRebalance) ends when every member rejoined and no pending id is outstanding, or
 *   when the rebalance timeout (max over members) passes; dynamic members that did not rejoin are removed. The
 *   first round of an Empty group waits `group.initial.rebalance.delay.ms`, extended by that much while new
 *   members keep arriving, up to the rebalance timeout (Kafka's InitialDelayedJoin).
 * - A new generation picks the protocol all members support by vote, keeps the leader if it rejoined, and waits
 *   for each member's SyncGroup within the rebalance timeout; those that do not sync are removed.
 * - The leader's SyncGroup assignment is persisted (`storeGroup`) before anyone gets an assignment; a failed write
 *   answers everyone with the mapped error and starts a new rebalance.
 * - A member's session expires unless it heartbeats (or is parked in JoinGroup/SyncGroup); a new member may wait
 *   in JoinGroup at most `newMemberJoinTimeoutMs`.
 * Every parked JoinGroup/SyncGroup is answered exactly once, also when its member is removed, fenced, or
 * re-sends the same request (both requests then get the one answer).
 *
 * Concurrency: every state change is synchronous on the event-loop thread; the only awaits are persistence writes,
 * after which the group's state, generation and membership are re-checked before anything is applied.
 */

import { ErrorCode } from '../../protocol/errors.js';
import { ConsumerGroup } from './consumer/consumer-group.js';
import { type CoordinatorContext, JOIN_TIMER, memberTimer, SYNC_TIMER } from './context.js';
import { ClassicGroup } from './group.js';
import { GroupMember, type JoinCallback, type SyncCallback } from './member.js';
import { storeErrorCode } from './store-errors.js';
import type {
  HeartbeatRequest,
  JoinGroupRequest,
  JoinGroupResult,
  LeaveGroupRequest,
  LeaveGroupResult,
  SyncGroupRequest,
  SyncGroupResult,
} from './types.js';

const EMPTY = Buffer.alloc(0);

export function joinError(memberId: string, errorCode: number): JoinGroupResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

export function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

/** Answers both a superseded callback and the new one with the same result. */
function chain<T>(previous: ((r: T) => void) | null, next: (r: T) => void): (r: T) => void {
  return previous === null
    ? next
    : (r: T) => {
        previous(r);
        next(r);
      };
}

export class Membership {
  /** Groups whose pending JoinGroup round is the initial delay (completes only by its timer). */
  private readonly initialDelay = new WeakSet<ClassicGroup>();

  constructor(private readonly ctx: CoordinatorContext) {}

  private now(): number {
    return this.ctx.scheduler.now();
  }

  private isLive(group: ClassicGroup): boolean {
    return this.ctx.groups.get(group.groupId) === group && !group.is('Dead');
  }

  // ---- JoinGroup ------------------------------------------------------------------------------------------------

  joinGroup(req: JoinGroupRequest): Promise<JoinGroupResult> {
    const { config, groups } = this.ctx;
    if (
      req.sessionTimeoutMs < config.groupMinSessionTimeoutMs ||
      req.sessionTimeoutMs > config.groupMaxSessionTimeoutMs
    ) {
      return Promise.resolve(joinError(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    const isUnknownMember = req.memberId === '';
    let group = this.classicForJoin(req.groupId);
    if (typeof group === 'number') return Promise.resolve(joinError(req.memberId, group));
    if (group === undefined) {
      if (!isUnknownMember) return Promise.resolve(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = new ClassicGroup(req.groupId, 'Empty', this.now());
      groups.set(req.groupId, group);
    }
    const g = group;
    const rebalanceTimeoutMs = req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs;
    return new Promise<JoinGroupResult>((resolve) => {
      if (!this.acceptJoiningMember(g, req.memberId)) {
        const removed = g.get(req.memberId);
        if (removed !== undefined) this.dropMember(g, removed, ErrorCode.UNKNOWN_MEMBER_ID);
        this.forgetIfUnused(g);
        resolve(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
      } else if (isUnknownMember) {
        this.newMemberJoin(g, req, rebalanceTimeoutMs, resolve);
      } else {
        this.currentMemberJoin(g, req, rebalanceTimeoutMs, resolve);
      }
      if (g.is('PreparingRebalance')) this.tryCompleteJoin(g);
    });
  }

  /**
   * The classic group a JoinGroup goes to: an Empty consumer group (offsets only) is replaced by a classic group
   * keeping its offsets; a consumer group with members answers INCONSISTENT_GROUP_PROTOCOL (its members speak
   * KIP-848, this one the classic protocol).
   */
  private classicForJoin(groupId: string): ClassicGroup | undefined | number {
    const group = this.ctx.groups.get(groupId);
    if (!(group instanceof ConsumerGroup)) return group;
    if (!group.is('Empty')) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    if (group.offsets.hasPendingCommits) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const classic = new ClassicGroup(groupId, 'Empty', this.now(), group.offsets);
    this.ctx.timers.clearGroup(groupId);
    this.ctx.groups.set(groupId, classic);
    this.ctx.log.info(`group ${groupId}: converted from an empty consumer group to a classic group`);
    return classic;
  }

  /** The classic group of a SyncGroup/Heartbeat/LeaveGroup; members of a consumer group are unknown here. */
  private classic(groupId: string): ClassicGroup | undefined | number {
    const group = this.ctx.groups.get(groupId);
    return group instanceof ConsumerGroup ? ErrorCode.UNKNOWN_MEMBER_ID : group;
  }

  /** KIP-389 group.max.size, counted like Kafka (awaiting members while preparing, all members otherwise). */
  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.ctx.config.groupMaxSize;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return (group.get(memberId)?.isAwaitingJoin ?? false) || group.numAwaitingJoin < max;
      case 'CompletingRebalance':
      case 'Stable':
        return group.has(memberId) || group.size < max;
    }
  }

  private newMemberJoin(group: ClassicGroup, req: JoinGroupRequest, rebalanceTimeoutMs: number, cb: JoinCallback) {
    if (group.is('Dead')) return cb(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(req.protocolType, req.protocols)) {
      return cb(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const newMemberId = `${req.groupInstanceId ?? req.clientId}-${this.ctx.randomId()}`;
    if (req.groupInstanceId !== null) {
      const oldMemberId = group.staticMemberId(req.groupInstanceId);
      if (oldMemberId !== undefined) {
        this.replaceStaticMember(group, req, req.groupInstanceId, oldMemberId, newMemberId, rebalanceTimeoutMs, cb);
      } else {
        this.addMemberAndRebalance(group, newMemberId, req, rebalanceTimeoutMs, cb);
      }
    } else if (req.requireKnownMemberId) {
      group.addPendingMember(newMemberId);
      this.ctx.timers.set(group.groupId, memberTimer(newMemberId), req.sessionTimeoutMs, () =>
        this.onMemberTimer(group, newMemberId),
      );
      cb(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    } else {
      this.addMemberAndRebalance(group, newMemberId, req, rebalanceTimeoutMs, cb);
    }
  }

  private currentMemberJoin(group: ClassicGroup, req: JoinGroupRequest, rebalanceTimeoutMs: number, cb: JoinCallback) {
    const { memberId, groupInstanceId } = req;
    if (group.is('Dead')) return cb(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(req.protocolType, req.protocols)) {
      return cb(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (group.isPendingMember(memberId)) {
      // Pending ids are only handed to dynamic members; Kafka fails such a request with an internal error.
      if (groupInstanceId !== null) return cb(joinError(memberId, ErrorCode.UNKNOWN_SERVER_ERROR));
      return this.addMemberAndRebalance(group, memberId, req, rebalanceTimeoutMs, cb);
    }
    if (group.isStaticMemberFenced(groupInstanceId, memberId)) {
      return cb(joinError(memberId, ErrorCode.FENCED_INSTANCE_ID));
    }
    const member = group.get(memberId);
    if (member === undefined || (groupInstanceId !== null && group.staticMemberId(groupInstanceId) === undefined)) {
      return cb(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, req, rebalanceTimeoutMs, cb);
      case 'CompletingRebalance':
        // Same metadata: the member probably lost the JoinGroup response; answer with the current generation.
        if (member.matches(req.protocols)) return cb(this.generationResult(group, member, group.isLeader(memberId)));
        return this.updateMemberAndRebalance(group, member, req, rebalanceTimeoutMs, cb);
      case 'Stable':
        // The leader rejoining forces a rebalance (it may have seen metadata changes); so do changed subscriptions.
        if (group.isLeader(memberId) || !member.matches(req.protocols)) {
          return this.updateMemberAndRebalance(group, member, req, rebalanceTimeoutMs, cb);
        }
        return cb(this.generationResult(group, member, false));
      default:
        return cb(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  /** The JoinGroup answer for the current generation (leader gets every member's metadata). */
  private generationResult(group: ClassicGroup, member: GroupMember, withMembers: boolean): JoinGroupResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId: member.memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  private addMemberAndRebalance(
    group: ClassicGroup,
    memberId: string,
    req: JoinGroupRequest,
    rebalanceTimeoutMs: number,
    cb: JoinCallback,
  ): void {
    const member = new GroupMember({
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      rebalanceTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
    });
    member.isNew = true;
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
    group.add(member, cb);
    // New members cannot heartbeat yet; bound how long they may sit in JoinGroup.
    this.scheduleSessionExpiry(group, member, this.ctx.config.newMemberJoinTimeoutMs);
    this.maybePrepareRebalance(group, `member ${memberId} joined`);
  }

  private updateMemberAndRebalance(
    group: ClassicGroup,
    member: GroupMember,
    req: JoinGroupRequest,
    rebalanceTimeoutMs: number,
    cb: JoinCallback,
  ): void {
    const previous = member.isAwaitingJoin ? group.takeJoinCallback(member) : null;
    group.updateMember(member, req.protocols, rebalanceTimeoutMs, req.sessionTimeoutMs, chain(previous, cb));
    this.maybePrepareRebalance(group, `member ${member.memberId} rejoined`);
  }

  /** KIP-345: a known `group.instance.id` joins without member id (a restart). */
  private replaceStaticMember(
    group: ClassicGroup,
    req: JoinGroupRequest,
    groupInstanceId: string,
    oldMemberId: string,
    newMemberId: string,
    rebalanceTimeoutMs: number,
    cb: JoinCallback,
  ): void {
    const currentLeader = group.leaderId;
    const { member, oldJoin, oldSync } = group.replaceStaticMember(groupInstanceId, oldMemberId, newMemberId);
    oldJoin?.(joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    oldSync?.(syncError(ErrorCode.FENCED_INSTANCE_ID));
    this.ctx.timers.clear(group.groupId, memberTimer(oldMemberId));
    this.scheduleSessionExpiry(group, member);
    const oldProtocols = member.protocols;
    const oldRebalanceTimeoutMs = member.rebalanceTimeoutMs;
    const oldSessionTimeoutMs = member.sessionTimeoutMs;
    group.updateMember(member, req.protocols, rebalanceTimeoutMs, req.sessionTimeoutMs, cb);

    switch (group.state) {
      case 'Stable': {
        if (group.protocolName !== group.selectProtocol()) {
          this.maybePrepareRebalance(group, `static member ${groupInstanceId} changed the group's protocol`);
          return;
        }
        // No rebalance: persist the new member id, then answer.
        const generation = group.generationId;
        const stillOurs = () =>
          this.isLive(group) &&
          group.is('Stable') &&
          group.generationId === generation &&
          group.get(newMemberId) === member &&
          member.isParkedOn(cb);
        void this.writeGroup(group, group.snapshot()).then((code) => {
          if (!stillOurs()) return;
          if (code !== ErrorCode.NONE) {
            // Revert to the old member id, which the log still has.
            group.updateMember(member, oldProtocols, oldRebalanceTimeoutMs, oldSessionTimeoutMs, null);
            group.replaceStaticMember(groupInstanceId, newMemberId, oldMemberId);
            this.ctx.timers.clear(group.groupId, memberTimer(newMemberId));
            this.scheduleSessionExpiry(group, member);
            cb({
              errorCode: code,
              generationId: group.generationId,
              protocolType: group.protocolType,
              protocolName: group.protocolName,
              leader: currentLeader ?? '',
              skipAssignment: false,
              memberId: '',
              members: [],
            });
            return;
          }
          const answer = group.takeJoinCallback(member);
          if (answer === null) return;
          if (req.supportSkippingAssignment === true) {
            // v9+: the leader learns it leads but must not reassign a Stable group.
            const isLeader = group.isLeader(newMemberId);
            answer({ ...this.generationResult(group, member, isLeader), skipAssignment: isLeader });
          } else {
            // Older versions: report the old leader id, so a restarted leader does not run the assignor.
            answer({ ...this.generationResult(group, member, false), leader: currentLeader ?? '' });
          }
        });
        return;
      }
      case 'CompletingRebalance':
        // The leader may be assigning with the old id: start over.
        this.prepareRebalance(group, `static member ${groupInstanceId} rejoined during CompletingRebalance`);
        return;
      case 'PreparingRebalance':
        return;
      default:
        group.takeJoinCallback(member)?.(joinError(newMemberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  // ---- rebalance rounds -----------------------------------------------------------------------------------------

  maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.canRebalance) this.prepareRebalance(group, reason);
  }

  prepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.ctx.timers.clear(group.groupId, SYNC_TIMER);
    const wasEmpty = group.is('Empty');
    const rebalanceTimeoutMs = group.rebalanceTimeoutMs();
    group.transitionTo('PreparingRebalance', this.now());
    this.ctx.log.info(
      `group ${group.groupId}: preparing to rebalance, old generation ${group.generationId} (reason: ${reason})`,
    );
    if (wasEmpty) {
      const delay = this.ctx.config.groupInitialRebalanceDelayMs;
      this.armInitialJoin(group, delay, delay, Math.max(rebalanceTimeoutMs - delay, 0));
    } else {
      this.armJoin(group, rebalanceTimeoutMs);
      this.tryCompleteJoin(group);
    }
  }

  private armJoin(group: ClassicGroup, ms: number): void {
    this.initialDelay.delete(group);
    this.ctx.timers.set(group.groupId, JOIN_TIMER, ms, () => this.completeJoin(group));
  }

  /** Kafka's InitialDelayedJoin: wait `delayMs`; if members arrived meanwhile, wait again, within `remainingMs`. */
  private armInitialJoin(group: ClassicGroup, configuredDelayMs: number, delayMs: number, remainingMs: number): void {
    this.initialDelay.add(group);
    this.ctx.timers.set(group.groupId, JOIN_TIMER, delayMs, () => {
      if (group.newMemberAdded && remainingMs !== 0) {
        group.newMemberAdded = false;
        const delay = Math.min(configuredDelayMs, remainingMs);
        const remaining = Math.max(remainingMs - delayMs, 0);
        this.armInitialJoin(group, configuredDelayMs, delay, remaining);
      } else {
        this.completeJoin(group);
      }
    });
  }

  /** Completes the round early when everyone is in (not during the initial delay). */
  tryCompleteJoin(group: ClassicGroup): void {
    if (
      group.is('PreparingRebalance') &&
      !this.initialDelay.has(group) &&
      this.ctx.timers.has(group.groupId, JOIN_TIMER) &&
      group.hasAllMembersJoined
    ) {
      this.completeJoin(group);
    }
  }

  private completeJoin(group: ClassicGroup): void {
    this.ctx.timers.clear(group.groupId, JOIN_TIMER);
    this.initialDelay.delete(group);
    if (!group.is('PreparingRebalance') || !this.isLive(group)) return;
    for (const m of [...group.members]) {
      if (!m.isAwaitingJoin && !m.isStatic) this.dropMember(group, m, ErrorCode.UNKNOWN_MEMBER_ID);
    }
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined are left: wait another round (their sessions may expire).
      this.ctx.log.warn(`group ${group.groupId}: no members rejoined; waiting for another rebalance timeout`);
      this.armJoin(group, group.rebalanceTimeoutMs());
      return;
    }
    group.initNextGeneration(this.now());
    if (group.is('Empty')) {
      this.ctx.log.info(`group ${group.groupId}: generation ${group.generationId} is empty`);
      void this.writeGroup(group, group.snapshot()).then((code) => {
        if (code !== ErrorCode.NONE) this.ctx.log.warn(`group ${group.groupId}: failed to store empty group (${code})`);
      });
      return;
    }
    this.ctx.log.info(`group ${group.groupId}: generation ${group.generationId} with ${group.size} members`);
    const leaderMembers = group.currentMemberMetadata();
    for (const m of [...group.members]) {
      const isLeader = group.isLeader(m.memberId);
      const result = this.generationResult(group, m, false);
      if (isLeader) result.members = leaderMembers;
      group.takeJoinCallback(m)?.(result);
      this.scheduleSessionExpiry(group, m);
      m.isNew = false;
      group.addPendingSyncMember(m.memberId);
    }
    this.schedulePendingSync(group);
  }

  private schedulePendingSync(group: ClassicGroup): void {
    const generation = group.generationId;
    this.ctx.timers.set(group.groupId, SYNC_TIMER, group.rebalanceTimeoutMs(), () => {
      if (!this.isLive(group) || group.generationId !== generation) return;
      if (!(group.is('CompletingRebalance') || group.is('Stable')) || group.hasReceivedSyncFromAllMembers) return;
      const late = group.pendingSyncMemberIds();
      for (const id of late) {
        const m = group.get(id);
        if (m !== undefined) this.dropMember(group, m, ErrorCode.UNKNOWN_MEMBER_ID);
        else group.remove(id);
      }
      this.prepareRebalance(group, `members ${late.join(', ')} did not send SyncGroup in time`);
    });
  }

  private removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.removePendingSyncMember(memberId);
    if ((group.is('CompletingRebalance') || group.is('Stable')) && group.hasReceivedSyncFromAllMembers) {
      this.ctx.timers.clear(group.groupId, SYNC_TIMER);
    }
  }

  // ---- SyncGroup ------------------------------------------------------------------------------------------------

  syncGroup(req: SyncGroupRequest): Promise<SyncGroupResult> {
    const group = this.classic(req.groupId);
    if (typeof group === 'number') return Promise.resolve(syncError(group));
    if (group === undefined) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (group.is('Dead')) return Promise.resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    const invalid =
      validateCurrentMember(group, req.memberId, req.groupInstanceId) ??
      (req.generationId !== group.generationId ? ErrorCode.ILLEGAL_GENERATION : null) ??
      (req.protocolType !== null && req.protocolType !== group.protocolType
        ? ErrorCode.INCONSISTENT_GROUP_PROTOCOL
        : null) ??
      (req.protocolName !== null && req.protocolName !== group.protocolName
        ? ErrorCode.INCONSISTENT_GROUP_PROTOCOL
        : null);
    if (invalid !== null) return Promise.resolve(syncError(invalid));
    const member = group.get(req.memberId)!;
    switch (group.state) {
      case 'Empty':
        return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      case 'PreparingRebalance':
        return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'Stable':
        this.removePendingSyncMember(group, member.memberId);
        this.scheduleSessionExpiry(group, member);
        return Promise.resolve({
          errorCode: ErrorCode.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: member.assignment,
        });
      case 'CompletingRebalance':
        return new Promise<SyncGroupResult>((resolve) => {
          const previous = member.takeSyncCallback();
          member.setSyncCallback(chain(previous, resolve));
          this.removePendingSyncMember(group, member.memberId);
          if (group.isLeader(member.memberId) && previous === null) this.storeAssignment(group, req);
        });
      default:
        return Promise.resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
  }

  private storeAssignment(group: ClassicGroup, req: SyncGroupRequest): void {
    const members = new Set(group.memberIds());
    const assignment = new Map<string, Buffer>();
    for (const a of req.assignments) if (members.has(a.memberId)) assignment.set(a.memberId, a.assignment);
    const missing = [...members].filter((id) => !assignment.has(id));
    for (const id of missing) assignment.set(id, EMPTY);
    if (missing.length > 0) {
      this.ctx.log.warn(
        `group ${group.groupId}: empty assignment for ${missing.join(', ')} (generation ${req.generationId})`,
      );
    }
    const generation = group.generationId;
    void this.writeGroup(group, group.snapshot(assignment)).then((code) => {
      // Anything may have happened meanwhile: act only if this generation is still being completed.
      if (!this.isLive(group) || !group.is('CompletingRebalance') || group.generationId !== generation) return;
      if (code !== ErrorCode.NONE) {
        this.resetAndPropagateAssignmentError(group, code);
        this.maybePrepareRebalance(group, `storing the assignment failed (${code})`);
        return;
      }
      for (const m of group.members) m.assignment = assignment.get(m.memberId) ?? EMPTY;
      this.propagateAssignment(group, ErrorCode.NONE);
      group.transitionTo('Stable', this.now());
      this.ctx.log.info(`group ${group.groupId}: generation ${generation} is stable`);
    });
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members) m.assignment = EMPTY;
    this.propagateAssignment(group, errorCode);
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE;
    for (const m of [...group.members]) {
      const cb = m.takeSyncCallback();
      if (cb === null) continue;
      cb({
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: m.assignment,
      });
      this.scheduleSessionExpiry(group, m);
    }
  }

  // ---- Heartbeat ------------------------------------------------------------------------------------------------

  heartbeat(req: HeartbeatRequest): number {
    const group = this.classic(req.groupId);
    if (typeof group === 'number') return group;
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const invalid = validateCurrentMember(group, req.memberId, req.groupInstanceId);
    if (invalid !== null) return invalid;
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.get(req.memberId)!;
    switch (group.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'PreparingRebalance':
        this.scheduleSessionExpiry(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'CompletingRebalance':
      case 'Stable':
        this.scheduleSessionExpiry(group, member);
        return ErrorCode.NONE;
      default:
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  /** Restarts the member's session timer (also what an accepted OffsetCommit does). */
  scheduleSessionExpiry(group: ClassicGroup, member: GroupMember, timeoutMs = member.sessionTimeoutMs): void {
    const memberId = member.memberId;
    this.ctx.timers.set(group.groupId, memberTimer(memberId), timeoutMs, () => this.onMemberTimer(group, memberId));
  }

  private onMemberTimer(group: ClassicGroup, memberId: string): void {
    if (!this.isLive(group)) return;
    if (group.isPendingMember(memberId)) {
      this.ctx.log.info(`group ${group.groupId}: pending member ${memberId} expired`);
      group.remove(memberId);
      if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
      return;
    }
    const member = group.get(memberId);
    if (member === undefined || member.isLeaving) return;
    // Members parked in JoinGroup/SyncGroup count as alive (the rebalance and sync timeouts cover them); new
    // members that have waited too long in JoinGroup do not.
    if (!member.isNew && (member.isAwaitingJoin || member.isAwaitingSync)) return;
    this.ctx.log.info(`group ${group.groupId}: member ${memberId} failed (session timeout), removing it`);
    this.removeMemberAndUpdateGroup(group, member, 'session timeout');
  }

  // ---- LeaveGroup -----------------------------------------------------------------------------------------------

  leaveGroup(req: LeaveGroupRequest): LeaveGroupResult {
    const group = this.classic(req.groupId);
    if (group === undefined || typeof group === 'number') {
      return {
        errorCode: ErrorCode.NONE,
        members: req.members.map((m) => ({ ...pick(m), errorCode: ErrorCode.UNKNOWN_MEMBER_ID })),
      };
    }
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members = req.members.map((leaving) => {
      const reason = `LeaveGroup${leaving.reason ? `: ${leaving.reason}` : ''}`;
      let errorCode: number = ErrorCode.NONE;
      if (leaving.memberId === '') {
        // Administrative removal by group.instance.id.
        const current = leaving.groupInstanceId === null ? undefined : group.staticMemberId(leaving.groupInstanceId);
        const member = current === undefined ? undefined : group.get(current);
        if (member === undefined) errorCode = ErrorCode.UNKNOWN_MEMBER_ID;
        else this.removeMemberAndUpdateGroup(group, member, reason);
      } else if (group.isPendingMember(leaving.memberId)) {
        group.remove(leaving.memberId);
        this.ctx.timers.clear(group.groupId, memberTimer(leaving.memberId));
        if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
      } else {
        const invalid = validateCurrentMember(group, leaving.memberId, leaving.groupInstanceId);
        if (invalid !== null) errorCode = invalid;
        else this.removeMemberAndUpdateGroup(group, group.get(leaving.memberId)!, reason);
      }
      return { ...pick(leaving), errorCode };
    });
    return { errorCode: ErrorCode.NONE, members };
  }

  // ---- removal --------------------------------------------------------------------------------------------------

  /** Removes a member and answers whatever it has parked (UNKNOWN_MEMBER_ID: it is no longer a member). */
  private dropMember(group: ClassicGroup, member: GroupMember, errorCode: number): void {
    group.takeJoinCallback(member)?.(joinError('', errorCode));
    member.takeSyncCallback()?.(syncError(errorCode));
    group.remove(member.memberId);
    member.isLeaving = true;
    this.ctx.timers.clear(group.groupId, memberTimer(member.memberId));
  }

  removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember, reason: string): void {
    this.dropMember(group, member, ErrorCode.UNKNOWN_MEMBER_ID);
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.maybePrepareRebalance(group, `member ${member.memberId} left (${reason})`);
        break;
      case 'PreparingRebalance':
        this.tryCompleteJoin(group);
        break;
      default:
        break;
    }
  }

  /** Drops a group this request just created and then rejected, so it does not linger. */
  private forgetIfUnused(group: ClassicGroup): void {
    if (group.is('Empty') && group.size === 0 && group.numPending === 0 && !group.offsets.hasOffsets) {
      if (group.generationId === 0 && this.ctx.groups.get(group.groupId) === group) {
        this.ctx.groups.delete(group.groupId);
        this.ctx.timers.clearGroup(group.groupId);
      }
    }
  }

  /** Answers every parked request of a group that is being unloaded or replaced. */
  abandon(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members) {
      group.takeJoinCallback(m)?.(joinError(m.memberId, errorCode));
      m.takeSyncCallback()?.(syncError(errorCode));
    }
    this.initialDelay.delete(group);
  }

  // ---- persistence ----------------------------------------------------------------------------------------------

  /** Writes the group's metadata record; resolves to the client-facing error code (NONE when written). */
  writeGroup(group: ClassicGroup, value: ReturnType<ClassicGroup['snapshot']> | null): Promise<number> {
    let write: Promise<void>;
    try {
      write = this.ctx.persistence.storeGroup(group.groupId, value);
    } catch (e) {
      write = Promise.reject(e);
    }
    return write.then(
      () => ErrorCode.NONE,
      (e: unknown) => {
        this.ctx.log.warn(`group ${group.groupId}: storing group metadata failed: ${String(e)}`);
        return storeErrorCode(e, 'group');
      },
    );
  }
}

function pick(m: { memberId: string; groupInstanceId: string | null }): {
  memberId: string;
  groupInstanceId: string | null;
} {
  return { memberId: m.memberId, groupInstanceId: m.groupInstanceId };
}

/**
 * Kafka's `validateCurrentMember`: with an instance id, it must exist (else UNKNOWN_MEMBER_ID) and map to this
 * member id (else FENCED_INSTANCE_ID); without, the member id must be known.
 */
export function validateCurrentMember(
  group: ClassicGroup,
  memberId: string,
  groupInstanceId: string | null,
): number | null {
  if (groupInstanceId !== null) {
    const current = group.staticMemberId(groupInstanceId);
    if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    return null;
  }
  return group.has(memberId) ? null : ErrorCode.UNKNOWN_MEMBER_ID;
}

export type { JoinCallback, SyncCallback };
