/**
 * The classic group (JoinGroup/SyncGroup protocol) as a state machine, without timers, I/O or persistence:
 *
 *   Empty --join--> PreparingRebalance --all joined / rebalance timeout--> CompletingRebalance --leader's
 *   SyncGroup stored--> Stable; Stable/CompletingRebalance --join, leave, expiry--> PreparingRebalance;
 *   PreparingRebalance --no members left--> Empty; any --deleted / unloaded--> Dead.
 *
 * It holds the members (in join order, which decides the fallback leader), the KIP-345 map from
 * `group.instance.id` to member id, the KIP-394 pending member ids (handed out with MEMBER_ID_REQUIRED, not yet
 * members), the members that still owe a SyncGroup for the current generation, how many members support each
 * protocol (for INCONSISTENT_GROUP_PROTOCOL checks and protocol selection by vote), the generation, the chosen
 * protocol, the leader, and the committed offsets. The coordinator (`group-coordinator.ts`) drives it.
 *
 * Illegal transitions throw `GroupStateError`: they are coordinator bugs, never client errors.
 *
 * Concurrency: mutated only on the one event-loop thread. The coordinator re-checks state and generation after
 * every await, since a group can move on while a write is in flight.
 */

import type { GroupMetadataValue } from '../../protocol/generated/data/group-metadata-value.js';
import type { GroupMember, GroupProtocol, JoinCallback } from './member.js';
import { OffsetTable } from './offsets.js';
import { CONSUMER_PROTOCOL_TYPE, unionOfSubscriptions } from './subscription.js';
import type { GroupStateName, JoinGroupResponseMember } from './types.js';

/** Thrown on a transition the state machine does not allow: a coordinator bug. */
export class GroupStateError extends Error {
  override readonly name = 'GroupStateError';
}

