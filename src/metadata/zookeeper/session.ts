/**
 * A ZooKeeper session, below the API of ZkClient (zk-client.ts): one connection at a time to one of the servers of
 * a connect string, requests queued while it reconnects, the watches it holds, expiry and renewal.
 *
 * Session life, and what the caller sees of it (`state` and the events of the same names):
 * - 'connected': requests go out as they are made, answers come back in order;
 * - 'disconnected': the connection dropped (the server went away, or answered nothing for 2/3 of the session
 *   timeout). Requests that were in flight fail with CONNECTION_LOSS (they may have been applied); new requests
 *   wait for the reconnect. The client tries the servers in turn and re-attaches the same session, with its
 *   ephemeral znodes, and sends its watches again (SetWatches: the server fires at once what changed meanwhile);
 *   'connected' is emitted again with `newSession: false`;
 * - 'expired': the session is over, either because a server said so on reconnect (`confirmedByServer`), or
 *   because no server answered within the session timeout counted from the last request a server is known to
 *   have received: from then on the server may have expired it too, so the client must not act as its owner
 *   (ZooKeeper's own Java client learned the same in 3.9, ZOOKEEPER-4508). Waiting requests fail with
 *   SESSION_EXPIRED, watches get a 'sessionExpired' event. The client does not recreate anything by itself: the
 *   owner calls `renewSession()`, which first closes the old session on the server if it could still be alive
 *   there (a server restarted after a long outage brings its sessions back with a fresh timeout; closing it
 *   removes its ephemerals at once instead of a session timeout later), then opens a new one, and re-registers
 *   its ephemerals and re-reads what it watches;
 * - 'closed': after `close()`, which ends the session on the server (its ephemerals go at once).
 *
 * Nothing is written to disk; a process that dies leaves its session to expire on the server.
 */
import { EventEmitter } from 'node:events';
import { type ConnectionHandlers, type ReplyDecoder, ZkConnection } from './connection.js';
import { ZkErrorCode, ZooKeeperError } from './errors.js';
import type { JuteWriter } from './jute.js';
import { fromServerPath, parentPath, parseConnectString, type ZkServerAddress } from './paths.js';
import {
  type ConnectResponse,
  CreateFlags,
  EventType,
  OpCode,
  type WatcherEvent,
  writeCreate,
  writeSetWatches,
  Xid,
} from './protocol.js';
import { type WatchEvent, type Watcher, WatchRegistry } from './watches.js';

/** Kafka's zookeeper.session.timeout.ms default. */
export const DEFAULT_SESSION_TIMEOUT_MS = 18_000;
/** Frames larger than this are refused (ZooKeeper's jute.maxbuffer is 1 MiB by default; Kafka raises it to 4 MiB). */
export const DEFAULT_MAX_BUFFER_BYTES = 4 * 1024 * 1024;
/** SetWatches requests are cut at about this size, as ZooKeeper's own client does. */
const SET_WATCHES_MAX_BYTES = 128 * 1024;
/** The longest one connection attempt may take (see handshakeTimeoutMs). */
const HANDSHAKE_TIMEOUT_MAX_MS = 2_000;
/** How long `close()` and the closing of an abandoned session wait for the server. */
const CLOSE_TIMEOUT_MS = 3_000;

export interface ZkClientOptions {
  /** Requested session timeout; the server clamps it to its [minSessionTimeout, maxSessionTimeout]. */
  sessionTimeoutMs?: number;
  /** How long `connect()` and `renewSession()` wait for a session (Kafka's zookeeper.connection.timeout.ms). */
  connectionTimeoutMs?: number;
  maxBufferBytes?: number;
  /** Create the chroot (and its parents) when it does not exist, as Kafka brokers do. */
  createChroot?: boolean;
}

export type ZkState = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';

export interface ZkClientEvents {
  connected: [info: { sessionId: bigint; sessionTimeoutMs: number; newSession: boolean; server: string }];
  disconnected: [info: { reason: string }];
  expired: [info: { sessionId: bigint; confirmedByServer: boolean; reason: string }];
  closed: [];
}

interface Waiting {
  type: number;
  write: ((w: JuteWriter) => void) | null;
  decode: ReplyDecoder<unknown>;
  resolve(value: unknown): void;
  reject(e: Error): void;
}

