// The reference for the broker benchmark (bench/broker.ts): a tiny Kafka server built from our protocol codecs that
// answers at once and keeps no log. Produce: success with base offsets counting up per partition, the records
// dropped (the "client ceiling" of DESIGN.md: the same load generator against a server that does no work). Fetch
// and ListOffsets: served from record batches held in memory (loaded with `load`), so a consumer's figure against it
// is the "Node ceiling" for serving bytes: same framing and codecs as the broker, no storage and no handler logic.
// Also answers ApiVersions (advertising the same version ranges as the broker, so librdkafka picks the same request
// versions), Metadata (one broker; every topic exists with its configured partition count) and FindCoordinator
// (itself). Anything else closes the connection. Runnable on its own: `node dist/bench/noop-sink.js [partitions]`.
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { FrameDecoder } from '../src/broker/frame-decoder.js';
import {
  apiSpec,
  type FetchRequest,
  type FetchResponseFetchableTopicResponse,
  type FindCoordinatorRequest,
  type ListOffsetsRequest,
  type MetadataRequest,
  type ProduceRequest,
  Reader,
  readRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  Writer,
  writeResponseHeader,
} from '../src/protocol/index.js';

export interface ApiRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** The ranges the broker advertises (src/broker/handlers) for the APIs the sink serves; overridable per sink. */
export const DEFAULT_RANGES: readonly ApiRange[] = [
  { apiKey: 0, minVersion: 3, maxVersion: 11 },
  { apiKey: 1, minVersion: 4, maxVersion: 17 },
  { apiKey: 2, minVersion: 1, maxVersion: 10 },
  { apiKey: 3, minVersion: 0, maxVersion: 12 },
  { apiKey: 10, minVersion: 0, maxVersion: 6 },
  { apiKey: 18, minVersion: 0, maxVersion: 4 },
];
/** The API keys the sink answers; the bench copies the broker's ranges for exactly these. */
export const SINK_APIS: readonly number[] = DEFAULT_RANGES.map((r) => r.apiKey);

const NODE_ID = 0;
const EMPTY: Buffer = Buffer.alloc(0);
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** One partition's contents: whole record batches back to back, with each batch's base offset and position. */
interface PartitionData {
  buf: Buffer;
  baseOffsets: bigint[];
  positions: number[];
  end: bigint;
}

interface Topic {
  partitions: number;
  id: string;
  /** Next offset per partition (Produce counts up; Fetch serves up to `data[p].end`). */
  next: bigint[];
  data: (PartitionData | undefined)[];
}

/** Splits a buffer of whole record batches (as in a .log segment) into its batches' offsets and positions. */
export function indexBatches(buf: Buffer): PartitionData {
  const baseOffsets: bigint[] = [];
  const positions: number[] = [];
  let pos = 0;
  let end = 0n;
  while (pos + 61 <= buf.length) {
    const length = buf.readInt32BE(pos + 8);
    if (length <= 0 || pos + 12 + length > buf.length) break;
    const base = buf.readBigInt64BE(pos);
    baseOffsets.push(base);
    positions.push(pos);
    end = base + BigInt(buf.readInt32BE(pos + 23)) + 1n;
    pos += 12 + length;
  }
  positions.push(pos);
  return { buf: buf.subarray(0, pos), baseOffsets, positions, end };
}

function recordCount(records: Buffer | null): number {
  let n = 0;
  if (records === null) return 0;
  for (let pos = 0; pos + 61 <= records.length; pos += 12 + records.readInt32BE(pos + 8)) {
    n += records.readInt32BE(pos + 57);
  }
  return n;
}

function randomId(): string {
  const b = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) b[i] = (Math.random() * 256) | 0;
  return b.toString('base64url');
}

export class NoopSink {
  readonly host = '127.0.0.1';
  port = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly topics = new Map<string, Topic>();
  private readonly ranges: Map<number, ApiRange>;
  private readonly defaultPartitions: number;

  private constructor(ranges: readonly ApiRange[], defaultPartitions: number) {
    this.ranges = new Map(ranges.filter((r) => SINK_APIS.includes(r.apiKey)).map((r) => [r.apiKey, r]));
    this.defaultPartitions = defaultPartitions;
    this.server = net.createServer((socket) => this.accept(socket));
  }

