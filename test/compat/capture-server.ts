/**
 * A throwaway Kafka "sink" for compatibility tests: it listens on a free loopback port, records every request frame
 * a real client sends (raw bytes, decoded header, decoded body), and answers just enough for the client to reach
 * Produce and consider its messages delivered:
 *
 * - ApiVersions: the advertised ranges (taken from API_SPECS); a version above ours gets UNSUPPORTED_VERSION (35)
 *   with a v0 body listing our ApiVersions range, as Kafka does (KIP-511). The response header is always v0.
 * - Metadata: one broker (this listener, node 0); every requested topic exists with `partitions` partitions led by
 *   node 0 (any name is "auto-created"); a null topic list (v0: an empty one) means every topic seen so far.
 * - Produce: success with base offset 0 for every partition; nothing at all for acks=0.
 * - Anything else (an API we do not advertise, a version outside our range, a frame we cannot decode): the request
 *   is recorded and the connection closed, as Kafka closes it for requests it cannot parse.
 *
 * It is a test tool, not the broker: it stores nothing and checks nothing beyond what the tests assert.
 */
import net from 'node:net';
import {
  type ApiSpec,
  apiSpec,
  type MetadataRequest,
  type ProduceRequest,
  Reader,
  type RequestHeader,
  readRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  Writer,
  writeApiVersionsResponse,
  writeMetadataResponse,
  writeProduceResponse,
  writeResponseHeader,
} from '../../src/protocol/index.js';

export const API_VERSIONS = 18;
export const METADATA = 3;
export const PRODUCE = 0;
export const FETCH = 1;
export const FIND_COORDINATOR = 10;
const UNSUPPORTED_VERSION = 35;

/**
 * What we advertise by default. Fetch and FindCoordinator are never called by a producer, but librdkafka derives
 * feature flags from the advertised ranges (rdkafka_feature.c): MsgVer2 (record batches, headers) needs Produce v3
 * and Fetch v4, ZSTD needs Produce v7 and Fetch v10, LZ4 needs FindCoordinator v0. Without them it would fall back to
 * legacy message sets or refuse the codec. If a client does send one of them, the connection is closed and the
 * test fails, so advertising them cannot hide anything.
 */
export const DEFAULT_ADVERTISED: readonly number[] = [PRODUCE, FETCH, METADATA, FIND_COORDINATOR, API_VERSIONS];

export interface CapturedRequest {
  /** Index of the connection (in accept order) the request arrived on. */
  connection: number;
  /** Index of the request on its connection. */
  sequence: number;
  /** The frame as received, without the 4-byte size prefix. */
  frame: Buffer;
  apiKey: number;
  apiVersion: number;
  headerVersion: number;
  /** Undefined when even the header could not be decoded. */
  header?: RequestHeader;
  /** Where the body starts in `frame`. */
  bodyOffset: number;
  /** The decoded body, when the API and version are ones we accept. */
  // biome-ignore lint/suspicious/noExplicitAny: the body type depends on apiKey; tests narrow it
  body?: any;
  /** Bytes left over after the body was decoded (should be 0). */
  trailingBytes: number;
  /** Why the request was not answered (the connection was closed), if it was not. */
  rejected?: string;
}

export interface CaptureServerOptions {
  /** Partitions each topic has (default 1). */
  partitions?: number;
  /** API keys advertised and answered (default DEFAULT_ADVERTISED); versions come from API_SPECS. */
  advertised?: readonly number[];
  /** Caps the advertised ApiVersions version, to make clients go through the UNSUPPORTED_VERSION fallback. */
  apiVersionsMax?: number;
  /** Topics known before any client asks (reported for "all topics" Metadata requests). */
  topics?: readonly string[];
  /** Largest frame accepted; bigger frames close the connection (default 16 MiB). */
  maxFrameBytes?: number;
}

interface Range {
  minVersion: number;
  maxVersion: number;
}

function advertisedRange(spec: ApiSpec): Range {
  // An unstable newest version must not be advertised (Kafka hides it unless unstable versions are enabled).
  const max = spec.latestVersionUnstable ? spec.maxVersion - 1 : spec.maxVersion;
  return { minVersion: spec.minVersion, maxVersion: max };
}

