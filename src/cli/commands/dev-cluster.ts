/**
 * `samsa dev-cluster up|down|status`: a real cluster on this machine in one command, for development and trying
 * things out. `up` starts a standalone ZooKeeper (found as src/metadata/zookeeper/local-server.ts says) and N
 * brokers (`samsa start --zookeeper`, node ids 1..N, loopback ports base..base+N-1), waits until every broker
 * describes the whole cluster with a controller, prints the bootstrap servers and returns; the processes run on,
 * detached (their own session, so a Ctrl-C in the terminal does not reach them), logging to files. `down` stops the
 * brokers cleanly (SIGTERM, up to 30 s, then SIGKILL), then ZooKeeper (10 s); `status` shows what runs.
 *
 * Layout of the directory (`--dir`, default ./samsa-dev-cluster):
 *   dev-cluster.json          the state file (below)
 *   zookeeper/zoo.cfg, zookeeper/data/, zookeeper/zookeeper.log
 *   broker-N/data/            broker N's log.dirs
 *   broker-N/broker.log       its output
 * Data stays after `down`, so the next `up` (same --brokers) finds its topics again; delete the directory to
 * start afresh.
 *
 * The state file, format version 1, JSON: {"version":1,"startedAt","zookeeper":{"pid","port","cfg","log"},
 * "brokers":[{"id","pid","port","dataDir","log"}]}. It is written (temp file, rename) right after each process
 * starts, so a crash of `up` half way leaves a file that `down` can use to stop what was started. A process counts
 * as running only while its pid has our marker in its command line (the zoo.cfg path; the broker's data dir), so a
 * pid reused after a reboot is never signalled; a state file whose processes are all gone is stale and `up`
 * replaces it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { BrokerConnection } from '../../client/network/connection.js';
import {
  findZooKeeper,
  fourLetterWord,
  portFree,
  waitUntilServing,
  zooCfg,
  zookeeperJvmArgs,
} from '../../metadata/zookeeper/local-server.js';
import type { MetadataResponse } from '../../protocol/index.js';
import { CommandError, describeFailure, UsageError } from '../support/errors.js';
import { ExitCode } from '../support/exit-codes.js';
import { type OutputFormat, outputFormat, print, renderTable } from '../support/output.js';
import { isRunning, type OwnProcess, type StopOutcome, stopProcesses } from '../support/processes.js';

/** dist/src/cli/commands -> dist/src/cli/main.js: the brokers run the same `samsa` as this command. */
const SAMSA_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const HOST = '127.0.0.1';
const STATE_FILE = 'dev-cluster.json';
const STATE_VERSION = 1;
const MAX_BROKERS = 32;
const ZOOKEEPER_START_MS = 30_000;
const CLUSTER_READY_MS = 60_000;
const BROKER_STOP_MS = 30_000;
const ZOOKEEPER_STOP_MS = 10_000;
/** How much of a log a failure message shows. */
const LOG_TAIL = 2_000;

interface ZooKeeperState {
  pid: number;
  port: number;
  cfg: string;
  log: string;
}

interface BrokerState {
  id: number;
  pid: number;
  port: number;
  dataDir: string;
  log: string;
}

interface ClusterState {
  version: number;
  startedAt: string;
  zookeeper: ZooKeeperState | null;
  brokers: BrokerState[];
}

const zkProcess = (z: ZooKeeperState): OwnProcess => ({ pid: z.pid, marker: z.cfg });
const brokerProcess = (b: BrokerState): OwnProcess => ({ pid: b.pid, marker: b.dataDir });

function statePath(dir: string): string {
  return resolve(dir, STATE_FILE);
}

function writeState(dir: string, state: ClusterState): void {
  const path = statePath(dir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** The state file's content, null when there is none; CommandError when it cannot be read as version 1. */
function readState(dir: string): ClusterState | null {
  const path = statePath(dir);
  if (!existsSync(path)) return null;
  const damaged = (why: string) =>
    new CommandError(`${path} is damaged (${why}): stop the processes by hand and delete the file`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw damaged((e as Error).message);
  }
  const d = doc as Partial<ClusterState>;
  if (d === null || typeof d !== 'object' || d.version !== STATE_VERSION) throw damaged('not format version 1');
  const z = d.zookeeper;
  if (z !== null && (typeof z !== 'object' || !isInt(z.pid) || !isInt(z.port) || typeof z.cfg !== 'string')) {
    throw damaged('bad zookeeper entry');
  }
  if (!Array.isArray(d.brokers)) throw damaged('no broker list');
  for (const b of d.brokers as Partial<BrokerState>[]) {
    if (b === null || typeof b !== 'object' || !isInt(b.id) || !isInt(b.pid) || !isInt(b.port)) {
      throw damaged('bad broker entry');
    }
    if (typeof b.dataDir !== 'string') throw damaged('bad broker entry');
  }
  return d as ClusterState;
}

function anyRunning(state: ClusterState): boolean {
  return (
    (state.zookeeper !== null && isRunning(zkProcess(state.zookeeper))) ||
    state.brokers.some((b) => isRunning(brokerProcess(b)))
  );
}

function tail(path: string): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.length > LOG_TAIL ? `...${text.slice(-LOG_TAIL)}` : text;
  } catch {
    return '';
  }
}

