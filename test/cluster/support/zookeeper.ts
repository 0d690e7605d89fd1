/**
 * A real standalone ZooKeeper for the cluster tests: Debian's `zookeeper` package (3.8) run straight from its jars,
 * found, configured and probed by src/metadata/zookeeper/local-server.ts (which `samsa dev-cluster` uses too), with
 * zoo.cfg in a temporary directory and a free loopback client port.
 *
 * `startZooKeeper()` resolves once `srvr` answers with a version. The server can be stopped (SIGTERM, bounded, then
 * SIGKILL) or killed (SIGKILL), started again on the same port and data directory, and frozen/thawed with
 * SIGSTOP/SIGCONT. `close()` kills it and removes the directory.
 *
 * Settings chosen for tests: tickTime 200 ms, so session expiry is checked five times a second and sessions as
 * short as 400 ms are allowed (ZooKeeper clamps a client's session timeout to [minSessionTimeout,
 * maxSessionTimeout]); the rest (no fsync, small preallocation, no connection limit, admin server off, a fast
 * starting JVM) is local-server.ts's.
 *
 * A watchdog shell holds a pipe from this process and SIGKILLs the JVM when the pipe closes, so a test process
 * that dies (a timeout, a crash, SIGKILL) never leaves a ZooKeeper running, nor its temporary directory.
 *
 * `ZOOKEEPER_CLASSPATH` or `ZOOKEEPER_HOME` point at another ZooKeeper (e.g. an Apache tarball).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findZooKeeper,
  freePort,
  fourLetterWord as probe,
  waitUntilServing,
  zooCfg,
  zookeeperJvmArgs,
  zookeeperMissing,
} from '../../../src/metadata/zookeeper/local-server.js';

export { zookeeperMissing };

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const HOST = '127.0.0.1';
/** How much of the server's stderr (WARN and above) is kept for error messages. */
const STDERR_KEEP = 16_384;

export interface ZooKeeperServerOptions {
  /** Fixed client port; default: a free one. */
  port?: number;
  /** Reuse a directory (it holds zoo.cfg and data/); default: a new temporary one, removed by close(). */
  dir?: string;
  tickTimeMs?: number;
  minSessionTimeoutMs?: number;
  maxSessionTimeoutMs?: number;
}

export interface ZooKeeperServer {
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:port`. */
  readonly connectString: string;
  /** Holds zoo.cfg and the data directory. */
  readonly dir: string;
  /** The JVM's pid while it runs. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** SIGTERM and wait; SIGKILL after 5 s. A frozen server is thawed first so that it can shut down. */
  stop(): Promise<void>;
  /** SIGKILL and wait (a crash). */
  kill(): Promise<void>;
  /** Starts the stopped server again on the same port and data; resolves when it serves. */
  start(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets open and answers nothing, as in a long GC pause. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** What the server logged (WARN and above) since it last started, the last 16 KiB. */
  readonly log: string;
  /** The `srvr` four-letter word's answer. */
  srvr(): Promise<string>;
  /** Kills the server and removes its directory if this helper created it. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The `skip` option for a test or suite that needs ZooKeeper: skipped with the reason outside CI, run (and failed
 * by startZooKeeper) under CI, which installs it.
 */
export function skipWithoutZooKeeper(): string | false {
  const missing = zookeeperMissing();
  if (missing === undefined || process.env.CI) return false;
  return `${missing}; not under CI, so skipping`;
}

/** Sends a four-letter word to the test server's loopback port and returns the answer (bounded in time). */
export function fourLetterWord(port: number, word: string, timeoutMs?: number): Promise<string> {
  return probe(HOST, port, word, timeoutMs);
}

export async function startZooKeeper(options: ZooKeeperServerOptions = {}): Promise<ZooKeeperServer> {
  const install = findZooKeeper();
  if ('missing' in install) throw new Error(install.missing);
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'samsa-zk-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const cfgPath = join(dir, 'zoo.cfg');

  let port = options.port ?? 0;
  let child: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stderr = '';
  let frozen = false;

  const alive = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;

  const launch = (): void => {
    writeFileSync(
      cfgPath,
      zooCfg({
        dataDir,
        host: HOST,
        port,
        ...(options.tickTimeMs === undefined ? {} : { tickTimeMs: options.tickTimeMs }),
        ...(options.minSessionTimeoutMs === undefined ? {} : { minSessionTimeoutMs: options.minSessionTimeoutMs }),
        ...(options.maxSessionTimeoutMs === undefined ? {} : { maxSessionTimeoutMs: options.maxSessionTimeoutMs }),
      }),
    );
    stderr = '';
    frozen = false;
    const jvm = spawn(install.java, zookeeperJvmArgs(install.classpath, cfgPath), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = jvm;
    exited = new Promise((resolve) => jvm.once('exit', () => resolve()));
    jvm.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-STDERR_KEEP);
    });
    // The watchdog's stdin is a pipe from us: when this process dies, `read` returns, the JVM is killed and the
    // directory this helper made is removed (paths go as arguments, never into the script).
    const script = 'read _ ; kill -9 "$1" 2>/dev/null; [ -n "$2" ] && sleep 0.2 && rm -rf -- "$2"';
    const dog = spawn('sh', ['-c', script, 'zk-watchdog', String(jvm.pid), ownDir ? dir : ''], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    dog.on('error', () => {});
    dog.unref();
    (dog.stdin as net.Socket).unref();
    watchdog = dog;
  };

  const dismissWatchdog = (): void => {
    // Killed (not released through its pipe) so that it cannot kill a later process that reuses the JVM's pid.
    watchdog?.kill('SIGKILL');
    watchdog = undefined;
  };

  const waitForServer = (): Promise<void> =>
    waitUntilServing({
      host: HOST,
      port,
      timeoutMs: START_TIMEOUT_MS,
      failed: () => (alive() ? undefined : `ZooKeeper exited (${child?.exitCode ?? child?.signalCode}) on start`),
    }).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}:\n${stderr}`);
    });

  const kill = async (): Promise<void> => {
    dismissWatchdog();
    if (alive()) child!.kill('SIGKILL');
    await exited;
  };

  const start = async (): Promise<void> => {
    if (alive()) throw new Error('ZooKeeper is already running');
    // A port picked here can be taken by someone else before the JVM binds it: then pick another (not on restart,
    // where clients expect the same port).
    const pickPort = port === 0;
    for (let attempt = 1; ; attempt++) {
      if (pickPort) port = await freePort(HOST);
      launch();
      try {
        await waitForServer();
        return;
      } catch (e) {
        await kill();
        if (!pickPort || attempt >= 3 || !/BindException|Address already in use/.test(stderr)) throw e;
      }
    }
  };

  const stop = async (): Promise<void> => {
    dismissWatchdog();
    if (!alive()) return;
    if (frozen) child!.kill('SIGCONT');
    child!.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  await start();
  const server: ZooKeeperServer = {
    host: HOST,
    get port() {
      return port;
    },
    get connectString() {
      return `${HOST}:${port}`;
    },
    dir,
    get pid() {
      return alive() ? child!.pid : undefined;
    },
    get running() {
      return alive();
    },
    get log() {
      return stderr;
    },
    stop,
    kill,
    start,
    freeze() {
      if (!alive()) throw new Error('ZooKeeper is not running');
      child!.kill('SIGSTOP');
      frozen = true;
    },
    thaw() {
      if (!alive()) throw new Error('ZooKeeper is not running');
      child!.kill('SIGCONT');
      frozen = false;
    },
    srvr: () => probe(HOST, port, 'srvr'),
    async close() {
      await kill();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
  return server;
}
