/**
 * Public surface of the classic group coordinator (JoinGroup/SyncGroup protocol, offsets): the coordinator, its
 * scheduler and persistence interfaces, and the data types of its operations. See `group-coordinator.ts`.
 *
 * Concurrency: re-exports only.
 */

export { type Assignment, assignmentFrom, assignmentToWire } from './consumer/assignment.js';
export { rangeAssignor, SERVER_ASSIGNORS, type ServerAssignor, uniformAssignor } from './consumer/assignors.js';
export { CONSUMER_GROUP_TYPE, ConsumerGroup, type ConsumerGroupStateName } from './consumer/consumer-group.js';
export * from './consumer/types.js';
export type { GroupLogger } from './context.js';
export { ClassicGroup, GroupStateError } from './group.js';
export { GroupCoordinator, type GroupCoordinatorOptions, NO_PERSISTENCE } from './group-coordinator.js';
export {
  type GroupLoadTarget,
  type LoadOptions,
  type LoadSummary,
  loadGroupsFromOffsetsTopic,
  OFFSETS_TOPIC,
  type OffsetsTopicAccess,
  type OffsetsTopicPartition,
  OffsetsTopicStore,
  type OffsetsTopicStoreOptions,
} from './offsets-topic-store.js';
export { realScheduler, type Scheduler } from './scheduler.js';
export { storeErrorCode } from './store-errors.js';
export { CONSUMER_PROTOCOL_TYPE, subscriptionTopics } from './subscription.js';
export * from './types.js';
