/**
 * What the consuming commands (`consume`, `console-consumer`, `bench consume`, `bench e2e`) share: Kafka's consumer
 * property names (`--consumer-property fetch.min.bytes=1000`) turned into the Consumer's options, parsers for where
 * to start (`--offset`, `--timestamp`), and the formatting of each message for output: a kcat-like format string
 * (`%t %p %o %k %s %T %h`), kafka-console-consumer's formatter properties (print.key, key.separator, ...) and
 * JSON lines.
 *
 * Formatting compiles the format once into a list of parts and writes each message into Buffers (values are
 * written as the bytes they are, not decoded), so a fast consumer is not slowed down by per-message string work.
 */
import { InvalidArgumentError } from 'commander';
import type { ConsumerMessage, ConsumerOptions } from '../../client/consumer/index.js';
import {
  applyProperties,
  booleanProperty,
  CONNECTION_PROPERTIES,
  integerProperty,
  type PropertySetter,
} from './client-properties.js';
import { UsageError } from './errors.js';

/** The Consumer options a command may set (bootstrap servers come from the common options). */
export type ConsumerSettings = Omit<ConsumerOptions, 'bootstrapServers' | 'keyDeserializer' | 'valueDeserializer'>;

/** Kafka's consumer properties this client has, by Kafka name. */
const PROPERTIES: Record<string, PropertySetter<ConsumerSettings>> = {
  ...CONNECTION_PROPERTIES,
  'group.id': (v, o) => {
    o.groupId = v;
  },
  'group.instance.id': (v, o) => {
    o.groupInstanceId = v;
  },
  'auto.offset.reset': (v, o) => {
    const r = v.trim().toLowerCase();
    if (r !== 'earliest' && r !== 'latest' && r !== 'none') {
      throw new UsageError(`auto.offset.reset must be earliest, latest or none, got '${v}'`);
    }
    o.autoOffsetReset = r;
  },
  'enable.auto.commit': (v, o) => {
    o.enableAutoCommit = booleanProperty('enable.auto.commit', v);
  },
  'auto.commit.interval.ms': (v, o) => {
    o.autoCommitIntervalMs = integerProperty('auto.commit.interval.ms', v, 1);
  },
  'session.timeout.ms': (v, o) => {
    o.sessionTimeoutMs = integerProperty('session.timeout.ms', v, 1);
  },
  'heartbeat.interval.ms': (v, o) => {
    o.heartbeatIntervalMs = integerProperty('heartbeat.interval.ms', v, 1);
  },
  'max.poll.interval.ms': (v, o) => {
    o.rebalanceTimeoutMs = integerProperty('max.poll.interval.ms', v, 1);
  },
  'partition.assignment.strategy': (v, o) => {
    const names = v.split(',').map((n) => {
      const s = n.trim();
      // Kafka's class names work too.
      if (/RangeAssignor$/.test(s) || s === 'range') return 'range' as const;
      if (/RoundRobinAssignor$/.test(s) || s === 'roundrobin') return 'roundrobin' as const;
      if (/CooperativeStickyAssignor$/.test(s) || s === 'cooperative-sticky') return 'cooperative-sticky' as const;
      throw new UsageError(`partition.assignment.strategy: unknown assignor '${s}'`);
    });
    o.partitionAssignmentStrategy = names;
  },
  'fetch.min.bytes': (v, o) => {
    o.fetchMinBytes = integerProperty('fetch.min.bytes', v, 0);
  },
  'fetch.max.wait.ms': (v, o) => {
    o.fetchMaxWaitMs = integerProperty('fetch.max.wait.ms', v, 0);
  },
  'fetch.max.bytes': (v, o) => {
    o.fetchMaxBytes = integerProperty('fetch.max.bytes', v, 1);
  },
  'max.partition.fetch.bytes': (v, o) => {
    o.maxPartitionFetchBytes = integerProperty('max.partition.fetch.bytes', v, 1);
  },
  'max.poll.records': (v, o) => {
    o.maxPollRecords = integerProperty('max.poll.records', v, 1);
  },
  'isolation.level': (v, o) => {
    const l = v.trim().toLowerCase();
    if (l !== 'read_committed' && l !== 'read_uncommitted') {
      throw new UsageError(`isolation.level must be read_committed or read_uncommitted, got '${v}'`);
    }
    o.isolationLevel = l;
  },
  'check.crcs': (v, o) => {
    o.checkCrcs = booleanProperty('check.crcs', v);
  },
};

/** Properties that are fine to pass but change nothing here. */
const ACCEPTED = new Set([
  'bootstrap.servers',
  'key.deserializer',
  'value.deserializer',
  'send.buffer.bytes',
  'receive.buffer.bytes',
  'exclude.internal.topics',
  'allow.auto.create.topics',
]);