const EMPTY = Buffer.alloc(0);

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The session machinery; ZkClient (zk-client.ts) adds the API over `call`. */
export class ZkSession extends EventEmitter<ZkClientEvents> {
  readonly chroot: string;
  private readonly servers: ZkServerAddress[];
  private readonly requestedTimeoutMs: number;
  private readonly connectionTimeoutMs: number;
  private readonly maxBufferBytes: number;
  private nextServer = 0;
  private state_: ZkState = 'connecting';
  private closing = false;
  private closePromise: Promise<void> | undefined;
  private conn: ZkConnection | undefined;
  private server_ = '';
  private sessionId_ = 0n;
  private password: Buffer = Buffer.alloc(16);
  private negotiatedTimeoutMs = 0;
  private lastZxid = 0n;
  /** Send time of the latest request the server answered: the server has seen the session at least since. */
  private lastHeardSentAt = 0;
  private xid = 0;
  private readonly waiting: Waiting[] = [];
  protected readonly watches = new WatchRegistry();
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryImmediate: NodeJS.Immediate | undefined;
  private loopRunning = false;
  private attemptAbort: AbortController | undefined;
  private wakeLoop: (() => void) | undefined;
  /** A session given up locally that the server may still hold: closed by renewSession(). */
  private abandoned: { sessionId: bigint; password: Buffer; lastZxid: bigint } | undefined;
  private lastConnectError = '';

  protected constructor(connectString: string, options: ZkClientOptions) {
    super();
    const parsed = parseConnectString(connectString);
    this.servers = shuffled(parsed.servers);
    this.chroot = parsed.chroot;
    this.requestedTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.connectionTimeoutMs = options.connectionTimeoutMs ?? this.requestedTimeoutMs;
    this.maxBufferBytes = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
  }

  get state(): ZkState {
    return this.state_;
  }

  /** The current session's id (0n while it has none). */
  get sessionId(): bigint {
    return this.sessionId_;
  }

  /** The session timeout the server granted. */
  get sessionTimeoutMs(): number {
    return this.negotiatedTimeoutMs;
  }

  /**
   * Whether no server can have expired the session yet: it is connected (or between servers) and a server answered
   * a request sent less than the session timeout ago. A server times a session out from the last packet it
   * received, which was no earlier than that request, so until then this client is still the session's owner and
   * what it holds (ephemerals, the image its watches keep) is not yet someone else's. After a stall (a frozen or
   * overloaded process) this turns false before any timer has noticed, in the first event-loop turn.
   */
  heardWithinTimeout(now: number = Date.now()): boolean {
    return (
      (this.state_ === 'connected' || this.state_ === 'disconnected') &&
      now - this.lastHeardSentAt < this.negotiatedTimeoutMs
    );
  }

  /** "host:port" of the server of the current or last connection. */
  get server(): string {
    return this.server_;
  }

  /**
   * After 'expired': closes the old session on the server if it may still be alive there, then opens a new one.
   * Rejects with CONNECTION_LOSS (state back to 'expired', call again later) when no server gave a session within
   * `connectionTimeoutMs`. Does nothing while a session is alive.
   */
  async renewSession(): Promise<void> {
    if (this.closing) throw new ZooKeeperError(ZkErrorCode.SESSION_EXPIRED, undefined, 'the client is closed');
    if (this.state_ !== 'expired') return;
    const old = this.abandoned;
    this.abandoned = undefined;
    if (old !== undefined) await this.closeAbandoned(old);
    if (this.state_ !== 'expired' || this.closing) return;
    // A new session starts from zxid 0, as with ZooKeeper's own client: a server restored from older data refuses
    // every connection that has seen a later zxid, and would refuse this one forever.
    this.lastZxid = 0n;
    this.state_ = 'connecting';
    try {
      await this.establish();
    } catch (e) {
      if (this.state_ === 'connecting') this.state_ = 'expired';
      throw e;
    }
  }

  /** Ends the session (its ephemerals are deleted at once) and the connection. Waiting requests fail. */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- requests ----

  private nextXid(): number {
    this.xid = this.xid >= 0x7fffffff ? 1 : this.xid + 1;
    return this.xid;
  }

  protected error(code: number, path: string | undefined): ZooKeeperError {
    return new ZooKeeperError(code, path);
  }

