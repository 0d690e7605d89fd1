/**
 * The TCP side of the broker: listener, Kafka framing, request routing and connection limits.
 *
 * Per connection: bytes -> FrameDecoder (size checked against `socket.request.max.bytes` before allocating) ->
 * request header (its version from the api key and version) -> handler from the registry -> response encoded with
 * the right response header into a Writer and written as its chunks (corked, so one writev). Requests are
 * dispatched as they arrive (pipelining) but answered strictly in request order, whatever order the handlers finish
 * in. Reading pauses while the socket's write buffer is above a high-water mark or too many requests are in flight.
 * As in Kafka, an unknown api key, an unsupported version (except ApiVersions' fallback), a body that does not
 * decode or an oversized frame closes the connection with one log line; other connections are unaffected.
 */
import net from 'node:net';
import type { Logger } from '../log/logger.js';
import {
  ProtocolError,
  Reader,
  type RequestHeader,
  readRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  Writer,
  writeResponseHeader,
} from '../protocol/index.js';
import { FrameDecoder, FrameTooLargeError } from './frame-decoder.js';
import { type Handler, HandlerRegistry, type RegisteredHandler, type RequestContext } from './handlers/registry.js';

export interface ServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  logger: Logger;
  /** `socket.request.max.bytes`. */
  maxRequestBytes?: number;
  /** Connections beyond this are closed as soon as they are accepted. */
  maxConnections?: number;
  /** `connections.max.idle.ms`: a connection with no traffic and nothing in flight for this long is closed. */
  idleMs?: number;
  /** Requests dispatched but not yet answered on one connection before reading from it pauses. */
  maxInFlightPerConnection?: number;
  /** Bytes queued for writing on one connection above which reading from it pauses. */
  writeHighWaterMark?: number;
  handlers: HandlerRegistry | Iterable<Handler<never, unknown>>;
  /** The listener's name, passed to handlers (default PLAINTEXT). */
  listenerName?: string;
}

export interface RunningServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

export const DEFAULT_MAX_REQUEST_BYTES = 104857600;
export const DEFAULT_IDLE_MS = 600000;
export const DEFAULT_MAX_CONNECTIONS = 10000;
export const DEFAULT_MAX_IN_FLIGHT = 100;
export const DEFAULT_WRITE_HIGH_WATER_MARK = 4 * 1024 * 1024;

interface Limits {
  listener: string;
  maxRequestBytes: number;
  idleMs: number;
  maxInFlight: number;
  highWater: number;
}

/** One pending response slot; `chunks` is set when the handler has finished (null: nothing to send). */
interface Slot {
  done: boolean;
  chunks: Buffer[] | null;
}

class Connection {
  private readonly decoder: FrameDecoder;
  private readonly reader = new Reader(Buffer.alloc(0));
  private readonly queue: Slot[] = [];
  private closed = false;
  private pausedForWrites = false;
  /** Guards `process` against re-entry from handlers that complete synchronously. */
  private processing = false;