function intOption(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

/** Starts a detached process with its output appended to `log`. */
function spawnDetached(command: string, args: string[], log: string): ChildProcess {
  const fd = openSync(log, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd] });
    child.unref();
    // A failed spawn (e.g. no such executable) is reported through the exit checks.
    child.on('error', () => {});
    return child;
  } finally {
    closeSync(fd);
  }
}

function exitedHow(child: ChildProcess): string | undefined {
  if (child.exitCode !== null) return `exited with status ${child.exitCode}`;
  if (child.signalCode !== null) return `was killed by ${child.signalCode}`;
  if (child.pid === undefined) return 'could not be started';
  return undefined;
}

async function metadataOf(port: number, timeoutMs: number): Promise<MetadataResponse> {
  const conn = await BrokerConnection.connect({
    host: HOST,
    port,
    clientId: 'samsa-dev-cluster',
    connectTimeoutMs: timeoutMs,
    requestTimeoutMs: timeoutMs,
  });
  try {
    return await conn.send<MetadataResponse>(3, 12, {
      topics: [],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
  } finally {
    conn.close();
  }
}

interface UpOptions {
  brokers: string;
  dir: string;
  zookeeperPort: string;
  basePort: string;
  output: string;
}

async function up(opts: UpOptions): Promise<void> {
  const count = intOption('brokers', opts.brokers, 1, MAX_BROKERS);
  const basePort = intOption('base-port', opts.basePort, 1, 65535 - count + 1);
  const zkPort = intOption('zookeeper-port', opts.zookeeperPort, 1, 65535);
  const output = outputFormat(opts.output);
  const dir = resolve(opts.dir);
  const brokerPorts = Array.from({ length: count }, (_, i) => basePort + i);
  if (brokerPorts.includes(zkPort)) {
    throw new UsageError(`--zookeeper-port ${zkPort} is one of the broker ports ${basePort}..${basePort + count - 1}`);
  }

  const previous = readState(dir);
  if (previous !== null && anyRunning(previous)) {
    throw new CommandError(
      `a dev cluster is already running in ${dir}: \`samsa dev-cluster status --dir ${opts.dir}\` shows it, \`samsa dev-cluster down --dir ${opts.dir}\` stops it`,
    );
  }
  const install = findZooKeeper();
  if ('missing' in install) throw new CommandError(`cannot start ZooKeeper: ${install.missing}`);
  if (!(await portFree(HOST, zkPort))) {
    throw new CommandError(`port ${zkPort} is in use (wanted for ZooKeeper): choose another with --zookeeper-port`);
  }
  for (const port of brokerPorts) {
    if (!(await portFree(HOST, port))) {
      throw new CommandError(
        `port ${port} is in use (wanted for broker ${port - basePort + 1}): choose other ports with --base-port`,
      );
    }
  }

  const zkDir = resolve(dir, 'zookeeper');
  mkdirSync(resolve(zkDir, 'data'), { recursive: true });
  const state: ClusterState = {
    version: STATE_VERSION,
    startedAt: new Date().toISOString(),
    zookeeper: null,
    brokers: [],
  };
  const brokerChildren = new Map<number, ChildProcess>();
  try {
    const cfg = resolve(zkDir, 'zoo.cfg');
    // ZooKeeper's own defaults for ticks and session bounds (Kafka's 18 s session timeout fits in them).
    writeFileSync(
      cfg,
      zooCfg({
        dataDir: resolve(zkDir, 'data'),
        host: HOST,
        port: zkPort,
        tickTimeMs: 2000,
        minSessionTimeoutMs: 4000,
        maxSessionTimeoutMs: 40_000,
      }),
    );
    const zkLog = resolve(zkDir, 'zookeeper.log');
    const zk = spawnDetached(install.java, zookeeperJvmArgs(install.classpath, cfg, 'info'), zkLog);
    state.zookeeper = { pid: zk.pid ?? -1, port: zkPort, cfg, log: zkLog };
    writeState(dir, state);
    await waitUntilServing({
      host: HOST,
      port: zkPort,
      timeoutMs: ZOOKEEPER_START_MS,
      failed: () => {
        const how = exitedHow(zk);
        return how === undefined ? undefined : `ZooKeeper ${how}`;
      },
    }).catch((e: unknown) => {
      throw new CommandError(`${(e as Error).message} (log: ${zkLog})\n${tail(zkLog)}`);
    });

    for (const [i, port] of brokerPorts.entries()) {
      const id = i + 1;
      const brokerDir = resolve(dir, `broker-${id}`);
      const dataDir = resolve(brokerDir, 'data');
      mkdirSync(dataDir, { recursive: true });
      const log = resolve(brokerDir, 'broker.log');
      const args = [
        SAMSA_MAIN,
        'start',
        '--node-id',
        String(id),
        '--listeners',
        `PLAINTEXT://${HOST}:${port}`,
        '--log-dirs',
        dataDir,
        '--zookeeper',
        `${HOST}:${zkPort}`,
      ];
      const child = spawnDetached(process.execPath, args, log);
      brokerChildren.set(id, child);
      state.brokers.push({ id, pid: child.pid ?? -1, port, dataDir, log });
      writeState(dir, state);
    }

    // Ready when every broker answers with the whole cluster and a controller.
    const deadline = Date.now() + CLUSTER_READY_MS;
    const waiting = new Set(state.brokers.map((b) => b.id));
    let lastProblem = '';
    while (waiting.size > 0) {
      for (const b of state.brokers) {
        const how = exitedHow(brokerChildren.get(b.id)!);
        if (how !== undefined) throw new CommandError(`broker ${b.id} ${how} (log: ${b.log})\n${tail(b.log)}`);
      }
      for (const id of [...waiting]) {
        const b = state.brokers[id - 1]!;
        try {
          const md = await metadataOf(b.port, 1_000);
          if (md.brokers.length === count && md.controllerId >= 0) waiting.delete(id);
          else
            lastProblem = `broker ${id} sees ${md.brokers.length} of ${count} brokers, controller ${md.controllerId}`;
        } catch (e) {
          lastProblem = `broker ${id}: ${(e as Error).message}`;
        }
      }
      if (waiting.size === 0) break;
      if (Date.now() > deadline) {
        throw new CommandError(`the cluster did not form within ${CLUSTER_READY_MS / 1000} s: ${lastProblem}`);
      }
      await sleep(100);
    }
  } catch (e) {
    // Leave nothing half started behind.
    await stopProcesses(state.brokers.map(brokerProcess), 5_000);
    if (state.zookeeper !== null) await stopProcesses([zkProcess(state.zookeeper)], 5_000);
    rmSync(statePath(dir), { force: true });
    throw e;
  }

  const bootstrap = state.brokers.map((b) => `${HOST}:${b.port}`).join(',');
  print(output, { dir, bootstrapServers: bootstrap, ...state }, () =>
    [
      `ZooKeeper ${HOST}:${zkPort} (pid ${state.zookeeper!.pid})`,
      ...state.brokers.map((b) => `broker ${b.id} ${HOST}:${b.port} (pid ${b.pid})`),
      `Bootstrap servers: ${bootstrap}`,
      `Data and logs in ${dir}; stop it with: samsa dev-cluster down --dir ${opts.dir}`,
    ].join('\n'),
  );
}

async function down(opts: { dir: string }): Promise<void> {
  const dir = resolve(opts.dir);
  const state = readState(dir);
  if (state === null) {
    process.stderr.write(`no dev cluster in ${dir}: nothing to stop\n`);
    return;
  }
  const say = (what: string, outcome: StopOutcome, graceMs: number) => {
    const text: Record<StopOutcome, string> = {
      'not-running': 'was not running',
      stopped: 'stopped',
      killed: `did not stop within ${graceMs / 1000} s: killed`,
      survived: 'could not be stopped',
    };
    process.stdout.write(`${what}: ${text[outcome]}\n`);
  };
  // Brokers first, while ZooKeeper still runs: they close their sessions and leave the cluster cleanly.
  const outcomes = await stopProcesses(state.brokers.map(brokerProcess), BROKER_STOP_MS);
  for (const [i, b] of state.brokers.entries()) say(`broker ${b.id} (pid ${b.pid})`, outcomes[i]!, BROKER_STOP_MS);
  if (state.zookeeper !== null) {
    const [zk] = await stopProcesses([zkProcess(state.zookeeper)], ZOOKEEPER_STOP_MS);
    say(`ZooKeeper (pid ${state.zookeeper.pid})`, zk!, ZOOKEEPER_STOP_MS);
    outcomes.push(zk!);
  }
  if (outcomes.includes('survived')) {
    throw new CommandError(`some processes could not be stopped; ${statePath(dir)} is kept`);
  }
  rmSync(statePath(dir), { force: true });
}

async function status(opts: { dir: string; output: string }): Promise<void> {
  const output: OutputFormat = outputFormat(opts.output);
  const dir = resolve(opts.dir);
  const state = readState(dir);
  if (state === null) throw new CommandError(`no dev cluster in ${dir}`);
  const zk = state.zookeeper;
  const zkRunning = zk !== null && isRunning(zkProcess(zk));
  let zkServing = false;
  if (zkRunning) {
    try {
      zkServing = (await fourLetterWord(HOST, zk.port, 'srvr', 1_000)).startsWith('Zookeeper version');
    } catch {
      // running but not answering
    }
  }
  const brokers = state.brokers.map((b) => ({ ...b, running: isRunning(brokerProcess(b)) }));
  let controllerId: number | null = null;
  let registered: number[] = [];
  for (const b of brokers.filter((x) => x.running)) {
    try {
      const md = await metadataOf(b.port, 2_000);
      controllerId = md.controllerId;
      registered = md.brokers.map((x) => x.nodeId).sort((x, y) => x - y);
      break;
    } catch {
      // try the next one
    }
  }
  const running = zkRunning && brokers.every((b) => b.running);
  const zkState = !zkRunning ? 'stopped' : zkServing ? 'running' : 'running, not answering';
  const brokerState = (b: (typeof brokers)[number]) =>
    !b.running
      ? 'stopped'
      : !registered.includes(b.id)
        ? 'running, not registered'
        : b.id === controllerId
          ? 'running (controller)'
          : 'running';
  const bootstrap = brokers
    .filter((b) => b.running)
    .map((b) => `${HOST}:${b.port}`)
    .join(',');
  print(
    output,
    {
      dir,
      running,
      startedAt: state.startedAt,
      controllerId,
      bootstrapServers: bootstrap,
      zookeeper: zk === null ? null : { ...zk, running: zkRunning, serving: zkServing },
      brokers: brokers.map((b) => ({ ...b, registered: registered.includes(b.id) })),
    },
    () =>
      [
        `Dev cluster in ${dir}, started ${state.startedAt}`,
        renderTable(
          ['PROCESS', 'ID', 'ADDRESS', 'PID', 'STATE'],
          [
            ...(zk === null ? [] : [['zookeeper', null, `${HOST}:${zk.port}`, zk.pid, zkState]]),
            ...brokers.map((b) => ['broker', b.id, `${HOST}:${b.port}`, b.pid, brokerState(b)]),
          ],
        ),
        `Bootstrap servers: ${bootstrap === '' ? '-' : bootstrap}`,
      ].join('\n'),
  );
  if (!running) process.exitCode = ExitCode.FAILED;
}

/** Runs a subcommand, turning a failure into one line on stderr and its exit status. */
function run<T>(body: (opts: T) => Promise<void>): (opts: T) => Promise<void> {
  return async (opts) => {
    try {
      await body(opts);
    } catch (e) {
      const { line, exitCode } = describeFailure(e, []);
      process.stderr.write(`samsa: ${line}\n`);
      process.exitCode = exitCode;
    }
  };
}

export function registerDevCluster(program: Command): void {
  const dev = program
    .command('dev-cluster')
    .description('a local cluster for development: ZooKeeper and N brokers on loopback, in one directory');
  const dirOption = ['--dir <dir>', 'where data, logs and the state file go', './samsa-dev-cluster'] as const;
  dev
    .command('up')
    .description('start ZooKeeper and the brokers in the background, print the bootstrap servers')
    .option('--brokers <n>', 'how many brokers (node ids 1..n)', '3')
    .option(...dirOption)
    .option('--zookeeper-port <port>', "ZooKeeper's client port", '2181')
    .option('--base-port <port>', 'port of broker 1; broker n listens on base+n-1', '9092')
    .option('--output <format>', 'table or json', 'table')
    .action(run(up));
  dev
    .command('down')
    .description('stop the brokers (SIGTERM, SIGKILL after 30 s), then ZooKeeper; data stays')
    .option(...dirOption)
    .action(run(down));
  dev
    .command('status')
    .description('what runs (exit status 1 unless everything does)')
    .option(...dirOption)
    .option('--output <format>', 'table or json', 'table')
    .action(run(status));
}
