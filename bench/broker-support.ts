// Pieces of the broker benchmark (bench/broker.ts): the broker as a child process (optionally with Node flags such as
// --cpu-prof), a minimal request/response client built from our protocol codecs (ApiVersions, CreateTopics), the
// Python load scripts of bench/py run with Debian's interpreter, and the resident set size of a process.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FrameDecoder } from '../src/broker/frame-decoder.js';
import {
  apiSpec,
  Reader,
  readResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  Writer,
  writeRequestHeader,
} from '../src/protocol/index.js';
import type { ApiRange } from './noop-sink.js';

/** dist/bench -> dist/src/cli/main.js */
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** dist/bench -> bench/py in the source tree (the scripts are not compiled). */
const PY_DIR = fileURLToPath(new URL('../../bench/py/', import.meta.url));
/** Debian's confluent_kafka imports only from this interpreter. */
export const PYTHON = '/usr/bin/python3';

export interface BrokerChild {
  readonly bootstrap: string;
  readonly port: number;
  readonly pid: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** SIGTERM (clean shutdown, which also writes a --cpu-prof profile) and wait for the exit. */
  stop(): Promise<void>;
  /** Removes the data directory (after stop). */
  cleanup(): void;
}

/**
 * Starts `samsa start` on a free loopback port (or on `port`, to restart a broker where its clients know it);
 * `execArgv` are Node flags (e.g. --cpu-prof).
 */
export async function startBroker(
  options: { dataDir?: string; port?: number; execArgv?: string[]; config?: Record<string, string> } = {},
): Promise<BrokerChild> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'samsa-bench-broker-'));
  const args = [
    ...(options.execArgv ?? []),
    CLI,
    'start',
    '--log-format',
    'json',
    '--listeners',
    `PLAINTEXT://127.0.0.1:${options.port ?? 0}`,
    '--log-dirs',
    dataDir,
  ];
  for (const [k, v] of Object.entries(options.config ?? {})) args.push('--override', `${k}=${v}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const bootstrap = await new Promise<string>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`broker did not start\n${stderr}`));
    }, 20_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.includes('broker started')) continue;
        clearTimeout(timer);
        const listeners = (JSON.parse(line) as { listeners: string[] }).listeners;
        resolve(listeners[0]!.replace(/^[A-Z_]+:\/\//, ''));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`broker exited before it started\n${stderr}`));
    });
  });
  return {
    bootstrap,
    port: Number(bootstrap.slice(bootstrap.lastIndexOf(':') + 1)),
    pid: child.pid!,
    dataDir,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** VmRSS of a process in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** One connection that sends requests encoded with our codecs and decodes their responses (in order). */
export class KafkaClient {
  private readonly decoder = new FrameDecoder(256 * 1024 * 1024);
  private readonly waiting = new Map<
    number,
    { apiKey: number; version: number; resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private correlationId = 1;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      for (let frame = this.decoder.next(); frame !== null; frame = this.decoder.next()) this.receive(frame);
    });
    socket.on('close', () => {
      for (const w of this.waiting.values()) w.reject(new Error('connection closed'));
      this.waiting.clear();
    });
    socket.on('error', () => socket.destroy());
  }

  static connect(bootstrap: string): Promise<KafkaClient> {
    const colon = bootstrap.lastIndexOf(':');
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(bootstrap.slice(colon + 1)), bootstrap.slice(0, colon), () => {
        socket.off('error', reject);
        resolve(new KafkaClient(socket));
      });
      socket.once('error', reject);
    });
  }

  // biome-ignore lint/suspicious/noExplicitAny: the response type depends on the api key
  request(apiKey: number, version: number, body: unknown): Promise<any> {
    const correlationId = this.correlationId++;
    const w = new Writer();
    const at = w.reserveInt32();
    writeRequestHeader(w, requestHeaderVersion(apiKey, version), {
      requestApiKey: apiKey,
      requestApiVersion: version,
      correlationId,
      clientId: 'samsa-bench',
    });
    apiSpec(apiKey)!.writeRequest(w, version, body);
    w.patchInt32(at, w.length - 4);
    return new Promise((resolve, reject) => {
      this.waiting.set(correlationId, { apiKey, version, resolve, reject });
      this.socket.write(w.toBuffer());
    });
  }

  /** The version ranges the server advertises. */
  async apiVersions(): Promise<ApiRange[]> {
    const res = await this.request(18, 3, { clientSoftwareName: 'samsa-bench', clientSoftwareVersion: '0' });
    return res.apiKeys as ApiRange[];
  }

  /** Creates topics (each with `partitions` partitions, replication 1); throws on any error but TOPIC_ALREADY_EXISTS. */
  async createTopics(names: readonly string[], partitions: number): Promise<void> {
    const res = await this.request(19, 7, {
      topics: names.map((name) => ({
        name,
        numPartitions: partitions,
        replicationFactor: 1,
        assignments: [],
        configs: [],
      })),
      timeoutMs: 120_000,
      validateOnly: false,
    });
    for (const t of res.topics as { name: string; errorCode: number; errorMessage: string | null }[]) {
      if (t.errorCode !== 0 && t.errorCode !== 36) {
        throw new Error(`CreateTopics ${t.name}: error ${t.errorCode} ${t.errorMessage ?? ''}`);
      }
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private receive(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const w = this.waiting.get(correlationId);
    if (w === undefined) return;
    this.waiting.delete(correlationId);
    try {
      const r = new Reader(frame);
      readResponseHeader(r, responseHeaderVersion(w.apiKey, w.version));
      w.resolve(apiSpec(w.apiKey)!.readResponse(r, w.version));
    } catch (err) {
      w.reject(err as Error);
    }
  }
}

/** Creates topics on a broker over one short-lived connection, `perRequest` topics a request. */
export async function createTopics(
  bootstrap: string,
  names: readonly string[],
  partitions: number,
  perRequest = 100,
): Promise<void> {
  const client = await KafkaClient.connect(bootstrap);
  try {
    for (let i = 0; i < names.length; i += perRequest) {
      await client.createTopics(names.slice(i, i + perRequest), partitions);
    }
  } finally {
    client.close();
  }
}

export interface PyRun {
  /** The JSON the script printed last. */
  // biome-ignore lint/suspicious/noExplicitAny: each script prints its own shape
  result: any;
  stdout: string;
}

/**
 * Runs bench/py/<script> with Debian's python3 and `args` (the last one usually a JSON spec); resolves with the
 * last JSON line of its stdout, rejects on a non-zero exit or after `timeoutMs`. `onLine` sees every stdout line.
 */
export function runPython(
  script: string,
  args: readonly string[],
  timeoutMs = 120_000,
  onLine?: (line: string) => void,
): { done: Promise<PyRun>; child: ChildProcess } {
  const child = spawn(PYTHON, [join(PY_DIR, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    pending += d;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      onLine?.(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-4000);
  });
  const done = new Promise<PyRun>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      let result: unknown;
      try {
        result = JSON.parse(last);
      } catch {
        result = undefined;
      }
      if (code !== 0 || result === undefined) {
        reject(new Error(`${script} ${args.join(' ')} exited ${code ?? signal}: ${last}\n${stderr}`));
      } else {
        resolve({ result, stdout });
      }
    });
  });
  return { done, child };
}