  static async start(options: { ranges?: readonly ApiRange[]; defaultPartitions?: number } = {}): Promise<NoopSink> {
    const sink = new NoopSink(options.ranges ?? DEFAULT_RANGES, options.defaultPartitions ?? 1);
    await new Promise<void>((resolve, reject) => {
      sink.server.once('error', reject);
      sink.server.listen(0, sink.host, () => resolve());
    });
    sink.port = (sink.server.address() as net.AddressInfo).port;
    return sink;
  }

  get bootstrap(): string {
    return `${this.host}:${this.port}`;
  }

  /** Declares a topic with `partitions` partitions (empty), replacing any earlier one of that name. */
  setTopic(name: string, partitions: number): void {
    this.topics.set(name, {
      partitions,
      id: randomId(),
      next: Array.from({ length: partitions }, () => 0n),
      data: new Array(partitions).fill(undefined),
    });
  }

  /** Declares a topic whose partition `i` holds the record batches in `logs[i]` (whole batches, back to back). */
  load(name: string, logs: readonly Buffer[]): void {
    this.setTopic(name, logs.length);
    const topic = this.topics.get(name)!;
    logs.forEach((buf, p) => {
      const data = indexBatches(buf);
      topic.data[p] = data;
      topic.next[p] = data.end;
    });
  }

