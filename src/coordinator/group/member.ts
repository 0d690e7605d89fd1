/**
 * One member of a classic group: its identity (member id, KIP-345 `group.instance.id`), client facts, timeouts, the
 * protocols it offered in its last JoinGroup (in preference order), the assignment the leader gave it, and the
 * JoinGroup / SyncGroup request it is parked on, if any.
 *
 * A parked request is a one-shot callback: `takeJoinCallback()` / `takeSyncCallback()` hand it out once and clear
 * it, so a response can never be sent twice. The group (`group.ts`) keeps the count of members awaiting join in
 * step with these callbacks.
 *
 * Concurrency: plain data, mutated only by the group and the coordinator on the one event-loop thread.
 */

import type { JoinGroupResult, SyncGroupResult } from './types.js';

/** One (name, metadata) pair a member supports, as sent in JoinGroup. */
export interface GroupProtocol {
  readonly name: string;
  readonly metadata: Buffer;
}

export type JoinCallback = (result: JoinGroupResult) => void;
export type SyncCallback = (result: SyncGroupResult) => void;

const EMPTY = Buffer.alloc(0);

export interface MemberInit {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: readonly GroupProtocol[];
}

export class GroupMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  readonly protocolType: string;
  protocols: readonly GroupProtocol[];
  /** What the leader assigned in the current generation (empty until then). */
  assignment: Buffer = EMPTY;
  /** Joined in the current rebalance and not yet given a generation (Kafka's `isNew`). */
  isNew = false;
  /** Removed by LeaveGroup or a rebalance; its timers must not act on it any more. */
  isLeaving = false;
  private joinCallback: JoinCallback | null = null;
  private syncCallback: SyncCallback | null = null;

  constructor(init: MemberInit) {
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.protocolType = init.protocolType;
    this.protocols = init.protocols;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.joinCallback !== null;
  }

  get isAwaitingSync(): boolean {
    return this.syncCallback !== null;
  }

  /** Parks a JoinGroup; returns the callback it replaces (the caller must answer that one). */
  setJoinCallback(cb: JoinCallback | null): JoinCallback | null {
    const old = this.joinCallback;
    this.joinCallback = cb;
    return old;
  }

  /** True when the parked JoinGroup is exactly `cb` (it has not been answered or replaced). */
  isParkedOn(cb: JoinCallback): boolean {
    return this.joinCallback === cb;
  }

  takeJoinCallback(): JoinCallback | null {
    const cb = this.joinCallback;
    this.joinCallback = null;
    return cb;
  }

  /** Parks a SyncGroup; returns the callback it replaces (the caller must answer that one). */
  setSyncCallback(cb: SyncCallback | null): SyncCallback | null {
    const old = this.syncCallback;
    this.syncCallback = cb;
    return old;
  }

  takeSyncCallback(): SyncCallback | null {
    const cb = this.syncCallback;
    this.syncCallback = null;
    return cb;
  }

  /** The metadata this member sent for `protocol`, or undefined when it does not support it. */
  metadata(protocol: string): Buffer | undefined {
    for (const p of this.protocols) if (p.name === protocol) return p.metadata;
    return undefined;
  }

  /** The member's most preferred protocol among `candidates` (its vote in protocol selection). */
  vote(candidates: ReadonlySet<string>): string | undefined {
    for (const p of this.protocols) if (candidates.has(p.name)) return p.name;
    return undefined;
  }

  /** True when `protocols` equals what the member already sent: same names, order and metadata bytes. */
  matches(protocols: readonly GroupProtocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    for (let i = 0; i < protocols.length; i++) {
      const a = protocols[i]!;
      const b = this.protocols[i]!;
      if (a.name !== b.name || !a.metadata.equals(b.metadata)) return false;
    }
    return true;
  }
}
