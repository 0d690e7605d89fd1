/**
 * A typed request/response client over one real socket, built only from the generated codecs: enough to drive the
 * broker's handlers in tests without any third-party client in between (and to send what no client would).
 */
import net from 'node:net';
import {
  apiSpec,
  type FetchResponse,
  type Input,
  type ListOffsetsResponse,
  type MetadataResponse,
  type ProduceResponse,
  Reader,
  readResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  Writer,
  writeRequestHeader,
} from '../../src/protocol/index.js';

interface Waiting {
  apiKey: number;
  version: number;
  resolve: (body: unknown) => void;
  reject: (err: Error) => void;
}

export class RawClient {
  private buf: Buffer = Buffer.alloc(0);
  private nextCorrelation = 1;
  private readonly waiting = new Map<number, Waiting>();
  private closedError: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closedError = new Error('connection closed by the broker');
      for (const w of this.waiting.values()) w.reject(this.closedError);
      this.waiting.clear();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Sends one request and resolves to the decoded response body. */
  request<T = unknown>(apiKey: number, version: number, body: Input<unknown>, clientId = 'raw-client'): Promise<T> {
    const spec = apiSpec(apiKey);
    if (spec === undefined) throw new Error(`no spec for api key ${apiKey}`);
    const correlationId = this.nextCorrelation++;
    const w = new Writer();
    const at = w.reserveInt32();
    writeRequestHeader(w, requestHeaderVersion(apiKey, version), {
      requestApiKey: apiKey,
      requestApiVersion: version,
      correlationId,
      clientId,
    });
    spec.writeRequest(w, version, body);
    w.patchInt32(at, w.length - 4);
    return new Promise<T>((resolve, reject) => {
      if (this.closedError !== null) {
        reject(this.closedError);
        return;
      }
      this.waiting.set(correlationId, { apiKey, version, resolve: resolve as (b: unknown) => void, reject });
      this.socket.write(w.toBuffer());
    });
  }

  /** Writes raw bytes (malformed input tests). */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closedError !== null) {
        resolve();
        return;
      }
      const timer = setTimeout(() => reject(new Error('connection still open')), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  produce(version: number, body: Input<unknown>): Promise<ProduceResponse> {
    return this.request<ProduceResponse>(0, version, body);
  }

  fetch(version: number, body: Input<unknown>): Promise<FetchResponse> {
    return this.request<FetchResponse>(1, version, body);
  }

  listOffsets(version: number, body: Input<unknown>): Promise<ListOffsetsResponse> {
    return this.request<ListOffsetsResponse>(2, version, body);
  }

  metadata(version: number, body: Input<unknown>): Promise<MetadataResponse> {
    return this.request<MetadataResponse>(3, version, body);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 4) {
      const n = this.buf.readInt32BE(0);
      if (this.buf.length < 4 + n) break;
      const frame = this.buf.subarray(4, 4 + n);
      this.buf = this.buf.subarray(4 + n);
      const correlationId = frame.readInt32BE(0);
      const w = this.waiting.get(correlationId);
      if (w === undefined) continue;
      this.waiting.delete(correlationId);
      try {
        const r = new Reader(frame);
        readResponseHeader(r, responseHeaderVersion(w.apiKey, w.version));
        w.resolve(apiSpec(w.apiKey)!.readResponse(r, w.version));
      } catch (err) {
        w.reject(err as Error);
      }
    }
  }
}
