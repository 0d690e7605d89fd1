/**
 * ZooKeeper's error codes (KeeperException.Code: the numbers on the wire) and the one error type of the ZooKeeper
 * client, `ZooKeeperError`, carrying ZooKeeper's code and name and, where there is one, the path (relative to the
 * chroot) and, for a failed `multi`, the index of the operation that failed.
 *
 * Which errors mean what to a caller:
 * - NO_NODE, NODE_EXISTS, BAD_VERSION, NOT_EMPTY: answers about the tree; a compare-and-set that lost gets
 *   BAD_VERSION (or NO_NODE when the znode went away);
 * - CONNECTION_LOSS: the connection dropped while the request was in flight. It may or may not have been applied;
 *   the session lives on and the client is reconnecting. Re-read before retrying a write;
 * - SESSION_EXPIRED: the session is over (the server expired it, it was expired locally after no server answered
 *   for the session timeout, or the client was closed): its ephemeral znodes are gone or going, its watches are
 *   void; the owner opens a new session and re-registers.
 */

export const ZkErrorCode = {
  OK: 0,
  SYSTEM_ERROR: -1,
  RUNTIME_INCONSISTENCY: -2,
  DATA_INCONSISTENCY: -3,
  CONNECTION_LOSS: -4,
  MARSHALLING_ERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATION_TIMEOUT: -7,
  BAD_ARGUMENTS: -8,
  UNKNOWN_SESSION: -12,
  NEW_CONFIG_NO_QUORUM: -13,
  RECONFIG_IN_PROGRESS: -14,
  API_ERROR: -100,
  NO_NODE: -101,
  NO_AUTH: -102,
  BAD_VERSION: -103,
  NO_CHILDREN_FOR_EPHEMERALS: -108,
  NODE_EXISTS: -110,
  NOT_EMPTY: -111,
  SESSION_EXPIRED: -112,
  INVALID_CALLBACK: -113,
  INVALID_ACL: -114,
  AUTH_FAILED: -115,
  SESSION_MOVED: -118,
  NOT_READ_ONLY: -119,
  EPHEMERAL_ON_LOCAL_SESSION: -120,
  NO_WATCHER: -121,
  REQUEST_TIMEOUT: -122,
  RECONFIG_DISABLED: -123,
  SESSION_CLOSED_REQUIRE_SASL_AUTH: -124,
  QUOTA_EXCEEDED: -125,
  THROTTLED_OP: -127,
} as const;

export type ZkErrorName = keyof typeof ZkErrorCode;

const NAMES = new Map<number, ZkErrorName>(
  Object.entries(ZkErrorCode).map(([name, code]) => [code, name as ZkErrorName]),
);

/** ZooKeeper's name for a code ('UNKNOWN(<n>)' for a code this client does not know). */
export function zkErrorName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN(${code})`;
}

export class ZooKeeperError extends Error {
  override readonly name = 'ZooKeeperError';
  /** ZooKeeper's name of the code, e.g. 'NO_NODE'. */
  readonly codeName: string;

  constructor(
    readonly code: number,
    /** The path the failed operation named (relative to the chroot), when there is one. */
    readonly path: string | undefined = undefined,
    message?: string,
    /** For a failed multi: the index of the operation that failed. */
    readonly failedOp: number | undefined = undefined,
    options?: ErrorOptions,
  ) {
    const codeName = zkErrorName(code);
    super(message ?? (path === undefined ? codeName : `${codeName}: ${path}`), options);
    this.codeName = codeName;
  }

  is(name: ZkErrorName): boolean {
    return this.code === ZkErrorCode[name];
  }
}

/** Whether `e` is a ZooKeeperError with the code named `name`. */
export function isZkError(e: unknown, name: ZkErrorName): e is ZooKeeperError {
  return e instanceof ZooKeeperError && e.code === ZkErrorCode[name];
}