  /** Drops a topic and its batches. */
  deleteTopic(name: string): void {
    this.topics.delete(name);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private topic(name: string): Topic {
    let t = this.topics.get(name);
    if (t === undefined) {
      this.setTopic(name, this.defaultPartitions);
      t = this.topics.get(name)!;
    }
    return t;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(256 * 1024 * 1024);
    const reader = new Reader(EMPTY);
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      for (let frame = decoder.next(); frame !== null && !socket.destroyed; frame = decoder.next()) {
        this.handle(socket, reader, frame);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  private handle(socket: net.Socket, r: Reader, frame: Buffer): void {
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    const range = this.ranges.get(apiKey);
    if (range === undefined || version < range.minVersion || (version > range.maxVersion && apiKey !== 18)) {
      socket.destroy();
      return;
    }
    r.reset(frame);
    const header = readRequestHeader(r, requestHeaderVersion(apiKey, version));
    const w = new Writer();
    const at = w.reserveInt32();
    const spec = apiSpec(apiKey)!;
    if (apiKey === 18 && version > range.maxVersion) {
      // KIP-511: a newer ApiVersions than ours gets UNSUPPORTED_VERSION with our range, as a v0 body.
      writeResponseHeader(w, 0, { correlationId: header.correlationId });
      spec.writeResponse(w, 0, { errorCode: 35, apiKeys: [range] });
      this.send(socket, w, at);
      return;
    }
    const request = spec.readRequest(r, version);
    writeResponseHeader(w, responseHeaderVersion(apiKey, version), { correlationId: header.correlationId });
    let body: unknown;
    switch (apiKey) {
      case 0:
        body = this.produce(request as ProduceRequest);
        if (body === null) return;
        break;
      case 1: {
        const req = request as FetchRequest;
        const { response, bytes } = this.fetch(req, version);
        if (bytes === 0 && req.maxWaitMs > 0) {
          // Nothing new ever arrives here: answer empty after the long-poll wait, as a broker would.
          setTimeout(() => {
            spec.writeResponse(w, version, response);
            this.send(socket, w, at);
          }, req.maxWaitMs);
          return;
        }
        body = response;
        break;
      }
      case 2:
        body = this.listOffsets(request as ListOffsetsRequest);
        break;
      case 3:
        body = this.metadata(request as MetadataRequest);
        break;
      case 10:
        body = this.findCoordinator(request as FindCoordinatorRequest, version);
        break;
      default:
        body = { errorCode: 0, apiKeys: [...this.ranges.values()], throttleTimeMs: 0 };
    }
    spec.writeResponse(w, version, body);
    this.send(socket, w, at);
  }

  private send(socket: net.Socket, w: Writer, at: number): void {
    if (socket.destroyed) return;
    w.patchInt32(at, w.length - 4);
    socket.cork();
    for (const c of w.chunks()) socket.write(c);
    socket.uncork();
  }

  private produce(req: ProduceRequest): unknown {
    if (req.acks === 0) return null;
    return {
      throttleTimeMs: 0,
      responses: req.topicData.map((t) => {
        const topic = this.topic(t.name);
        return {
          name: t.name,
          partitionResponses: t.partitionData.map((p) => {
            const baseOffset = topic.next[p.index] ?? 0n;
            topic.next[p.index] = baseOffset + BigInt(recordCount(p.records));
            return {
              index: p.index,
              errorCode: 0,
              baseOffset,
              logAppendTimeMs: -1n,
              logStartOffset: 0n,
              recordErrors: [],
              errorMessage: null,
            };
          }),
        };
      }),
    };
  }

  private fetch(req: FetchRequest, version: number): { response: unknown; bytes: number } {
    let budget = req.maxBytes;
    let bytes = 0;
    const responses: FetchResponseFetchableTopicResponse[] = [];
    for (const t of req.topics) {
      const name = version >= 13 ? [...this.topics].find(([, v]) => v.id === t.topicId)?.[0] : t.topic;
      const topic = name === undefined ? undefined : this.topics.get(name);
      responses.push({
        topic: version >= 13 ? '' : t.topic,
        topicId: t.topicId,
        partitions: t.partitions.map((p) => {
          const data = topic?.data[p.partition];
          const end = data?.end ?? 0n;
          let records: Buffer = EMPTY;
          if (data !== undefined && p.fetchOffset < end) {
            // The batch holding fetchOffset, then whole batches while within the partition and response budgets
            // (the first batch of the response always, as KIP-74 asks).
            let lo = 0;
            let hi = data.baseOffsets.length - 1;
            while (lo < hi) {
              const mid = (lo + hi + 1) >> 1;
              if (data.baseOffsets[mid]! <= p.fetchOffset) lo = mid;
              else hi = mid - 1;
            }
            const limit = Math.min(p.partitionMaxBytes, budget);
            const start = data.positions[lo]!;
            let stop = lo + 1;
            if (data.positions[stop]! - start > limit && bytes > 0) stop = lo;
            while (stop < data.baseOffsets.length && data.positions[stop + 1]! - start <= limit) stop++;
            records = data.buf.subarray(start, data.positions[stop]!);
            bytes += records.length;
            budget = Math.max(0, budget - records.length);
          }
          return {
            partitionIndex: p.partition,
            errorCode: topic === undefined ? 3 : 0,
            highWatermark: end,
            lastStableOffset: end,
            logStartOffset: 0n,
            divergingEpoch: { epoch: -1, endOffset: -1n },
            currentLeader: { leaderId: -1, leaderEpoch: -1 },
            snapshotId: { endOffset: -1n, epoch: -1 },
            abortedTransactions: null,
            preferredReadReplica: -1,
            records,
          };
        }),
      });
    }
    return { response: { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses, nodeEndpoints: [] }, bytes };
  }

  private listOffsets(req: ListOffsetsRequest): unknown {
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const end = this.topics.get(t.name)?.next[p.partitionIndex] ?? 0n;
          return {
            partitionIndex: p.partitionIndex,
            errorCode: 0,
            oldStyleOffsets: [],
            timestamp: -1n,
            offset: p.timestamp === -1n ? end : 0n,
            leaderEpoch: 0,
          };
        }),
      })),
    };
  }

  private metadata(req: MetadataRequest): unknown {
    const names =
      req.topics === null || req.topics.length === 0
        ? [...this.topics.keys()]
        : req.topics.flatMap((t) => (t.name === null ? [] : [t.name]));
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: NODE_ID, host: this.host, port: this.port, rack: null }],
      clusterId: 'samsa-noop-sink',
      controllerId: NODE_ID,
      clusterAuthorizedOperations: -2147483648,
      topics: names.map((name) => {
        const topic = this.topic(name);
        return {
          errorCode: 0,
          name,
          topicId: topic.id ?? ZERO_UUID,
          isInternal: false,
          topicAuthorizedOperations: -2147483648,
          partitions: Array.from({ length: topic.partitions }, (_, i) => ({
            errorCode: 0,
            partitionIndex: i,
            leaderId: NODE_ID,
            leaderEpoch: 0,
            replicaNodes: [NODE_ID],
            isrNodes: [NODE_ID],
            offlineReplicas: [],
          })),
        };
      }),
    };
  }

  private findCoordinator(req: FindCoordinatorRequest, version: number): unknown {
    const self = { nodeId: NODE_ID, host: this.host, port: this.port, errorCode: 0, errorMessage: null };
    return {
      throttleTimeMs: 0,
      ...self,
      coordinators: version >= 4 ? req.coordinatorKeys.map((key) => ({ key, ...self })) : [],
    };
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sink = await NoopSink.start({ defaultPartitions: Number(process.argv[2] ?? 1) });
  console.log(JSON.stringify({ msg: 'noop sink started', bootstrap: sink.bootstrap }));
}
