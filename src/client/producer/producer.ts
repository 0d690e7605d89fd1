/**
 * The Producer: records in, delivery reports out.
 *
 * `send` serializes the record, picks its partition and encodes it straight into that partition's open batch
 * (batch.ts), all synchronously, so records keep the order of the `send` calls. A batch is closed when the next
 * record does not fit (`batchSize`), when it has waited `lingerMs`, or on `flush`/`close`. A sender pass (run on
 * setImmediate or a timer, never per record) takes the closed and lingered batches of every partition whose leader
 * is known and connected, and sends one Produce request per broker carrying one batch per partition, at most
 * `maxInFlightRequestsPerConnection` requests per broker.
 *
 * Ordering under retries. Retriable failures (a lost connection, a timeout, NOT_LEADER_OR_FOLLOWER and the other
 * retriable codes) put the batch back at the head of its partition's queue, after a backoff and a metadata refresh
 * when the error says the leaders moved, for as long as `retries` and `deliveryTimeoutMs` allow.
 *
 * With idempotence (the default, as in the Java client since Kafka 3.0) the producer first gets a producer id with
 * InitProducerId, and every batch carries it, its epoch and the sequence number of its first record, counted per
 * partition. The broker writes a batch only if it continues the sequence, answers a resend of one of the last five
 * with the offset it already has, and refuses a gap with OUT_OF_ORDER_SEQUENCE_NUMBER. So up to five batches per
 * partition may be in flight: when one fails and is resent, those behind it come back refused as out of order
 * (their sequence does not follow what the broker has), go back behind it, and are resent after it, never before.
 * A resent batch travels alone until it is acknowledged. A batch that fails for good after it got its sequence
 * (or an answer that says the broker lost the producer's state) leaves a gap nothing can fill: the producer waits
 * for its requests in flight, takes a new producer id (Kafka's epoch bump for idempotent producers) and numbers the
 * batches not yet written afresh.
 *
 * Without idempotence the broker cannot put a resent batch back in its place, so whenever a retry is possible
 * (retries > 0 and acks is not 0) a partition has at most one batch in flight: a later batch of the same partition
 * is sent only once the earlier one is acknowledged or has failed for good. Holding later batches back only after a
 * failure would not be enough: batches already in flight behind the failed one may be written before it is resent.
 * Pipelining still happens across partitions (up to maxInFlightRequestsPerConnection requests per broker). To keep
 * one partition's throughput up all the same, a partition whose next batch cannot be sent yet (its batches in
 * flight are as many as allowed, or others wait before it) lets that batch grow past batchSize, up to 16 times (and
 * half of maxRequestSize): what arrives during one round trip goes in one request. This holds for null keys too:
 * the sticky partition (KIP-480) moves on when its batch is full, and a batch that could not be sent anyway is
 * only full at the larger size. Fewer, larger batches are what the broker handles fastest (each batch is a write,
 * each request an answer); the Java producer would instead cap batches at batchSize and have more requests. With retries = 0 or acks = 0
 * nothing is retried and a partition may have up to maxInFlightRequestsPerConnection batches in flight. A batch the
 * broker refuses as too large (MESSAGE_TOO_LARGE, e.g. a topic with a small max.message.bytes) is split in place
 * (the pieces take over its sequence numbers) and sent again, and that topic's batches stop growing.
 *
 * Topics are looked up with Metadata requests that allow auto-creation (as the Java producer's do); records sent to
 * a topic whose metadata has not arrived wait in order, for at most `maxBlockMs`. A topic the broker says does not
 * exist fails its records with UNKNOWN_TOPIC_OR_PARTITION; any other non-retriable answer fails the batch with a
 * KafkaError of that code; records that cannot be delivered within `deliveryTimeoutMs` fail with KafkaTimeoutError.
 *
 * Transactions are not supported yet (the broker has no transaction coordinator).
 */
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type {
  InitProducerIdResponse,
  MetadataResponse,
  MetadataResponseMetadataResponseTopic,
  ProduceRequestTopicProduceData,
  ProduceResponse,
} from '../../protocol/index.js';
import { Compression } from '../../protocol/records/compression.js';
import { isRetriableError, KafkaClientError, KafkaConnectionError, KafkaTimeoutError } from '../errors.js';
import { Cluster, isStaleMetadataError } from '../network/cluster.js';
import type { BrokerConnection } from '../network/connection.js';
import type { Serializer } from '../serde.js';
import { BATCH_HEADER_BYTES, type DeliverySink, ProducerBatch, recordSizeBound } from './batch.js';
import { choosePartition, newPartitionChoice, type PartitionChoice, stickyBatchClosed } from './partitioner.js';
import type {
  Acks,
  CompressionType,
  DeliveryReport,
  HeaderValue,
  Partitioner,
  ProducerMetrics,
  ProducerOptions,
  ProducerRecord,
  RecordHeaders,
} from './types.js';

const PRODUCE = 0;
const METADATA = 3;
const INIT_PRODUCER_ID = 22;
/** The broker remembers the last five batches of a producer per partition: at most that many in flight. */
const MAX_IDEMPOTENT_IN_FLIGHT = 5;
/** Produce v3 is the first with record batch v2 (and the oldest the broker serves). */
const PRODUCE_MIN_VERSION = 3;
const PRODUCE_MAX_VERSION = 11;

/** Compressed batches take at most this many times batchSize of uncompressed records. */
const MAX_COMPRESSION_GAIN = 16;
/** A partition waiting for its batch in flight lets the next one grow up to this many times its usual limit. */
const GROWTH = 16;

interface PartitionState {
  readonly topic: TopicState;
  readonly index: number;
  /** Leader's node id, -1 when unknown. */
  leader: number;
  /** The batch records are appended to. */
  open: ProducerBatch | null;
  /** Closed batches not in flight, oldest first (a retried batch goes back in its place). */
  readonly queue: ProducerBatch[];
  inFlight: number;
  /** Sequence of the next batch of this partition (orders retried batches). */
  nextSeq: number;
  /** Idempotence: the sequence number the partition's next batch gets under the current producer id. */
  nextSequence: number;
  /** Idempotence: the last sequence number the broker acknowledged under the current producer id, -1 for none. */
  lastAcked: number;
}

/** Sequence numbers are int32 and wrap to 0 after 2^31 - 1, as the broker counts them. */
function addSequence(sequence: number, n: number): number {
  return (sequence + n) % 0x80000000;
}

/** A record sent before its topic's metadata arrived. */
interface WaitingRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders | undefined;
  partition: number | undefined;
  timestamp: number;
  sink: DeliverySink;
  slot: number;
}

