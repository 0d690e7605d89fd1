/** The Samsa consumer: `Consumer`, its options and message types, and the partition assignors. */
export {
  type Assignor,
  cooperativeStickyAssignor,
  type GroupMemberSubscription,
  rangeAssignor,
  roundRobinAssignor,
} from './assignors.js';
export { type ConsumeHandlers, Consumer } from './consumer.js';
export type { Assignment, Subscription } from './consumer-protocol.js';
export type * from './types.js';