  constructor(
    readonly id: number,
    private readonly socket: net.Socket,
    private readonly registry: HandlerRegistry,
    private readonly limits: Limits,
    private readonly logger: Logger,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.decoder = new FrameDecoder(limits.maxRequestBytes);
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.pausedForWrites = false;
      this.process();
    });
    socket.on('timeout', () => {
      if (this.queue.length === 0) this.close('idle connection reaped', 'info');
    });
    socket.on('error', (err) => this.logger.debug({ err: err.message }, 'socket error'));
    socket.on('close', () => {
      this.closed = true;
      this.onClose(this);
    });
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private close(reason: string, level: 'info' | 'warn' = 'warn', extra: Record<string, unknown> = {}): void {
    if (this.closed) return;
    this.closed = true;
    this.logger[level]({ ...extra, remote: this.socket.remoteAddress }, `closing connection: ${reason}`);
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.decoder.push(chunk);
    this.process();
  }

  /** Dispatches buffered frames while allowed; pauses or resumes the socket to match. */
  private process(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      this.processFrames();
    } finally {
      this.processing = false;
    }
  }

  private processFrames(): void {
    while (!this.closed && !this.pausedForWrites && this.queue.length < this.limits.maxInFlight) {
      let frame: Buffer | null;
      try {
        frame = this.decoder.next();
      } catch (err) {
        if (err instanceof FrameTooLargeError) {
          this.close('request size over socket.request.max.bytes', 'warn', {
            size: err.size,
            limit: err.limit,
          });
          return;
        }
        throw err;
      }
      if (frame === null) break;
      this.dispatch(frame);
    }
    if (this.closed) return;
    const blocked = this.pausedForWrites || this.queue.length >= this.limits.maxInFlight;
    if (blocked && !this.socket.isPaused()) this.socket.pause();
    else if (!blocked && this.socket.isPaused()) this.socket.resume();
  }

  private dispatch(frame: Buffer): void {
    const r = this.reader.reset(frame);
    if (frame.length < 8) {
      this.close('request shorter than a request header', 'warn', { size: frame.length });
      return;
    }
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const entry = this.registry.get(apiKey);
    if (entry === undefined) {
      this.close('unsupported api key', 'warn', { apiKey, apiVersion });
      return;
    }
    const { handler } = entry;
    const inRange = apiVersion >= handler.minVersion && apiVersion <= handler.maxVersion;
    let header: RequestHeader;
    try {
      header = readRequestHeader(r, requestHeaderVersion(apiKey, apiVersion));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      if (inRange || handler.unsupportedVersion === undefined) {
        this.close('malformed request header', 'warn', { apiKey, apiVersion, error: err.message });
        return;
      }
      // A version we do not know may have a header we cannot read; the fixed part is all the fallback needs.
      header = {
        requestApiKey: apiKey,
        requestApiVersion: apiVersion,
        correlationId: frame.readInt32BE(4),
        clientId: null,
      };
    }
    const ctx: RequestContext = {
      header,
      apiKey,
      apiVersion,
      clientId: header.clientId,
      connectionId: this.id,
      remoteAddress: this.socket.remoteAddress ?? '',
      listener: this.limits.listener,
      logger: this.logger,
      registry: this.registry,
    };
    if (!inRange) {
      const fallback = handler.unsupportedVersion?.(ctx) ?? null;
      if (fallback === null) {
        this.close('unsupported api version', 'warn', { apiKey, apiVersion, clientId: header.clientId });
        return;
      }
      const slot: Slot = { done: false, chunks: null };
      this.queue.push(slot);
      this.complete(slot, entry, ctx, fallback.version, fallback.body);
      return;
    }
    let request: unknown;
    try {
      request = entry.spec.readRequest(r, apiVersion);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.close('request body does not decode', 'warn', {
        apiKey,
        apiVersion,
        clientId: header.clientId,
        error: err.message,
      });
      return;
    }
    const slot: Slot = { done: false, chunks: null };
    this.queue.push(slot);
    let result: unknown;
    try {
      result = handler.handle(ctx, request);
    } catch (err) {
      this.handlerFailed(ctx, err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (body) => this.complete(slot, entry, ctx, apiVersion, body),
        (err) => this.handlerFailed(ctx, err),
      );
    } else {
      this.complete(slot, entry, ctx, apiVersion, result);
    }
  }

  private handlerFailed(ctx: RequestContext, err: unknown): void {
    this.close('handler failed', 'warn', {
      apiKey: ctx.apiKey,
      apiVersion: ctx.apiVersion,
      error: err instanceof Error ? err.message : String(err),
    });
  }

  private complete(slot: Slot, entry: RegisteredHandler, ctx: RequestContext, version: number, body: unknown): void {
    if (this.closed) return;
    if (body !== null) {
      try {
        const w = new Writer();
        const at = w.reserveInt32();
        writeResponseHeader(w, responseHeaderVersion(ctx.apiKey, version), { correlationId: ctx.header.correlationId });
        entry.spec.writeResponse(w, version, body);
        w.patchInt32(at, w.length - 4);
        slot.chunks = w.chunks();
      } catch (err) {
        this.handlerFailed(ctx, err);
        return;
      }
    }
    slot.done = true;
    this.flush();
  }

  /** Writes every finished response at the head of the queue, in request order. */
  private flush(): void {
    const queue = this.queue;
    if (queue.length === 0 || !queue[0]!.done) return;
    this.socket.cork();
    while (queue.length > 0 && queue[0]!.done) {
      const slot = queue.shift()!;
      if (slot.chunks !== null) for (const c of slot.chunks) this.socket.write(c);
    }
    this.socket.uncork();
    if (this.socket.writableLength > this.limits.highWater) this.pausedForWrites = true;
    this.process();
  }
}

export function startServer(options: ServerOptions): Promise<RunningServer> {
  const registry =
    options.handlers instanceof HandlerRegistry ? options.handlers : new HandlerRegistry(options.handlers);
  const limits: Limits = {
    listener: options.listenerName ?? 'PLAINTEXT',
    maxRequestBytes: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    idleMs: options.idleMs ?? DEFAULT_IDLE_MS,
    maxInFlight: Math.max(1, options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT),
    highWater: options.writeHighWaterMark ?? DEFAULT_WRITE_HIGH_WATER_MARK,
  };
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const logger = options.logger;
  const connections = new Set<Connection>();
  let nextId = 0;

  const server = net.createServer((socket) => {
    if (connections.size >= maxConnections) {
      logger.warn({ remote: socket.remoteAddress, maxConnections }, 'connection refused: too many connections');
      socket.destroy();
      return;
    }
    const id = nextId++;
    const conn = new Connection(id, socket, registry, limits, logger.child({ conn: id }), (c) => connections.delete(c));
    connections.add(conn);
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9092, options.host ?? 'localhost', () => {
      server.off('error', reject);
      server.on('error', (err) => logger.error({ err: err.message }, 'listener error'));
      const addr = server.address() as net.AddressInfo;
      logger.info({ address: addr.address, port: addr.port }, 'listening');
      resolve({
        address: addr.address,
        port: addr.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const c of connections) c.destroy();
            connections.clear();
          }),
      });
    });
  });
}
