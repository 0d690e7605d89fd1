/**
 * One TCP connection to one ZooKeeper server, below the session: the handshake (ConnectRequest/ConnectResponse),
 * then pipelined requests whose answers come back in request order and are matched by xid, pings, watch
 * notifications and the two timeouts that detect a dead peer:
 * - while connecting, the handshake must complete within `connectTimeoutMs` (a server that accepts the TCP
 *   connection but never answers, e.g. one frozen by SIGSTOP or behind a dropped route, must not hold the client);
 * - once connected, with a negotiated session timeout T, a ping goes out when nothing was sent for T/3 and the
 *   connection is given up when nothing was received for 2T/3 (ZooKeeper's own client uses the same fractions),
 *   which leaves T/3 to reach a server before the session can expire.
 *
 * Frames are bounded by `maxFrameBytes` before they are buffered. An answer is decoded synchronously, in the order
 * frames arrive, so whatever a decoder registers (a watch) is in place before the next frame, possibly the
 * notification it waits for, is looked at. When the connection ends every request still in flight fails with
 * CONNECTION_LOSS: it may or may not have been applied.
 */
import net from 'node:net';
import { ZkErrorCode, ZooKeeperError } from './errors.js';
import { JuteError, JuteReader, JuteWriter } from './jute.js';
import {
  type ConnectRequest,
  type ConnectResponse,
  OpCode,
  readConnectResponse,
  readReplyHeader,
  readWatcherEvent,
  type WatcherEvent,
  writeConnectRequest,
  Xid,
} from './protocol.js';

/**
 * Decodes an answer: called synchronously with ZooKeeper's error code and, when it is 0, a reader on the body.
 * What it returns resolves the request; what it throws rejects it.
 */
export type ReplyDecoder<T> = (err: number, body: JuteReader) => T;

interface InFlight {
  xid: number;
  sentAt: number;
  decode: ReplyDecoder<unknown>;
  resolve(value: unknown): void;
  reject(e: Error): void;
}

export interface ConnectionHandlers {
  /** A watch notification (path as the server sent it). */
  onNotification(event: WatcherEvent): void;
  /**
   * An answer (or ping answer) arrived for a request sent at `sentAt`: the server has seen this session since
   * then. `zxid` is the answer's zxid (0 for pings).
   */
  onReply(sentAt: number, zxid: bigint): void;
  /** The connection ended; called once, after every in-flight request was rejected. */
  onClose(reason: string): void;
}

export interface OpenOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  maxFrameBytes: number;
  request: ConnectRequest;
  handlers: ConnectionHandlers;
}

