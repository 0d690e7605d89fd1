/**
 * KafkaJS's producer API over the Samsa Producer: `connect`, `send({ topic, messages, acks, timeout,
 * compression })`, `sendBatch({ topicMessages })`, `disconnect`, events.
 *
 * A send resolves, as in KafkaJS, once every message is acknowledged, with one `RecordMetadata` per partition
 * written (`baseOffset` the partition's first offset in this send, strings for offsets and times; nothing with
 * acks 0). acks, compression and timeout are per send in KafkaJS but per producer in Samsa: the adapter keeps one
 * Samsa producer per combination in use (usually one), created on first use. Messages are sent without lingering,
 * as KafkaJS sends them, but concurrent sends share requests.
 *
 * Partitioning: KafkaJS's DefaultPartitioner (the default) and LegacyPartitioner are recognized and done by the
 * producer itself (see partitioners.ts); any other `createPartitioner` is called per message with KafkaJS's
 * arguments (the partitions' metadata from a metadata request, auto-creating the topic when allowed) and the
 * message goes to the partition it answers.
 *
 * Errors are KafkaJS's: a broker's code is a KafkaJSProtocolError (`type`, `code`); failures that were retried
 * until the producer gave up come wrapped in KafkaJSNumberOfRetriesExceeded, as KafkaJS's retrier wraps them.
 */
import { ErrorCode } from '../../protocol/errors.js';
import { Cluster } from '../network/cluster.js';
import { Producer as SamsaProducer } from '../producer/producer.js';
import type { DeliveryReport, Partitioner, ProducerRecord as SamsaRecord } from '../producer/types.js';
import { type ClientContext, entryOf, type RetryPolicy, retryPolicy } from './client.js';
import { COMPRESSION_NAMES } from './enums.js';
import {
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNotImplemented,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  protocolErrorInfo,
  toKafkaJSError,
} from './errors.js';
import {
  type EventListener,
  InstrumentationEmitter,
  ProducerEvents,
  type RemoveInstrumentationEventListener,
} from './events.js';
import type { Logger } from './logger.js';
import { isDefaultPartitioner, isLegacyPartitioner, legacyProducerPartitioner } from './partitioners.js';
import type {
  Message,
  PartitionerArgs,
  PartitionMetadata,
  ProducerBatch,
  ProducerConfig,
  ProducerRecord,
  RecordMetadata,
} from './types.js';

type Status = 'disconnected' | 'connecting' | 'connected' | 'disconnecting';

/** One record handed to the Samsa producer and the timestamp it was given (to tell LogAppendTime answers). */
interface Sent {
  topic: string;
  timestamp: number;
}

/** The failure a KafkaJS caller sees: retriable failures had their retries, as KafkaJS's retrier reports. */
function sendFailure(e: unknown, policy: RetryPolicy): Error {
  const error = toKafkaJSError(e);
  if ((error as { retriable?: boolean }).retriable === true) {
    return new KafkaJSNumberOfRetriesExceeded(error, { retryCount: policy.retries, retryTime: policy.maxRetryTime });
  }
  return error;
}

function timestampOf(message: Message, topic: string): number {
  if (message.timestamp === undefined || message.timestamp === null) return Date.now();
  const ts = Number(message.timestamp);
  if (!Number.isSafeInteger(ts) || ts < 0) {
    throw new KafkaJSNonRetriableError(`Invalid timestamp ${String(message.timestamp)} for topic "${topic}"`);
  }
  return ts;
}

export class Producer {
  readonly events = ProducerEvents;
  private status: Status = 'disconnected';
  private bootstrap: string[] = [];
  /** Samsa producers by "acks/codec/timeout". */
  private readonly senders = new Map<string, SamsaProducer>();
  /** Metadata for custom partitioners and allowAutoTopicCreation: false (created when first needed). */
  private cluster: Cluster | null = null;
  private readonly emitter: InstrumentationEmitter;
  private readonly log: Logger;
  private readonly retry: RetryPolicy;
  private readonly partitioner: Partitioner | null;
  private readonly custom: ((args: PartitionerArgs) => number) | null;
  private readonly allowAutoTopicCreation: boolean;

