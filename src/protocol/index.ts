export { ProtocolError, type ProtocolErrorKind } from './codec/protocol-error.js';
export { Reader } from './codec/reader.js';
export type { Input, RawTaggedField } from './codec/types.js';
export { Writer } from './codec/writer.js';
export * from './errors.js';
export * from './generated/index.js';
export * from './hash.js';
export * from './records/index.js';
