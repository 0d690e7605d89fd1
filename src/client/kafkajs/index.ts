/**
 * `samsa/kafkajs`: a KafkaJS-compatible entry point over the Samsa client, so that a KafkaJS 2.x application
 * switches by changing its import:
 *
 *     import { Kafka, logLevel, CompressionTypes } from 'samsa/kafkajs';   // was: from 'kafkajs'
 *
 * The producer, consumer and admin keep KafkaJS's method names, arguments, result shapes, events and error
 * classes; all compression codecs work without extra packages. What differs or is not supported is listed in
 * README.md next to this file (transactions, the idempotent producer, SSL/SASL, ACLs, custom assigner functions).
 */
export { Admin } from './admin.js';
export { KafkaJSBatch } from './batch.js';
export { Consumer, kafkaJSRoundRobinAssignor, PartitionAssigners } from './consumer.js';
export {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  CompressionCodecs,
  CompressionTypes,
  ConfigResourceTypes,
  ConfigSource,
  ResourcePatternTypes,
} from './enums.js';
export {
  KafkaJSAggregateError,
  KafkaJSBrokerNotFound,
  KafkaJSConnectionError,
  KafkaJSCreateTopicError,
  KafkaJSDeleteGroupsError,
  KafkaJSError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSMetadataNotLoaded,
  KafkaJSNoBrokerAvailableError,
  KafkaJSNonRetriableError,
  KafkaJSNotImplemented,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSOffsetOutOfRange,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSTimeout,
  KafkaJSTopicMetadataNotLoaded,
} from './errors.js';
export {
  AdminEvents,
  ConsumerEvents,
  type InstrumentationEvent,
  ProducerEvents,
  type RemoveInstrumentationEventListener,
} from './events.js';
export { Kafka } from './kafka.js';
export { type LogCreator as logCreator, type LogEntry, type Logger, logLevel } from './logger.js';
export { Partitioners } from './partitioners.js';
export { Producer } from './producer.js';
export type * from './types.js';
