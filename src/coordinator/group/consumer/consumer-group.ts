/**
 * A KIP-848 consumer group (group type "consumer"): members with their epochs and assignments, the group epoch
 * (bumped whenever membership, subscriptions or the subscribed topics' partition counts change), the target
 * assignment computed by the server-side assignor at the assignment epoch, which member owns each partition, and
 * the committed offsets.
 *
 * Its state is derived, as in Kafka: Empty (no members), Assigning (the target lags the group epoch), Reconciling
 * (some member has not reached the target yet), Stable; Dead once deleted or unloaded.
 *
 * Concurrency: mutated only on the one event-loop thread, by `consumer-membership.ts` and the offset manager.
 */

import { OffsetTable } from '../offsets.js';
import { type Assignment, EMPTY_ASSIGNMENT } from './assignment.js';
import type { WrittenImage } from './group-records.js';
import { type ConsumerMember, ownedBy } from './member.js';

export type ConsumerGroupStateName = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable' | 'Dead';

export const CONSUMER_GROUP_TYPE = 'consumer';

export class ConsumerGroup {
  readonly type = CONSUMER_GROUP_TYPE;
  /** Every consumer group speaks the consumer protocol (for offset expiry and OffsetDelete). */
  readonly protocolType = 'consumer';
  readonly groupId: string;
  groupEpoch = 0;
  assignmentEpoch = 0;
  /** The assignor that computed the current target. */
  assignorName: string;
  /** Topic ids and partition counts the target was computed from ("id:count,..."), to notice changes. */
  subscriptionFingerprint = '';
  readonly offsets: OffsetTable;
  /** The records last written to `__consumer_offsets` for this group (see `group-records.ts`). */
  readonly written: WrittenImage = new Map();
  currentStateTimestamp: number | null;
  private dead = false;
  private readonly memberMap = new Map<string, ConsumerMember>();
  private readonly staticMembers = new Map<string, string>();
  private readonly targets = new Map<string, Assignment>();
  /** topic id -> partition -> owning member id (assigned or pending revocation). */
  private readonly owners = new Map<string, Map<number, string>>();

  /** `offsets`: the committed offsets of the group this one replaces (an Empty classic group), if any. */
  constructor(groupId: string, assignorName: string, now: number | null, offsets = new OffsetTable()) {
    this.groupId = groupId;
    this.offsets = offsets;
    this.assignorName = assignorName;
    this.currentStateTimestamp = now;
  }

  get state(): ConsumerGroupStateName {
    if (this.dead) return 'Dead';
    if (this.memberMap.size === 0) return 'Empty';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const m of this.memberMap.values()) {
      // A static member away (-2) is not reconciled either, as in Kafka.
      if (m.memberEpoch !== this.assignmentEpoch || m.state !== 'stable') return 'Reconciling';
    }
    return 'Stable';
  }

  is(state: ConsumerGroupStateName): boolean {
    return this.state === state;
  }

  /** Only Dead may be entered explicitly; the other states follow from the members. */
  transitionTo(_state: 'Dead', now: number): void {
    this.dead = true;
    this.currentStateTimestamp = now;
  }

  /** Classic groups count members still joining here; a consumer group has none. */
  readonly numPending = 0;

  get size(): number {
    return this.memberMap.size;
  }

  get members(): IterableIterator<ConsumerMember> {
    return this.memberMap.values();
  }

  get(memberId: string): ConsumerMember | undefined {
    return this.memberMap.get(memberId);
  }

  memberIdOfInstance(instanceId: string): string | undefined {
    return this.staticMembers.get(instanceId);
  }

  /** Adds or replaces a member, keeping the partition owners and the static-member map in step. */
  put(member: ConsumerMember): void {
    const old = this.memberMap.get(member.memberId);
    if (old !== undefined) this.release(old);
    this.memberMap.set(member.memberId, member);
    if (member.instanceId !== null) this.staticMembers.set(member.instanceId, member.memberId);
    for (const [topicId, parts] of ownedBy(member)) {
      let owners = this.owners.get(topicId);
      if (owners === undefined) {
        owners = new Map();
        this.owners.set(topicId, owners);
      }
      for (const p of parts) owners.set(p, member.memberId);
    }
  }

  remove(memberId: string): ConsumerMember | undefined {
    const member = this.memberMap.get(memberId);
    if (member === undefined) return undefined;
    this.release(member);
    this.memberMap.delete(memberId);
    this.targets.delete(memberId);
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === memberId) {
      this.staticMembers.delete(member.instanceId);
    }
    return member;
  }

  private release(member: ConsumerMember): void {
    for (const [topicId, parts] of ownedBy(member)) {
      const owners = this.owners.get(topicId);
      if (owners === undefined) continue;
      for (const p of parts) if (owners.get(p) === member.memberId) owners.delete(p);
      if (owners.size === 0) this.owners.delete(topicId);
    }
  }

  /** The member owning a partition, if any. */
  ownerOf(topicId: string, partition: number): string | undefined {
    return this.owners.get(topicId)?.get(partition);
  }

  targetOf(memberId: string): Assignment {
    return this.targets.get(memberId) ?? EMPTY_ASSIGNMENT;
  }

  setTargets(epoch: number, targets: ReadonlyMap<string, Assignment>): void {
    this.targets.clear();
    for (const [memberId, a] of targets) this.targets.set(memberId, a);
    this.assignmentEpoch = epoch;
  }

  /** Sets one member's target (a static member rejoining under a new member id inherits its predecessor's). */
  setTarget(memberId: string, a: Assignment): void {
    this.targets.set(memberId, a);
  }

  /** Topic names the members subscribe to by name (regex matches are resolved by the caller). */
  subscribedTopicNames(): Set<string> {
    const names = new Set<string>();
    for (const m of this.memberMap.values()) for (const t of m.subscribedTopicNames) names.add(t);
    return names;
  }

  /** Subscribed topics for offset expiry and OffsetDelete; set by the membership code from names and regexes. */
  subscribedTopics: Set<string> | null = new Set();

  /** Kafka's `isSubscribedToTopic`. */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null || this.subscribedTopics.has(topic);
  }
}
