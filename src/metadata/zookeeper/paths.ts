/**
 * Connect strings and znode paths. A connect string is Kafka's `zookeeper.connect`: comma-separated `host:port`
 * pairs (IPv6 hosts in brackets, port 2181 when left out) with an optional chroot after the last one
 * (`zk1:2181,zk2:2181/samsa`). With a chroot every path the caller names is relative to it: `/brokers` is
 * `/samsa/brokers` on the server, and paths coming back (created sequential names, watch events) have the chroot
 * removed.
 */
import { ZkErrorCode, ZooKeeperError } from './errors.js';

export interface ZkServerAddress {
  host: string;
  port: number;
}

export interface ParsedConnectString {
  servers: ZkServerAddress[];
  /** '' for none, else '/a/b' (no trailing slash). */
  chroot: string;
}

export const DEFAULT_ZK_PORT = 2181;

export function parseConnectString(connect: string): ParsedConnectString {
  const trimmed = connect.trim();
  const slash = trimmed.indexOf('/');
  const hosts = slash < 0 ? trimmed : trimmed.slice(0, slash);
  let chroot = slash < 0 ? '' : trimmed.slice(slash);
  if (chroot === '/') chroot = '';
  if (chroot !== '') validatePath(chroot);
  const servers: ZkServerAddress[] = [];
  for (const part of hosts.split(',')) {
    const s = part.trim();
    if (s === '') continue;
    let host: string;
    let port = DEFAULT_ZK_PORT;
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
    if (bracket !== null) {
      host = bracket[1]!;
      if (bracket[2] !== undefined) port = Number(bracket[2]);
    } else {
      const colon = s.lastIndexOf(':');
      host = colon < 0 ? s : s.slice(0, colon);
      if (colon >= 0) port = Number(s.slice(colon + 1));
    }
    if (host === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new Error(`invalid ZooKeeper server '${s}' in connect string '${connect}'`);
    }
    servers.push({ host, port });
  }
  if (servers.length === 0) throw new Error(`no ZooKeeper server in connect string '${connect}'`);
  return { servers, chroot };
}

/**
 * Rejects what ZooKeeper rejects (PathUtils.validatePath), with BAD_ARGUMENTS before anything is sent: not
 * absolute, empty or `.`/`..` segments, a trailing slash (allowed for a sequential create, where the server
 * appends the counter), NUL and the other control characters ZooKeeper refuses.
 */
export function validatePath(path: string, sequential = false): void {
  const fail = (why: string): never => {
    throw new ZooKeeperError(ZkErrorCode.BAD_ARGUMENTS, path, `invalid path '${path}': ${why}`);
  };
  if (typeof path !== 'string' || path.length === 0) fail('empty');
  if (path[0] !== '/') fail('not absolute');
  if (path.length === 1) return;
  const body = path.endsWith('/') && sequential ? path.slice(0, -1) : path;
  if (body.endsWith('/')) fail('trailing slash');
  const segments = body.slice(1).split('/');
  for (const seg of segments) {
    if (seg === '') fail('empty segment');
    if (seg === '.' || seg === '..') fail('relative segment');
  }
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || c >= 0xfff0) {
      fail(`character U+${c.toString(16).padStart(4, '0')} at ${i}`);
    }
  }
}

/** The server's path for a caller's path. */
export function toServerPath(chroot: string, path: string): string {
  if (chroot === '') return path;
  return path === '/' ? chroot : chroot + path;
}

/** The caller's path for a server path, or undefined when it is outside the chroot. */
export function fromServerPath(chroot: string, serverPath: string): string | undefined {
  if (chroot === '') return serverPath;
  if (serverPath === chroot) return '/';
  if (serverPath.startsWith(chroot) && serverPath[chroot.length] === '/') return serverPath.slice(chroot.length);
  return undefined;
}

/** The parent of a path ('/' for a top-level znode). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
