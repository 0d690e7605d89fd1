/**
 * The ZooKeeper client Samsa's cluster mode uses: a promise API over a session (session.ts: reconnects, watches,
 * expiry, renewal) with one of the servers of a connect string, with an optional chroot: create (persistent,
 * ephemeral, sequential), get/exists/children with one-shot watches, set and delete with an expected version
 * (compare-and-set), atomic multi (check/create/set/delete) that names the op that failed, mkdirp, sync.
 * Written for Samsa on ZooKeeper's documented wire protocol (protocol.ts) rather than taken from npm: see
 * bench/zookeeper/README.md for the measurements behind that choice.
 */
import { ZkErrorCode, ZooKeeperError, zkErrorName } from './errors.js';
import { fromServerPath, toServerPath, validatePath } from './paths.js';
import {
  ANY_VERSION,
  CreateFlags,
  OpCode,
  readMultiResponse,
  readStat,
  type Stat,
  type WireOp,
  writeCreate,
  writeMulti,
  writePathVersion,
  writePathWatch,
  writeSetData,
} from './protocol.js';
import { type ZkClientOptions, ZkSession } from './session.js';
import type { Watcher } from './watches.js';

export { ANY_VERSION, type Stat } from './protocol.js';
export {
  DEFAULT_MAX_BUFFER_BYTES,
  DEFAULT_SESSION_TIMEOUT_MS,
  type ZkClientEvents,
  type ZkClientOptions,
  type ZkState,
} from './session.js';
export type { WatchEvent, WatchEventType, Watcher } from './watches.js';

/** Data of a znode: bytes, or a string stored as UTF-8. */
export type ZkData = Uint8Array | string;

export interface CreateOptions {
  /** Deleted when the session that created it ends. */
  ephemeral?: boolean;
  /** ZooKeeper appends a 10-digit counter of the parent to the name; the full path is returned. */
  sequential?: boolean;
}

export interface WatchOptions {
  /** A one-shot watch, called once with the event (or 'sessionExpired'/'closed' if the session ends first). */
  watch?: Watcher;
}

export type ZkOp =
  | { op: 'check'; path: string; version: number }
  | ({ op: 'create'; path: string; data?: ZkData } & CreateOptions)
  | { op: 'set'; path: string; data: ZkData; version?: number }
  | { op: 'delete'; path: string; version?: number };

export type ZkOpResult =
  | { op: 'check' }
  | { op: 'create'; path: string }
  | { op: 'set'; stat: Stat }
  | { op: 'delete' };

const EMPTY = Buffer.alloc(0);