/** Applies Kafka consumer properties to `into`; returns the names this client does not know (the caller warns). */
export function applyConsumerProperties(props: Record<string, string>, into: ConsumerSettings): string[] {
  return applyProperties(props, into, PROPERTIES, ACCEPTED);
}

export function warnUnknownConsumerProperties(names: readonly string[]): void {
  for (const name of names) {
    process.stderr.write(`samsa: warning: consumer property '${name}' is not known here and is ignored\n`);
  }
}

// ---- where to start -----------------------------------------------------------------------------------------------

/** earliest/latest, an absolute offset, or (negative) that many messages before the end, as kcat's -o -N. */
export type StartOffset =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'offset'; offset: bigint }
  | { kind: 'fromEnd'; count: bigint };

/** `--offset earliest|beginning|latest|end|N|-N`. */
export function offsetArg(value: string): StartOffset {
  const v = value.trim().toLowerCase();
  if (v === 'earliest' || v === 'beginning') return { kind: 'earliest' };
  if (v === 'latest' || v === 'end') return { kind: 'latest' };
  if (/^\d+$/.test(v)) return { kind: 'offset', offset: BigInt(v) };
  if (/^-\d+$/.test(v)) return { kind: 'fromEnd', count: -BigInt(v) };
  throw new InvalidArgumentError('must be earliest, latest, an offset, or -N (N before the end).');
}

/** `--timestamp`: milliseconds since the epoch, or an ISO 8601 date-time. */
export function timestampArg(value: string): bigint {
  const v = value.trim();
  if (/^\d+$/.test(v)) return BigInt(v);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) {
    throw new InvalidArgumentError('must be milliseconds since the epoch or an ISO 8601 date-time.');
  }
  return BigInt(ms);
}

// ---- formatting ---------------------------------------------------------------------------------------------------

type Part =
  | { kind: 'text'; bytes: Buffer }
  | { kind: 'topic' | 'partition' | 'offset' | 'key' | 'value' | 'timestamp' | 'tstype' | 'headers' }
  | { kind: 'keyLength' | 'valueLength' };

/** How null fields and headers are written. */
export interface FormatStyle {
  /** Written for a null key or value. */
  nullLiteral: Buffer;
  /** Between headers. */
  headersSeparator: string;
  /** Between a header's name and value. */
  headersKeySeparator: string;
  /** Written when a message has no headers. */
  noHeaders: string;
}

export interface MessageFormat {
  parts: Part[];
  style: FormatStyle;
}

const KCAT_STYLE: FormatStyle = {
  nullLiteral: Buffer.alloc(0),
  headersSeparator: ',',
  headersKeySeparator: '=',
  noHeaders: '',
};

const TOKENS: Record<string, Part['kind']> = {
  t: 'topic',
  p: 'partition',
  o: 'offset',
  k: 'key',
  s: 'value',
  T: 'timestamp',
  h: 'headers',
  K: 'keyLength',
  S: 'valueLength',
};

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '0': '\0' };

/**
 * A kcat-like format string: %t topic, %p partition, %o offset, %k key, %s value, %T timestamp (ms), %h headers
 * (name=value,...), %K and %S key and value lengths (-1 for null), %% a percent sign; \n \t \r \\ \0 escapes.
 */
export function parseFormat(format: string): MessageFormat {
  const parts: Part[] = [];
  let text = '';
  const flush = (): void => {
    if (text !== '') parts.push({ kind: 'text', bytes: Buffer.from(text, 'utf8') });
    text = '';
  };
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    const next = format[i + 1];
    if (c === '%' && next !== undefined) {
      i++;
      if (next === '%') text += '%';
      else {
        const kind = TOKENS[next];
        if (kind === undefined)
          throw new UsageError(`--format: unknown token '%${next}' (use %t %p %o %k %s %T %h %K %S)`);
        flush();
        parts.push({ kind } as Part);
      }
    } else if (c === '\\' && next !== undefined && ESCAPES[next] !== undefined) {
      i++;
      text += ESCAPES[next];
    } else text += c;
  }
  flush();
  return { parts, style: KCAT_STYLE };
}

/** Java properties style escapes in a separator (`\t`, `\n`), as kafka-console-consumer reads them. */
function unescapeSeparator(value: string): string {
  return value.replace(/\\([ntr\\0])/g, (_m, c: string) => ESCAPES[c]!);
}

const truthy = (v: string | undefined): boolean => v !== undefined && v.trim().toLowerCase() === 'true';

