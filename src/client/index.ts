/**
 * The Samsa client's public surface: Producer, Consumer, Admin, serializers and typed errors.
 * Each client takes `{ bootstrapServers, clientId, ... }`, owns its connections, and closes with `close()` or
 * `await using`.
 */
export * from './admin/index.js';
export * from './consumer/index.js';
export { isRetriableError, KafkaClientError, KafkaConnectionError, KafkaError, KafkaTimeoutError } from './errors.js';
export * from './producer/index.js';
export * from './serde.js';
