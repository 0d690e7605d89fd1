/**
 * `samsa produce <topic>`: one message per line of standard input or of a file, through the client's Producer;
 * and `samsa console-producer` (also `kafka-console-producer`), the same with kafka-console-producer.sh's flags.
 *
 * The input is read as it comes (a huge file is never held in memory): each chunk read is cut into lines
 * (support/lines.ts), the lines become records handed to the Producer in one `sendBatch`, and reading pauses while
 * more than MAX_PENDING_MESSAGES messages or MAX_PENDING_BYTES bytes wait for their acknowledgement. The delivery
 * reports are tallied per partition (count, first and last offset) for the summary: one line on stderr ("produced
 * 10000 messages to user_activity in 1.2 s") and, with --output json, a document on stdout. A progress line is
 * drawn on stderr when it is a terminal (or with --progress).
 *
 * The first failure stops the command: reading stops, what was handed over is settled, and the failure is one line
 * on stderr with exit status 1 (3 when no broker answers, 2 for bad arguments). Ctrl-C stops reading, sends what was
 * read, prints the summary and exits with 130.
 *
 * Where `console-producer` differs from Kafka's tool, on purpose: a failed send stops it with exit status 1 (Kafka's
 * logs the error and goes on), and unknown --producer-property names get a warning on stderr.
 */
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { DeliveryReport, Producer, ProducerRecord } from '../../client/producer/index.js';
import { collect, intArg, parseKeyValues } from '../support/admin.js';
import {
  addCommonOptions,
  type ClientSettings,
  type CommonOptions,
  runCommand,
} from '../support/connection-options.js';
import { CommandError, describeFailure, UsageError } from '../support/errors.js';
import { ExitCode } from '../support/exit-codes.js';
import { type HeaderFormat, type LineFormat, LineSplitter, parseLine, unescapeSeparator } from '../support/lines.js';
import { toJson } from '../support/output.js';
import {
  acksArg,
  applyProducerProperties,
  compressionArg,
  openProducer,
  type ProducerSettings,
  readPropertiesFile,
} from '../support/producer.js';
import { Progress } from '../support/progress.js';

/** Messages handed to the Producer and not yet acknowledged, at most (then reading waits). */
const MAX_PENDING_MESSAGES = 200_000;
/** Their key and value bytes, at most (Kafka's buffer.memory default). */
const MAX_PENDING_BYTES = 32 * 1024 * 1024;
const READ_CHUNK = 256 * 1024;

type Header = { key: string; value: Buffer | null };

export interface ProduceJob {
  topic: string;
  input: Readable;
  /** Input bytes in all, when known (a file): the progress bar. */
  inputSize: number | null;
  format: LineFormat;
  /** Added to every message (after the line's own). */
  headers: readonly Header[];
  partition: number | undefined;
  /** Waits for each message's acknowledgement before reading the next (kafka-console-producer --sync). */
  sync: boolean;
  progress: { tty: boolean } | null;
}

export interface PartitionTally {
  partition: number;
  messages: number;
  /** null with acks=0 (no offsets come back). */
  firstOffset: bigint | null;
  lastOffset: bigint | null;
}

export interface ProduceSummary {
  topic: string;
  messages: number;
  /** Key and value bytes. */
  bytes: number;
  seconds: number;
  partitions: PartitionTally[];
  /** Stopped by Ctrl-C. */
  interrupted: boolean;
}

interface Pending {
  messages: number;
  bytes: number;
  done: Promise<void>;
}

/** Feeds the job's lines to the producer; resolves with the tally, or throws the first failure (tally attached). */
class LineProducer {
  private readonly tallies = new Map<number, PartitionTally>();
  private readonly pending: Pending[] = [];
  private pendingMessages = 0;
  private pendingBytes = 0;
  private delivered = 0;
  private deliveredBytes = 0;
  private sentMessages = 0;
  private sentBytes = 0;
  private inputDone = 0;
  private lineNo = 0;
  private failure: Error | null = null;
  interrupted = false;

  constructor(
    private readonly producer: Producer,
    private readonly job: ProduceJob,
  ) {}