export class ZkConnection {
  private readonly inFlight: InFlight[] = [];
  private readonly pingsSentAt: number[] = [];
  private pending: Buffer | null = null;
  private closed = false;
  private lastReceivedAt = Date.now();
  private lastSentAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private uncorkScheduled = false;
  private handlers: ConnectionHandlers | undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly maxFrameBytes: number,
    /** "host:port", for messages. */
    readonly server: string,
  ) {}

  /**
   * Connects and performs the handshake. Resolves with the server's ConnectResponse (which may say the session
   * expired: the caller looks at `timeoutMs`); rejects with CONNECTION_LOSS when the server cannot be reached or
   * does not answer in time. `abort` ends the attempt early.
   */
  static open(
    options: OpenOptions,
    abort?: AbortSignal,
  ): Promise<{ connection: ZkConnection; response: ConnectResponse }> {
    return new Promise((resolve, reject) => {
      const server = `${options.host}:${options.port}`;
      const socket = net.connect({ host: options.host, port: options.port, noDelay: true });
      const conn = new ZkConnection(socket, options.maxFrameBytes, server);
      let settled = false;
      const fail = (why: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(new ZooKeeperError(ZkErrorCode.CONNECTION_LOSS, undefined, `ZooKeeper ${server}: ${why}`));
      };
      const onAbort = (): void => fail('connection attempt abandoned');
      if (abort?.aborted) {
        fail('connection attempt abandoned');
        return;
      }
      abort?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(
        () => fail(`no handshake within ${options.connectTimeoutMs} ms`),
        options.connectTimeoutMs,
      );
      socket.on('error', (e) => fail(e.message));
      socket.on('close', () => fail('connection closed during the handshake'));
      socket.on('connect', () => {
        const w = new JuteWriter(64);
        const at = w.reserveInt();
        writeConnectRequest(w, options.request);
        w.patchInt(at, w.length - 4);
        socket.write(w.bytes());
      });
      conn.onFrame = (frame) => {
        if (settled) return;
        let response: ConnectResponse;
        try {
          response = readConnectResponse(new JuteReader(frame));
        } catch (e) {
          fail(`bad handshake answer: ${(e as Error).message}`);
          return;
        }
        settled = true;
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        socket.removeAllListeners('close');
        conn.attach(response.timeoutMs, options.handlers);
        resolve({ connection: conn, response });
      };
      socket.on('data', (chunk: Buffer) => conn.receive(chunk));
    });
  }

  private onFrame: (frame: Buffer) => void = () => {};

  private attach(sessionTimeoutMs: number, handlers: ConnectionHandlers): void {
    this.handlers = handlers;
    this.onFrame = (frame) => this.answer(frame);
    this.socket.on('error', (e) => this.shutdown(e.message));
    this.socket.on('close', () => this.shutdown('connection closed by the server'));
    if (sessionTimeoutMs <= 0) return;
    const readTimeout = Math.floor((sessionTimeoutMs * 2) / 3);
    const pingAfter = Math.floor(sessionTimeoutMs / 3);
    this.lastReceivedAt = Date.now();
    this.timer = setInterval(
      () => {
        const now = Date.now();
        if (now - this.lastReceivedAt > readTimeout) {
          // Timers run before I/O in an event-loop turn: after a stall of this process, answers may be waiting
          // in the socket. Look again once they were read.
          setImmediate(() => {
            const silent = Date.now() - this.lastReceivedAt;
            if (silent > readTimeout)
              this.shutdown(`nothing received for ${silent} ms (read timeout ${readTimeout} ms)`);
          });
        } else if (now - this.lastSentAt >= pingAfter) {
          this.ping();
        }
      },
      Math.max(10, Math.floor(sessionTimeoutMs / 10)),
    );
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  get inFlightCount(): number {
    return this.inFlight.length;
  }

  /** Sends a request; its answer is decoded by `decode` (see ReplyDecoder). */
  request<T>(
    xid: number,
    type: number,
    writeBody: ((w: JuteWriter) => void) | null,
    decode: ReplyDecoder<T>,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closed) {
        reject(new ZooKeeperError(ZkErrorCode.CONNECTION_LOSS, undefined, `ZooKeeper ${this.server}: not connected`));
        return;
      }
      const w = new JuteWriter();
      const at = w.reserveInt();
      w.int(xid).int(type);
      writeBody?.(w);
      w.patchInt(at, w.length - 4);
      const now = Date.now();
      this.inFlight.push({ xid, sentAt: now, decode, resolve: resolve as (v: unknown) => void, reject });
      this.write(w.bytes(), now);
    });
  }

  private ping(): void {
    const w = new JuteWriter(16);
    w.int(8).int(Xid.ping).int(OpCode.ping);
    const now = Date.now();
    this.pingsSentAt.push(now);
    this.write(w.bytes(), now);
  }

  private write(bytes: Buffer, now: number): void {
    this.lastSentAt = now;
    // Requests made in one tick leave in one write.
    if (!this.uncorkScheduled) {
      this.uncorkScheduled = true;
      this.socket.cork();
      process.nextTick(() => {
        this.uncorkScheduled = false;
        this.socket.uncork();
      });
    }
    this.socket.write(bytes);
  }

  private receive(chunk: Buffer): void {
    this.lastReceivedAt = Date.now();
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let pos = 0;
    while (!this.closed && buf.length - pos >= 4) {
      const size = buf.readInt32BE(pos);
      if (size < 0 || size > this.maxFrameBytes) {
        this.shutdown(`frame of ${size} bytes is outside [0, ${this.maxFrameBytes}]`);
        return;
      }
      if (buf.length - pos - 4 < size) break;
      const frame = buf.subarray(pos + 4, pos + 4 + size);
      pos += 4 + size;
      this.onFrame(frame);
    }
    if (pos < buf.length && !this.closed) this.pending = Buffer.from(buf.subarray(pos));
  }

  private answer(frame: Buffer): void {
    try {
      const r = new JuteReader(frame);
      const header = readReplyHeader(r);
      if (header.xid === Xid.ping) {
        this.handlers!.onReply(this.pingsSentAt.shift() ?? 0, 0n);
        return;
      }
      if (header.xid === Xid.notification) {
        this.handlers!.onNotification(readWatcherEvent(r));
        return;
      }
      const req = this.inFlight.shift();
      if (req === undefined || req.xid !== header.xid) {
        if (req !== undefined) this.inFlight.unshift(req);
        throw new JuteError(`answer xid ${header.xid} does not match the request in flight (${req?.xid ?? 'none'})`);
      }
      this.handlers!.onReply(req.sentAt, header.zxid);
      let value: unknown;
      try {
        value = req.decode(header.err, r);
      } catch (e) {
        if (!(e instanceof JuteError)) {
          req.reject(e as Error);
          return;
        }
        req.reject(new ZooKeeperError(ZkErrorCode.MARSHALLING_ERROR, undefined, `bad answer: ${e.message}`));
        throw e;
      }
      req.resolve(value);
    } catch (e) {
      this.shutdown(`protocol error: ${(e as Error).message}`);
    }
  }

  /** Ends the connection; in-flight requests fail with CONNECTION_LOSS. */
  close(reason = 'closed by the client'): void {
    this.shutdown(reason);
  }

  private shutdown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.socket.destroy();
    const loss = new ZooKeeperError(
      ZkErrorCode.CONNECTION_LOSS,
      undefined,
      `ZooKeeper ${this.server}: connection lost (${reason})`,
    );
    const lost = this.inFlight.splice(0);
    for (const req of lost) req.reject(loss);
    this.handlers?.onClose(reason);
  }
}