interface TopicState {
  readonly name: string;
  partitions: PartitionState[];
  available: number[];
  readonly choice: PartitionChoice;
  /** Metadata has arrived and the topic exists. */
  known: boolean;
  /** Records waiting for the metadata (null once known). */
  waiting: WaitingRecord[] | null;
  /** When the oldest waiting record arrived. */
  waitingSince: number;
  /** flush() calls waiting for the waiting records to be placed. */
  loadWaiters: (() => void)[] | null;
  /** Estimated compressed/uncompressed size of this topic's batches. */
  compressionRatio: number;
  /** A batch was too large for the broker: batches of this topic stay within batchSize from now on. */
  noGrowth: boolean;
  lastError: Error | null;
}

interface NodeState {
  readonly id: number;
  conn: BrokerConnection | null;
  connecting: boolean;
  /** No new connection attempt before this time (after a failure). */
  retryAt: number;
  inFlight: number;
  version: number;
  lastError: Error | null;
}

/** A Produce request in flight: its batches and their partitions, in request order. */
interface InFlightRequest {
  node: NodeState;
  partitions: PartitionState[];
  batches: ProducerBatch[];
}

class OneDelivery implements DeliverySink {
  constructor(
    private readonly resolve: (report: DeliveryReport) => void,
    private readonly reject: (e: Error) => void,
  ) {}
  delivered(_slot: number, report: DeliveryReport): void {
    this.resolve(report);
  }
  failed(_slot: number, error: Error): void {
    this.reject(error);
  }
}

/** The outcome of a `sendBatch`: all reports, or the first failure. */
class ManyDeliveries implements DeliverySink {
  private readonly reports: DeliveryReport[];
  private left: number;
  private settled = false;
  constructor(
    count: number,
    private readonly resolve: (reports: DeliveryReport[]) => void,
    private readonly reject: (e: Error) => void,
  ) {
    this.reports = new Array(count);
    this.left = count;
  }
  delivered(slot: number, report: DeliveryReport): void {
    this.reports[slot] = report;
    if (--this.left === 0 && !this.settled) {
      this.settled = true;
      this.resolve(this.reports);
    }
  }
  failed(_slot: number, error: Error): void {
    this.left--;
    if (!this.settled) {
      this.settled = true;
      this.reject(error);
    }
  }
}

// One shared promise executor instead of a closure per `send`.
type Resolve = (value: never) => void;
let capturedResolve: Resolve = () => {};
let capturedReject: (e: Error) => void = () => {};
function capture(resolve: Resolve, reject: (e: Error) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

function option(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min) {
    throw new KafkaClientError(`${name} must be a number >= ${min}, got ${value}`);
  }
  return value;
}

function acksOf(acks: Acks | undefined): 0 | 1 | -1 {
  if (acks === undefined || acks === 'all' || acks === -1) return -1;
  if (acks === 0 || acks === 1) return acks;
  throw new KafkaClientError(`acks must be 0, 1, -1 or 'all', got ${String(acks)}`);
}

/** Kafka's rules: idempotence needs acks=all, retries and at most 5 requests in flight; by default it is on when they hold. */
function idempotenceOf(
  asked: boolean | undefined,
  acks: 0 | 1 | -1,
  retries: number,
  maxInFlight: number,
): 'off' | 'auto' | 'required' {
  if (asked === false) return 'off';
  const conflict =
    acks !== -1
      ? `acks=all (got ${acks})`
      : retries === 0
        ? 'retries above 0'
        : maxInFlight > MAX_IDEMPOTENT_IN_FLIGHT
          ? `maxInFlightRequestsPerConnection at most ${MAX_IDEMPOTENT_IN_FLIGHT} (got ${maxInFlight})`
          : null;
  if (asked === undefined) return conflict === null ? 'auto' : 'off';
  if (asked !== true) throw new KafkaClientError(`enableIdempotence must be true or false, got ${String(asked)}`);
  if (conflict !== null) throw new KafkaClientError(`enableIdempotence needs ${conflict}`);
  return 'required';
}

function codecOf(name: CompressionType | undefined): number {
  const codec = Compression[name ?? 'none'];
  if (codec === undefined) {
    throw new KafkaClientError(`compression must be one of none, gzip, snappy, lz4, zstd; got ${String(name)}`);
  }
  return codec;
}

function bytesOf(v: unknown, what: string): Buffer | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new KafkaClientError(`the ${what} must be a Buffer, a string or null (or give a ${what}Serializer)`);
}

function copyHeaders(headers: RecordHeaders | undefined): RecordHeaders | undefined {
  if (headers === undefined) return undefined;
  const copy = (v: HeaderValue): HeaderValue => (Buffer.isBuffer(v) ? Buffer.from(v) : v);
  if (Array.isArray(headers)) {
    return (headers as readonly { key: string; value: HeaderValue }[]).map((h) => ({
      key: h.key,
      value: copy(h.value),
    }));
  }
  const out: Record<string, HeaderValue | HeaderValue[] | undefined> = {};
  for (const [k, v] of Object.entries(headers as Record<string, HeaderValue | readonly HeaderValue[] | undefined>)) {
    out[k] = Array.isArray(v)
      ? (v as readonly HeaderValue[]).map(copy)
      : v === undefined
        ? undefined
        : copy(v as HeaderValue);
  }
  return out;
}

function timestampOf(t: number | bigint | Date | undefined): number {
  if (t === undefined) return Date.now();
  const ms =
    typeof t === 'number' ? t : typeof t === 'bigint' ? Number(t) : t instanceof Date ? t.getTime() : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) throw new KafkaClientError(`invalid timestamp ${String(t)}`);
  return ms;
}

export class Producer<K = Buffer | null, V = Buffer | null> {
  private readonly cluster: Cluster;
  private readonly acks: 0 | 1 | -1;
  private readonly lingerMs: number;
  private readonly batchSize: number;
  private readonly codec: number;
  private readonly compressionLevel: number | undefined;
  private readonly maxInFlight: number;
  private partitionInFlight: number;
  /** Idempotence: 'off', or whether it was asked for explicitly ('required') or is the default ('auto'). */
  private idempotence: 'off' | 'auto' | 'required';
  /**
   * The producer id's state: none yet, being fetched, usable, or to be replaced once nothing is in flight (a
   * sequence gap). Records are batched meanwhile; nothing is sent until it is 'ready'.
   */
  private pidState: 'none' | 'fetching' | 'ready' | 'reset' = 'none';
  private producerId = -1n;
  private producerEpoch = -1;
  private pidRetryAt = 0;
  private pidError: Error | null = null;
  private readonly retries: number;
  private readonly retryBackoffMs: number;
  private readonly retryBackoffMaxMs: number;
  private readonly requestTimeoutMs: number;
  private readonly deliveryTimeoutMs: number;
  private readonly maxBlockMs: number;
  private readonly maxRequestSize: number;
  private readonly metadataMaxAgeMs: number;
  private readonly keySerializer: Serializer<K> | null;
  private readonly valueSerializer: Serializer<V> | null;
  private readonly partitioner: Partitioner;

