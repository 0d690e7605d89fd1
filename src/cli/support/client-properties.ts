/**
 * Kafka client properties given on the command line (`--producer-property`, `--consumer-property`, a
 * `--*.config` file): value parsing with one-line usage errors, the properties every client shares (where the
 * cluster is reached and how patiently), and applying a property table to the options a command builds.
 */
import { UsageError } from './errors.js';

export type PropertySetter<T> = (value: string, into: T) => void;

export function integerProperty(name: string, value: string, min: number): number {
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`${name} must be an integer, got '${value}'`);
  const n = Number(value);
  if (n < min) throw new UsageError(`${name} must be at least ${min}, got ${n}`);
  return n;
}

export function booleanProperty(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v !== 'true' && v !== 'false') throw new UsageError(`${name} must be true or false, got '${value}'`);
  return v === 'true';
}

/** The options both the Producer and the Consumer take for their connections. */
export interface ConnectionSettings {
  clientId?: string;
  requestTimeoutMs?: number;
  retryBackoffMs?: number;
  metadataMaxAgeMs?: number;
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  connectTimeoutMs?: number;
}

/** Kafka's connection properties, shared by the producer and consumer tables. */
export const CONNECTION_PROPERTIES: Record<string, PropertySetter<ConnectionSettings>> = {
  'client.id': (v, o) => {
    o.clientId = v;
  },
  'request.timeout.ms': (v, o) => {
    o.requestTimeoutMs = integerProperty('request.timeout.ms', v, 1);
  },
  'retry.backoff.ms': (v, o) => {
    o.retryBackoffMs = integerProperty('retry.backoff.ms', v, 0);
  },
  'metadata.max.age.ms': (v, o) => {
    o.metadataMaxAgeMs = integerProperty('metadata.max.age.ms', v, 0);
  },
  'reconnect.backoff.ms': (v, o) => {
    o.reconnectBackoffMs = integerProperty('reconnect.backoff.ms', v, 0);
  },
  'reconnect.backoff.max.ms': (v, o) => {
    o.reconnectBackoffMaxMs = integerProperty('reconnect.backoff.max.ms', v, 0);
  },
  'socket.connection.setup.timeout.ms': (v, o) => {
    o.connectTimeoutMs = integerProperty('socket.connection.setup.timeout.ms', v, 1);
  },
};

/**
 * Applies `props` through `table` to `into`; returns the names neither in the table nor `accepted` (properties
 * that are fine to pass but change nothing here), which the caller warns about as Kafka's tools warn about unused
 * configs.
 */
export function applyProperties<T>(
  props: Record<string, string>,
  into: T,
  table: Record<string, PropertySetter<T>>,
  accepted: ReadonlySet<string>,
): string[] {
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(props)) {
    const set = table[name];
    if (set !== undefined) set(value, into);
    else if (!accepted.has(name)) unknown.push(name);
  }
  return unknown;
}