  constructor(
    private readonly client: ClientContext,
    private readonly config: ProducerConfig = {},
  ) {
    if (config.transactionalId !== undefined) {
      throw new KafkaJSNotImplemented('transactional producers are not supported by samsa/kafkajs');
    }
    this.log = client.logger.namespace('Producer');
    this.emitter = new InstrumentationEmitter(ProducerEvents, 'producer', this.log);
    this.retry = retryPolicy({ ...client.retry, ...config.retry });
    this.allowAutoTopicCreation = config.allowAutoTopicCreation ?? true;
    const create = config.createPartitioner;
    if (isDefaultPartitioner(create)) {
      this.partitioner = 'default';
      this.custom = null;
    } else if (isLegacyPartitioner(create)) {
      this.partitioner = legacyProducerPartitioner();
      this.custom = null;
    } else {
      this.partitioner = null;
      this.custom = create!();
    }
  }

  async connect(): Promise<void> {
    if (this.status === 'connected') return;
    this.status = 'connecting';
    try {
      this.bootstrap = await this.client.brokers();
      await this.sender(-1, 0, undefined).connect();
    } catch (e) {
      this.status = 'disconnected';
      await this.closeAll();
      throw toKafkaJSError(e);
    }
    this.status = 'connected';
    this.emitter.emit(ProducerEvents.CONNECT);
  }

  async disconnect(): Promise<void> {
    if (this.status === 'disconnected') return;
    this.status = 'disconnecting';
    try {
      await this.closeAll();
    } finally {
      this.status = 'disconnected';
      this.emitter.emit(ProducerEvents.DISCONNECT);
    }
  }

  private async closeAll(): Promise<void> {
    const closing = [...this.senders.values()].map((p) => p.close());
    this.senders.clear();
    if (this.cluster !== null) closing.push(this.cluster.close());
    this.cluster = null;
    await Promise.allSettled(closing);
  }

  isIdempotent(): boolean {
    return false;
  }

  logger(): Logger {
    return this.log;
  }

  transaction(): Promise<never> {
    return Promise.reject(new KafkaJSNotImplemented('transactions are not supported by samsa/kafkajs'));
  }

