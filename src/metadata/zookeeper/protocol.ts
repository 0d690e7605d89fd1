/**
 * The messages of ZooKeeper's client protocol this client speaks, in jute (see jute.ts), as ZooKeeper 3.4 and later
 * serve them (3.8 is what we test against):
 * - every frame is a 4-byte big-endian length and the record;
 * - the session starts with ConnectRequest {protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly}
 *   answered by ConnectResponse {protocolVersion, timeOut, sessionId, passwd, readOnly}; a timeOut of 0 or less
 *   means the session asked for has expired;
 * - then requests are RequestHeader {xid, type} + body and answers ReplyHeader {xid, zxid, err} + body (the body
 *   only when err is 0). Answers come in request order. Special xids: -1 watch notifications (a WatcherEvent
 *   {type, state, path}), -2 pings, -8 SetWatches;
 * - a multi is a sequence of MultiHeader {type, done, err} + op body ending with {-1, true, -1}; its answer is the
 *   same shape with one result per op. When one op fails nothing is applied, the reply header's err is 0 and every
 *   result is an error result: 0 for the ops before the failing one, its code for that one, RUNTIME_INCONSISTENCY
 *   after it.
 */
import { JuteError, type JuteReader, type JuteWriter } from './jute.js';

export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  setWatches: 101,
  closeSession: -11,
  error: -1,
} as const;

export const Xid = { notification: -1, ping: -2, setWatches: -8 } as const;

/** CreateMode flags. */
export const CreateFlags = { persistent: 0, ephemeral: 1, sequential: 2 } as const;

/** The version that matches any version in setData, delete and check. */
export const ANY_VERSION = -1;

/** ZooDefs.Perms.ALL for ZooDefs.Ids.ANYONE_ID_UNSAFE ("world:anyone"): the OPEN_ACL_UNSAFE every znode gets. */
const OPEN_ACL = { perms: 31, scheme: 'world', id: 'anyone' };

/** The znode metadata ZooKeeper returns with most answers. Zxids and the owner session id are 64-bit. */
export interface Stat {
  /** The zxid of the transaction that created the znode. */
  czxid: bigint;
  /** The zxid of the last change of its data. */
  mzxid: bigint;
  /** Creation time, ms since the epoch. */
  ctime: number;
  mtime: number;
  /** Data version: what `set`/`delete`/`check` compare against. */
  version: number;
  /** Children version. */
  cversion: number;
  aversion: number;
  /** The session that owns an ephemeral znode; 0n for a persistent one. */
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  /** The zxid of the last change of its children. */
  pzxid: bigint;
}

export function readStat(r: JuteReader): Stat {
  return {
    czxid: r.long(),
    mzxid: r.long(),
    ctime: r.longNumber(),
    mtime: r.longNumber(),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    ephemeralOwner: r.long(),
    dataLength: r.int(),
    numChildren: r.int(),
    pzxid: r.long(),
  };
}

export interface ConnectRequest {
  lastZxidSeen: bigint;
  timeoutMs: number;
  sessionId: bigint;
  password: Buffer;
}

export function writeConnectRequest(w: JuteWriter, req: ConnectRequest): void {
  w.int(0).long(req.lastZxidSeen).int(req.timeoutMs).long(req.sessionId).buffer(req.password).boolean(false);
}

export interface ConnectResponse {
  /** The negotiated session timeout; 0 or less when the session asked for has expired. */
  timeoutMs: number;
  sessionId: bigint;
  password: Buffer;
  readOnly: boolean;
}

export function readConnectResponse(r: JuteReader): ConnectResponse {
  r.int(); // protocol version
  const timeoutMs = r.int();
  const sessionId = r.long();
  const password = r.buffer();
  // Servers before 3.4 stop here.
  const readOnly = r.remaining > 0 ? r.boolean() : false;
  return { timeoutMs, sessionId, password, readOnly };
}