  async run(): Promise<ProduceSummary> {
    const started = performance.now();
    const progress =
      this.job.progress === null
        ? null
        : new Progress(
            () => ({ messages: this.sentMessages, bytes: this.sentBytes, done: this.inputDone }),
            this.job.inputSize,
            this.job.progress.tty,
          );
    const splitter = new LineSplitter();
    const lines: Buffer[] = [];
    try {
      try {
        for await (const chunk of this.job.input as AsyncIterable<Buffer | string>) {
          const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
          this.inputDone += buf.length;
          lines.length = 0;
          splitter.push(buf, lines);
          if (lines.length > 0) await this.send(lines);
          if (this.failure !== null || this.interrupted) break;
        }
      } catch (e) {
        // Ctrl-C destroys the input, which may end the iteration with an error.
        if (!this.interrupted) throw e;
      }
      const last = splitter.end();
      if (last !== null && this.failure === null) await this.send([last]);
    } catch (e) {
      this.failure ??= e as Error;
    } finally {
      // The input is done: what lingers goes now (kafka-console-producer's linger is a whole second).
      const flushed = this.producer.flush();
      await Promise.all(this.pending.map((p) => p.done));
      await flushed;
      progress?.stop();
    }
    const summary: ProduceSummary = {
      topic: this.job.topic,
      messages: this.delivered,
      bytes: this.deliveredBytes,
      seconds: (performance.now() - started) / 1000,
      partitions: [...this.tallies.values()].sort((a, b) => a.partition - b.partition),
      interrupted: this.interrupted,
    };
    if (this.failure !== null) throw Object.assign(this.failure, { summary });
    return summary;
  }

  /** Turns lines into records and hands them over; waits while too much is unacknowledged. */
  private async send(lines: readonly Buffer[]): Promise<void> {
    const { topic, format, partition } = this.job;
    const fixed = this.job.headers.length > 0 ? this.job.headers : undefined;
    const records: ProducerRecord[] = [];
    let size = 0;
    for (const line of lines) {
      this.lineNo++;
      if (line.length === 0 && format.skipEmpty) continue;
      const parsed = parseLine(line, this.lineNo, format);
      const headers =
        parsed.headers === null ? fixed : fixed === undefined ? parsed.headers : [...parsed.headers, ...fixed];
      records.push({ topic, key: parsed.key, value: parsed.value, headers, partition });
      size += (parsed.key?.length ?? 0) + (parsed.value?.length ?? 0);
      if (this.job.sync) {
        await this.handOver(records.splice(0), size);
        await this.settle(0, 0);
        size = 0;
        if (this.failure !== null) return;
      }
    }
    if (records.length > 0) await this.handOver(records, size);
  }

  private async handOver(records: ProducerRecord[], size: number): Promise<void> {
    if (records.length === 0) return;
    this.sentMessages += records.length;
    this.sentBytes += size;
    this.pendingMessages += records.length;
    this.pendingBytes += size;
    const entry: Pending = { messages: records.length, bytes: size, done: Promise.resolve() };
    entry.done = this.producer.sendBatch(records).then(
      (reports) => {
        this.tally(reports);
        this.delivered += reports.length;
        this.deliveredBytes += size;
        this.release(entry);
      },
      (e: Error) => {
        this.failure ??= e;
        this.release(entry);
      },
    );
    this.pending.push(entry);
    await this.settle(MAX_PENDING_MESSAGES, MAX_PENDING_BYTES);
  }

  private release(entry: Pending): void {
    this.pendingMessages -= entry.messages;
    this.pendingBytes -= entry.bytes;
    const i = this.pending.indexOf(entry);
    if (i >= 0) this.pending.splice(i, 1);
  }

  /** Waits for the oldest hand-overs until at most `messages` and `bytes` are unacknowledged. */
  private async settle(messages: number, bytes: number): Promise<void> {
    while (this.pending.length > 0 && (this.pendingMessages > messages || this.pendingBytes > bytes)) {
      await this.pending[0]!.done;
    }
  }

  private tally(reports: readonly DeliveryReport[]): void {
    for (const r of reports) {
      let t = this.tallies.get(r.partition);
      if (t === undefined) {
        t = { partition: r.partition, messages: 0, firstOffset: null, lastOffset: null };
        this.tallies.set(r.partition, t);
      }
      t.messages++;
      if (r.offset >= 0n) {
        if (t.firstOffset === null || r.offset < t.firstOffset) t.firstOffset = r.offset;
        if (t.lastOffset === null || r.offset > t.lastOffset) t.lastOffset = r.offset;
      }
    }
  }
}

