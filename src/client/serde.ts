/**
 * Serializers and deserializers: how typed keys and values become the bytes Kafka stores, and back. A serializer
 * may return null (a null key, or a tombstone value); a deserializer receives null for such fields.
 *
 * The ready-made ones: raw buffers (the clients' default), UTF-8 strings, and JSON (null and undefined stay null, so
 * a JSON tombstone is still a tombstone).
 */

export type Serializer<T> = (value: T) => Buffer | null;
export type Deserializer<T> = (data: Buffer | null) => T;

export const bufferSerializer: Serializer<Buffer | null> = (value) => value;

export const stringSerializer: Serializer<string | null> = (value) =>
  value === null ? null : Buffer.from(value, 'utf8');

/** JSON.stringify as UTF-8; null and undefined become a null field. */
export function jsonSerializer<T>(value: T): Buffer | null {
  return value === null || value === undefined ? null : Buffer.from(JSON.stringify(value), 'utf8');
}

export const bufferDeserializer: Deserializer<Buffer | null> = (data) => data;

export const stringDeserializer: Deserializer<string | null> = (data) => (data === null ? null : data.toString('utf8'));

/** JSON.parse of the UTF-8 bytes; a null field gives null. The result is not checked against T. */
export function jsonDeserializer<T>(data: Buffer | null): T | null {
  return data === null ? null : (JSON.parse(data.toString('utf8')) as T);
}