const VALID_PREVIOUS: { readonly [S in GroupStateName]: readonly GroupStateName[] } = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export class ClassicGroup {
  readonly groupId: string;
  private stateName: GroupStateName;
  /** When the group entered its state (ms), or null when unknown (loaded from an old record). */
  currentStateTimestamp: number | null;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  private readonly memberMap = new Map<string, GroupMember>();
  private readonly staticMembers = new Map<string, string>();
  private readonly pendingMembers = new Set<string>();
  private readonly pendingSyncMembers = new Set<string>();
  private readonly supportedProtocols = new Map<string, number>();
  private awaitingJoin = 0;
  /** A member joined during the initial delay of generation 0: the delay may be extended (InitialDelayedJoin). */
  newMemberAdded = false;
  /** Union of the members' consumer subscriptions, computed per generation; null when unknown. */
  subscribedTopics: Set<string> | null = null;
  readonly offsets: OffsetTable;

  /** `offsets`: the committed offsets of the group this one replaces (an Empty consumer group), if any. */
  constructor(groupId: string, state: GroupStateName, now: number | null, offsets = new OffsetTable()) {
    this.groupId = groupId;
    this.offsets = offsets;
    this.stateName = state;
    this.currentStateTimestamp = now;
  }

  get state(): GroupStateName {
    return this.stateName;
  }

  is(state: GroupStateName): boolean {
    return this.stateName === state;
  }

  /** PreparingRebalance may be entered from here. */
  get canRebalance(): boolean {
    return VALID_PREVIOUS.PreparingRebalance.includes(this.stateName);
  }

  transitionTo(target: GroupStateName, now: number): void {
    if (!VALID_PREVIOUS[target].includes(this.stateName)) {
      throw new GroupStateError(`group ${this.groupId}: illegal transition ${this.stateName} -> ${target}`);
    }
    this.stateName = target;
    this.currentStateTimestamp = now;
  }

  // ---- members -------------------------------------------------------------------------------------------------

  get size(): number {
    return this.memberMap.size;
  }

  get members(): IterableIterator<GroupMember> {
    return this.memberMap.values();
  }

  memberIds(): string[] {
    return [...this.memberMap.keys()];
  }

  has(memberId: string): boolean {
    return this.memberMap.has(memberId);
  }

  get(memberId: string): GroupMember | undefined {
    return this.memberMap.get(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  get numAwaitingJoin(): number {
    return this.awaitingJoin;
  }

  /** Adds a member, parked on `callback` when given. The first member fixes the protocol type and leads. */
  add(member: GroupMember, callback: JoinCallback | null): void {
    if (this.memberMap.size === 0) this.protocolType = member.protocolType;
    this.pendingMembers.delete(member.memberId);
    this.memberMap.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    this.incSupported(member.protocols);
    if (this.leaderId === null) this.leaderId = member.memberId;
    if (callback !== null) {
      member.setJoinCallback(callback);
      this.awaitingJoin++;
    }
  }

  /**
   * Removes a member (or a pending member id). A leader that leaves is replaced by the next member in join order.
   * Returns the removed member; its parked callbacks are left for the caller to answer.
   */
  remove(memberId: string): GroupMember | undefined {
    this.pendingMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    const member = this.memberMap.get(memberId);
    if (member === undefined) return undefined;
    this.memberMap.delete(memberId);
    this.decSupported(member.protocols);
    if (member.isAwaitingJoin) this.awaitingJoin--;
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) {
      const next = this.memberMap.keys().next();
      this.leaderId = next.done ? null : next.value;
    }
    return member;
  }

  /** Replaces the member's protocols and timeouts and parks (or un-parks, with null) its JoinGroup. */
  updateMember(
    member: GroupMember,
    protocols: readonly GroupProtocol[],
    rebalanceTimeoutMs: number,
    sessionTimeoutMs: number,
    callback: JoinCallback | null,
  ): JoinCallback | null {
    this.decSupported(member.protocols);
    member.protocols = protocols;
    this.incSupported(protocols);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    const wasAwaiting = member.isAwaitingJoin;
    const old = member.setJoinCallback(callback);
    if (callback !== null && !wasAwaiting) this.awaitingJoin++;
    else if (callback === null && wasAwaiting) this.awaitingJoin--;
    return old;
  }

  /** Hands out the member's parked JoinGroup callback (once), keeping the awaiting count right. */
  takeJoinCallback(member: GroupMember): JoinCallback | null {
    const cb = member.takeJoinCallback();
    if (cb !== null) this.awaitingJoin--;
    return cb;
  }

  /**
   * KIP-345: a static member restarted with a new member id. The member object moves to `newMemberId`, keeping its
   * place, assignment and leadership. Returns it with the callbacks parked under the old id, for the caller to
   * fence with FENCED_INSTANCE_ID.
   */
  replaceStaticMember(
    groupInstanceId: string,
    oldMemberId: string,
    newMemberId: string,
  ): { member: GroupMember; oldJoin: JoinCallback | null; oldSync: ReturnType<GroupMember['takeSyncCallback']> } {
    const member = this.memberMap.get(oldMemberId);
    if (member === undefined) throw new GroupStateError(`group ${this.groupId}: no member ${oldMemberId} to replace`);
    const oldJoin = this.takeJoinCallback(member);
    const oldSync = member.takeSyncCallback();
    // Rebuild the map so the member keeps its position in join order.
    const entries = [...this.memberMap];
    this.memberMap.clear();
    for (const [id, m] of entries) this.memberMap.set(id === oldMemberId ? newMemberId : id, m);
    member.memberId = newMemberId;
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    this.staticMembers.set(groupInstanceId, newMemberId);
    return { member, oldJoin, oldSync };
  }

  /** The member id now holding `groupInstanceId`, if any. */
  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  get staticMemberCount(): number {
    return this.staticMembers.size;
  }

  /** A static member whose instance id is held by another member id is fenced (KIP-345). */
  isStaticMemberFenced(groupInstanceId: string | null, memberId: string): boolean {
    if (groupInstanceId === null) return false;
    const current = this.staticMembers.get(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  // ---- KIP-394 pending members ----------------------------------------------------------------------------------

  addPendingMember(memberId: string): void {
    this.pendingMembers.add(memberId);
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingMembers.has(memberId);
  }

  get numPending(): number {
    return this.pendingMembers.size;
  }

  /** Every member rejoined and no member id handed out is still outstanding. */
  get hasAllMembersJoined(): boolean {
    return this.memberMap.size === this.awaitingJoin && this.pendingMembers.size === 0;
  }

  // ---- members owing a SyncGroup --------------------------------------------------------------------------------

  addPendingSyncMember(memberId: string): void {
    this.pendingSyncMembers.add(memberId);
  }

  removePendingSyncMember(memberId: string): void {
    this.pendingSyncMembers.delete(memberId);
  }

  clearPendingSyncMembers(): void {
    this.pendingSyncMembers.clear();
  }

  pendingSyncMemberIds(): string[] {
    return [...this.pendingSyncMembers];
  }

  get hasReceivedSyncFromAllMembers(): boolean {
    return this.pendingSyncMembers.size === 0;
  }

  // ---- protocols ------------------------------------------------------------------------------------------------

  private incSupported(protocols: readonly GroupProtocol[]): void {
    for (const p of protocols) this.supportedProtocols.set(p.name, (this.supportedProtocols.get(p.name) ?? 0) + 1);
  }

  private decSupported(protocols: readonly GroupProtocol[]): void {
    for (const p of protocols) {
      const n = (this.supportedProtocols.get(p.name) ?? 0) - 1;
      if (n > 0) this.supportedProtocols.set(p.name, n);
      else this.supportedProtocols.delete(p.name);
    }
  }

  /**
   * Whether a member offering `protocolType` and `protocols` fits: an Empty group takes any non-empty offer;
   * otherwise the type must match and one of the protocols must be supported by every current member.
   */
  supportsProtocols(protocolType: string, protocols: readonly GroupProtocol[]): boolean {
    if (this.is('Empty')) return protocolType !== '' && protocols.length > 0;
    if (this.protocolType !== protocolType) return false;
    const n = this.memberMap.size;
    return protocols.some((p) => this.supportedProtocols.get(p.name) === n);
  }

  /** Protocols every member supports. */
  candidateProtocols(): Set<string> {
    const n = this.memberMap.size;
    const out = new Set<string>();
    for (const [name, count] of this.supportedProtocols) if (count === n) out.add(name);
    return out;
  }

  /**
   * Chooses the protocol for the next generation: among the protocols every member supports, each member votes for
   * its most preferred; most votes wins (ties: the first voted for, in join order).
   */
  selectProtocol(): string {
    if (this.memberMap.size === 0) throw new GroupStateError(`group ${this.groupId}: no members to select a protocol`);
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const m of this.memberMap.values()) {
      const v = m.vote(candidates);
      if (v !== undefined) votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    let best: string | undefined;
    let bestVotes = 0;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    if (best === undefined) throw new GroupStateError(`group ${this.groupId}: no protocol supported by all members`);
    return best;
  }

  /** Max rebalance timeout over the members (the JoinGroup round waits this long). */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.memberMap.values()) if (m.rebalanceTimeoutMs > max) max = m.rebalanceTimeoutMs;
    return max;
  }

  // ---- generations ----------------------------------------------------------------------------------------------

  /**
   * If the leader did not rejoin, the first member that did becomes leader. Returns false when nobody rejoined (the
   * round cannot complete yet).
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.memberMap.get(this.leaderId);
    if (leader?.isAwaitingJoin) return true;
    for (const m of this.memberMap.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  /** Starts the next generation: CompletingRebalance with a chosen protocol, or Empty when no members are left. */
  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.memberMap.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo('CompletingRebalance', now);
    } else {
      this.protocolName = null;
      this.transitionTo('Empty', now);
    }
    this.subscribedTopics = this.computeSubscribedTopics();
    this.pendingSyncMembers.clear();
  }

  computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE || this.memberMap.size === 0 || this.protocolName === null) {
      return null;
    }
    const name = this.protocolName;
    return unionOfSubscriptions([...this.memberMap.values()].map((m) => m.metadata(name) ?? Buffer.alloc(0)));
  }

  /** Kafka's `isSubscribedToTopic`: unknown subscriptions count as subscribed. */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null ? true : this.subscribedTopics.has(topic);
  }

  /** Every member with its metadata for the chosen protocol, in join order (the leader's JoinGroup response). */
  currentMemberMetadata(): JoinGroupResponseMember[] {
    const protocol = this.protocolName;
    if (protocol === null || this.is('PreparingRebalance') || this.is('Dead')) {
      throw new GroupStateError(`group ${this.groupId}: no member metadata in state ${this.stateName}`);
    }
    return [...this.memberMap.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadata(protocol) ?? Buffer.alloc(0),
    }));
  }

  /** The GroupMetadataValue record for this group, with `assignment` per member id (defaulting to the current). */
  snapshot(assignment?: ReadonlyMap<string, Buffer>): GroupMetadataValue {
    const protocol = this.protocolName;
    return {
      protocolType: this.protocolType ?? '',
      generation: this.generationId,
      protocol,
      leader: this.leaderId,
      currentStateTimestamp: BigInt(this.currentStateTimestamp ?? -1),
      members: [...this.memberMap.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeout: m.rebalanceTimeoutMs,
        sessionTimeout: m.sessionTimeoutMs,
        subscription: (protocol === null ? undefined : m.metadata(protocol)) ?? Buffer.alloc(0),
        assignment: assignment?.get(m.memberId) ?? m.assignment,
      })),
    };
  }
}