export class CaptureServer {
  readonly requests: CapturedRequest[] = [];
  readonly topics: Set<string>;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly ranges = new Map<number, Range>();
  private readonly partitions: number;
  private readonly maxFrameBytes: number;
  private connections = 0;
  private waiters: { predicate: (r: CapturedRequest) => boolean; resolve: (r: CapturedRequest) => void }[] = [];
  port = 0;
  readonly host = '127.0.0.1';

  private constructor(options: CaptureServerOptions) {
    this.partitions = options.partitions ?? 1;
    this.maxFrameBytes = options.maxFrameBytes ?? 16 * 1024 * 1024;
    this.topics = new Set(options.topics ?? []);
    for (const key of options.advertised ?? DEFAULT_ADVERTISED) {
      const spec = apiSpec(key);
      if (spec === undefined) throw new Error(`no spec for api key ${key}`);
      const range = advertisedRange(spec);
      if (key === API_VERSIONS && options.apiVersionsMax !== undefined) {
        range.maxVersion = Math.min(range.maxVersion, options.apiVersionsMax);
      }
      this.ranges.set(key, range);
    }
    if (!this.ranges.has(API_VERSIONS)) throw new Error('ApiVersions must be advertised');
    this.server = net.createServer((socket) => this.accept(socket));
  }