function bytes(data: ZkData | undefined): Uint8Array {
  if (data === undefined) return EMPTY;
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

export class ZkClient extends ZkSession {
  /**
   * Opens a session with one of the servers of `connectString` (`host:port[,host:port...][/chroot]`). Rejects
   * with CONNECTION_LOSS when no server gave a session within `connectionTimeoutMs`, or with NO_NODE when the
   * chroot does not exist and `createChroot` is not set.
   */
  static async connect(connectString: string, options: ZkClientOptions = {}): Promise<ZkClient> {
    const client = new ZkClient(connectString, options);
    try {
      await client.establish();
      if (client.chroot !== '') {
        const found = await client.call(
          OpCode.exists,
          (w) => writePathWatch(w, client.chroot, false),
          (err) => err,
        );
        if (found === ZkErrorCode.NO_NODE) {
          if (!options.createChroot) {
            throw new ZooKeeperError(ZkErrorCode.NO_NODE, '/', `chroot ${client.chroot} does not exist`);
          }
          await client.mkdirpServer(client.chroot);
        }
      }
    } catch (e) {
      await client.close();
      throw e;
    }
    return client;
  }

  /** Creates a znode (OPEN_ACL_UNSAFE) and returns its path (with the counter for a sequential one). */
  async create(path: string, data?: ZkData, options: CreateOptions = {}): Promise<string> {
    validatePath(path, options.sequential === true);
    const sp = toServerPath(this.chroot, path);
    const flags = (options.ephemeral ? CreateFlags.ephemeral : 0) | (options.sequential ? CreateFlags.sequential : 0);
    const body = bytes(data);
    return this.call(
      OpCode.create,
      (w) => writeCreate(w, sp, body, flags),
      (err, r) => {
        if (err !== 0) throw this.error(err, path);
        const created = r.string();
        return fromServerPath(this.chroot, created) ?? created;
      },
    );
  }

  /** The znode's data and stat, or null when it does not exist (no watch is set then: use `exists`). */
  async get(path: string, options: WatchOptions = {}): Promise<{ data: Buffer; stat: Stat } | null> {
    validatePath(path);
    const sp = toServerPath(this.chroot, path);
    const watch = options.watch;
    return this.call(
      OpCode.getData,
      (w) => writePathWatch(w, sp, watch !== undefined),
      (err, r) => {
        if (err === ZkErrorCode.NO_NODE) return null;
        if (err !== 0) throw this.error(err, path);
        const data = r.buffer();
        const stat = readStat(r);
        if (watch !== undefined) this.watches.add('data', sp, watch);
        return { data, stat };
      },
    );
  }

  /** Sets the data if the znode's version is `version` (ANY_VERSION: whatever it is); returns the new stat. */
  async set(path: string, data: ZkData, version: number = ANY_VERSION): Promise<Stat> {
    validatePath(path);
    const sp = toServerPath(this.chroot, path);
    const body = bytes(data);
    return this.call(
      OpCode.setData,
      (w) => writeSetData(w, sp, body, version),
      (err, r) => {
        if (err !== 0) throw this.error(err, path);
        return readStat(r);
      },
    );
  }

  /** Deletes the znode if its version is `version` (ANY_VERSION: whatever it is) and it has no children. */
  async delete(path: string, version: number = ANY_VERSION): Promise<void> {
    validatePath(path);
    const sp = toServerPath(this.chroot, path);
    return this.call(
      OpCode.delete,
      (w) => writePathVersion(w, sp, version),
      (err) => {
        if (err !== 0) throw this.error(err, path);
      },
    );
  }

  /** The znode's stat or null; the watch fires on creation if it does not exist, else on change or deletion. */
  async exists(path: string, options: WatchOptions = {}): Promise<Stat | null> {
    validatePath(path);
    const sp = toServerPath(this.chroot, path);
    const watch = options.watch;
    return this.call(
      OpCode.exists,
      (w) => writePathWatch(w, sp, watch !== undefined),
      (err, r) => {
        if (err === ZkErrorCode.NO_NODE) {
          if (watch !== undefined) this.watches.add('exist', sp, watch);
          return null;
        }
        if (err !== 0) throw this.error(err, path);
        const stat = readStat(r);
        if (watch !== undefined) this.watches.add('data', sp, watch);
        return stat;
      },
    );
  }

  /** The names of the znode's children, sorted; NO_NODE when it does not exist. */
  async children(path: string, options: WatchOptions = {}): Promise<string[]> {
    validatePath(path);
    const sp = toServerPath(this.chroot, path);
    const watch = options.watch;
    return this.call(
      OpCode.getChildren2,
      (w) => writePathWatch(w, sp, watch !== undefined),
      (err, r) => {
        if (err !== 0) throw this.error(err, path);
        const names = r.strings();
        readStat(r);
        if (watch !== undefined) this.watches.add('child', sp, watch);
        return names.sort();
      },
    );
  }

  /**
   * Applies all operations or none. On failure rejects with the error of the first operation that failed, its
   * index in `failedOp` and its path in `path`.
   */
  async multi(ops: readonly ZkOp[]): Promise<ZkOpResult[]> {
    const wire: WireOp[] = ops.map((op) => {
      validatePath(op.path, op.op === 'create' && op.sequential === true);
      const path = toServerPath(this.chroot, op.path);
      switch (op.op) {
        case 'check':
          return { type: OpCode.check, path, version: op.version };
        case 'create':
          return {
            type: OpCode.create,
            path,
            data: bytes(op.data),
            flags: (op.ephemeral ? CreateFlags.ephemeral : 0) | (op.sequential ? CreateFlags.sequential : 0),
          };
        case 'set':
          return { type: OpCode.setData, path, data: bytes(op.data), version: op.version ?? ANY_VERSION };
        default:
          return { type: OpCode.delete, path, version: op.version ?? ANY_VERSION };
      }
    });
    return this.call(
      OpCode.multi,
      (w) => writeMulti(w, wire),
      (err, r) => {
        if (err !== 0) throw this.error(err, undefined);
        const results = readMultiResponse(r, ops.length);
        const failed = results.findIndex(
          (x) => x.type === OpCode.error && x.err !== 0 && x.err !== ZkErrorCode.RUNTIME_INCONSISTENCY,
        );
        const firstError = failed >= 0 ? failed : results.findIndex((x) => x.type === OpCode.error && x.err !== 0);
        if (firstError >= 0) {
          const code = (results[firstError] as { err: number }).err;
          const op = ops[firstError]!;
          throw new ZooKeeperError(
            code,
            op.path,
            `multi failed at op ${firstError} (${op.op} ${op.path}): ${zkErrorName(code)}`,
            firstError,
          );
        }
        if (results.length !== ops.length) {
          throw new ZooKeeperError(
            ZkErrorCode.MARSHALLING_ERROR,
            undefined,
            `multi answered ${results.length} of ${ops.length} ops`,
          );
        }
        return results.map((x, i): ZkOpResult => {
          switch (x.type) {
            case OpCode.create:
              return { op: 'create', path: fromServerPath(this.chroot, x.path) ?? x.path };
            case OpCode.setData:
              return { op: 'set', stat: x.stat };
            default:
              return { op: ops[i]!.op === 'delete' ? 'delete' : 'check' } as ZkOpResult;
          }
        });
      },
    );
  }

  /** Creates the znode and its missing ancestors (persistent, `data` on the last one); fine if they exist. */
  async mkdirp(path: string, data?: ZkData): Promise<void> {
    validatePath(path);
    if (path === '/') return;
    await this.mkdirpServer(toServerPath(this.chroot, path), bytes(data), path);
  }

  /** Waits until the server this client is connected to has caught up with the leader (ZooKeeper's sync). */
  async sync(path = '/'): Promise<void> {
    validatePath(path);
    const sp = toServerPath(this.chroot, path);
    return this.call(
      OpCode.sync,
      (w) => w.string(sp),
      (err) => {
        if (err !== 0) throw this.error(err, path);
      },
    );
  }
}
