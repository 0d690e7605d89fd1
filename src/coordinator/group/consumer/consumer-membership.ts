/**
 * ConsumerGroupHeartbeat (KIP-848): members join, stay, change subscriptions, leave and reconcile their assignment
 * through this one request, and the coordinator computes assignments itself with a server-side assignor.
 *
 * - Joining (epoch 0) creates the member (v0: the coordinator picks the member id; v1: the client brings it) and
 *   bumps the group epoch. So do leaving (epoch -1), a changed subscription, a session timeout
 *   (`group.consumer.session.timeout.ms`), a member that does not revoke within its rebalance timeout, and a change
 *   in the partition count of a subscribed topic (noticed on heartbeats). A bumped epoch recomputes the target
 *   assignment at once; each member then moves towards its target on its own heartbeats (`member.ts`): it revokes
 *   first and gets partitions only once their previous owner has released them.
 * - Epochs fence zombies: a heartbeat with an epoch above the member's, or below it other than the previous epoch
 *   with a subset of its partitions (a lost response), gets FENCED_MEMBER_EPOCH; the client then rejoins with 0.
 *   A member the group does not know gets UNKNOWN_MEMBER_ID; a heartbeat (epoch > 0) or leave to a group that does
 *   not exist, GROUP_ID_NOT_FOUND, as in Kafka.
 * - Static members (instance id): leaving with epoch -2 keeps the member's partitions for its session timeout; a
 *   new member with the same instance id takes them over without a rebalance. A second live member with the same
 *   instance id gets UNRELEASED_INSTANCE_ID; a request whose member id is not the instance's gets FENCED_INSTANCE_ID.
 * - An Empty classic group (only offsets) becomes a consumer group on the first join, keeping its offsets; a
 *   classic group with members answers GROUP_ID_NOT_FOUND ("not a consumer group"), as Kafka does when online
 *   migration does not apply.
 *
 * Concurrency: single-threaded; every change happens synchronously inside one call, so a heartbeat sees a
 * consistent group. Persistence of the group's records is awaited by the caller after the change.
 */

import { ErrorCode } from '../../../protocol/errors.js';
import type { CoordinatorContext } from '../context.js';
import { ClassicGroup } from '../group.js';
import {
  type Assignment,
  assignmentFrom,
  assignmentToWire,
  EMPTY_ASSIGNMENT,
  sameAssignment,
  subtract,
} from './assignment.js';
import { type AssignorMember, SERVER_ASSIGNORS } from './assignors.js';
import { ConsumerGroup } from './consumer-group.js';
import { markWritten, persistConsumerGroup } from './group-records.js';
import {
  type ConsumerMember,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  newMember,
  reconcile,
} from './member.js';
import type {
  ConsumerGroupDescribed,
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResult,
  DescribedTopicPartitions,
  TopicCatalog,
} from './types.js';

/** A request the coordinator refuses: Kafka's error code and message. */
function heartbeatFailure(errorCode: number, errorMessage: string | null): ConsumerGroupHeartbeatResult {
  return { errorCode, errorMessage, memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null };
}

class HeartbeatError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const sessionTimer = (memberId: string): string => `consumer-session:${memberId}`;
const revocationTimer = (memberId: string): string => `consumer-revocation:${memberId}`;

/** Compiles a subscription regex with Kafka's whole-name matching; null when it does not compile. */
export function compileSubscriptionRegex(source: string): RegExp | null {
  try {
    return new RegExp(`^(?:${source})$`, 'u');
  } catch {
    return null;
  }
}

export class ConsumerMembership {
  constructor(
    private readonly ctx: CoordinatorContext,
    private readonly catalog: () => TopicCatalog,
  ) {}

  private get defaultAssignor(): string {
    return this.ctx.config.consumerGroupAssignors[0] ?? 'uniform';
  }

