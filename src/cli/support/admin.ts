/**
 * What the admin commands (`topic`, `group` and the Kafka-tool look-alikes `topics` and `consumer-groups`) share:
 * an Admin client opened from the common options (connected first, so an unreachable cluster fails before anything
 * else with the usual line and exit status 3) and closed afterwards; parsers for number, `key=value` and
 * `topic[:p,p]` arguments that turn bad values into usage errors; and the report of a batch call in which some items
 * failed: the caller prints what succeeded, each failure is one line on stderr and the exit status is 1.
 */
import { InvalidArgumentError } from 'commander';
import { Admin, type ItemFailure, KafkaAdminError } from '../../client/admin/index.js';
import { KafkaConnectionError, KafkaTimeoutError } from '../../client/errors.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { ClientSettings } from './connection-options.js';
import { describeFailure, UsageError } from './errors.js';
import { type OutputFormat, toJson } from './output.js';

export async function withAdmin<T>(s: ClientSettings, body: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({
    bootstrapServers: s.bootstrapServers,
    clientId: s.clientId,
    requestTimeoutMs: s.requestTimeoutMs,
  });
  try {
    await admin.connect();
    return await body(admin);
  } finally {
    await admin.close();
  }
}

export interface Settled<T> {
  results: T[];
  failures: ItemFailure[];
}

const unreachable = (e: Error): boolean => e instanceof KafkaConnectionError || e instanceof KafkaTimeoutError;

/**
 * The results and per-item failures of a batch call. When nothing succeeded because no broker answered, that error
 * is thrown as is: the command fails the usual way rather than once per item.
 */
export async function settled<T>(call: Promise<T[]>): Promise<Settled<T>> {
  try {
    return { results: await call, failures: [] };
  } catch (e) {
    if (!(e instanceof KafkaAdminError)) throw e;
    if (e.results.length === 0 && e.failures.every((f) => unreachable(f.error))) throw e.failures[0]!.error;
    return { results: [...(e.results as T[])], failures: [...e.failures] };
  }
}

/** The broker's error of a one-item call (a KafkaAdminError of one failure is unwrapped). */
export function unwrap(e: unknown): unknown {
  if (e instanceof KafkaAdminError && e.failures.length === 1) return e.failures[0]!.error;
  return e;
}

/** What to do about a failure, by Kafka error code, appended to its line. */
export type Hints = Partial<Record<number, string>>;

export const TOPIC_HINTS: Hints = {
  [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]: '`samsa topic list` shows the topics',
};

export const GROUP_HINTS: Hints = {
  [ErrorCode.GROUP_ID_NOT_FOUND]: '`samsa group list` shows the groups',
  [ErrorCode.NON_EMPTY_GROUP]: 'stop its consumers first',
  [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC]: 'a member still subscribes to the topic: stop its consumers first',
};

/** One line for a failure, with a hint when there is one. */
export function failureLine(e: unknown, s: ClientSettings, hints: Hints = {}): { line: string; exitCode: number } {
  const { line, exitCode } = describeFailure(e, s.bootstrapServers);
  const hint = e instanceof KafkaError ? hints[e.code] : undefined;
  return { line: hint === undefined ? line : `${line} (${hint})`, exitCode };
}

/** Prints one line per failing item on stderr and sets the exit status (that of the first failure). */
export function reportFailures(failures: readonly ItemFailure[], s: ClientSettings, hints: Hints = {}): void {
  for (const f of failures) {
    const { line, exitCode } = failureLine(f.error, s, hints);
    process.stderr.write(`samsa: ${f.item}: ${line}\n`);
    if (!process.exitCode) process.exitCode = exitCode;
  }
}

/** The JSON document, or the lines for people (nothing at all when there are none, e.g. every item failed). */
export function printLines(format: OutputFormat, json: unknown, lines: () => readonly string[]): void {
  if (format === 'json') {
    process.stdout.write(`${toJson(json)}\n`);
    return;
  }
  const text = lines();
  if (text.length > 0) process.stdout.write(`${text.join('\n')}\n`);
}

// ---- argument parsers (commander calls them; InvalidArgumentError is a usage error, exit status 2) -------------

export function intArg(min: number): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('not an integer.');
    const n = Number(value);
    if (n < min) throw new InvalidArgumentError(`must be at least ${min}.`);
    return n;
  };
}

export function bigintArg(value: string): bigint {
  if (!/^[-+]?\d+$/.test(value.trim())) throw new InvalidArgumentError('not an integer.');
  return BigInt(value.trim());
}

/** For repeatable options: each occurrence adds to the list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `key=value` pairs (spaces around '=' ignored, as kafka-topics does) into an object. */
export function parseKeyValues(pairs: readonly string[], option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq).trim();
    if (key === '') throw new UsageError(`${option} takes key=value, got '${pair}'`);
    out[key] = pair.slice(eq + 1).trim();
  }
  return out;
}

export interface TopicSelection {
  topic: string;
  /** null: every partition. */
  partitions: number[] | null;
}

/** `topic` or `topic:0,1,2` (partitions may be given as ranges: `topic:0-3`). */
export function parseTopicPartitions(spec: string): TopicSelection {
  const colon = spec.lastIndexOf(':');
  if (colon < 0) {
    if (spec.trim() === '') throw new UsageError('--topic needs a topic name');
    return { topic: spec.trim(), partitions: null };
  }
  const topic = spec.slice(0, colon).trim();
  const partitions: number[] = [];
  for (const part of spec.slice(colon + 1).split(',')) {
    const range = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (topic === '' || range === null) {
      throw new UsageError(`--topic takes topic or topic:partition,partition..., got '${spec}'`);
    }
    const from = Number(range[1]);
    const to = range[2] === undefined ? from : Number(range[2]);
    for (let p = from; p <= to; p++) partitions.push(p);
  }
  return { topic, partitions: [...new Set(partitions)].sort((a, b) => a - b) };
}

/** A date-time for --to-datetime: ISO 8601 (local time when no zone is given, as kafka-consumer-groups reads it). */
export function parseDateTime(value: string): Date {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new UsageError(`--to-datetime takes an ISO 8601 date-time such as 2024-05-01T12:00:00.000, got '${value}'`);
  }
  return new Date(ms);
}

/** An ISO 8601 duration for --by-duration (PnDTnHnMnS, as kafka-consumer-groups takes), in milliseconds. */
export function parseDuration(value: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(value.trim());
  if (m === null || value.trim().toUpperCase() === 'P' || value.trim().toUpperCase().endsWith('T')) {
    throw new UsageError(`--by-duration takes an ISO 8601 duration such as PT30M or P1DT2H, got '${value}'`);
  }
  const [, d, h, min, sec] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Number(sec ?? 0) * 1000;
}
