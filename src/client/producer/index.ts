/** The producer: `new Producer({ bootstrapServers })`, `send`, `sendBatch`, `flush`, `close`. */
export { Producer } from './producer.js';
export type {
  Acks,
  CompressionType,
  DeliveryReport,
  HeaderValue,
  Partitioner,
  PartitionerContext,
  ProducerMetrics,
  ProducerOptions,
  ProducerRecord,
  RecordHeaders,
} from './types.js';
