/**
 * Running a standalone ZooKeeper on this machine, for `samsa dev-cluster` and the cluster tests' helper
 * (test/cluster/support/zookeeper.ts): where ZooKeeper and java are, the zoo.cfg to give it, the JVM command line,
 * and the readiness probe. Starting, stopping and supervising the process is the caller's business (the test helper
 * keeps it as a child with a watchdog; the dev cluster detaches it and records its pid).
 *
 * ZooKeeper is looked for, first found wins: `ZOOKEEPER_CLASSPATH` (a Java classpath, e.g. `/opt/zk/lib/*`);
 * `ZOOKEEPER_HOME` (an unpacked Apache ZooKeeper binary release: `lib/*` and `conf/`); Debian's and Ubuntu's
 * `zookeeper` package (`/usr/share/java/zookeeper.jar`, whose manifest names its other jars, with
 * `slf4j-simple.jar` for logging). java is `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` on the PATH.
 *
 * zoo.cfg is ZooKeeper's own properties format; the data directory holds ZooKeeper's snapshots and transaction
 * logs, which ZooKeeper itself recovers after a crash. The admin server (an HTTP server on port 8080 by default) is
 * off so that it cannot collide with anything, and only the `srvr`/`ruok`/`mntr`/`cons`/`stat` four-letter words
 * are enabled. No fsync (`forceSync=no`): data still reaches the page cache, so a killed server keeps it; only a
 * power loss can lose it, which does not matter for tests and development clusters. The JVM runs with C1 only and
 * the serial collector: it is ready in about half a second and stays under 100 MB.
 *
 * Readiness is `srvr` answering with a version: ZooKeeper answers `ruok` with `imok` before it has loaded its
 * database, and a four-letter word sent in that window can leave the socket open (a NullPointerException in 3.8's
 * close path), hence the per-probe timeout.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const DEBIAN_CLASSPATH: readonly string[] = [
  '/usr/share/java/zookeeper.jar',
  '/usr/share/java/slf4j-simple.jar',
];
export const ZOOKEEPER_MAIN_CLASS = 'org.apache.zookeeper.server.ZooKeeperServerMain';
const PROBE_TIMEOUT_MS = 500;

/** A ZooKeeper that can run here. */
export interface ZooKeeperInstall {
  /** The java executable. */
  java: string;
  classpath: string;
  /** Where the classpath came from, for messages. */
  source: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** ZooKeeper and java on this machine, or one line saying what is missing and what to install. */
export function findZooKeeper(env: Env = process.env): ZooKeeperInstall | { missing: string } {
  let classpath: string;
  let source: string;
  if (env.ZOOKEEPER_CLASSPATH !== undefined && env.ZOOKEEPER_CLASSPATH !== '') {
    classpath = env.ZOOKEEPER_CLASSPATH;
    source = 'ZOOKEEPER_CLASSPATH';
  } else if (env.ZOOKEEPER_HOME !== undefined && env.ZOOKEEPER_HOME !== '') {
    const home = env.ZOOKEEPER_HOME;
    if (!existsSync(join(home, 'lib'))) {
      return {
        missing: `ZOOKEEPER_HOME=${home} has no lib/ directory: point it at an unpacked Apache ZooKeeper binary release (apache-zookeeper-3.x-bin)`,
      };
    }
    classpath = [join(home, 'lib', '*'), ...(existsSync(join(home, 'conf')) ? [join(home, 'conf')] : [])].join(':');
    source = `ZOOKEEPER_HOME=${home}`;
  } else {
    const absent = DEBIAN_CLASSPATH.filter((p) => !existsSync(p));
    if (absent.length > 0) {
      return {
        missing: `ZooKeeper is not installed (no ${absent.join(', ')}): install it with \`apt-get install zookeeper\`, or set ZOOKEEPER_HOME to an Apache ZooKeeper directory (or ZOOKEEPER_CLASSPATH to its jars)`,
      };
    }
    classpath = DEBIAN_CLASSPATH.join(':');
    source = 'the zookeeper package';
  }
  const java = env.JAVA_HOME !== undefined && env.JAVA_HOME !== '' ? join(env.JAVA_HOME, 'bin', 'java') : 'java';
  const probe = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error !== undefined || probe.status !== 0) {
    const why = probe.error?.message ?? `exit status ${probe.status}`;
    return {
      missing: `java is not available (${java} -version: ${why}): install a Java runtime (\`apt-get install default-jre-headless\`) or set JAVA_HOME`,
    };
  }
  return { java, classpath, source };
}

