/**
 * `samsa consume <topic>`: messages of a topic to stdout through the client's Consumer, one per line by default,
 * formatted by a kcat-like `--format` string, by kafka-console-consumer's `--property print.*` formatter, or as JSON
 * lines (`--output json`); and `samsa console-consumer` (also `kafka-console-consumer[.sh]`), the same with
 * kafka-console-consumer.sh's flags.
 *
 * Without --group every partition of the topic (or --partition) is assigned and nothing is committed; with --group
 * the command is a member of that group (the group's committed offsets are where it starts, and what it printed is
 * committed when it stops). Where to start: --from-beginning, --offset (earliest, latest, N, or -N: N before the
 * end, per partition), --timestamp; the default is the end, as kafka-console-consumer does. In group mode
 * --from-beginning only matters when the group has no committed offset (auto.offset.reset=earliest, as Kafka's tool),
 * while --offset and --timestamp move each partition when it is first assigned.
 *
 * It stops after --max-messages, after --timeout-ms without a message, on Ctrl-C or SIGTERM, or when stdout goes
 * away (`| head`): all of them are a clean stop with exit status 0, the consumer closed (committing in group mode)
 * and a summary on stderr ("consumed 42 messages from orders in 1.3 s"). Output is gathered into large writes; the
 * delivery waits while stdout is behind, so a slow reader slows the consumer down instead of filling memory.
 */
import type { Command } from 'commander';
import { Consumer, type ConsumerMessage, type TopicPartition } from '../../client/consumer/index.js';
import { collect, intArg, parseKeyValues, unwrap, withAdmin } from '../support/admin.js';
import {
  addCommonOptions,
  type ClientSettings,
  type CommonOptions,
  runCommand,
} from '../support/connection-options.js';
import {
  applyConsumerProperties,
  type ConsumerSettings,
  consoleFormat,
  FORMATTER_PROPERTIES,
  formatMessage,
  jsonLine,
  type MessageFormat,
  offsetArg,
  parseFormat,
  type StartOffset,
  timestampArg,
  warnUnknownConsumerProperties,
} from '../support/consumer.js';
import { CommandError, describeFailure, UsageError } from '../support/errors.js';
import { ExitCode } from '../support/exit-codes.js';
import { readPropertiesFile } from '../support/producer.js';

/** Output gathered before one write. */
const WRITE_BYTES = 64 * 1024;

export type Start = StartOffset | { kind: 'timestamp'; timestamp: bigint } | null;

export interface ConsumeJob {
  topic: string;
  /** Only this partition (no group). */
  partition: number | undefined;
  group: string | undefined;
  /** null: the group's committed offsets, else the end. */
  start: Start;
  maxMessages: number | undefined;
  /** Stop after this long without a message. */
  idleTimeoutMs: number | undefined;
  format: MessageFormat | 'json';
  out: NodeJS.WriteStream;
}

export interface ConsumeSummary {
  topic: string;
  messages: number;
  /** Key and value bytes. */
  bytes: number;
  seconds: number;
  /** What ended it. */
  reason: 'max-messages' | 'timeout' | 'interrupted' | 'output-closed';
}

/** Buffers formatted messages into large writes and waits while the stream is behind. */
class OutputWriter {
  private parts: Buffer[] = [];
  private size = 0;
  private scheduled = false;
  closed = false;

  constructor(private readonly out: NodeJS.WriteStream) {}

  add(parts: Buffer[], size: number): Promise<void> | undefined {
    for (const p of parts) this.parts.push(p);
    this.size += size;
    if (this.size >= WRITE_BYTES) return this.flush();
    if (!this.scheduled) {
      // Everything delivered in this turn of the event loop goes out in one write.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        void this.flush();
      });
    }
    return undefined;
  }

  flush(): Promise<void> | undefined {
    if (this.size === 0 && this.parts.length === 0) return undefined;
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    if (this.closed) return undefined;
    if (this.out.write(data)) return undefined;
    return new Promise((resolve) => {
      const done = (): void => {
        this.out.off('drain', done);
        this.out.off('close', done);
        this.out.off('error', done);
        resolve();
      };
      this.out.once('drain', done);
      this.out.once('close', done);
      this.out.once('error', done);
    });
  }
}

async function topicPartitions(s: ClientSettings, topic: string): Promise<number[]> {
  try {
    return await withAdmin(s, async (admin) => {
      const [t] = await admin.describeTopics([topic]);
      return (t?.partitions ?? []).map((p) => p.partition).sort((a, b) => a - b);
    });
  } catch (e) {
    throw unwrap(e);
  }
}