  protected call<T>(type: number, write: ((w: JuteWriter) => void) | null, decode: ReplyDecoder<T>): Promise<T> {
    if (this.closing || this.state_ === 'closed') {
      return Promise.reject(new ZooKeeperError(ZkErrorCode.SESSION_EXPIRED, undefined, 'the client is closed'));
    }
    switch (this.state_) {
      case 'connected':
        return this.conn!.request(this.nextXid(), type, write, decode);
      case 'expired':
        return Promise.reject(
          new ZooKeeperError(
            ZkErrorCode.SESSION_EXPIRED,
            undefined,
            'the session expired; renewSession() opens a new one',
          ),
        );
      default:
        return new Promise<T>((resolve, reject) => {
          this.waiting.push({ type, write, decode, resolve: resolve as (v: unknown) => void, reject });
        });
    }
  }

  protected async mkdirpServer(serverPath: string, data: Uint8Array = EMPTY, clientPath = serverPath): Promise<void> {
    const attempt = (): Promise<number> =>
      this.call(
        OpCode.create,
        (w) => writeCreate(w, serverPath, data, CreateFlags.persistent),
        (err) => err,
      );
    let err = await attempt();
    if (err === ZkErrorCode.NO_NODE) {
      const parent = parentPath(serverPath);
      if (parent !== '/') await this.mkdirpServer(parent);
      err = await attempt();
    }
    if (err !== 0 && err !== ZkErrorCode.NODE_EXISTS) throw this.error(err, clientPath);
  }

  // ---- the session ----