/** Why ZooKeeper cannot run here, or undefined when it can. */
export function zookeeperMissing(env: Env = process.env): string | undefined {
  const found = findZooKeeper(env);
  return 'missing' in found ? found.missing : undefined;
}

export interface ZooCfgOptions {
  dataDir: string;
  host: string;
  port: number;
  /** Default 200 ms (tests: sessions as short as 400 ms, expiry checked five times a second). */
  tickTimeMs?: number;
  /** Default two ticks. */
  minSessionTimeoutMs?: number;
  /** Default 60 s. */
  maxSessionTimeoutMs?: number;
}

export function zooCfg(o: ZooCfgOptions): string {
  const tick = o.tickTimeMs ?? 200;
  return [
    `tickTime=${tick}`,
    `dataDir=${o.dataDir}`,
    `clientPort=${o.port}`,
    `clientPortAddress=${o.host}`,
    `minSessionTimeout=${o.minSessionTimeoutMs ?? 2 * tick}`,
    `maxSessionTimeout=${o.maxSessionTimeoutMs ?? 60_000}`,
    // No per-address limit: a cluster of brokers and tests all connect from one loopback address.
    'maxClientCnxns=0',
    'admin.enableServer=false',
    '4lw.commands.whitelist=srvr,ruok,mntr,cons,stat',
    'forceSync=no',
    // In KiB: 4 MiB of transaction log preallocated instead of 64 MiB.
    'preAllocSize=4096',
    'autopurge.purgeInterval=0',
    '',
  ].join('\n');
}

/**
 * The JVM's arguments to run ZooKeeper standalone on `cfgPath`. `logLevel` applies to the Debian package's
 * slf4j-simple logging (on stderr); a ZOOKEEPER_HOME release logs as its conf/ says.
 */
export function zookeeperJvmArgs(classpath: string, cfgPath: string, logLevel: 'warn' | 'info' = 'warn'): string[] {
  return [
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-Xms32m',
    '-Xmx256m',
    `-Dorg.slf4j.simpleLogger.defaultLogLevel=${logLevel}`,
    // Dates in the log lines.
    '-Dorg.slf4j.simpleLogger.showDateTime=true',
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
    '-cp',
    classpath,
    ZOOKEEPER_MAIN_CLASS,
    cfgPath,
  ];
}

/** Sends a four-letter word and returns everything the server wrote before closing (bounded in time). */
export function fourLetterWord(
  host: string,
  port: number,
  word: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${word}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.end(word));
    socket.on('data', (d: Buffer) => {
      // The answers are a few KiB; anything far larger is not ZooKeeper.
      size += d.length;
      if (size > 1 << 20) socket.destroy(new Error(`${word}: answer larger than 1 MiB`));
      else chunks.push(d);
    });
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

/**
 * Resolves once ZooKeeper serves on host:port. `failed` is asked before each probe and stops the wait with its
 * answer (e.g. "exited with status 1" and the log) when the process is gone.
 */
export async function waitUntilServing(o: {
  host: string;
  port: number;
  timeoutMs: number;
  failed: () => string | undefined;
}): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  while (Date.now() < deadline) {
    const failure = o.failed();
    if (failure !== undefined) throw new Error(failure);
    try {
      if ((await fourLetterWord(o.host, o.port, 'srvr')).startsWith('Zookeeper version')) return;
    } catch {
      // not listening yet, or the probe hit the window before the database is loaded
    }
    await sleep(25);
  }
  throw new Error(`ZooKeeper did not serve on ${o.host}:${o.port} within ${o.timeoutMs} ms`);
}

/** A port nobody listens on at the moment (it can be taken before it is used: callers retry on a bind failure). */
export async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether host:port can be listened on right now. */
export async function portFree(host: string, port: number): Promise<boolean> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
  } catch {
    return false;
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return true;
}