  on(eventName: string, listener: EventListener): RemoveInstrumentationEventListener {
    return this.emitter.on(eventName, listener);
  }

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    const { topic, messages, acks, timeout, compression } = record;
    return this.sendBatch({ acks, timeout, compression, topicMessages: [{ topic, messages }] });
  }

  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    const { acks = -1, timeout, compression = 0, topicMessages = [] } = batch;
    for (const { topic, messages } of topicMessages) {
      if (!topic) throw new KafkaJSNonRetriableError('Invalid topic');
      if (!Array.isArray(messages)) {
        throw new KafkaJSNonRetriableError(`Invalid messages array [${String(messages)}] for topic "${topic}"`);
      }
      const noValue = messages.find((m) => m.value === undefined);
      if (noValue !== undefined) {
        throw new KafkaJSNonRetriableError(
          `Invalid message without value for topic "${topic}": ${JSON.stringify(noValue)}`,
        );
      }
    }
    if (acks !== -1 && acks !== 0 && acks !== 1) throw new KafkaJSNonRetriableError(`Invalid acks ${String(acks)}`);
    if (this.config.idempotent === true && acks !== -1) {
      throw new KafkaJSNonRetriableError(`an idempotent producer needs acks -1 (all), got ${acks}`);
    }
    if (COMPRESSION_NAMES[compression] === undefined) {
      throw new KafkaJSNonRetriableError(`Compression type ${String(compression)} is not supported`);
    }
    if (this.status === 'disconnecting') {
      throw new KafkaJSNonRetriableError(
        "The producer is disconnecting; therefore, it can't safely accept messages anymore",
      );
    }
    if (this.status !== 'connected') throw new KafkaJSError('The producer is disconnected');

    const records: SamsaRecord<Buffer | string | null, Buffer | string | null>[] = [];
    const sent: Sent[] = [];
    for (const { topic, messages } of topicMessages) {
      const metadata =
        this.custom !== null || !this.allowAutoTopicCreation ? await this.partitionMetadata(topic) : null;
      for (const m of messages) {
        const timestamp = timestampOf(m, topic);
        const partition =
          this.custom !== null ? this.custom({ topic, partitionMetadata: metadata!, message: m }) : m.partition;
        records.push({
          topic,
          key: m.key ?? null,
          value: m.value,
          ...(m.headers === undefined ? {} : { headers: m.headers }),
          ...(partition === undefined || partition === null ? {} : { partition }),
          timestamp,
        });
        sent.push({ topic, timestamp });
      }
    }
    if (records.length === 0) return [];
    let reports: DeliveryReport[];
    try {
      reports = await this.sender(acks, compression, timeout).sendBatch(records as SamsaRecord[]);
    } catch (e) {
      throw sendFailure(e, this.retry);
    }
    return acks === 0 ? [] : this.summarize(reports, sent);
  }

  /** One RecordMetadata per partition: topics in the order sent, partitions ascending. */
  private summarize(reports: readonly DeliveryReport[], sent: readonly Sent[]): RecordMetadata[] {
    const byTopic = new Map<string, Map<number, RecordMetadata & { base: bigint }>>();
    reports.forEach((r, i) => {
      const partitions = entryOf(byTopic, r.topic, () => new Map());
      const entry = partitions.get(r.partition);
      if (entry === undefined) {
        partitions.set(r.partition, {
          topicName: r.topic,
          partition: r.partition,
          errorCode: 0,
          baseOffset: String(r.offset),
          // The broker's time replaced ours: a LogAppendTime topic.
          logAppendTime: r.timestamp !== sent[i]!.timestamp ? String(r.timestamp) : '-1',
          logStartOffset: String(r.logStartOffset),
          base: r.offset,
        });
      } else if (r.offset < entry.base) {
        entry.base = r.offset;
        entry.baseOffset = String(r.offset);
      }
    });
    const out: RecordMetadata[] = [];
    for (const partitions of byTopic.values()) {
      for (const p of [...partitions.keys()].sort((a, b) => a - b)) {
        const { base: _, ...metadata } = partitions.get(p)!;
        out.push(metadata);
      }
    }
    return out;
  }

  private sender(acks: number, compression: number, timeout: number | undefined): SamsaProducer {
    const requestTimeoutMs = timeout ?? 30_000;
    const key = `${acks}/${compression}/${requestTimeoutMs}`;
    let p = this.senders.get(key);
    if (p === undefined) {
      p = new SamsaProducer({
        bootstrapServers: this.bootstrap,
        clientId: this.client.clientId,
        acks: acks as 0 | 1 | -1,
        // KafkaJS's idempotent is off unless asked for; Samsa's producer turns it on by itself with acks -1, which
        // only adds the broker's protection against duplicates. An explicit false is kept.
        ...(this.config.idempotent === undefined ? {} : { enableIdempotence: this.config.idempotent }),
        compression: COMPRESSION_NAMES[compression]!,
        // KafkaJS sends each send() at once; concurrent sends still share requests.
        lingerMs: 0,
        requestTimeoutMs,
        deliveryTimeoutMs: Math.max(120_000, requestTimeoutMs + 1000),
        connectTimeoutMs: this.client.connectionTimeout,
        retries: this.retry.retries,
        retryBackoffMs: this.retry.initialRetryTime,
        retryBackoffMaxMs: this.retry.maxRetryTime,
        maxInFlightRequestsPerConnection: this.config.maxInFlightRequests ?? 5,
        ...(this.config.metadataMaxAge === undefined ? {} : { metadataMaxAgeMs: this.config.metadataMaxAge }),
        partitioner: this.partitioner ?? 'default',
      });
      this.senders.set(key, p);
    }
    return p;
  }

  /** KafkaJS's partition metadata of a topic; created first when allowed, else UNKNOWN_TOPIC_OR_PARTITION. */
  private async partitionMetadata(topic: string): Promise<PartitionMetadata[]> {
    this.cluster ??= new Cluster({
      bootstrapServers: this.bootstrap,
      clientId: this.client.clientId,
      connectTimeoutMs: this.client.connectionTimeout,
      requestTimeoutMs: this.client.requestTimeout,
      ...(this.config.metadataMaxAge === undefined ? {} : { metadataMaxAgeMs: this.config.metadataMaxAge }),
    });
    const cluster = this.cluster;
    const deadline = Date.now() + this.client.requestTimeout;
    try {
      for (let attempt = 0; ; attempt++) {
        const md =
          attempt === 0
            ? await cluster.metadata([topic])
            : await cluster.refresh({ allowAutoTopicCreation: this.allowAutoTopicCreation });
        const t = md.topics.get(topic);
        const ready = t !== undefined && t.errorCode === ErrorCode.NONE && t.partitions.length > 0;
        if (ready && t.partitions.every((p) => p.leader >= 0)) {
          return t.partitions.map((p) => ({
            partitionErrorCode: p.errorCode,
            partitionId: p.partition,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr,
            offlineReplicas: p.offlineReplicas,
          }));
        }
        if ((t === undefined && !this.allowAutoTopicCreation && attempt > 0) || Date.now() > deadline) {
          const code = t?.errorCode || ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          throw new KafkaJSProtocolError(protocolErrorInfo(code));
        }
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 500)));
      }
    } catch (e) {
      throw sendFailure(e, this.retry);
    }
  }
}