/**
 * kafka-console-consumer's formatter properties (print.timestamp, print.partition, print.offset, print.headers,
 * print.key, print.value, key.separator, line.separator, headers.separator, null.literal) as a format, in its field
 * order: `CreateTime:1700000000000<sep>Partition:0<sep>Offset:5<sep>h1:v1,h2:v2<sep>key<sep>value<line>`.
 */
export function consoleFormat(props: Record<string, string>): MessageFormat {
  const sep = Buffer.from(unescapeSeparator(props['key.separator'] ?? '\t'), 'utf8');
  const line = Buffer.from(unescapeSeparator(props['line.separator'] ?? '\n'), 'utf8');
  const fields: Part[][] = [];
  if (truthy(props['print.timestamp'])) {
    fields.push([{ kind: 'tstype' }, { kind: 'text', bytes: Buffer.from(':') }, { kind: 'timestamp' }]);
  }
  if (truthy(props['print.partition']))
    fields.push([{ kind: 'text', bytes: Buffer.from('Partition:') }, { kind: 'partition' }]);
  if (truthy(props['print.offset'])) fields.push([{ kind: 'text', bytes: Buffer.from('Offset:') }, { kind: 'offset' }]);
  if (truthy(props['print.headers'])) fields.push([{ kind: 'headers' }]);
  if (truthy(props['print.key'])) fields.push([{ kind: 'key' }]);
  const printValue = props['print.value'] === undefined || truthy(props['print.value']);
  if (printValue) fields.push([{ kind: 'value' }]);
  const parts: Part[] = [];
  fields.forEach((f, i) => {
    if (i > 0) parts.push({ kind: 'text', bytes: sep });
    parts.push(...f);
  });
  // Kafka's formatter ends the line only after the value.
  if (printValue) parts.push({ kind: 'text', bytes: line });
  return {
    parts,
    style: {
      nullLiteral: Buffer.from(props['null.literal'] ?? 'null', 'utf8'),
      headersSeparator: unescapeSeparator(props['headers.separator'] ?? ','),
      headersKeySeparator: unescapeSeparator(props['headers.key.separator'] ?? ':'),
      noHeaders: 'NO_HEADERS',
    },
  };
}

/** Whether a `--property` list asks for kafka-console-consumer's formatter. */
export const FORMATTER_PROPERTIES = new Set([
  'print.timestamp',
  'print.partition',
  'print.offset',
  'print.headers',
  'print.key',
  'print.value',
  'key.separator',
  'line.separator',
  'headers.separator',
  'headers.key.separator',
  'null.literal',
]);

function headersText(m: ConsumerMessage, style: FormatStyle): string {
  if (m.headers.length === 0) return style.noHeaders;
  let out = '';
  for (let i = 0; i < m.headers.length; i++) {
    const h = m.headers[i]!;
    if (i > 0) out += style.headersSeparator;
    out +=
      h.key +
      style.headersKeySeparator +
      (h.value === null ? style.nullLiteral.toString('utf8') : h.value.toString('utf8'));
  }
  return out;
}

/** Appends the message, formatted, to `out`; returns the bytes appended. */
export function formatMessage(m: ConsumerMessage, f: MessageFormat, out: Buffer[]): number {
  let n = 0;
  const str = (s: string): void => {
    const b = Buffer.from(s, 'utf8');
    out.push(b);
    n += b.length;
  };
  for (const p of f.parts) {
    switch (p.kind) {
      case 'text':
        out.push(p.bytes);
        n += p.bytes.length;
        break;
      case 'topic':
        str(m.topic);
        break;
      case 'partition':
        str(String(m.partition));
        break;
      case 'offset':
        str(m.offset.toString());
        break;
      case 'timestamp':
        str(m.timestamp.toString());
        break;
      case 'tstype':
        str(m.timestampType === 1 ? 'LogAppendTime' : 'CreateTime');
        break;
      case 'key':
      case 'value': {
        const b = (p.kind === 'key' ? m.key : m.value) ?? f.style.nullLiteral;
        out.push(b);
        n += b.length;
        break;
      }
      case 'keyLength':
        str(String(m.key === null ? -1 : m.key.length));
        break;
      case 'valueLength':
        str(String(m.value === null ? -1 : m.value.length));
        break;
      case 'headers':
        str(headersText(m, f.style));
        break;
    }
  }
  return n;
}

/** One JSON object per line: topic, partition, offset, timestamp (numbers), key, value, headers (UTF-8 strings). */
export function jsonLine(m: ConsumerMessage): string {
  return `${JSON.stringify({
    topic: m.topic,
    partition: m.partition,
    offset: Number(m.offset),
    timestamp: Number(m.timestamp),
    key: m.key === null ? null : m.key.toString('utf8'),
    value: m.value === null ? null : m.value.toString('utf8'),
    headers: m.headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('utf8') })),
  })}\n`;
}