/** The input: a file (its size known, for the bar) or standard input. */
function openInput(file: string | undefined): { input: Readable; size: number | null } {
  if (file === undefined || file === '-') {
    let size: number | null = null;
    try {
      const st = statSync('/dev/stdin');
      if (st.isFile()) size = st.size;
    } catch {
      // Not every platform has /dev/stdin; the bar is only a nicety.
    }
    return { input: process.stdin, size };
  }
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new Error('is a directory');
    size = st.size;
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { input: createReadStream(file, { highWaterMark: READ_CHUNK }), size };
}

/**
 * Runs a produce job with the producer: Ctrl-C stops the reading (a second one exits at once), the producer is
 * closed in any case. A failure is rethrown as one line that also says how many messages were delivered before it.
 */
export async function produceLines(producer: Producer, job: ProduceJob, s: ClientSettings): Promise<ProduceSummary> {
  const lp = new LineProducer(producer, job);
  const onSigint = (): void => {
    if (lp.interrupted) process.exit(ExitCode.INTERRUPTED);
    lp.interrupted = true;
    job.input.destroy();
  };
  process.on('SIGINT', onSigint);
  try {
    return await lp.run();
  } catch (e) {
    const summary = (e as { summary?: ProduceSummary }).summary;
    const { line, exitCode } = describeFailure(e, s.bootstrapServers);
    const before =
      summary !== undefined && summary.messages > 0
        ? ` (${summary.messages} message${summary.messages === 1 ? ' was' : 's were'} delivered before)`
        : '';
    throw new CommandError(`${line}${before}`, exitCode);
  } finally {
    process.off('SIGINT', onSigint);
    if (job.input !== process.stdin) job.input.destroy();
    else process.stdin.pause();
    await producer.close().catch(() => {});
  }
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function summaryLine(s: ProduceSummary): string {
  return `produced ${plural(s.messages, 'message')} to ${s.topic} in ${s.seconds.toFixed(1)} s${s.interrupted ? ' (interrupted)' : ''}`;
}

export function summaryJson(s: ProduceSummary): unknown {
  return {
    topic: s.topic,
    messages: s.messages,
    bytes: s.bytes,
    seconds: Number(s.seconds.toFixed(3)),
    interrupted: s.interrupted,
    partitions: s.partitions,
  };
}

// ---- samsa produce ------------------------------------------------------------------------------------------------

interface ProduceOptions extends CommonOptions {
  file?: string;
  keySeparator?: string;
  header: string[];
  headersSeparator?: string;
  nullMarker?: string;
  partition?: number;
  acks?: ReturnType<typeof acksArg>;
  compression?: ReturnType<typeof compressionArg>;
  lingerMs?: number;
  batchSize?: number;
  producerProperty: string[];
  valueFormat: string;
  progress?: boolean;
}

/** `--header k=v` values as headers (the value may be empty, and may contain '='). */
function fixedHeaders(pairs: readonly string[]): Header[] {
  return pairs.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--header takes name=value, got '${pair}'`);
    return { key: pair.slice(0, eq), value: Buffer.from(pair.slice(eq + 1), 'utf8') };
  });
}

function warnUnknown(names: readonly string[]): void {
  for (const name of names) {
    process.stderr.write(`samsa: warning: producer property '${name}' is not known here and is ignored\n`);
  }
}

export function registerProduce(program: Command): void {
  addCommonOptions(
    program
      .command('produce')
      .description('send one message per line of standard input (or --file) to a topic')
      .argument('<topic>', 'the topic')
      .option('-f, --file <path>', 'read the messages from this file instead of standard input')
      .option('-K, --key-separator <text>', 'each line is key<text>value, split at the first <text> (default: no keys)')
      .option('-H, --header <name=value>', 'a header on every message (repeatable)', collect, [])
      .option(
        '--headers-separator <text>',
        'each line starts with its own headers, name:value pairs joined by commas, ended by <text>',
      )
      .option('--null-marker <text>', 'a key or value equal to <text> is sent as null')
      .option(
        '-p, --partition <n>',
        'send every message to this partition (default: the partitioner decides)',
        intArg(0),
      )
      .option('--acks <acks>', '0, 1 or all', acksArg)
      .option('-z, --compression <codec>', 'none, gzip, snappy, lz4 or zstd', compressionArg)
      .option('--linger-ms <ms>', 'how long a batch waits for more messages (default 5)', intArg(0))
      .option('--batch-size <bytes>', 'batch size in bytes (default 16384)', intArg(1))
      .option('--producer-property <name=value>', 'any Kafka producer property (repeatable)', collect, [])
      .option('--value-format <format>', 'text, or json: each value must be a JSON document', 'text')
      .option('--progress', 'draw a progress line on stderr even when it is not a terminal')
      .option('--no-progress', 'no progress line, even on a terminal'),
  ).action((topic: string, opts: ProduceOptions) =>
    runCommand(opts, async (s) => {
      if (opts.valueFormat !== 'text' && opts.valueFormat !== 'json') {
        throw new UsageError(`--value-format must be text or json, got '${opts.valueFormat}'`);
      }
      const settings: ProducerSettings = {};
      warnUnknown(applyProducerProperties(parseKeyValues(opts.producerProperty, '--producer-property'), settings));
      if (opts.acks !== undefined) settings.acks = opts.acks;
      if (opts.compression !== undefined) settings.compression = opts.compression;
      if (opts.lingerMs !== undefined) settings.lingerMs = opts.lingerMs;
      if (opts.batchSize !== undefined) settings.batchSize = opts.batchSize;
      const format: LineFormat = {
        keySeparator: opts.keySeparator === undefined ? null : unescapeSeparator(opts.keySeparator, '--key-separator'),
        headers:
          opts.headersSeparator === undefined
            ? null
            : {
                delimiter: unescapeSeparator(opts.headersSeparator, '--headers-separator'),
                separator: Buffer.from(','),
                keySeparator: Buffer.from(':'),
              },
        nullMarker: opts.nullMarker === undefined ? null : Buffer.from(opts.nullMarker, 'utf8'),
        ignoreError: false,
        skipEmpty: true,
        json: opts.valueFormat === 'json',
      };
      const headers = fixedHeaders(opts.header);
      const { input, size } = openInput(opts.file);
      const showProgress = opts.progress ?? process.stderr.isTTY === true;
      let producer: Producer;
      try {
        producer = await openProducer(s, settings);
      } catch (e) {
        input.destroy();
        throw e;
      }
      const summary = await produceLines(
        producer,
        {
          topic,
          input,
          inputSize: size,
          format,
          headers,
          partition: opts.partition,
          sync: false,
          progress: showProgress ? { tty: process.stderr.isTTY === true } : null,
        },
        s,
      );
      process.stderr.write(`${summaryLine(summary)}\n`);
      if (s.output === 'json') process.stdout.write(`${toJson(summaryJson(summary))}\n`);
      if (summary.interrupted) process.exitCode = ExitCode.INTERRUPTED;
    }),
  );
}

// ---- samsa console-producer (kafka-console-producer.sh's flags) ---------------------------------------------------

interface ConsoleProducerOptions extends CommonOptions {
  topic?: string;
  property: string[];
  producerProperty: string[];
  producerConfig?: string;
  compressionCodec?: string | true;
  requestRequiredAcks?: string;
  timeout?: number;
  batchSize?: number;
  sync?: boolean;
  messageSendMaxRetries?: number;
  retryBackoffMs?: number;
  maxBlockMs?: number;
  metadataExpiryMs?: number;
}

/** `--property name=value`: the value kept as typed (a separator may be a space). */
function readerProperties(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--property takes name=value, got '${pair}'`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  return out;
}

const truthy = (v: string | undefined): boolean => v !== undefined && v.trim().toLowerCase() === 'true';

/** kafka-console-producer's reader properties (parse.key, key.separator, ...) as a line format. */
export function consoleLineFormat(props: Record<string, string>): LineFormat {
  const headers: HeaderFormat | null = truthy(props['parse.headers'])
    ? {
        delimiter: unescapeSeparator(props['headers.delimiter'] ?? '\t', 'headers.delimiter'),
        separator: unescapeSeparator(props['headers.separator'] ?? ',', 'headers.separator'),
        keySeparator: unescapeSeparator(props['headers.key.separator'] ?? ':', 'headers.key.separator'),
      }
    : null;
  return {
    keySeparator: truthy(props['parse.key'])
      ? unescapeSeparator(props['key.separator'] ?? '\t', 'key.separator')
      : null,
    headers,
    nullMarker: props['null.marker'] === undefined ? null : Buffer.from(props['null.marker'], 'utf8'),
    ignoreError: truthy(props['ignore.error']),
    skipEmpty: false,
    json: false,
  };
}

export function registerConsoleProducer(program: Command): void {
  addCommonOptions(
    program
      .command('console-producer')
      .aliases(['kafka-console-producer', 'kafka-console-producer.sh'])
      .description("kafka-console-producer.sh's flags: one message per line of standard input to --topic")
      .option('--topic <topic>', 'the topic to produce to')
      .option(
        '--property <name=value>',
        'line reader property: parse.key, key.separator, parse.headers, headers.delimiter, headers.separator, ' +
          'headers.key.separator, null.marker, ignore.error (repeatable)',
        collect,
        [],
      )
      .option('--producer-property <name=value>', 'a Kafka producer property (repeatable)', collect, [])
      .option('--producer.config <file>', 'producer properties from a file')
      .option('--compression-codec [codec]', 'none, gzip, snappy, lz4 or zstd (gzip when given without a codec)')
      .option('--request-required-acks <acks>', 'acks: 0, 1, all or -1 (default -1)')
      .option('--timeout <ms>', 'linger.ms: how long a batch waits for more messages (default 1000)', intArg(0))
      .option('--batch-size <bytes>', 'batch.size (default 16384)', intArg(1))
      .option('--sync', 'send each message on its own and wait for its acknowledgement')
      .option('--message-send-max-retries <n>', 'retries (default 3)', intArg(0))
      .option('--retry-backoff-ms <ms>', 'retry.backoff.ms (default 100)', intArg(0))
      .option('--max-block-ms <ms>', 'max.block.ms: how long to wait for the topic metadata (default 60000)', intArg(0))
      .option('--metadata-expiry-ms <ms>', 'metadata.max.age.ms (default 300000)', intArg(0)),
  ).action((opts: ConsoleProducerOptions & { 'producer.config'?: string }) =>
    runCommand(opts, async (s) => {
      if (opts.topic === undefined || opts.topic.trim() === '')
        throw new UsageError('Missing required argument "[topic]"');
      // Kafka's order: the tool's defaults, then the config file, then --producer-property, then explicit flags.
      const props: Record<string, string> = { 'linger.ms': '1000', retries: '3', acks: '-1' };
      const file = opts['producer.config'] ?? opts.producerConfig;
      if (file !== undefined) Object.assign(props, readPropertiesFile(file));
      Object.assign(props, parseKeyValues(opts.producerProperty, '--producer-property'));
      if (opts.compressionCodec !== undefined) {
        props['compression.type'] = opts.compressionCodec === true ? 'gzip' : opts.compressionCodec;
      }
      if (opts.requestRequiredAcks !== undefined) props.acks = opts.requestRequiredAcks;
      if (opts.timeout !== undefined) props['linger.ms'] = String(opts.timeout);
      if (opts.batchSize !== undefined) props['batch.size'] = String(opts.batchSize);
      if (opts.messageSendMaxRetries !== undefined) props.retries = String(opts.messageSendMaxRetries);
      if (opts.retryBackoffMs !== undefined) props['retry.backoff.ms'] = String(opts.retryBackoffMs);
      if (opts.maxBlockMs !== undefined) props['max.block.ms'] = String(opts.maxBlockMs);
      if (opts.metadataExpiryMs !== undefined) props['metadata.max.age.ms'] = String(opts.metadataExpiryMs);
      const settings: ProducerSettings = {};
      warnUnknown(applyProducerProperties(props, settings));
      if (opts.sync) settings.lingerMs = 0;
      const format = consoleLineFormat(readerProperties(opts.property));
      // A client.id property names the client (Kafka's tool has no --client-id; ours has both).
      const producer = await openProducer(s, settings);
      const summary = await produceLines(
        producer,
        {
          topic: opts.topic.trim(),
          input: process.stdin,
          inputSize: null,
          format,
          headers: [],
          partition: undefined,
          sync: opts.sync === true,
          progress: null,
        },
        s,
      );
      if (s.output === 'json') process.stdout.write(`${toJson(summaryJson(summary))}\n`);
      if (summary.interrupted) process.exitCode = ExitCode.INTERRUPTED;
    }),
  );
}
