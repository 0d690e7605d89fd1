/**
 * A TCP proxy in front of a broker for the producer tests that need the broker to fail on cue. It passes requests
 * and answers through, except that it rewrites Metadata answers so that clients keep coming through the proxy,
 * counts requests per API key, and answers the Produce requests `produceFault` picks itself, with an error code for
 * every partition: the broker never sees those, so nothing of them is written. `answerFault` works the other way
 * round: the broker gets the request and writes it, and then its answer is replaced by an error, or the connection
 * is cut before the answer arrives (what a client sees when a network fails after the write). `hiddenApis` removes
 * API keys from ApiVersions answers, to play an older broker. Answers keep request order.
 */
import net from 'node:net';
import {
  type ApiVersionsResponse,
  apiSpec,
  type MetadataResponse,
  type ProduceRequest,
  type ProduceResponse,
  Reader,
  readRequestHeader,
  readResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  Writer,
  writeResponseHeader,
} from '../../src/protocol/index.js';

const PRODUCE = 0;
const METADATA = 3;
const API_VERSIONS = 18;

interface Pending {
  correlationId: number;
  apiKey: number;
  version: number;
  /** The answer to pass on, once known. */
  answer: Buffer | null;
  /** A Produce request whose answer `answerFault` replaces. */
  produce: ProduceRequest | null;
  fault: number | 'drop' | null;
}

function frames(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    while (buf.length >= 4) {
      const size = buf.readInt32BE(0);
      if (buf.length < 4 + size) break;
      onFrame(buf.subarray(4, 4 + size));
      buf = buf.subarray(4 + size);
    }
  };
}

/** An answer with `code` for every partition of `request`. */
function produceError(request: ProduceRequest, code: number): ProduceResponse {
  return {
    responses: request.topicData.map((t) => ({
      name: t.name,
      partitionResponses: t.partitionData.map((p) => ({
        index: p.index,
        errorCode: code,
        baseOffset: -1n,
        logAppendTimeMs: -1n,
        logStartOffset: -1n,
        recordErrors: [],
        errorMessage: null,
        currentLeader: { leaderId: -1, leaderEpoch: -1 },
      })),
    })),
    throttleTimeMs: 0,
    nodeEndpoints: [],
  };
}

function encodeAnswer(apiKey: number, version: number, correlationId: number, body: unknown): Buffer {
  const w = new Writer();
  const at = w.reserveInt32();
  writeResponseHeader(w, responseHeaderVersion(apiKey, version), { correlationId });
  apiSpec(apiKey)!.writeResponse(w, version, body);
  w.patchInt32(at, w.length - 4);
  return w.toBuffer();
}

export class FaultProxy {
  /** Requests seen per API key. */
  readonly counts = new Map<number, number>();
  /** Produce requests seen so far (faulted ones included). */
  produceRequests = 0;
  /** For each Produce request (n counts from 1): an error code to answer with instead of forwarding, or null. */
  produceFault: ((request: ProduceRequest, n: number) => number | null) | null = null;
  /**
   * For each Produce request (n as above) that reaches the broker: an error code to answer with instead of the
   * broker's answer, 'drop' to close the client's connection when the broker's answer arrives, or null.
   */
  answerFault: ((request: ProduceRequest, n: number) => number | 'drop' | null) | null = null;
  /** API keys taken out of ApiVersions answers. */
  hiddenApis: number[] = [];
  /** Partition error codes in the broker's Produce answers (those the proxy made up not counted). */
  readonly produceErrors = new Map<number, number>();
  /** Answers thrown away with their connection ('drop') so far. */
  droppedAnswers = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(target: { host: string; port: number }): Promise<FaultProxy> {
    let proxy: FaultProxy | null = null;
    const server = net.createServer((client) => proxy!.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new FaultProxy(server, (server.address() as net.AddressInfo).port, target);
    return proxy;
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const pending: Pending[] = [];
    const flush = (): void => {
      while (pending.length > 0 && pending[0]!.answer !== null) client.write(pending.shift()!.answer!);
    };
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);

    client.on(
      'data',
      frames((frame) => {
        const apiKey = frame.readInt16BE(0);
        const version = frame.readInt16BE(2);
        const correlationId = frame.readInt32BE(4);
        this.counts.set(apiKey, (this.counts.get(apiKey) ?? 0) + 1);
        const entry: Pending = { correlationId, apiKey, version, answer: null, produce: null, fault: null };
        if (apiKey === PRODUCE) {
          const r = new Reader(frame);
          readRequestHeader(r, requestHeaderVersion(apiKey, version));
          const request = apiSpec(PRODUCE)!.readRequest(r, version) as ProduceRequest;
          const n = ++this.produceRequests;
          const code = this.produceFault?.(request, n) ?? null;
          if (code !== null && request.acks !== 0) {
            entry.answer = encodeAnswer(apiKey, version, correlationId, produceError(request, code));
            pending.push(entry);
            flush();
            return;
          }
          entry.fault = this.answerFault?.(request, n) ?? null;
          if (entry.fault !== null) entry.produce = request;
          if (request.acks === 0) {
            upstream.write(Buffer.concat([sizeOf(frame), frame]));
            return;
          }
        }
        pending.push(entry);
        upstream.write(Buffer.concat([sizeOf(frame), frame]));
      }),
    );

    upstream.on(
      'data',
      frames((frame) => {
        const correlationId = frame.readInt32BE(0);
        const entry = pending.find((p) => p.correlationId === correlationId && p.answer === null);
        if (entry === undefined) {
          close();
          return;
        }
        if (entry.fault === 'drop') {
          this.droppedAnswers++;
          close();
          return;
        }
        if (entry.fault !== null) {
          entry.answer = encodeAnswer(PRODUCE, entry.version, correlationId, produceError(entry.produce!, entry.fault));
        } else if (entry.apiKey === PRODUCE) {
          const r = new Reader(frame);
          readResponseHeader(r, responseHeaderVersion(PRODUCE, entry.version));
          const body = apiSpec(PRODUCE)!.readResponse(r, entry.version) as ProduceResponse;
          for (const t of body.responses) {
            for (const p of t.partitionResponses) {
              if (p.errorCode !== 0)
                this.produceErrors.set(p.errorCode, (this.produceErrors.get(p.errorCode) ?? 0) + 1);
            }
          }
          entry.answer = Buffer.concat([sizeOf(frame), frame]);
        } else if (entry.apiKey === API_VERSIONS && this.hiddenApis.length > 0) {
          const r = new Reader(frame);
          readResponseHeader(r, responseHeaderVersion(API_VERSIONS, entry.version));
          const body = apiSpec(API_VERSIONS)!.readResponse(r, entry.version) as ApiVersionsResponse;
          body.apiKeys = body.apiKeys.filter((k) => !this.hiddenApis.includes(k.apiKey));
          entry.answer = encodeAnswer(API_VERSIONS, entry.version, correlationId, body);
        } else if (entry.apiKey === METADATA) {
          const r = new Reader(frame);
          readResponseHeader(r, responseHeaderVersion(METADATA, entry.version));
          const body = apiSpec(METADATA)!.readResponse(r, entry.version) as MetadataResponse;
          for (const b of body.brokers) {
            b.host = '127.0.0.1';
            b.port = this.port;
          }
          entry.answer = encodeAnswer(METADATA, entry.version, correlationId, body);
        } else {
          entry.answer = Buffer.concat([sizeOf(frame), frame]);
        }
        flush();
      }),
    );
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function sizeOf(frame: Buffer): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(frame.length, 0);
  return b;
}
