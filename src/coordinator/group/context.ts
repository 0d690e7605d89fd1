/**
 * What the parts of the group coordinator share: configuration, clock and timers, the persistence hooks, the group
 * table and a logger. One instance per `GroupCoordinator`.
 *
 * Concurrency: the table and timers are touched only on the one event-loop thread. `groups` holds live groups only:
 * a group that goes Dead is removed at once, so an async continuation that finds `groups.get(id) !== group` knows
 * its group is gone.
 */

import type { ConsumerGroup } from './consumer/consumer-group.js';
import type { ClassicGroup } from './group.js';
import type { Scheduler, TimerTable } from './scheduler.js';
import type { GroupCoordinatorConfig, GroupPersistence } from './types.js';

/** The few logger methods the coordinator uses (pino's logger fits). */
export interface GroupLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const SILENT_LOGGER: GroupLogger = { info() {}, warn() {}, error() {} };

export type AnyGroup = ClassicGroup | ConsumerGroup;

export interface CoordinatorContext {
  readonly config: Readonly<GroupCoordinatorConfig>;
  readonly scheduler: Scheduler;
  readonly timers: TimerTable;
  readonly persistence: GroupPersistence;
  /** Classic groups (JoinGroup/SyncGroup) and KIP-848 consumer groups share one namespace. */
  readonly groups: Map<string, AnyGroup>;
  readonly log: GroupLogger;
  /** A fresh UUID string for member ids. */
  randomId(): string;
}

/** Timer keys inside a group. */
export const JOIN_TIMER = 'join';
export const SYNC_TIMER = 'sync';
/** Session expiry of a member, or expiry of a KIP-394 pending member id (one timer per member id). */
export const memberTimer = (memberId: string): string => `member:${memberId}`;