  /** Runs the connect loop until a session is established, or fails after connectionTimeoutMs. */
  protected establish(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('connected', onConnected);
        this.off('expired', onEnded);
        this.off('closed', onEnded);
      };
      const onConnected = (): void => {
        cleanup();
        resolve();
      };
      const onEnded = (): void => {
        cleanup();
        reject(new ZooKeeperError(ZkErrorCode.SESSION_EXPIRED, undefined, 'the session ended while connecting'));
      };
      const timer = setTimeout(() => {
        cleanup();
        this.stopLoop();
        const servers = this.servers.map((s) => `${s.host}:${s.port}`).join(',');
        reject(
          new ZooKeeperError(
            ZkErrorCode.CONNECTION_LOSS,
            undefined,
            `no ZooKeeper session from ${servers} within ${this.connectionTimeoutMs} ms (last error: ${this.lastConnectError || 'none'})`,
          ),
        );
      }, this.connectionTimeoutMs);
      this.on('connected', onConnected);
      this.on('expired', onEnded);
      this.on('closed', onEnded);
      this.startLoop();
    });
  }

  private startLoop(): void {
    if (this.loopRunning) return;
    this.loopRunning = true;
    void this.connectLoop().finally(() => {
      this.loopRunning = false;
    });
  }

  private stopLoop(): void {
    this.attemptAbort?.abort();
    this.wakeLoop?.();
    if (this.state_ === 'connecting') this.state_ = 'expired';
  }

  private wantsConnection(): boolean {
    return !this.closing && (this.state_ === 'connecting' || this.state_ === 'disconnected');
  }

  private async connectLoop(): Promise<void> {
    let failures = 0;
    while (this.wantsConnection()) {
      const server = this.servers[this.nextServer++ % this.servers.length]!;
      const timeout = this.negotiatedTimeoutMs > 0 ? this.negotiatedTimeoutMs : this.requestedTimeoutMs;
      const abort = new AbortController();
      this.attemptAbort = abort;
      const holder: { conn: ZkConnection | undefined } = { conn: undefined };
      const sentAt = Date.now();
      try {
        const { connection, response } = await ZkConnection.open(
          {
            host: server.host,
            port: server.port,
            connectTimeoutMs: this.handshakeTimeoutMs(timeout),
            maxFrameBytes: this.maxBufferBytes,
            request: {
              lastZxidSeen: this.lastZxid,
              timeoutMs: this.requestedTimeoutMs,
              sessionId: this.sessionId_,
              password: this.password,
            },
            handlers: this.handlersFor(holder),
          },
          abort.signal,
        );
        if (!this.wantsConnection() || !connection.isOpen) {
          connection.close();
          if (!this.wantsConnection()) return;
          failures++;
          continue;
        }
        if (response.timeoutMs <= 0) {
          connection.close();
          this.expire(true, `ZooKeeper ${connection.server} says the session expired`);
          return;
        }
        holder.conn = connection;
        this.sessionEstablished(connection, response, sentAt);
        return;
      } catch (e) {
        this.lastConnectError = (e as Error).message;
        failures++;
      } finally {
        this.attemptAbort = undefined;
      }
      // A pause once every server was tried, so that refused connections do not spin: 10 ms after the first
      // round, doubling up to a twentieth of the session timeout (at most 1 s), jittered so that the brokers of a
      // cluster do not all come back at once.
      if (failures % this.servers.length === 0 && this.wantsConnection()) {
        const rounds = failures / this.servers.length;
        const cap = Math.min(1000, Math.max(10, timeout / 20));
        const pause = Math.min(cap, 10 * 2 ** Math.min(rounds - 1, 10)) * (0.5 + Math.random() / 2);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, pause);
          this.wakeLoop = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wakeLoop = undefined;
      }
    }
  }

  /**
   * How long one connection attempt may take, TCP connect and handshake: the session timeout shared among the
   * servers as ZooKeeper's client does, but never more than 2 s. A handshake is one round trip; and ZooKeeper 3.8
   * accepts connections while it starts, before its database is loaded, and then neither answers nor closes one
   * that arrives in that window (its close path fails on the missing database), so waiting for the whole session
   * timeout could outlast the session.
   */
  private handshakeTimeoutMs(sessionTimeoutMs: number): number {
    return Math.max(100, Math.min(HANDSHAKE_TIMEOUT_MAX_MS, Math.floor(sessionTimeoutMs / this.servers.length)));
  }

  private handlersFor(holder: { conn: ZkConnection | undefined }): ConnectionHandlers {
    return {
      onReply: (sentAt, zxid) => {
        if (sentAt > this.lastHeardSentAt) this.lastHeardSentAt = sentAt;
        if (zxid > this.lastZxid) this.lastZxid = zxid;
      },
      onNotification: (event) => this.notify(event),
      onClose: (reason) => {
        if (holder.conn !== undefined && holder.conn === this.conn) this.connectionLost(reason);
      },
    };
  }

  private sessionEstablished(connection: ZkConnection, response: ConnectResponse, sentAt: number): void {
    const newSession = response.sessionId !== this.sessionId_;
    this.conn = connection;
    this.server_ = connection.server;
    this.sessionId_ = response.sessionId;
    this.password = response.password;
    this.negotiatedTimeoutMs = response.timeoutMs;
    this.lastHeardSentAt = Math.max(this.lastHeardSentAt, sentAt);
    this.clearExpiryTimer();
    this.state_ = 'connected';
    if (!newSession) this.resendWatches(connection);
    for (const w of this.waiting.splice(0)) {
      connection.request(this.nextXid(), w.type, w.write, w.decode).then(w.resolve, w.reject);
    }
    this.emit('connected', {
      sessionId: this.sessionId_,
      sessionTimeoutMs: this.negotiatedTimeoutMs,
      newSession,
      server: connection.server,
    });
  }

  private resendWatches(connection: ZkConnection): void {
    if (this.watches.size === 0) return;
    const { data, exist, child } = this.watches.paths();
    const lists = [data, exist, child];
    const batch: string[][] = [[], [], []];
    let size = 0;
    const flush = (): void => {
      const [d, e, c] = batch.map((l) => l.splice(0)) as [string[], string[], string[]];
      size = 0;
      connection
        .request(
          Xid.setWatches,
          OpCode.setWatches,
          (w) => writeSetWatches(w, this.lastZxid, d, e, c),
          () => undefined,
        )
        .catch(() => {
          // The connection dropped: the next reconnect sends them again.
        });
    };
    for (let k = 0; k < 3; k++) {
      for (const p of lists[k]!) {
        batch[k]!.push(p);
        size += Buffer.byteLength(p) + 4;
        if (size >= SET_WATCHES_MAX_BYTES) flush();
      }
    }
    if (size > 0) flush();
  }

  private notify(event: WatcherEvent): void {
    if (event.type === EventType.none) return;
    const path = fromServerPath(this.chroot, event.path);
    const taken = this.watches.take(event.type, event.path);
    if (taken === undefined || path === undefined) return;
    for (const watcher of taken.watchers) this.callWatcher(watcher, { type: taken.type, path });
  }

  private callWatcher(watcher: Watcher, event: WatchEvent): void {
    try {
      watcher(event);
    } catch (e) {
      // A failing watcher is the caller's bug: surface it like an EventEmitter listener would, without breaking
      // the connection's reading loop.
      process.nextTick(() => {
        throw e;
      });
    }
  }

  private clearExpiryTimer(): void {
    clearTimeout(this.expiryTimer);
    clearImmediate(this.expiryImmediate);
    this.expiryTimer = undefined;
    this.expiryImmediate = undefined;
  }

  private connectionLost(reason: string): void {
    this.conn = undefined;
    if (this.state_ !== 'connected' || this.closing) return;
    this.state_ = 'disconnected';
    const deadline = this.lastHeardSentAt + this.negotiatedTimeoutMs;
    this.expiryTimer = setTimeout(
      () => {
        // Timers run before I/O in an event-loop turn: after a stall, a handshake answer may be waiting in the
        // socket. Let it be read first.
        this.expiryTimer = undefined;
        this.expiryImmediate = setImmediate(() => {
          this.expiryImmediate = undefined;
          if (this.state_ !== 'disconnected') return;
          this.expire(
            false,
            `no ZooKeeper server answered within the session timeout (${this.negotiatedTimeoutMs} ms)`,
          );
        });
      },
      Math.max(0, deadline - Date.now()),
    );
    this.emit('disconnected', { reason });
    this.startLoop();
  }

  private expire(confirmedByServer: boolean, reason: string): void {
    if (this.state_ === 'expired' || this.state_ === 'closed') return;
    const sessionId = this.sessionId_;
    this.state_ = 'expired';
    this.clearExpiryTimer();
    this.attemptAbort?.abort();
    this.wakeLoop?.();
    const conn = this.conn;
    this.conn = undefined;
    conn?.close('session expired');
    if (!confirmedByServer && sessionId !== 0n) {
      this.abandoned = { sessionId, password: this.password, lastZxid: this.lastZxid };
    }
    this.sessionId_ = 0n;
    this.password = Buffer.alloc(16);
    this.endSession('sessionExpired', `session 0x${sessionId.toString(16)} expired: ${reason}`);
    this.emit('expired', { sessionId, confirmedByServer, reason });
  }

  /** Fails waiting requests and gives every watch its last event. */
  private endSession(type: 'sessionExpired' | 'closed', message: string): void {
    const err = new ZooKeeperError(ZkErrorCode.SESSION_EXPIRED, undefined, message);
    for (const w of this.waiting.splice(0)) w.reject(err);
    for (const { serverPath, watcher } of this.watches.takeAll()) {
      this.callWatcher(watcher, { type, path: fromServerPath(this.chroot, serverPath) ?? serverPath });
    }
  }

  private async closeAbandoned(old: { sessionId: bigint; password: Buffer; lastZxid: bigint }): Promise<void> {
    const server = this.servers[this.nextServer++ % this.servers.length]!;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), CLOSE_TIMEOUT_MS);
    try {
      const { connection, response } = await ZkConnection.open(
        {
          host: server.host,
          port: server.port,
          connectTimeoutMs: CLOSE_TIMEOUT_MS,
          maxFrameBytes: this.maxBufferBytes,
          request: {
            lastZxidSeen: old.lastZxid,
            timeoutMs: this.requestedTimeoutMs,
            sessionId: old.sessionId,
            password: old.password,
          },
          handlers: { onReply: () => {}, onNotification: () => {}, onClose: () => {} },
        },
        abort.signal,
      );
      try {
        if (response.timeoutMs > 0) {
          await Promise.race([
            connection.request(1, OpCode.closeSession, null, () => undefined),
            new Promise((resolve) => abort.signal.addEventListener('abort', resolve, { once: true })),
          ]);
        }
      } finally {
        connection.close();
      }
    } catch {
      // Unreachable or gone: the server expires it by itself.
    } finally {
      clearTimeout(timer);
    }
  }

  private async doClose(): Promise<void> {
    if (this.state_ === 'closed') return;
    this.closing = true;
    this.clearExpiryTimer();
    this.attemptAbort?.abort();
    this.wakeLoop?.();
    const conn = this.conn;
    if (this.state_ === 'connected' && conn !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          conn.request(this.nextXid(), OpCode.closeSession, null, () => undefined),
          new Promise((resolve) => {
            timer = setTimeout(resolve, Math.min(CLOSE_TIMEOUT_MS, this.negotiatedTimeoutMs));
          }),
        ]);
      } catch {
        // The connection dropped: the session expires on the server by itself.
      } finally {
        clearTimeout(timer);
      }
    }
    this.conn = undefined;
    conn?.close('client closed');
    const wasExpired = this.state_ === 'expired';
    this.state_ = 'closed';
    if (!wasExpired) this.endSession('closed', 'the client is closed');
    this.sessionId_ = 0n;
    this.emit('closed');
  }
}
