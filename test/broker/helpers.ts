/** Test helpers: a minimal Kafka client over a real socket using our own codecs, and a capturing logger. */
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/log/logger.js';
import {
  Reader,
  readResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  Writer,
  writeRequestHeader,
} from '../../src/protocol/index.js';

/** Encodes one framed request with the header version its api key and version call for. */
export function encodeRequest(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  writeBody: (w: Writer) => void,
  clientId: string | null = 'samsa-test',
): Buffer {
  const w = new Writer();
  const at = w.reserveInt32();
  writeRequestHeader(w, requestHeaderVersion(apiKey, apiVersion), {
    requestApiKey: apiKey,
    requestApiVersion: apiVersion,
    correlationId,
    clientId,
  });
  writeBody(w);
  w.patchInt32(at, w.length - 4);
  return w.toBuffer();
}

/** A connection that collects response frames. */
export class TestClient {
  readonly frames: Buffer[] = [];
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      while (this.buf.length >= 4) {
        const n = this.buf.readInt32BE(0);
        if (this.buf.length < 4 + n) break;
        this.frames.push(this.buf.subarray(4, 4 + n));
        this.buf = this.buf.subarray(4 + n);
      }
      this.wake();
    });
    socket.on('error', () => {});
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static connect(port: number): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new TestClient(s)));
      s.once('error', reject);
    });
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** Waits until `n` frames have arrived (rejects if the connection closes first). */
  async waitFrames(n: number, timeoutMs = 3000): Promise<Buffer[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n) {
      if (this.closed) throw new Error(`closed after ${this.frames.length} of ${n} frames`);
      if (Date.now() > deadline) throw new Error(`timed out after ${this.frames.length} of ${n} frames`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.frames.slice(0, n);
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.closedPromise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('connection not closed')), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  end(): void {
    this.socket.destroy();
  }
}

/** Splits a response frame into its correlation id and a reader positioned at the body. */
export function parseResponse(frame: Buffer, apiKey: number, apiVersion: number): { correlationId: number; r: Reader } {
  const r = new Reader(frame);
  const h = readResponseHeader(r, responseHeaderVersion(apiKey, apiVersion));
  return { correlationId: h.correlationId, r };
}

/** A pino logger whose JSON lines are kept for assertions. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}