  private readonly topics = new Map<string, TopicState>();
  private readonly nodes = new Map<number, NodeState>();
  /** Partitions with an open or queued batch. */
  private readonly active = new Set<PartitionState>();
  /** Topics with records waiting for metadata. */
  private readonly loading = new Set<TopicState>();
  /** Every batch not yet acknowledged or failed (flush waits for them). */
  private readonly incomplete = new Set<ProducerBatch>();

  private readonly counters: ProducerMetrics = {
    requests: 0,
    batches: 0,
    recordsDelivered: 0,
    recordsFailed: 0,
    retries: 0,
    splits: 0,
  };
  private drainScheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private flushing = 0;
  private closing = false;
  private closed: Promise<void> | null = null;

  private metadataRunning = false;
  /** Another refresh is wanted after the running one: 0 no, 1 yes, 2 at once (a new topic). */
  private metadataAgain: 0 | 1 | 2 = 0;
  private shutDown = false;
  private metadataTimer: NodeJS.Timeout | null = null;
  private lastMetadataAt = 0;
  private lastMetadataError: Error | null = null;

  private readonly drainBound = (): void => this.drain();
  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.drain();
  };

  constructor(options: ProducerOptions<K, V>) {
    this.acks = acksOf(options.acks);
    this.lingerMs = option('lingerMs', options.lingerMs, 5, 0);
    this.batchSize = option('batchSize', options.batchSize, 16_384, 1);
    this.codec = codecOf(options.compression);
    this.compressionLevel = options.compressionLevel;
    this.maxInFlight = option('maxInFlightRequestsPerConnection', options.maxInFlightRequestsPerConnection, 5, 1);
    this.retries = option('retries', options.retries, Number.MAX_SAFE_INTEGER, 0);
    this.retryBackoffMs = option('retryBackoffMs', options.retryBackoffMs, 100, 0);
    this.retryBackoffMaxMs = Math.max(
      this.retryBackoffMs,
      option('retryBackoffMaxMs', options.retryBackoffMaxMs, 1000, 0),
    );
    this.requestTimeoutMs = option('requestTimeoutMs', options.requestTimeoutMs, 30_000, 1);
    const minDelivery = this.lingerMs + this.requestTimeoutMs;
    if (options.deliveryTimeoutMs !== undefined && options.deliveryTimeoutMs < minDelivery) {
      throw new KafkaClientError(
        `deliveryTimeoutMs (${options.deliveryTimeoutMs}) must be at least lingerMs + requestTimeoutMs (${minDelivery})`,
      );
    }
    this.deliveryTimeoutMs = Math.max(minDelivery, option('deliveryTimeoutMs', options.deliveryTimeoutMs, 120_000, 0));
    this.maxBlockMs = option('maxBlockMs', options.maxBlockMs, 60_000, 0);
    this.maxRequestSize = option('maxRequestSize', options.maxRequestSize, 1_048_576, BATCH_HEADER_BYTES + 1);
    this.metadataMaxAgeMs = option('metadataMaxAgeMs', options.metadataMaxAgeMs, 300_000, 0);
    this.idempotence = idempotenceOf(options.enableIdempotence, this.acks, this.retries, this.maxInFlight);
    this.partitionInFlight =
      this.idempotence === 'off'
        ? this.inFlightWithoutIdempotence()
        : Math.min(this.maxInFlight, MAX_IDEMPOTENT_IN_FLIGHT);
    this.keySerializer = options.keySerializer ?? null;
    this.valueSerializer = options.valueSerializer ?? null;
    const partitioner = options.partitioner ?? 'default';
    if (
      typeof partitioner !== 'function' &&
      partitioner !== 'default' &&
      partitioner !== 'murmur2_random' &&
      partitioner !== 'round-robin'
    ) {
      throw new KafkaClientError(`unknown partitioner '${String(partitioner)}'`);
    }
    this.partitioner = partitioner;
    this.cluster = new Cluster({
      bootstrapServers: options.bootstrapServers,
      clientId: options.clientId ?? 'samsa-producer',
      requestTimeoutMs: this.requestTimeoutMs,
      metadataMaxAgeMs: this.metadataMaxAgeMs,
      ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
      ...(options.reconnectBackoffMs === undefined ? {} : { reconnectBackoffMs: options.reconnectBackoffMs }),
      ...(options.reconnectBackoffMaxMs === undefined ? {} : { reconnectBackoffMaxMs: options.reconnectBackoffMaxMs }),
    });
  }

  // ---- public API -----------------------------------------------------------------------------------------------

  /** Connects to the cluster now (otherwise the first send does); fails when no bootstrap broker answers. */
  async connect(): Promise<void> {
    if (this.closing) throw new KafkaClientError('the producer is closed');
    await this.cluster.metadata();
  }

  /** Sends one record; resolves with its delivery report once the broker has acknowledged it (as `acks` says). */
  send(record: ProducerRecord<K, V>): Promise<DeliveryReport> {
    const promise = new Promise<DeliveryReport>(capture);
    this.accept(record, new OneDelivery(capturedResolve as (r: DeliveryReport) => void, capturedReject), 0);
    return promise;
  }

  /**
   * Sends records in order (as many `send` calls would) with one promise: their delivery reports in the same order,
   * or the first failure (the other records are still sent).
   */
  sendBatch(records: readonly ProducerRecord<K, V>[]): Promise<DeliveryReport[]> {
    if (records.length === 0) return Promise.resolve([]);
    const promise = new Promise<DeliveryReport[]>(capture);
    const sink = new ManyDeliveries(records.length, capturedResolve as (r: DeliveryReport[]) => void, capturedReject);
    for (let i = 0; i < records.length; i++) this.accept(records[i]!, sink, i);
    return promise;
  }

  /** Sends what is buffered without waiting for lingerMs, and resolves once every record sent so far is done. */
  async flush(): Promise<void> {
    this.flushing++;
    this.wake();
    try {
      const loads: Promise<void>[] = [];
      for (const t of this.loading) {
        if (t.waiting !== null && t.waiting.length > 0) {
          loads.push(
            new Promise<void>((resolve) => {
              if (t.loadWaiters === null) t.loadWaiters = [resolve];
              else t.loadWaiters.push(resolve);
            }),
          );
        }
      }
      if (loads.length > 0) await Promise.all(loads);
      if (this.incomplete.size === 0) return;
      await new Promise<void>((resolve) => {
        let left = this.incomplete.size;
        const one = (): void => {
          if (--left === 0) resolve();
        };
        for (const b of this.incomplete) {
          if (b.waiters === null) b.waiters = [one];
          else b.waiters.push(one);
        }
      });
    } finally {
      this.flushing--;
    }
  }

  /** Refuses new records, flushes, and closes the connections. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      try {
        await this.flush();
      } finally {
        if (this.timer !== null) clearTimeout(this.timer);
        if (this.metadataTimer !== null) clearTimeout(this.metadataTimer);
        this.timer = null;
        this.metadataTimer = null;
        this.shutDown = true;
        await this.cluster.close();
      }
    })();
    return this.closed;
  }

  /** A copy of the counters. */
  metrics(): ProducerMetrics {
    return { ...this.counters };
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- accepting records ----------------------------------------------------------------------------------------

  private accept(record: ProducerRecord<K, V>, sink: DeliverySink, slot: number): void {
    if (this.closing) {
      sink.failed(slot, new KafkaClientError('the producer is closed'));
      return;
    }
    try {
      const key =
        this.keySerializer === null ? bytesOf(record.key, 'key') : bytesOf(this.keySerializer(record.key as K), 'key');
      const value =
        this.valueSerializer === null
          ? bytesOf(record.value, 'value')
          : bytesOf(this.valueSerializer(record.value), 'value');
      const timestamp = timestampOf(record.timestamp);
      const topic = this.topics.get(record.topic) ?? this.addTopic(record.topic);
      if (topic.waiting !== null) {
        if (topic.waiting.length === 0) {
          topic.waitingSince = Date.now();
          this.loading.add(topic);
          this.scheduleAt(topic.waitingSince + this.maxBlockMs);
        }
        // Copies: the caller may reuse its buffers once send returns, as it may for records encoded at once.
        topic.waiting.push({
          key: key === null ? null : Buffer.from(key),
          value: value === null ? null : Buffer.from(value),
          headers: copyHeaders(record.headers),
          partition: record.partition,
          timestamp,
          sink,
          slot,
        });
        return;
      }
      this.append(topic, record.partition, key, value, record.headers, timestamp, sink, slot);
    } catch (e) {
      sink.failed(slot, e instanceof Error ? e : new KafkaClientError(String(e)));
    }
  }

  private addTopic(name: string): TopicState {
    if (typeof name !== 'string' || name === '') throw new KafkaClientError('a record needs a topic');
    // Kafka's rule for topic names; checked here so that one bad name cannot break the metadata requests for all.
    if (name.length > 249 || name === '.' || name === '..' || !/^[a-zA-Z0-9._-]+$/.test(name)) {
      throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `'${name.slice(0, 300)}' is not a valid topic name`);
    }
    const topic: TopicState = {
      name,
      partitions: [],
      available: [],
      choice: newPartitionChoice(),
      known: false,
      waiting: [],
      waitingSince: 0,
      loadWaiters: null,
      compressionRatio: 1,
      noGrowth: false,
      lastError: null,
    };
    this.topics.set(name, topic);
    this.requestMetadata(true);
    return topic;
  }

  /** Puts a record into its partition's open batch (throws for a record that cannot be sent). */
  private append(
    topic: TopicState,
    requested: number | undefined,
    key: Buffer | null,
    value: Buffer | null,
    headers: RecordHeaders | undefined,
    timestamp: number,
    sink: DeliverySink,
    slot: number,
  ): void {
    const count = topic.partitions.length;
    let partition: number;
    let sticky = false;
    if (requested === undefined || requested === null) {
      partition = choosePartition(this.partitioner, topic.choice, topic.name, key, count, topic.available);
      // With one partition to choose from there is nothing to move to: such batches grow like keyed ones.
      sticky = key === null && this.partitioner === 'default' && topic.available.length > 1;
    } else {
      if (!Number.isInteger(requested) || requested < 0) throw new KafkaClientError(`invalid partition ${requested}`);
      if (requested >= count) {
        throw new KafkaError(
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          `partition ${requested} of topic ${topic.name} does not exist (it has ${count})`,
        );
      }
      partition = requested;
    }
    let ps = topic.partitions[partition]!;
    let limit = this.appendLimit(ps);
    let open = ps.open;
    if (open !== null) {
      if (open.tryAppend(timestamp, key, value, headers, sink, slot, limit)) {
        if (open.size >= limit) this.closeFull(ps);
        return;
      }
      this.closeFull(ps);
      if (sticky) {
        // KIP-480: the record that no longer fits opens a batch on the next sticky partition instead. That one's
        // batch may grow past batchSize like any other while its partition cannot send (see appendLimit).
        ps =
          topic.partitions[choosePartition(this.partitioner, topic.choice, topic.name, key, count, topic.available)]!;
        limit = this.appendLimit(ps);
        open = ps.open;
        if (open !== null) {
          if (open.tryAppend(timestamp, key, value, headers, sink, slot, limit)) return;
          this.closeFull(ps);
        }
      }
    }
    const bound = recordSizeBound(key, value, headers);
    if (bound + BATCH_HEADER_BYTES > this.maxRequestSize) {
      throw new KafkaError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `the record is ${bound} bytes when serialized, more than maxRequestSize (${this.maxRequestSize})`,
      );
    }
    if (sticky) limit = this.appendLimit(ps);
    const now = Date.now();
    const batch = new ProducerBatch(now, Math.max(bound + BATCH_HEADER_BYTES, Math.min(limit, this.batchSize)));
    batch.seq = ps.nextSeq++;
    batch.tryAppend(timestamp, key, value, headers, sink, slot, limit);
    ps.open = batch;
    this.incomplete.add(batch);
    this.active.add(ps);
    if (batch.size >= limit) this.closeFull(ps);
    else if (this.lingerMs === 0 || this.flushing > 0) this.wake();
    else this.scheduleAt(now + this.lingerMs);
  }

  /** Most uncompressed bytes of a batch of `topic`: batchSize, or what should compress to about that. */
  private batchLimit(topic: TopicState): number {
    if (this.codec === 0) return this.batchSize;
    const gain = Math.min(MAX_COMPRESSION_GAIN, 1 / topic.compressionRatio);
    return Math.max(this.batchSize, Math.min(Math.floor(this.batchSize * gain), this.maxRequestSize >>> 1));
  }

  /**
   * How large the partition's open batch may grow: its batch limit, or, while it could not be sent anyway (the
   * partition's previous batch is in flight or others wait before it), up to GROWTH times that. What arrives during
   * one round trip then goes in one request, where Java's producer would have several batches of the partition in
   * flight, which a retry could reorder.
   */
  private appendLimit(ps: PartitionState): number {
    const normal = this.batchLimit(ps.topic);
    if ((ps.inFlight < this.partitionInFlight && ps.queue.length === 0) || ps.topic.noGrowth) return normal;
    return Math.max(normal, Math.min(normal * GROWTH, this.maxRequestSize >>> 1));
  }

  private closeFull(ps: PartitionState): void {
    this.closeOpen(ps);
    this.wake();
  }

  /** Closes the partition's open batch (encoding it) and queues it; null if it could not be encoded (failed). */
  private closeOpen(ps: PartitionState): ProducerBatch | null {
    const batch = ps.open!;
    ps.open = null;
    stickyBatchClosed(ps.topic.choice, ps.index);
    if (this.pidState === 'ready' && this.idempotence !== 'off') {
      // Numbered before encoding, so the checksum is computed once.
      batch.stamp(this.producerId, this.producerEpoch, ps.nextSequence);
      ps.nextSequence = addSequence(ps.nextSequence, batch.count);
    }
    const uncompressed = batch.size;
    const encoded = this.encode(batch);
    if (encoded === null) return null;
    if (this.codec !== 0) {
      // Learn the topic's compression ratio: fast up (no batch far over batchSize), slowly down.
      const observed = Math.max(encoded.length / uncompressed, 1 / MAX_COMPRESSION_GAIN);
      const t = ps.topic;
      t.compressionRatio =
        observed > t.compressionRatio ? Math.min(1, observed * 1.05) : t.compressionRatio * 0.9 + observed * 0.1;
    }
    ps.queue.push(batch);
    return batch;
  }

  /** Closes a batch; a codec that fails (it should not) fails the batch's records instead of the producer. */
  private encode(batch: ProducerBatch): Buffer | null {
    try {
      return batch.close(this.codec, this.compressionLevel);
    } catch (e) {
      this.fail(batch, new KafkaClientError(`encoding a batch failed: ${(e as Error).message}`, { cause: e }));
      return null;
    }
  }

  // ---- the sender -----------------------------------------------------------------------------------------------

  private wake(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(this.drainBound);
  }

  private scheduleAt(at: number): void {
    if (at >= this.timerAt) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.onTimer, Math.max(0, at - Date.now()));
  }

  private node(id: number): NodeState {
    let node = this.nodes.get(id);
    if (node === undefined) {
      node = { id, conn: null, connecting: false, retryAt: 0, inFlight: 0, version: -1, lastError: null };
      this.nodes.set(id, node);
    }
    return node;
  }

  private connectNode(node: NodeState): void {
    node.connecting = true;
    this.cluster.connection(node.id).then(
      (conn) => {
        node.connecting = false;
        try {
          node.version = conn.version(PRODUCE, PRODUCE_MIN_VERSION, PRODUCE_MAX_VERSION);
        } catch (e) {
          node.lastError = e as Error;
          node.retryAt = Date.now() + this.retryBackoffMaxMs;
          this.wake();
          return;
        }
        node.conn = conn;
        node.lastError = null;
        conn.onClose(() => {
          if (node.conn === conn) node.conn = null;
          this.wake();
        });
        this.wake();
      },
      (e: Error) => {
        node.connecting = false;
        node.lastError = e;
        node.retryAt = Date.now() + this.retryBackoffMs;
        this.requestMetadata(false);
        this.wake();
      },
    );
  }

  /** One sender pass: expire, pick what is ready, send. */
  private drain(): void {
    this.drainScheduled = false;
    const now = Date.now();
    let nextAt = Number.POSITIVE_INFINITY;
    let needMetadata = false;
    const force = this.flushing > 0 || this.closing;

    for (const topic of this.loading) {
      if (topic.waiting === null || topic.waiting.length === 0) {
        this.loading.delete(topic);
        continue;
      }
      needMetadata = true;
      const expiry = topic.waitingSince + this.maxBlockMs;
      if (expiry <= now) {
        this.failWaiting(
          topic,
          new KafkaTimeoutError(`topic ${topic.name} is not in the metadata after ${this.maxBlockMs} ms`, {
            cause: topic.lastError ?? this.lastMetadataError ?? undefined,
          }),
        );
      } else if (expiry < nextAt) nextAt = expiry;
    }

    if (this.idempotence !== 'off' && this.pidState !== 'ready' && this.active.size > 0) {
      if (this.pidState === 'fetching') {
        // Sent when the producer id arrives.
      } else if (this.pidState === 'reset' && this.requestsInFlight() > 0) {
        // The new id is taken once the answers in flight are in (they may still acknowledge batches).
      } else if (this.pidRetryAt > now) {
        if (this.pidRetryAt < nextAt) nextAt = this.pidRetryAt;
      } else this.fetchProducerId();
    }
    const canSend = this.idempotence === 'off' || this.pidState === 'ready';

    let ready: Map<NodeState, PartitionState[]> | null = null;
    for (const ps of this.active) {
      this.expire(ps, now);
      const head = ps.queue.length > 0 ? ps.queue[0]! : null;
      const oldest = head ?? ps.open;
      if (oldest === null) {
        this.active.delete(ps);
        continue;
      }
      const expiry = oldest.createdAt + this.deliveryTimeoutMs;
      // A resent batch goes alone: what follows it waits until it is written.
      if (ps.inFlight >= (head?.resent ? 1 : this.partitionInFlight)) continue;
      if (expiry < nextAt) nextAt = expiry;
      if (!canSend) continue;
      if (head === null) {
        const open = ps.open!;
        const due = open.createdAt + this.lingerMs;
        if (!force && due > now && open.size < this.batchLimit(ps.topic)) {
          if (due < nextAt) nextAt = due;
          continue;
        }
      } else if (head.retryAt > now) {
        if (head.retryAt < nextAt) nextAt = head.retryAt;
        continue;
      }
      if (ps.leader < 0) {
        needMetadata = true;
        continue;
      }
      const node = this.node(ps.leader);
      if (node.conn === null || node.conn.closed) {
        node.conn = null;
        // The leader's broker failed (a lost connection or a failed connect): ask who leads now every
        // retryBackoffMs, not only after each reconnect attempt, whose backoff grows to reconnectBackoffMaxMs.
        if (node.lastError !== null) needMetadata = true;
        if (!node.connecting) {
          if (node.retryAt <= now) this.connectNode(node);
          else if (node.retryAt < nextAt) nextAt = node.retryAt;
        }
        continue;
      }
      if (node.inFlight >= this.maxInFlight) continue;
      ready ??= new Map();
      const list = ready.get(node);
      if (list === undefined) ready.set(node, [ps]);
      else list.push(ps);
    }

    if (ready !== null) for (const [node, list] of ready) this.sendTo(node, list);
    if (needMetadata) this.requestMetadata(false);
    else if (this.topics.size > 0 && now - this.lastMetadataAt > this.metadataMaxAgeMs) this.requestMetadata(false);
    if (nextAt < Number.POSITIVE_INFINITY) this.scheduleAt(nextAt);
  }

  /** Fails the batches of a partition that are not in flight and older than deliveryTimeoutMs. */
  private expire(ps: PartitionState, now: number): void {
    const limit = now - this.deliveryTimeoutMs;
    while (ps.queue.length > 0 && ps.queue[0]!.createdAt <= limit) this.expireBatch(ps, ps.queue.shift()!, now);
    if (ps.open !== null && ps.open.createdAt <= limit) {
      const batch = ps.open;
      ps.open = null;
      stickyBatchClosed(ps.topic.choice, ps.index);
      this.expireBatch(ps, batch, now);
    }
  }

  private expireBatch(ps: PartitionState, batch: ProducerBatch, now: number, last: Error | null = null): void {
    const cause =
      last ?? batch.lastError ?? this.pidError ?? this.nodes.get(ps.leader)?.lastError ?? this.lastMetadataError;
    this.fail(
      batch,
      new KafkaTimeoutError(
        `expiring ${batch.count} record(s) for ${ps.topic.name}-${ps.index}: ${now - batch.createdAt} ms has passed since batch creation`,
        cause === null || cause === undefined ? undefined : { cause },
      ),
    );
  }

  /** Sends the ready partitions led by `node`, as few requests as maxRequestSize allows. */
  private sendTo(node: NodeState, list: PartitionState[]): void {
    let i = 0;
    while (i < list.length && node.inFlight < this.maxInFlight && node.conn !== null) {
      const partitions: PartitionState[] = [];
      const batches: ProducerBatch[] = [];
      const topicData: ProduceRequestTopicProduceData[] = [];
      let current: ProduceRequestTopicProduceData | null = null;
      let bytes = 0;
      for (; i < list.length; i++) {
        const ps = list[i]!;
        const batch = ps.queue.length > 0 ? ps.queue[0]! : this.closeOpen(ps);
        if (batch === null) continue;
        const records = batch.encoded!;
        if (batches.length > 0 && bytes + records.length > this.maxRequestSize) break;
        ps.queue.shift();
        ps.inFlight++;
        bytes += records.length;
        partitions.push(ps);
        batches.push(batch);
        if (current === null || current.name !== ps.topic.name) {
          current = topicData.find((t) => t.name === ps.topic.name) ?? null;
          if (current === null) {
            current = { name: ps.topic.name, partitionData: [] };
            topicData.push(current);
          }
        }
        current.partitionData.push({ index: ps.index, records });
      }
      this.sendRequest({ node, partitions, batches }, topicData);
    }
  }

  private sendRequest(request: InFlightRequest, topicData: ProduceRequestTopicProduceData[]): void {
    const { node } = request;
    const conn = node.conn!;
    node.inFlight++;
    this.counters.requests++;
    this.counters.batches += request.batches.length;
    const body = { transactionalId: null, acks: this.acks, timeoutMs: this.requestTimeoutMs, topicData };
    let sent: Promise<ProduceResponse | undefined>;
    try {
      sent = conn.send<ProduceResponse>(PRODUCE, node.version, body, { expectResponse: this.acks !== 0 });
    } catch (e) {
      // Encoding the request failed (it should not): not retriable, the batches fail.
      this.onRequestFailed(request, new KafkaClientError(`encoding a Produce request failed`, { cause: e }));
      return;
    }
    sent.then(
      (res) => (res === undefined ? this.onWritten(request) : this.onResponse(request, res)),
      (e: Error) => this.onRequestFailed(request, e),
    );
  }

  private onWritten(request: InFlightRequest): void {
    request.node.inFlight--;
    const { partitions, batches } = request;
    for (let i = 0; i < batches.length; i++) {
      partitions[i]!.inFlight--;
      this.complete(partitions[i]!, batches[i]!, -1n, -1n, -1n);
    }
    this.wake();
  }

  private onResponse(request: InFlightRequest, res: ProduceResponse): void {
    request.node.inFlight--;
    const { partitions, batches } = request;
    const answered = new Array<boolean>(batches.length).fill(false);
    let cursor = 0;
    for (const t of res.responses) {
      for (const r of t.partitionResponses) {
        // Answers come in request order; search only when they do not.
        let j = cursor;
        if (j >= partitions.length || partitions[j]!.topic.name !== t.name || partitions[j]!.index !== r.index) {
          j = partitions.findIndex((ps) => ps.topic.name === t.name && ps.index === r.index);
        }
        if (j < 0 || answered[j]) continue;
        answered[j] = true;
        cursor = j + 1;
        const ps = partitions[j]!;
        ps.inFlight--;
        if (r.errorCode === ErrorCode.NONE || r.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
          // DUPLICATE_SEQUENCE_NUMBER: an old broker's way of saying it already has the batch.
          this.acknowledged(ps, batches[j]!);
          this.complete(ps, batches[j]!, r.baseOffset, r.logAppendTimeMs, r.logStartOffset);
        } else if (
          batches[j]!.producerId >= 0n &&
          (r.errorCode === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER ||
            r.errorCode === ErrorCode.UNKNOWN_PRODUCER_ID ||
            r.errorCode === ErrorCode.INVALID_PRODUCER_EPOCH)
        ) {
          const detail = r.errorMessage ?? new KafkaError(r.errorCode).message;
          this.sequenceRefused(ps, batches[j]!, new KafkaError(r.errorCode, `${t.name}-${r.index}: ${detail}`));
        } else if (
          (r.errorCode === ErrorCode.MESSAGE_TOO_LARGE || r.errorCode === ErrorCode.RECORD_LIST_TOO_LARGE) &&
          batches[j]!.count > 1
        ) {
          this.splitAndRequeue(ps, batches[j]!);
        } else {
          const detail = r.errorMessage ?? new KafkaError(r.errorCode).message;
          this.retryOrFail(ps, batches[j]!, new KafkaError(r.errorCode, `${t.name}-${r.index}: ${detail}`));
        }
      }
    }
    for (let j = 0; j < batches.length; j++) {
      if (answered[j]) continue;
      const ps = partitions[j]!;
      ps.inFlight--;
      this.retryOrFail(
        ps,
        batches[j]!,
        new KafkaError(ErrorCode.NETWORK_EXCEPTION, `${ps.topic.name}-${ps.index}: the answer left the partition out`),
      );
    }
    this.wake();
  }

  private onRequestFailed(request: InFlightRequest, error: Error): void {
    const { node, partitions, batches } = request;
    node.inFlight--;
    node.lastError = error;
    if (node.conn?.closed) node.conn = null;
    // A lost connection may mean the leader moved.
    this.requestMetadata(false);
    for (let i = 0; i < batches.length; i++) {
      partitions[i]!.inFlight--;
      this.retryOrFail(partitions[i]!, batches[i]!, error);
    }
    this.wake();
  }

  /**
   * A batch the broker found too large goes back as smaller ones (at most batchSize, and at most half of it, so a
   * batchSize above the topic's max.message.bytes still ends in single records), in its place; this does not count
   * as a retry. The topic's batches stop growing past batchSize.
   */
  private splitAndRequeue(ps: PartitionState, batch: ProducerBatch): void {
    ps.topic.noGrowth = true;
    const half = Math.ceil((batch.uncompressedSize + BATCH_HEADER_BYTES) / 2);
    const pieces = batch.split(this.codec, Math.min(this.batchLimit(ps.topic), half));
    const q = ps.queue;
    let at = 0;
    while (at < q.length && q[at]!.seq < batch.seq) at++;
    this.incomplete.delete(batch);
    // The broker wrote none of it: the pieces take over its sequence numbers, so nothing after it is renumbered.
    const numbered =
      batch.producerId >= 0n &&
      batch.producerId === this.producerId &&
      batch.producerEpoch === this.producerEpoch &&
      this.pidState === 'ready';
    let sequence = batch.baseSequence;
    const encoded: ProducerBatch[] = [];
    for (const [i, piece] of pieces.entries()) {
      piece.seq = batch.seq + i / pieces.length;
      piece.attempts = batch.attempts;
      piece.resent = true;
      if (numbered) {
        piece.stamp(batch.producerId, batch.producerEpoch, sequence);
        sequence = addSequence(sequence, piece.count);
      }
      this.incomplete.add(piece);
      if (this.encode(piece) !== null) encoded.push(piece);
    }
    const waiters = batch.waiters;
    batch.waiters = null;
    if (encoded.length === 0) {
      for (const w of waiters ?? []) w();
      return;
    }
    // Pieces of one partition finish in order: whoever waited for the batch waits for its last piece.
    encoded[encoded.length - 1]!.waiters = waiters;
    q.splice(at, 0, ...encoded);
    this.active.add(ps);
    this.counters.splits++;
  }

  private retryOrFail(
    ps: PartitionState,
    batch: ProducerBatch,
    error: Error,
    retriable = isRetriableError(error),
  ): void {
    const now = Date.now();
    if (!retriable || batch.attempts >= this.retries || !ps.topic.known) {
      this.fail(batch, error);
      return;
    }
    if (now >= batch.createdAt + this.deliveryTimeoutMs) {
      this.expireBatch(ps, batch, now, error);
      return;
    }
    batch.attempts++;
    batch.resent = true;
    this.counters.retries++;
    batch.lastError = error;
    batch.retryAt = now + Math.min(this.retryBackoffMaxMs, this.retryBackoffMs * 2 ** (batch.attempts - 1));
    this.requeue(ps, batch);
    if (error instanceof KafkaError && isStaleMetadataError(error.code)) {
      this.requestMetadata(false);
    }
    this.scheduleAt(batch.retryAt);
  }

  /**
   * The broker refused a numbered batch's sequence. If the partition has an earlier batch that is not written yet
   * (it failed and will be resent), this one simply came too early: it goes back behind that one. Otherwise the
   * broker's idea of the producer differs from ours (it lost batches or forgot the producer): the producer takes a
   * new id and the batch is resent under it, as a retry.
   */
  private sequenceRefused(ps: PartitionState, batch: ProducerBatch, error: KafkaError): void {
    const current = batch.producerId === this.producerId && batch.producerEpoch === this.producerEpoch;
    if (
      !current ||
      (error.code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER && batch.baseSequence !== addSequence(ps.lastAcked, 1))
    ) {
      batch.resent = true;
      batch.lastError = error;
      this.requeue(ps, batch);
      return;
    }
    this.resetProducerId();
    this.retryOrFail(ps, batch, error, true);
  }

  /** The broker has the batch: its sequence numbers are the partition's newest written ones. */
  private acknowledged(ps: PartitionState, batch: ProducerBatch): void {
    if (batch.producerId !== this.producerId || batch.producerEpoch !== this.producerEpoch) return;
    if (batch.baseSequence >= 0) ps.lastAcked = addSequence(batch.baseSequence, batch.count - 1);
  }

  /** Puts a batch back into its partition's queue, before every batch that came after it. */
  private requeue(ps: PartitionState, batch: ProducerBatch): void {
    const q = ps.queue;
    let at = 0;
    while (at < q.length && q[at]!.seq < batch.seq) at++;
    q.splice(at, 0, batch);
    this.active.add(ps);
  }

  // ---- idempotence: the producer id ---------------------------------------------------------------------------

  private inFlightWithoutIdempotence(): number {
    // Without idempotence a retry can only keep the order if nothing of the partition was sent after it.
    return this.retries > 0 && this.acks !== 0 ? 1 : this.maxInFlight;
  }

  private requestsInFlight(): number {
    let n = 0;
    for (const node of this.nodes.values()) n += node.inFlight;
    return n;
  }

  /** A sequence gap nothing can fill: once nothing is in flight, take a new producer id and renumber. */
  private resetProducerId(): void {
    if (this.pidState !== 'ready') return;
    this.pidState = 'reset';
    this.wake();
  }

  private fetchProducerId(): void {
    this.pidState = 'fetching';
    this.initProducerId().then(
      (res) => {
        if (res === null) {
          // The broker has no InitProducerId and idempotence was only the default: do without.
          this.idempotence = 'off';
          this.partitionInFlight = this.inFlightWithoutIdempotence();
          this.pidState = 'none';
        } else {
          this.producerId = res.producerId;
          this.producerEpoch = res.producerEpoch;
          this.pidState = 'ready';
          this.pidError = null;
          this.renumber();
        }
        this.wake();
      },
      (e: Error) => {
        this.pidState = 'none';
        this.pidError = e;
        this.pidRetryAt = Date.now() + this.retryBackoffMs;
        // Without a producer id nothing can be sent: the records fail, unless a retry may still get one.
        if (!isRetriableError(e)) this.failUnsent(e);
        this.wake();
      },
    );
  }

  /** Asks any broker for a producer id; null when the broker has no InitProducerId and idempotence may be off. */
  private async initProducerId(): Promise<{ producerId: bigint; producerEpoch: number } | null> {
    const conn = await this.cluster.anyConnection();
    if (conn.supported(INIT_PRODUCER_ID) === undefined) {
      if (this.idempotence === 'auto') return null;
      throw new KafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `${conn.address} has no InitProducerId, so it cannot take an idempotent producer: set enableIdempotence to false`,
      );
    }
    const res = await conn.send<InitProducerIdResponse>(INIT_PRODUCER_ID, conn.version(INIT_PRODUCER_ID, 0, 5), {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    if (res.errorCode !== ErrorCode.NONE) {
      throw new KafkaError(res.errorCode, `InitProducerId: ${new KafkaError(res.errorCode).message}`);
    }
    return { producerId: res.producerId, producerEpoch: res.producerEpoch };
  }

  /** A new producer id: every partition counts from 0 again, and the closed batches get their numbers in order. */
  private renumber(): void {
    for (const topic of this.topics.values()) {
      for (const ps of topic.partitions) {
        ps.nextSequence = 0;
        ps.lastAcked = -1;
        for (const batch of ps.queue) {
          batch.stamp(this.producerId, this.producerEpoch, ps.nextSequence);
          ps.nextSequence = addSequence(ps.nextSequence, batch.count);
        }
      }
    }
  }

  /** Fails every record not in flight (closed and open batches). */
  private failUnsent(error: Error): void {
    for (const ps of this.active) {
      for (const batch of ps.queue.splice(0)) this.fail(batch, error);
      if (ps.open !== null) {
        const batch = ps.open;
        ps.open = null;
        stickyBatchClosed(ps.topic.choice, ps.index);
        this.fail(batch, error);
      }
    }
  }

  private complete(
    ps: PartitionState,
    batch: ProducerBatch,
    baseOffset: bigint,
    logAppendTime: bigint,
    logStartOffset: bigint,
  ): void {
    const topic = ps.topic.name;
    const partition = ps.index;
    const appendTime = logAppendTime >= 0n ? Number(logAppendTime) : -1;
    const { sinks, slots, timestamps } = batch;
    let offset = baseOffset;
    for (let i = 0; i < batch.count; i++) {
      sinks[i]!.delivered(slots[i]!, {
        topic,
        partition,
        offset,
        timestamp: appendTime >= 0 ? appendTime : timestamps[i]!,
        logStartOffset,
      });
      if (baseOffset >= 0n) offset++;
    }
    this.counters.recordsDelivered += batch.count;
    this.finish(batch);
  }

  private fail(batch: ProducerBatch, error: Error): void {
    // Its sequence numbers will never reach the broker: later batches could not be written after the gap.
    if (batch.producerId === this.producerId && batch.producerEpoch === this.producerEpoch && batch.producerId >= 0n) {
      this.resetProducerId();
    }
    const { sinks, slots } = batch;
    for (let i = 0; i < batch.count; i++) sinks[i]!.failed(slots[i]!, error);
    this.counters.recordsFailed += batch.count;
    this.finish(batch);
  }

  private finish(batch: ProducerBatch): void {
    this.incomplete.delete(batch);
    const waiters = batch.waiters;
    if (waiters !== null) {
      batch.waiters = null;
      for (const w of waiters) w();
    }
  }

  // ---- metadata -------------------------------------------------------------------------------------------------

  /** Refreshes topic metadata: now when `urgent` (a new topic), else not sooner than retryBackoffMs after the last. */
  private requestMetadata(urgent: boolean): void {
    if (this.shutDown) return;
    if (this.metadataRunning) {
      if (this.metadataAgain < 2) this.metadataAgain = urgent ? 2 : 1;
      return;
    }
    const wait = urgent ? 0 : this.lastMetadataAt + this.retryBackoffMs - Date.now();
    if (wait > 0) {
      this.metadataTimer ??= setTimeout(() => {
        this.metadataTimer = null;
        this.requestMetadata(true);
      }, wait);
      return;
    }
    if (this.metadataTimer !== null) {
      clearTimeout(this.metadataTimer);
      this.metadataTimer = null;
    }
    this.metadataRunning = true;
    this.refreshMetadata()
      .then(
        () => {
          this.lastMetadataError = null;
        },
        (e: Error) => {
          // The broker asked went away mid-request (it is stopping): ask another one at once, but only once in a
          // row, so that a cluster that is all down is asked at the usual pace.
          if (e instanceof KafkaConnectionError && !(this.lastMetadataError instanceof KafkaConnectionError)) {
            this.metadataAgain = 2;
          }
          this.lastMetadataError = e;
        },
      )
      .finally(() => {
        this.metadataRunning = false;
        this.lastMetadataAt = Date.now();
        const again = this.metadataAgain;
        this.metadataAgain = 0;
        if (again !== 0) this.requestMetadata(again === 2);
        this.wake();
      });
  }

  private async refreshMetadata(): Promise<void> {
    const names = [...this.topics.keys()];
    const conn = await this.cluster.anyConnection();
    const v = conn.version(METADATA, 4, 12);
    const res = await conn.send<MetadataResponse>(METADATA, v, {
      topics: names.map((name) => ({ name })),
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    for (const t of res.topics) {
      if (t.name === null) continue;
      const topic = this.topics.get(t.name);
      if (topic !== undefined) this.applyTopic(topic, t);
    }
  }

  private applyTopic(topic: TopicState, t: MetadataResponseMetadataResponseTopic): void {
    if (t.errorCode !== ErrorCode.NONE || t.partitions.length === 0) {
      const error = new KafkaError(
        t.errorCode === ErrorCode.NONE ? ErrorCode.LEADER_NOT_AVAILABLE : t.errorCode,
        t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          ? `topic ${topic.name} does not exist (and the broker does not create topics on demand)`
          : `topic ${topic.name}: ${new KafkaError(t.errorCode).message}`,
      );
      topic.lastError = error;
      if (t.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || !error.retriable) this.topicGone(topic, error);
      return;
    }
    topic.lastError = null;
    let count = topic.partitions.length;
    for (const p of t.partitions) count = Math.max(count, p.partitionIndex + 1);
    for (let i = topic.partitions.length; i < count; i++) {
      topic.partitions.push({
        topic,
        index: i,
        leader: -1,
        open: null,
        queue: [],
        inFlight: 0,
        nextSeq: 0,
        nextSequence: 0,
        lastAcked: -1,
      });
    }
    const before = topic.partitions.map((ps) => ps.leader);
    for (const ps of topic.partitions) ps.leader = -1;
    for (const p of t.partitions) topic.partitions[p.partitionIndex]!.leader = p.leaderId;
    for (const ps of topic.partitions) {
      // A new leader (KIP-951): batches waiting out a retry backoff earned at the old one go now, instead of up to
      // retryBackoffMaxMs after the partition can take them again.
      if (ps.leader < 0 || ps.leader === before[ps.index]) continue;
      for (const batch of ps.queue) if (batch.retryAt > 0) batch.retryAt = 0;
    }
    const available: number[] = [];
    for (const ps of topic.partitions) if (ps.leader >= 0) available.push(ps.index);
    topic.available = available;
    if (!topic.known) {
      topic.known = true;
      const waiting = topic.waiting ?? [];
      topic.waiting = null;
      this.loading.delete(topic);
      for (const r of waiting) {
        try {
          this.append(topic, r.partition, r.key, r.value, r.headers, r.timestamp, r.sink, r.slot);
        } catch (e) {
          r.sink.failed(r.slot, e as Error);
        }
      }
      this.loaded(topic);
    }
  }

  /** The topic does not exist (any more): its records that are not in flight fail, and it is looked up afresh. */
  private topicGone(topic: TopicState, error: Error): void {
    this.failWaiting(topic, error);
    this.topics.delete(topic.name);
    if (!topic.known) return;
    topic.known = false;
    for (const ps of topic.partitions) {
      for (const batch of ps.queue.splice(0)) this.fail(batch, error);
      if (ps.open !== null) {
        const batch = ps.open;
        ps.open = null;
        this.fail(batch, error);
      }
    }
  }

  private failWaiting(topic: TopicState, error: Error): void {
    const waiting = topic.waiting;
    if (waiting === null || waiting.length === 0) return;
    topic.waiting = [];
    this.loading.delete(topic);
    for (const r of waiting) r.sink.failed(r.slot, error);
    this.counters.recordsFailed += waiting.length;
    this.loaded(topic);
  }

  private loaded(topic: TopicState): void {
    const waiters = topic.loadWaiters;
    if (waiters === null) return;
    topic.loadWaiters = null;
    for (const w of waiters) w();
  }
}