  static async start(options: CaptureServerOptions = {}): Promise<CaptureServer> {
    const s = new CaptureServer(options);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.server.listen(0, s.host, () => {
        s.server.off('error', reject);
        resolve();
      });
    });
    const address = s.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    s.port = address.port;
    return s;
  }

  get bootstrap(): string {
    return `${this.host}:${this.port}`;
  }

  /** The API ranges this server advertises, as sent in ApiVersions responses. */
  advertisedApis(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    return [...this.ranges].sort((a, b) => a[0] - b[0]).map(([apiKey, r]) => ({ apiKey, ...r }));
  }

  /** Resolves with the first recorded request (past or future) matching `predicate`. */
  waitFor(predicate: (r: CapturedRequest) => boolean, timeoutMs = 10_000): Promise<CapturedRequest> {
    const found = this.requests.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (r: CapturedRequest) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching request within ${timeoutMs} ms; got ${this.describe()}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /**
   * Resolves once every client connection has closed. A socket closes only after all its data has been read, so
   * after a client process exits this guarantees every request it wrote has been recorded (acks=0 clients exit
   * without waiting for anything from us).
   */
  async waitForDisconnect(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.sockets.size > 0) {
      if (Date.now() > deadline) throw new Error(`clients still connected after ${timeoutMs} ms: ${this.describe()}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** A one-line summary of what was received, for assertion messages. */
  describe(): string {
    const parts = this.requests.map((r) => {
      const name = apiSpec(r.apiKey)?.name ?? `api${r.apiKey}`;
      return `#${r.connection}.${r.sequence} ${name} v${r.apiVersion}${r.rejected ? ` (rejected: ${r.rejected})` : ''}`;
    });
    return parts.length === 0 ? 'no requests' : parts.join(', ');
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const connection = this.connections++;
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let sequence = 0;
    socket.on('data', (chunk: Buffer) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= 4 && !socket.destroyed) {
        const head = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        pending = [head];
        const size = head.readInt32BE(0);
        // 8 bytes is the smallest possible header (api key, version, correlation id).
        if (size < 8 || size > this.maxFrameBytes) {
          socket.destroy();
          return;
        }
        if (pendingBytes < 4 + size) break;
        // Copy the frame out, so that a recorded request never aliases a later chunk.
        const frame = Buffer.from(head.subarray(4, 4 + size));
        const rest = head.subarray(4 + size);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
        this.handle(socket, connection, sequence++, frame);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  private record(r: CapturedRequest): void {
    this.requests.push(r);
    const ready = this.waiters.filter((w) => w.predicate(r));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(r);
  }

  private handle(socket: net.Socket, connection: number, sequence: number, frame: Buffer): void {
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const headerVersion = requestHeaderVersion(apiKey, apiVersion);
    const captured: CapturedRequest = {
      connection,
      sequence,
      frame,
      apiKey,
      apiVersion,
      headerVersion,
      bodyOffset: 8,
      trailingBytes: 0,
    };
    const reject = (why: string): void => {
      captured.rejected = why;
      this.record(captured);
      socket.destroy();
    };

    const r = new Reader(frame);
    try {
      captured.header = readRequestHeader(r, headerVersion);
    } catch (e) {
      reject(`bad header: ${(e as Error).message}`);
      return;
    }
    captured.bodyOffset = r.pos;

    const range = this.ranges.get(apiKey);
    if (apiKey === API_VERSIONS && range !== undefined && apiVersion > range.maxVersion) {
      // KIP-511: a newer ApiVersions than ours is answered, at v0, with UNSUPPORTED_VERSION and our range, so the
      // client can retry with a version we know. The body is not decoded: its layout may be one we do not know.
      this.record(captured);
      const w = new Writer();
      writeResponseHeader(w, 0, { correlationId });
      writeApiVersionsResponse(w, 0, {
        errorCode: UNSUPPORTED_VERSION,
        apiKeys: [{ apiKey: API_VERSIONS, ...range }],
      });
      this.send(socket, w);
      return;
    }
    if (range === undefined) {
      reject(`api ${apiKey} not advertised`);
      return;
    }
    if (apiVersion < range.minVersion || apiVersion > range.maxVersion) {
      reject(`version ${apiVersion} outside ${range.minVersion}..${range.maxVersion}`);
      return;
    }
    try {
      captured.body = apiSpec(apiKey)!.readRequest(r, apiVersion);
    } catch (e) {
      reject(`bad body: ${(e as Error).message}`);
      return;
    }
    captured.trailingBytes = r.remaining();
    if (apiKey !== API_VERSIONS && apiKey !== METADATA && apiKey !== PRODUCE) {
      // Advertised only for the client's feature detection (see DEFAULT_ADVERTISED); never answered.
      reject(`api ${apiKey} advertised but not served by the capture server`);
      return;
    }
    this.record(captured);

    const w = new Writer();
    writeResponseHeader(w, responseHeaderVersion(apiKey, apiVersion), { correlationId });
    switch (apiKey) {
      case API_VERSIONS:
        writeApiVersionsResponse(w, apiVersion, { errorCode: 0, apiKeys: this.advertisedApis(), throttleTimeMs: 0 });
        break;
      case METADATA:
        writeMetadataResponse(w, apiVersion, this.metadata(captured.body as MetadataRequest, apiVersion));
        break;
      case PRODUCE: {
        const req = captured.body as ProduceRequest;
        if (req.acks === 0) return; // acks=0: the client expects no response at all
        writeProduceResponse(w, apiVersion, {
          responses: req.topicData.map((t) => ({
            name: t.name,
            partitionResponses: t.partitionData.map((p) => ({
              index: p.index,
              errorCode: 0,
              baseOffset: 0n,
              logAppendTimeMs: -1n,
              logStartOffset: 0n,
            })),
          })),
          throttleTimeMs: 0,
        });
        break;
      }
    }
    this.send(socket, w);
  }

  private metadata(req: MetadataRequest, version: number) {
    // v0 has no null list: an empty list means "all topics" there; from v1 an empty list means "no topics".
    const all = req.topics === null || (version === 0 && req.topics.length === 0);
    const names: string[] = [];
    if (all || req.topics === null) {
      names.push(...this.topics);
    } else {
      for (const t of req.topics) {
        if (t.name === null) continue; // lookup by topic id only: we have no ids to match
        this.topics.add(t.name);
        names.push(t.name);
      }
    }
    const partitions = Array.from({ length: this.partitions }, (_, i) => ({
      errorCode: 0,
      partitionIndex: i,
      leaderId: 0,
      leaderEpoch: 0,
      replicaNodes: [0],
      isrNodes: [0],
      offlineReplicas: [],
    }));
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 0, host: this.host, port: this.port, rack: null }],
      clusterId: 'samsa-capture',
      controllerId: 0,
      topics: names.map((name) => ({ errorCode: 0, name, isInternal: false, partitions })),
    };
  }

  private send(socket: net.Socket, w: Writer): void {
    const body = w.toBuffer();
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(body.length, 0);
    if (!socket.destroyed) socket.write(Buffer.concat([size, body]));
  }
}

/** Runs `fn` against a fresh capture server and always closes it afterwards. */
export async function withCaptureServer<T>(
  fn: (server: CaptureServer) => Promise<T>,
  options: CaptureServerOptions = {},
): Promise<T> {
  const server = await CaptureServer.start(options);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}