  /** Applies the heartbeat, then answers once the group's changed records are written. */
  async heartbeat(req: ConsumerGroupHeartbeatRequest): Promise<ConsumerGroupHeartbeatResult> {
    let result: ConsumerGroupHeartbeatResult;
    try {
      this.validate(req);
      const leaving =
        req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH;
      result = leaving ? this.leave(req) : this.joinOrHeartbeat(req);
    } catch (e) {
      if (!(e instanceof HeartbeatError)) throw e;
      return heartbeatFailure(e.code, e.message);
    }
    const group = this.ctx.groups.get(req.groupId);
    if (group instanceof ConsumerGroup) {
      const code = await persistConsumerGroup(this.ctx, group);
      if (code !== ErrorCode.NONE) return heartbeatFailure(code, null);
    }
    return result;
  }

  /** Kafka's request checks (INVALID_REQUEST with its messages, UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION). */
  private validate(req: ConsumerGroupHeartbeatRequest): void {
    const invalid = (m: string): never => {
      throw new HeartbeatError(ErrorCode.INVALID_REQUEST, m);
    };
    // Kafka's throwIfEmptyString: null passes, blank is empty.
    const blank = (v: string | null): boolean => v !== null && v.trim() === '';
    if (blank(req.groupId)) invalid("GroupId can't be empty.");
    if (blank(req.instanceId)) invalid("InstanceId can't be empty.");
    if (blank(req.rackId)) invalid("RackId can't be empty.");
    if (req.memberEpoch === 0) {
      if (req.rebalanceTimeoutMs === -1) invalid('RebalanceTimeoutMs must be provided in first request.');
      if (req.topicPartitions === null || req.topicPartitions.length > 0) {
        invalid('TopicPartitions must be empty when (re-)joining.');
      }
      if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null) {
        invalid('Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.');
      }
    } else if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (blank(req.memberId) || req.memberId === '') invalid("MemberId can't be empty.");
      if (req.instanceId === null) invalid("InstanceId can't be null.");
    } else if (req.memberEpoch > 0 || req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) {
      if (blank(req.memberId) || req.memberId === '') invalid("MemberId can't be empty.");
    } else {
      invalid('MemberEpoch is invalid.');
    }
    if (req.serverAssignor !== null && !this.ctx.config.consumerGroupAssignors.includes(req.serverAssignor)) {
      throw new HeartbeatError(
        ErrorCode.UNSUPPORTED_ASSIGNOR,
        `ServerAssignor ${req.serverAssignor} is not supported. Supported assignors: ${this.ctx.config.consumerGroupAssignors.join(', ')}.`,
      );
    }
    if (req.subscribedTopicRegex !== null && req.subscribedTopicRegex !== '') {
      if (compileSubscriptionRegex(req.subscribedTopicRegex) === null) {
        throw new HeartbeatError(
          ErrorCode.INVALID_REGULAR_EXPRESSION,
          `SubscribedTopicRegex \`${req.subscribedTopicRegex}\` is not a valid regular expression.`,
        );
      }
    }
  }

  /** The live consumer group, or one made for a join (replacing an Empty classic group, keeping its offsets). */
  private groupFor(req: ConsumerGroupHeartbeatRequest): ConsumerGroup {
    const existing = this.ctx.groups.get(req.groupId);
    if (existing instanceof ConsumerGroup) return existing;
    if (req.memberEpoch !== 0) {
      throw new HeartbeatError(
        ErrorCode.GROUP_ID_NOT_FOUND,
        existing === undefined
          ? `Consumer group ${req.groupId} not found.`
          : `Group ${req.groupId} is not a consumer group.`,
      );
    }
    const now = this.ctx.scheduler.now();
    let group: ConsumerGroup;
    if (existing === undefined) {
      group = new ConsumerGroup(req.groupId, this.defaultAssignor, now);
    } else {
      if (!(existing instanceof ClassicGroup) || !existing.is('Empty') || existing.numPending > 0) {
        throw new HeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} is not a consumer group.`);
      }
      if (existing.offsets.hasPendingCommits) {
        // Commits in flight belong to the classic group object; retry once they have landed.
        throw new HeartbeatError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `Group ${req.groupId} is being converted.`);
      }
      group = new ConsumerGroup(req.groupId, this.defaultAssignor, now, existing.offsets);
      this.ctx.timers.clearGroup(req.groupId);
      this.ctx.log.info(`group ${req.groupId}: converted from an empty classic group to a consumer group`);
    }
    this.ctx.groups.set(req.groupId, group);
    return group;
  }

  private joinOrHeartbeat(req: ConsumerGroupHeartbeatRequest): ConsumerGroupHeartbeatResult {
    const group = this.groupFor(req);
    let member: ConsumerMember;
    let bump: boolean;
    if (req.memberEpoch === 0) {
      ({ member, bump } = this.admit(group, req));
    } else {
      // A static member is looked up by instance id first: a replaced member id is fenced, not unknown.
      this.checkInstance(group, req);
      const current = group.get(req.memberId);
      if (current === undefined) {
        throw new HeartbeatError(
          ErrorCode.UNKNOWN_MEMBER_ID,
          `Member ${req.memberId} is not a member of group ${req.groupId}.`,
        );
      }
      this.checkEpoch(current, req);
      member = this.applySubscription(current, req);
      bump = member !== current && !sameSubscription(current, member);
      if (member !== current) group.put(member);
    }
    if (bump) group.groupEpoch++;
    this.refreshTarget(group);
    const owned = req.topicPartitions === null ? null : assignmentFrom(req.topicPartitions);
    const next = reconcile(member, group.assignmentEpoch, group.targetOf(member.memberId), owned, (t, p) => {
      const owner = group.ownerOf(t, p);
      return owner === undefined || owner === member.memberId;
    });
    if (next !== member) group.put(next);
    const sendAssignment =
      req.memberEpoch === 0 ||
      !sameAssignment(next.assigned, member.assigned) ||
      (owned !== null && next.state === 'stable' && !sameAssignment(owned, next.assigned));
    this.armTimers(group, next);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: next.memberId,
      memberEpoch: next.memberEpoch,
      heartbeatIntervalMs: this.ctx.config.consumerGroupHeartbeatIntervalMs,
      assignment: sendAssignment ? assignmentToWire(next.assigned) : null,
    };
  }

  /**
   * A join (epoch 0): a new member, a static member coming back under a new member id, or a known member starting
   * over after being fenced. The member is in the group on return; `bump` says whether the group epoch must move.
   */
  private admit(group: ConsumerGroup, req: ConsumerGroupHeartbeatRequest): { member: ConsumerMember; bump: boolean } {
    const memberId = req.memberId !== '' ? req.memberId : this.ctx.randomId();
    const fresh = newMember({
      memberId,
      instanceId: req.instanceId,
      rackId: req.rackId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      subscribedTopicNames: req.subscribedTopicNames ?? [],
      subscribedTopicRegex: req.subscribedTopicRegex === '' ? null : req.subscribedTopicRegex,
      serverAssignor: req.serverAssignor,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
    });
    if (req.instanceId !== null) {
      const holderId = group.memberIdOfInstance(req.instanceId);
      const holder = holderId === undefined ? undefined : group.get(holderId);
      if (holder !== undefined && holder.memberId !== memberId) {
        if (holder.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
          throw new HeartbeatError(
            ErrorCode.UNRELEASED_INSTANCE_ID,
            `Static member ${holder.memberId} with instance id ${req.instanceId} is still active.`,
          );
        }
        // The static member is back: it takes over its predecessor's partitions, epoch and target.
        const target = group.targetOf(holder.memberId);
        this.dropMember(group, holder.memberId);
        const replacement: ConsumerMember = {
          ...fresh,
          memberEpoch: holder.previousMemberEpoch,
          previousMemberEpoch: holder.previousMemberEpoch,
          state: holder.state,
          assigned: holder.assigned,
          pendingRevocation: holder.pendingRevocation,
        };
        group.put(replacement);
        group.setTarget(memberId, target);
        this.ctx.log.info(`group ${group.groupId}: static member ${req.instanceId} rejoined as ${memberId}`);
        return { member: replacement, bump: !sameSubscription(holder, replacement) };
      }
    }
    const existing = group.get(memberId);
    if (existing !== undefined) {
      // A known member rejoining has dropped its partitions: it starts from nothing, keeping its target.
      group.put(fresh);
      this.ctx.timers.clear(group.groupId, revocationTimer(memberId));
      return { member: fresh, bump: !sameSubscription(existing, fresh) };
    }
    // Static members away (-2) keep their place.
    if (group.size >= this.ctx.config.consumerGroupMaxSize) {
      throw new HeartbeatError(
        ErrorCode.GROUP_MAX_SIZE_REACHED,
        `The consumer group has reached its maximum capacity of ${this.ctx.config.consumerGroupMaxSize} members.`,
      );
    }
    group.put(fresh);
    this.ctx.log.info(`group ${group.groupId}: member ${memberId} joined (consumer protocol)`);
    return { member: fresh, bump: true };
  }

  private checkInstance(group: ConsumerGroup, req: ConsumerGroupHeartbeatRequest): void {
    if (req.instanceId === null) return;
    const holder = group.memberIdOfInstance(req.instanceId);
    if (holder !== undefined && holder !== req.memberId) {
      throw new HeartbeatError(
        ErrorCode.FENCED_INSTANCE_ID,
        `Static member ${req.memberId} with instance id ${req.instanceId} was replaced by member ${holder}.`,
      );
    }
  }

  /** The member's epoch must be current, or the previous one with no partition it was not given (lost response). */
  private checkEpoch(member: ConsumerMember, req: ConsumerGroupHeartbeatRequest): void {
    if (req.memberEpoch === member.memberEpoch) return;
    if (
      req.memberEpoch < member.memberEpoch &&
      req.memberEpoch === member.previousMemberEpoch &&
      req.topicPartitions !== null &&
      subtract(assignmentFrom(req.topicPartitions), member.assigned).size === 0
    ) {
      return;
    }
    throw new HeartbeatError(
      ErrorCode.FENCED_MEMBER_EPOCH,
      `The member epoch ${req.memberEpoch} of ${req.memberId} is fenced; the current epoch is ${member.memberEpoch}.`,
    );
  }

  /** The member with this heartbeat's non-null fields applied (the same object when nothing changed). */
  private applySubscription(member: ConsumerMember, req: ConsumerGroupHeartbeatRequest): ConsumerMember {
    const names = req.subscribedTopicNames;
    const regex = req.subscribedTopicRegex === null ? member.subscribedTopicRegex : req.subscribedTopicRegex || null;
    const changed =
      (names !== null && !sameNames(names, member.subscribedTopicNames)) ||
      regex !== member.subscribedTopicRegex ||
      (req.rebalanceTimeoutMs !== -1 && req.rebalanceTimeoutMs !== member.rebalanceTimeoutMs) ||
      (req.serverAssignor !== null && req.serverAssignor !== member.serverAssignor) ||
      (req.rackId !== null && req.rackId !== member.rackId);
    if (!changed) return member;
    return {
      ...member,
      subscribedTopicNames: names ?? member.subscribedTopicNames,
      subscribedTopicRegex: regex,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs === -1 ? member.rebalanceTimeoutMs : req.rebalanceTimeoutMs,
      serverAssignor: req.serverAssignor ?? member.serverAssignor,
      rackId: req.rackId ?? member.rackId,
    };
  }

  /**
   * Bumps the group epoch when the subscribed topics changed (created, deleted, partitions added) and recomputes
   * the target assignment when it is behind the group epoch.
   */
  refreshTarget(group: ConsumerGroup): void {
    const { fingerprint, topics, memberTopics } = this.resolveSubscriptions(group);
    if (fingerprint !== group.subscriptionFingerprint) {
      group.subscriptionFingerprint = fingerprint;
      // One bump per change: a join, leave or new subscription in this same call has bumped it already.
      if (group.size > 0 && group.groupEpoch <= group.assignmentEpoch) group.groupEpoch++;
    }
    if (group.groupEpoch <= group.assignmentEpoch) return;
    const assignorName = this.pickAssignor(group);
    const assignor = SERVER_ASSIGNORS.get(assignorName)!;
    const members: AssignorMember[] = [...group.members].map((m) => ({
      memberId: m.memberId,
      instanceId: m.instanceId,
      subscribedTopicIds: memberTopics.get(m.memberId)!,
      current: group.targetOf(m.memberId),
    }));
    group.assignorName = assignorName;
    group.setTargets(group.groupEpoch, assignor.assign({ members, topics }));
  }

  /**
   * Resolves the members' subscriptions (names and regexes) against the cluster's topics: the topic ids each
   * member may get, the partition count of each, and a fingerprint of both that changes when topics the group
   * subscribes to are created, deleted or grow. Also records the subscribed topic names on the group.
   */
  private resolveSubscriptions(group: ConsumerGroup): {
    fingerprint: string;
    topics: Map<string, number>;
    memberTopics: Map<string, Set<string>>;
  } {
    const catalog = this.catalog();
    const regexes = new Map<string, RegExp | null>();
    const memberTopics = new Map<string, Set<string>>();
    const topics = new Map<string, number>();
    const names = new Set<string>();
    for (const m of group.members) {
      const ids = new Set<string>();
      for (const name of m.subscribedTopicNames) {
        const t = catalog.byName(name);
        names.add(name);
        if (t === undefined) continue;
        ids.add(t.id);
        topics.set(t.id, t.numPartitions);
      }
      if (m.subscribedTopicRegex !== null) {
        let re = regexes.get(m.subscribedTopicRegex);
        if (re === undefined) {
          re = compileSubscriptionRegex(m.subscribedTopicRegex);
          regexes.set(m.subscribedTopicRegex, re);
        }
        if (re !== null) {
          for (const t of catalog.all()) {
            if (t.internal || !re.test(t.name)) continue;
            ids.add(t.id);
            names.add(t.name);
            topics.set(t.id, t.numPartitions);
          }
        }
      }
      memberTopics.set(m.memberId, ids);
    }
    group.subscribedTopics = names;
    const fingerprint = [...topics]
      .map(([id, n]) => `${id}:${n}`)
      .sort()
      .join(',');
    return { fingerprint, topics, memberTopics };
  }

  /** The assignor most members ask for, else the first configured one (Kafka's rule). */
  private pickAssignor(group: ConsumerGroup): string {
    const votes = new Map<string, number>();
    for (const m of group.members) {
      if (m.serverAssignor !== null) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    }
    let best = this.defaultAssignor;
    let bestVotes = 0;
    for (const [name, n] of votes) {
      if (n > bestVotes && SERVER_ASSIGNORS.has(name)) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  /** Session timer always; revocation timer while the member owes a revocation. */
  private armTimers(group: ConsumerGroup, member: ConsumerMember): void {
    const groupId = group.groupId;
    const memberId = member.memberId;
    this.ctx.timers.set(groupId, sessionTimer(memberId), this.ctx.config.consumerGroupSessionTimeoutMs, () =>
      this.expire(groupId, memberId, 'session timeout'),
    );
    if (member.state === 'unrevoked_partitions') {
      if (!this.ctx.timers.has(groupId, revocationTimer(memberId))) {
        this.ctx.timers.set(groupId, revocationTimer(memberId), member.rebalanceTimeoutMs, () =>
          this.expire(groupId, memberId, 'rebalance timeout (partitions not revoked)'),
        );
      }
    } else {
      this.ctx.timers.clear(groupId, revocationTimer(memberId));
    }
  }

  private expire(groupId: string, memberId: string, why: string): void {
    const group = this.ctx.groups.get(groupId);
    if (!(group instanceof ConsumerGroup) || group.get(memberId) === undefined) return;
    this.ctx.log.info(`group ${groupId}: member ${memberId} removed: ${why}`);
    this.removeMember(group, memberId);
    void persistConsumerGroup(this.ctx, group);
  }

  /** Removes a member and its timers, without a rebalance. */
  private dropMember(group: ConsumerGroup, memberId: string): void {
    group.remove(memberId);
    this.ctx.timers.clear(group.groupId, sessionTimer(memberId));
    this.ctx.timers.clear(group.groupId, revocationTimer(memberId));
  }

  private removeMember(group: ConsumerGroup, memberId: string): void {
    this.dropMember(group, memberId);
    group.groupEpoch++;
    if (group.size === 0) group.currentStateTimestamp = this.ctx.scheduler.now();
    this.refreshTarget(group);
  }

  private leave(req: ConsumerGroupHeartbeatRequest): ConsumerGroupHeartbeatResult {
    const group = this.ctx.groups.get(req.groupId);
    const unknown = (): never => {
      throw new HeartbeatError(
        ErrorCode.UNKNOWN_MEMBER_ID,
        `Member ${req.memberId} is not a member of group ${req.groupId}.`,
      );
    };
    if (!(group instanceof ConsumerGroup)) {
      throw new HeartbeatError(
        ErrorCode.GROUP_ID_NOT_FOUND,
        group === undefined ? `Group ${req.groupId} not found.` : `Group ${req.groupId} is not a consumer group.`,
      );
    }
    this.checkInstance(group, req);
    const member = group.get(req.memberId);
    if (member === undefined) return unknown();
    if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // Kept, partitions and all, until its session times out or it comes back under a new member id.
      const away: ConsumerMember =
        member.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH
          ? member
          : {
              ...member,
              memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH,
              previousMemberEpoch: member.memberEpoch,
              // Partitions it was revoking are released now (as Kafka does), so others need not wait for it.
              pendingRevocation: EMPTY_ASSIGNMENT,
            };
      group.put(away);
      this.ctx.timers.clear(group.groupId, revocationTimer(member.memberId));
      this.ctx.log.info(`group ${group.groupId}: static member ${req.instanceId} left temporarily`);
    } else {
      this.ctx.log.info(`group ${group.groupId}: member ${req.memberId} left`);
      this.removeMember(group, req.memberId);
    }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: req.memberId,
      memberEpoch: req.memberEpoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    };
  }

  /**
   * Takes a group restored from `__consumer_offsets`: its subscription fingerprint is recomputed from the current
   * metadata without a rebalance (only a real change of the topics since the write should cause one), its records
   * count as written, and every member gets one session timeout to come back.
   */
  adopt(group: ConsumerGroup): void {
    group.subscriptionFingerprint = this.resolveSubscriptions(group).fingerprint;
    markWritten(group);
    // A target that lags the group epoch (the process stopped in between) is computed now and written later.
    this.refreshTarget(group);
    for (const m of group.members) this.armTimers(group, m);
  }

  describe(group: ConsumerGroup): ConsumerGroupDescribed {
    const catalog = this.catalog();
    const named = (a: Assignment): DescribedTopicPartitions[] =>
      assignmentToWire(a).map((t) => ({
        topicId: t.topicId,
        topicName: catalog.byId(t.topicId)?.name ?? '',
        partitions: t.partitions,
      }));
    return {
      groupId: group.groupId,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: group.assignorName,
      members: [...group.members].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: named(m.assigned),
        targetAssignment: named(group.targetOf(m.memberId)),
      })),
    };
  }

  /** Whether `member` may commit at `epoch`: only at its current epoch (Kafka: STALE_MEMBER_EPOCH otherwise). */
  static epochError(member: ConsumerMember, epoch: number): number {
    return epoch === member.memberEpoch ? ErrorCode.NONE : ErrorCode.STALE_MEMBER_EPOCH;
  }

  /** Stops the member timers of a group being deleted or unloaded. */
  forget(group: ConsumerGroup): void {
    for (const m of group.members) {
      this.ctx.timers.clear(group.groupId, sessionTimer(m.memberId));
      this.ctx.timers.clear(group.groupId, revocationTimer(m.memberId));
    }
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((n) => set.has(n));
}

function sameSubscription(a: ConsumerMember, b: ConsumerMember): boolean {
  return (
    sameNames(a.subscribedTopicNames, b.subscribedTopicNames) &&
    a.subscribedTopicRegex === b.subscribedTopicRegex &&
    a.serverAssignor === b.serverAssignor
  );
}