/** Moves newly assigned partitions to the start asked for (null: leaves them where the consumer would start). */
async function placeNew(consumer: Consumer, tps: TopicPartition[], start: Start): Promise<void> {
  if (start === null || tps.length === 0) return;
  switch (start.kind) {
    case 'earliest':
      consumer.seekToBeginning(tps);
      return;
    case 'latest':
      consumer.seekToEnd(tps);
      return;
    case 'offset':
      for (const tp of tps) consumer.seek(tp.topic, tp.partition, start.offset);
      return;
    case 'timestamp':
      consumer.seekToTimestamp(start.timestamp, tps);
      return;
    case 'fromEnd': {
      const [begin, end] = await Promise.all([consumer.beginningOffsets(tps), consumer.endOffsets(tps)]);
      tps.forEach((tp, i) => {
        const from = end[i]!.offset - start.count;
        consumer.seek(tp.topic, tp.partition, from > begin[i]!.offset ? from : begin[i]!.offset);
      });
      return;
    }
  }
}

/**
 * Consumes until a stop condition (see the module comment); the consumer is closed in any case. Ctrl-C and SIGTERM
 * stop it cleanly; a second Ctrl-C exits at once.
 */
export async function consumeMessages(
  s: ClientSettings,
  settings: ConsumerSettings,
  job: ConsumeJob,
): Promise<ConsumeSummary> {
  const partitions = await topicPartitions(s, job.topic);
  if (job.partition !== undefined && !partitions.includes(job.partition)) {
    throw new CommandError(
      `${job.topic} has no partition ${job.partition} (it has ${partitions.length})`,
      ExitCode.FAILED,
    );
  }
  const consumer = new Consumer({
    clientId: s.clientId,
    requestTimeoutMs: s.requestTimeoutMs,
    autoOffsetReset: job.start?.kind === 'earliest' ? 'earliest' : 'latest',
    ...settings,
    ...(job.group === undefined ? {} : { groupId: job.group }),
    bootstrapServers: s.bootstrapServers,
  });
  const controller = new AbortController();
  let reason: ConsumeSummary['reason'] = 'interrupted';
  const stop = (why: ConsumeSummary['reason']): void => {
    if (controller.signal.aborted) return;
    reason = why;
    controller.abort();
  };
  const writer = new OutputWriter(job.out);
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted && signal === 'SIGINT') process.exit(ExitCode.INTERRUPTED);
    stop('interrupted');
  };
  const onOutputError = (): void => {
    writer.closed = true;
    stop('output-closed');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  job.out.on('error', onOutputError);
  let messages = 0;
  let bytes = 0;
  const started = performance.now();
  // The idle clock starts once the partitions are placed (in a group: when they are assigned, since joining may
  // take longer than the timeout).
  let idle: NodeJS.Timeout | null = null;
  try {
    await consumer.connect();
    if (job.group === undefined) {
      const list = job.partition === undefined ? partitions : [job.partition];
      const tps = list.map((partition) => ({ topic: job.topic, partition }));
      consumer.assign(tps);
      await placeNew(consumer, tps, job.start ?? { kind: 'latest' });
    } else {
      // --offset and --timestamp place a partition once, when it first comes to this member.
      const placed = new Set<number>();
      const explicit = job.start !== null && job.start.kind !== 'earliest' ? job.start : null;
      consumer.subscribe([job.topic], {
        onPartitionsAssigned: async (tps) => {
          const fresh = tps.filter((tp) => !placed.has(tp.partition));
          for (const tp of fresh) placed.add(tp.partition);
          await placeNew(consumer, fresh, explicit);
          if (idle !== null) idle.refresh();
          else if (job.idleTimeoutMs !== undefined) idle = setTimeout(() => stop('timeout'), job.idleTimeoutMs);
        },
      });
    }
    if (job.idleTimeoutMs !== undefined && job.group === undefined) {
      idle = setTimeout(() => stop('timeout'), job.idleTimeoutMs);
    }
    const format = job.format;
    const parts: Buffer[] = [];
    const max = job.maxMessages ?? Number.POSITIVE_INFINITY;
    const eachMessage = (m: ConsumerMessage): Promise<void> | undefined => {
      if (controller.signal.aborted) return undefined;
      messages++;
      bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
      idle?.refresh();
      parts.length = 0;
      let pending: Promise<void> | undefined;
      if (format === 'json') {
        const line = Buffer.from(jsonLine(m), 'utf8');
        parts.push(line);
        pending = writer.add(parts, line.length);
      } else {
        const n = formatMessage(m, format, parts);
        pending = writer.add(parts, n);
      }
      if (messages >= max) stop('max-messages');
      return pending;
    };
    if (max > 0) await consumer.consume({ eachMessage, signal: controller.signal });
    else reason = 'max-messages';
  } catch (e) {
    const { line, exitCode } = describeFailure(e, s.bootstrapServers);
    const before = messages > 0 ? ` (after ${messages} message${messages === 1 ? '' : 's'})` : '';
    throw new CommandError(`${line}${before}`, exitCode);
  } finally {
    if (idle !== null) clearTimeout(idle);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await writer.flush();
    job.out.off('error', onOutputError);
    // Closing commits what was printed (group mode) and leaves the group.
    await consumer.close().catch(() => {});
  }
  return { topic: job.topic, messages, bytes, seconds: (performance.now() - started) / 1000, reason };
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function consumeSummaryLine(r: ConsumeSummary): string {
  const why = r.reason === 'interrupted' ? ' (interrupted)' : r.reason === 'timeout' ? ' (idle timeout)' : '';
  return `consumed ${plural(r.messages, 'message')} from ${r.topic} in ${r.seconds.toFixed(1)} s${why}`;
}

/** `--property name=value`: the value kept as typed (a separator may be a space or a tab). */
function formatterProperties(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--property takes name=value, got '${pair}'`);
    const name = pair.slice(0, eq).trim();
    if (!FORMATTER_PROPERTIES.has(name)) {
      process.stderr.write(`samsa: warning: formatter property '${name}' is not known here and is ignored\n`);
    }
    out[name] = pair.slice(eq + 1);
  }
  return out;
}

/** The start from the flags; at most one of them. */
function startFrom(opts: { fromBeginning?: boolean; offset?: StartOffset; timestamp?: bigint }): Start {
  const given = [opts.fromBeginning === true, opts.offset !== undefined, opts.timestamp !== undefined].filter(Boolean);
  if (given.length > 1) throw new UsageError('give at most one of --from-beginning, --offset and --timestamp');
  if (opts.fromBeginning) return { kind: 'earliest' };
  if (opts.offset !== undefined) return opts.offset;
  if (opts.timestamp !== undefined) return { kind: 'timestamp', timestamp: opts.timestamp };
  return null;
}

// ---- samsa consume ------------------------------------------------------------------------------------------------

interface ConsumeOptions extends CommonOptions {
  fromBeginning?: boolean;
  offset?: StartOffset;
  timestamp?: bigint;
  partition?: number;
  group?: string;
  maxMessages?: number;
  timeoutMs?: number;
  format?: string;
  property: string[];
  consumerProperty: string[];
}

export function registerConsume(program: Command): void {
  addCommonOptions(
    program
      .command('consume')
      .description('print the messages of a topic, one per line (or --format, or --output json lines)')
      .argument('<topic>', 'the topic')
      .option('--from-beginning', 'start at the first message (in a group: when it has no committed offset)')
      .option(
        '-o, --offset <offset>',
        'where to start in each partition: earliest, latest, an offset, or -N (N before the end)',
        offsetArg,
      )
      .option('--timestamp <time>', 'start at the first message at or after this time (ms or ISO 8601)', timestampArg)
      .option('-p, --partition <n>', 'only this partition (not with --group)', intArg(0))
      .option('-g, --group <id>', 'consume as a member of this group, committing what was printed')
      .option('-c, --max-messages <n>', 'stop after n messages', intArg(0))
      .option('--timeout-ms <ms>', 'stop after this long without a message', intArg(1))
      .option(
        '-f, --format <format>',
        'kcat-like: %t topic, %p partition, %o offset, %k key, %s value, %T timestamp, %h headers, \\n \\t ' +
          "(default '%s\\n')",
      )
      .option(
        '--property <name=value>',
        "kafka-console-consumer's formatter: print.key, print.timestamp, print.partition, print.offset, " +
          'print.headers, print.value, key.separator, line.separator, headers.separator, null.literal (repeatable)',
        collect,
        [],
      )
      .option('--consumer-property <name=value>', 'any Kafka consumer property (repeatable)', collect, []),
  ).action((topic: string, opts: ConsumeOptions) =>
    runCommand(opts, async (s) => {
      const start = startFrom(opts);
      if (opts.group !== undefined && opts.partition !== undefined) {
        throw new UsageError('--partition cannot be used with --group (the group assigns the partitions)');
      }
      if (opts.format !== undefined && opts.property.length > 0) {
        throw new UsageError('give either --format or --property formatter options, not both');
      }
      if (opts.format !== undefined && s.output === 'json') {
        throw new UsageError('give either --format or --output json, not both');
      }
      const settings: ConsumerSettings = {};
      warnUnknownConsumerProperties(
        applyConsumerProperties(parseKeyValues(opts.consumerProperty, '--consumer-property'), settings),
      );
      const format: MessageFormat | 'json' =
        s.output === 'json'
          ? 'json'
          : opts.property.length > 0
            ? consoleFormat(formatterProperties(opts.property))
            : parseFormat(opts.format ?? '%s\\n');
      const summary = await consumeMessages(s, settings, {
        topic,
        partition: opts.partition,
        group: opts.group ?? settings.groupId,
        start,
        maxMessages: opts.maxMessages,
        idleTimeoutMs: opts.timeoutMs,
        format,
        out: process.stdout,
      });
      process.stderr.write(`${consumeSummaryLine(summary)}\n`);
    }),
  );
}

// ---- samsa console-consumer (kafka-console-consumer.sh's flags) ---------------------------------------------------

interface ConsoleConsumerOptions extends CommonOptions {
  topic?: string;
  fromBeginning?: boolean;
  group?: string;
  maxMessages?: number;
  partition?: number;
  offset?: string;
  timeoutMs?: number;
  property: string[];
  consumerProperty: string[];
  consumerConfig?: string;
  isolationLevel?: string;
}

export function registerConsoleConsumer(program: Command): void {
  addCommonOptions(
    program
      .command('console-consumer')
      .aliases(['kafka-console-consumer', 'kafka-console-consumer.sh'])
      .description("kafka-console-consumer.sh's flags: the messages of --topic to standard output")
      .option('--topic <topic>', 'the topic to consume')
      .option('--from-beginning', 'start at the earliest message when there is no committed offset')
      .option('--group <id>', 'the consumer group')
      .option('--max-messages <n>', 'stop after n messages', intArg(0))
      .option('--partition <n>', 'only this partition', intArg(0))
      .option('--offset <offset>', "with --partition: 'earliest', 'latest' or an offset (default latest)")
      .option('--timeout-ms <ms>', 'stop after this long without a message', intArg(1))
      .option(
        '--property <name=value>',
        'formatter property: print.key, print.timestamp, print.partition, print.offset, print.headers, print.value, ' +
          'key.separator, line.separator, headers.separator, null.literal (repeatable)',
        collect,
        [],
      )
      .option('--consumer-property <name=value>', 'a Kafka consumer property (repeatable)', collect, [])
      .option('--consumer.config <file>', 'consumer properties from a file')
      .option('--isolation-level <level>', 'read_committed or read_uncommitted'),
  ).action((opts: ConsoleConsumerOptions & { 'consumer.config'?: string }) =>
    runCommand(opts, async (s) => {
      if (opts.topic === undefined || opts.topic.trim() === '')
        throw new UsageError('Missing required argument "[topic]"');
      // Kafka's tool refuses the same combinations.
      if (opts.offset !== undefined && opts.partition === undefined) {
        throw new UsageError('The partition is required when offset is specified.');
      }
      if (opts.partition !== undefined && opts.group !== undefined) {
        throw new UsageError('Options group and partition cannot be specified together.');
      }
      if (opts.fromBeginning && opts.offset !== undefined) {
        throw new UsageError('Options from-beginning and offset cannot be specified together.');
      }
      const props: Record<string, string> = {};
      const file = opts['consumer.config'] ?? opts.consumerConfig;
      if (file !== undefined) Object.assign(props, readPropertiesFile(file));
      Object.assign(props, parseKeyValues(opts.consumerProperty, '--consumer-property'));
      if (opts.isolationLevel !== undefined) props['isolation.level'] = opts.isolationLevel;
      const settings: ConsumerSettings = {};
      warnUnknownConsumerProperties(applyConsumerProperties(props, settings));
      let start: Start = null;
      if (opts.fromBeginning) start = { kind: 'earliest' };
      else if (opts.offset !== undefined) {
        try {
          start = offsetArg(opts.offset);
        } catch {
          throw new UsageError(`--offset must be earliest, latest or a non-negative offset, got '${opts.offset}'`);
        }
      }
      const group = opts.group ?? settings.groupId;
      const summary = await consumeMessages(s, settings, {
        topic: opts.topic.trim(),
        partition: opts.partition,
        group,
        start,
        maxMessages: opts.maxMessages,
        idleTimeoutMs: opts.timeoutMs,
        format: s.output === 'json' ? 'json' : consoleFormat(formatterProperties(opts.property)),
        out: process.stdout,
      });
      // Kafka's tool's closing line.
      process.stderr.write(`Processed a total of ${plural(summary.messages, 'message')}\n`);
    }),
  );
}
