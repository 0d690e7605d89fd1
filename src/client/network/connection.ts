/**
 * One TCP connection to one broker: Kafka's framing (int32 size + header + body), pipelined requests matched to
 * their answers by correlation id, API version negotiation at connect (ApiVersions v3, falling back to the version
 * the broker says it supports), a timeout per request, and a clean close that fails whatever is still waiting.
 *
 * Bounds: an answer larger than `maxResponseBytes` closes the connection before anything is allocated for it.
 * Requests whose answer never comes (Produce with acks=0) resolve once written.
 *
 * Concurrency: single-threaded; any number of requests may be in flight, and answers come back in request order.
 */

import net from 'node:net';
import { Reader } from '../../protocol/codec/reader.js';
import { Writer } from '../../protocol/codec/writer.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import {
  type ApiVersionsResponse,
  apiSpec,
  type Input,
  readResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  writeRequestHeader,
} from '../../protocol/index.js';
import { KafkaClientError, KafkaConnectionError, KafkaTimeoutError } from '../errors.js';
import { FrameReceiver } from './frame-receiver.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /** Default 30 s (Kafka's request.timeout.ms). */
  requestTimeoutMs?: number;
  /** Largest answer accepted; default 256 MiB. */
  maxResponseBytes?: number;
}

interface Waiting {
  apiKey: number;
  version: number;
  resolve(body: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

const SOFTWARE_NAME = 'samsa';
const SOFTWARE_VERSION = '0.1.0';
const API_VERSIONS = 18;

export class BrokerConnection {
  readonly address: string;
  private readonly requestTimeoutMs: number;
  private readonly waiting = new Map<number, Waiting>();
  private nextCorrelationId = 0;
  private closedError: Error | null = null;
  private readonly closeListeners: ((e: Error) => void)[] = [];
  /** apiKey -> [min, max] the broker supports. */
  private versions = new Map<number, [number, number]>();

  private constructor(
    private readonly socket: net.Socket,
    receiver: FrameReceiver,
    private readonly options: ConnectionOptions,
  ) {
    this.address = `${options.host}:${options.port}`;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    socket.setNoDelay(true);
    receiver.attach({
      frame: (frame) => {
        if (this.closedError === null) this.dispatch(frame);
      },
      badSize: (size) =>
        this.fail(new KafkaConnectionError(`${this.address}: answer of ${size} bytes is out of bounds`, this.address)),
    });
    socket.on('error', (e) =>
      this.fail(new KafkaConnectionError(`${this.address}: ${e.message}`, this.address, { cause: e })),
    );
    socket.on('close', () => this.fail(new KafkaConnectionError(`${this.address}: connection closed`, this.address)));
  }

  /** Connects and negotiates API versions. */
  static async connect(options: ConnectionOptions): Promise<BrokerConnection> {
    const address = `${options.host}:${options.port}`;
    const receiver = new FrameReceiver(options.maxResponseBytes ?? 256 * 1024 * 1024);
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      // Reads go where the receiver says: into the frame being read, not into chunks copied into it later.
      const s = net.connect({ host: options.host, port: options.port, onread: receiver.onread });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new KafkaConnectionError(`${address}: connection timed out`, address));
      }, options.connectTimeoutMs ?? 10_000);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new KafkaConnectionError(`${address}: ${e.message}`, address, { cause: e }));
      });
    });
    const conn = new BrokerConnection(socket, receiver, options);
    try {
      await conn.negotiate();
    } catch (e) {
      conn.close();
      throw e;
    }
    return conn;
  }

  private async negotiate(): Promise<void> {
    let version = 3;
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await this.send<ApiVersionsResponse>(API_VERSIONS, version, {
        clientSoftwareName: SOFTWARE_NAME,
        clientSoftwareVersion: SOFTWARE_VERSION,
      });
      if (res.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
        // The broker answers in v0 with its own range for ApiVersions: retry at its newest.
        const own = res.apiKeys.find((k) => k.apiKey === API_VERSIONS);
        version = Math.min(version - 1, own?.maxVersion ?? 0);
        continue;
      }
      if (res.errorCode !== ErrorCode.NONE) throw new KafkaError(res.errorCode);
      this.versions = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
      return;
    }
    throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, `${this.address}: no common ApiVersions version`);
  }

  /** The broker's [min, max] for an API, or undefined when it does not serve it. */
  supported(apiKey: number): readonly [number, number] | undefined {
    return this.versions.get(apiKey);
  }

  /**
   * The newest version both sides speak, within what the caller can fill (`clientMin`..`clientMax`); throws
   * UNSUPPORTED_VERSION when there is none.
   */
  version(apiKey: number, clientMin: number, clientMax: number): number {
    const range = this.versions.get(apiKey);
    const spec = apiSpec(apiKey);
    const max = Math.min(clientMax, range?.[1] ?? -1, spec?.maxVersion ?? -1);
    if (range === undefined || max < Math.max(clientMin, range[0])) {
      throw new KafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `${this.address} does not serve ${spec?.name ?? `api ${apiKey}`} v${clientMin}-${clientMax}` +
          (range === undefined ? '' : ` (it serves v${range[0]}-${range[1]})`),
      );
    }
    return max;
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  get inFlight(): number {
    return this.waiting.size;
  }

  onClose(listener: (e: Error) => void): void {
    if (this.closedError !== null) listener(this.closedError);
    else this.closeListeners.push(listener);
  }

  /**
   * Sends a request and resolves with the decoded answer body. With `expectResponse: false` (Produce acks=0) it
   * resolves with undefined once the bytes are handed to the socket.
   */
  send<T>(
    apiKey: number,
    version: number,
    body: Input<unknown>,
    options: { expectResponse?: boolean; timeoutMs?: number } = {},
  ): Promise<T> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    const spec = apiSpec(apiKey);
    if (spec === undefined) return Promise.reject(new KafkaClientError(`no spec for api key ${apiKey}`));
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) | 0;
    const w = new Writer();
    const at = w.reserveInt32();
    writeRequestHeader(w, requestHeaderVersion(apiKey, version), {
      requestApiKey: apiKey,
      requestApiVersion: version,
      correlationId,
      clientId: this.options.clientId,
    });
    spec.writeRequest(w, version, body);
    w.patchInt32(at, w.length - 4);
    const chunks = w.chunks();
    if (options.expectResponse === false) {
      this.write(chunks);
      return Promise.resolve(undefined as T);
    }
    return new Promise<T>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
      const timer = setTimeout(() => {
        this.fail(
          new KafkaTimeoutError(`${this.address}: no answer to ${spec.name} v${version} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.waiting.set(correlationId, { apiKey, version, resolve: resolve as (b: unknown) => void, reject, timer });
      this.write(chunks);
    });
  }

  private write(chunks: Buffer[]): void {
    if (chunks.length === 1) this.socket.write(chunks[0]!);
    else {
      this.socket.cork();
      for (const c of chunks) this.socket.write(c);
      this.socket.uncork();
    }
  }

  private dispatch(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const w = this.waiting.get(correlationId);
    if (w === undefined) {
      this.fail(new KafkaConnectionError(`${this.address}: answer to unknown request ${correlationId}`, this.address));
      return;
    }
    this.waiting.delete(correlationId);
    clearTimeout(w.timer);
    try {
      const r = new Reader(frame);
      readResponseHeader(r, responseHeaderVersion(w.apiKey, w.version));
      w.resolve(apiSpec(w.apiKey)!.readResponse(r, w.version));
    } catch (e) {
      w.reject(e as Error);
    }
  }

  private fail(e: Error): void {
    if (this.closedError !== null) return;
    this.closedError = e;
    this.socket.destroy();
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(e);
    }
    this.waiting.clear();
    for (const l of this.closeListeners.splice(0)) l(e);
  }

  /** Closes the connection; requests still waiting fail with a KafkaConnectionError. */
  close(): void {
    this.fail(new KafkaConnectionError(`${this.address}: connection closed by the client`, this.address));
  }
}
