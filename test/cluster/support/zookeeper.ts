/**
 * A real standalone ZooKeeper for the cluster tests: Debian's `zookeeper` package (3.8) run straight from its jars
 * (`java -cp zookeeper.jar:slf4j-simple.jar org.apache.zookeeper.server.ZooKeeperServerMain zoo.cfg`), with a
 * generated zoo.cfg in a temporary directory, a free loopback client port, the admin server off and only the
 * `srvr`/`ruok`/`mntr`/`cons`/`stat` four-letter words enabled.
 *
 * `startZooKeeper()` resolves once `srvr` answers with a version (ZooKeeper answers `ruok` with `imok` before it
 * has loaded its database, so `ruok` is not a readiness probe; and a four-letter word sent in that window can leave
 * the socket open because of a NullPointerException in 3.8's close path, hence the per-probe timeout). The
 * server can be stopped (SIGTERM, bounded, then SIGKILL) or killed (SIGKILL), started again on the same port and
 * data directory, and frozen/thawed with SIGSTOP/SIGCONT. `close()` kills it and removes the directory.
 *
 * Settings chosen for tests: tickTime 200 ms, so session expiry is checked five times a second and sessions as
 * short as 400 ms are allowed (ZooKeeper clamps a client's session timeout to [minSessionTimeout,
 * maxSessionTimeout]); no fsync (`forceSync=no`: data still reaches the page cache, so a SIGKILL restart keeps
 * it); 4 MiB transaction-log preallocation instead of 64 MiB; no per-address connection limit. The JVM runs with
 * C1 only and the serial collector: it is ready in about half a second and stays under 100 MB.
 *
 * A watchdog shell holds a pipe from this process and SIGKILLs the JVM when the pipe closes, so a test process
 * that dies (a timeout, a crash, SIGKILL) never leaves a ZooKeeper running, nor its temporary directory.
 *
 * `ZOOKEEPER_CLASSPATH` overrides the classpath (e.g. `/opt/zookeeper/lib/*` for an Apache tarball).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const DEBIAN_CLASSPATH = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-simple.jar'];
const MAIN_CLASS = 'org.apache.zookeeper.server.ZooKeeperServerMain';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const PROBE_TIMEOUT_MS = 500;
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

/** Why ZooKeeper cannot run here, or undefined when it can. */
export function zookeeperMissing(): string | undefined {
  if (process.env.ZOOKEEPER_CLASSPATH === undefined) {
    const absent = DEBIAN_CLASSPATH.filter((p) => !existsSync(p));
    if (absent.length > 0) return `ZooKeeper is not installed (no ${absent.join(', ')}; apt-get install zookeeper)`;
  }
  const java = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 10_000 });
  if (java.error !== undefined || java.status !== 0) return `java is not available: ${java.error?.message ?? ''}`;
  return undefined;
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

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Sends a four-letter word and returns everything the server wrote before closing (bounded in time). */
export function fourLetterWord(port: number, word: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${word}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.end(word));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

function zooCfg(dataDir: string, port: number, o: ZooKeeperServerOptions): string {
  const tick = o.tickTimeMs ?? 200;
  return [
    `tickTime=${tick}`,
    `dataDir=${dataDir}`,
    `clientPort=${port}`,
    `clientPortAddress=${HOST}`,
    `minSessionTimeout=${o.minSessionTimeoutMs ?? 2 * tick}`,
    `maxSessionTimeout=${o.maxSessionTimeoutMs ?? 60_000}`,
    'maxClientCnxns=0',
    'admin.enableServer=false',
    '4lw.commands.whitelist=srvr,ruok,mntr,cons,stat',
    'forceSync=no',
    'preAllocSize=4096',
    'autopurge.purgeInterval=0',
    '',
  ].join('\n');
}

export async function startZooKeeper(options: ZooKeeperServerOptions = {}): Promise<ZooKeeperServer> {
  const missing = zookeeperMissing();
  if (missing !== undefined) throw new Error(missing);
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'samsa-zk-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const cfgPath = join(dir, 'zoo.cfg');
  const classpath = process.env.ZOOKEEPER_CLASSPATH ?? DEBIAN_CLASSPATH.join(':');

  let port = options.port ?? 0;
  let child: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stderr = '';
  let frozen = false;

  const alive = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;

  const launch = (): void => {
    writeFileSync(cfgPath, zooCfg(dataDir, port, options));
    stderr = '';
    frozen = false;
    const jvm = spawn(
      'java',
      [
        '-XX:TieredStopAtLevel=1',
        '-XX:+UseSerialGC',
        '-Xms32m',
        '-Xmx256m',
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-cp',
        classpath,
        MAIN_CLASS,
        cfgPath,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
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

  const waitUntilServing = async (): Promise<void> => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!alive()) throw new Error(`ZooKeeper exited (${child?.exitCode ?? child?.signalCode}) on start:\n${stderr}`);
      try {
        if ((await fourLetterWord(port, 'srvr')).startsWith('Zookeeper version')) return;
      } catch {
        // not listening yet, or the probe hit the window before the database is loaded
      }
      await sleep(25);
    }
    throw new Error(`ZooKeeper did not serve on ${HOST}:${port} within ${START_TIMEOUT_MS} ms:\n${stderr}`);
  };

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
      if (pickPort) port = await freePort();
      launch();
      try {
        await waitUntilServing();
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
    srvr: () => fourLetterWord(port, 'srvr'),
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