export interface ReplyHeader {
  xid: number;
  zxid: bigint;
  err: number;
}

export function readReplyHeader(r: JuteReader): ReplyHeader {
  return { xid: r.int(), zxid: r.long(), err: r.int() };
}

/** Watch notification types (Watcher.Event.EventType). */
export const EventType = {
  none: -1,
  nodeCreated: 1,
  nodeDeleted: 2,
  nodeDataChanged: 3,
  nodeChildrenChanged: 4,
} as const;

export interface WatcherEvent {
  type: number;
  state: number;
  path: string;
}

export function readWatcherEvent(r: JuteReader): WatcherEvent {
  return { type: r.int(), state: r.int(), path: r.string() };
}

// Request bodies. Paths here are the server's (chroot already prepended).

export function writeCreate(w: JuteWriter, path: string, data: Uint8Array, flags: number): void {
  w.string(path).buffer(data).int(1).int(OPEN_ACL.perms).string(OPEN_ACL.scheme).string(OPEN_ACL.id).int(flags);
}

export function writePathVersion(w: JuteWriter, path: string, version: number): void {
  w.string(path).int(version);
}

export function writePathWatch(w: JuteWriter, path: string, watch: boolean): void {
  w.string(path).boolean(watch);
}

export function writeSetData(w: JuteWriter, path: string, data: Uint8Array, version: number): void {
  w.string(path).buffer(data).int(version);
}

export function writeSetWatches(
  w: JuteWriter,
  relativeZxid: bigint,
  data: readonly string[],
  exist: readonly string[],
  child: readonly string[],
): void {
  w.long(relativeZxid).strings(data).strings(exist).strings(child);
}

/** One operation of a multi, paths already the server's. */
export type WireOp =
  | { type: typeof OpCode.check; path: string; version: number }
  | { type: typeof OpCode.create; path: string; data: Uint8Array; flags: number }
  | { type: typeof OpCode.setData; path: string; data: Uint8Array; version: number }
  | { type: typeof OpCode.delete; path: string; version: number };

export function writeMulti(w: JuteWriter, ops: readonly WireOp[]): void {
  for (const op of ops) {
    w.int(op.type).boolean(false).int(-1);
    switch (op.type) {
      case OpCode.check:
      case OpCode.delete:
        writePathVersion(w, op.path, op.version);
        break;
      case OpCode.create:
        writeCreate(w, op.path, op.data, op.flags);
        break;
      case OpCode.setData:
        writeSetData(w, op.path, op.data, op.version);
        break;
    }
  }
  w.int(-1).boolean(true).int(-1);
}

/** One result of a multi: the op's answer, or `err` (non-zero) when the multi failed. */
export type WireOpResult =
  | { type: typeof OpCode.check | typeof OpCode.delete; err: 0 }
  | { type: typeof OpCode.create; err: 0; path: string }
  | { type: typeof OpCode.setData; err: 0; stat: Stat }
  | { type: typeof OpCode.error; err: number };

export function readMultiResponse(r: JuteReader, maxResults: number): WireOpResult[] {
  const out: WireOpResult[] = [];
  for (;;) {
    const type = r.int();
    const done = r.boolean();
    r.int(); // err of the header, repeated in the error result's body
    if (done) return out;
    if (out.length >= maxResults) throw new JuteError(`multi answer has more than the ${maxResults} ops sent`);
    switch (type) {
      case OpCode.check:
      case OpCode.delete:
        out.push({ type, err: 0 });
        break;
      case OpCode.create:
        out.push({ type, err: 0, path: r.string() });
        break;
      case OpCode.create2:
        out.push({ type: OpCode.create, err: 0, path: r.string() });
        readStat(r);
        break;
      case OpCode.setData:
        out.push({ type, err: 0, stat: readStat(r) });
        break;
      case OpCode.error:
        out.push({ type, err: r.int() });
        break;
      default:
        throw new JuteError(`unknown op type ${type} in a multi answer`);
    }
  }
}
