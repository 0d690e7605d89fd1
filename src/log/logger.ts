/**
 * Structured logging: one line per event (pino). `format: 'json'` writes pino's JSON lines; the default `text`
 * writes the same events as one readable line each (`time LEVEL message key=value ...`), for people at a terminal.
 * Components take a `Logger` so tests can pass a silent or capturing one; `createLogger` is the process-wide default.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';

export type Logger = Pick<pino.Logger, 'info' | 'warn' | 'error' | 'debug' | 'child'>;

export type LogFormat = 'json' | 'text';

export interface LoggerOptions {
  level?: string;
  name?: string;
  format?: LogFormat;
  /** Where lines go; default stdout. */
  destination?: NodeJS.WritableStream;
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/** One pino JSON line as `time LEVEL msg k=v ...`. */
export function formatLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString() : '';
  const level = LEVELS[o.level as number] ?? String(o.level);
  let line = `${time} ${level.padEnd(5)} ${String(o.msg ?? '')}`;
  for (const [k, v] of Object.entries(o)) {
    if (OMIT.has(k)) continue;
    const text = typeof v === 'string' ? (/[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v) : JSON.stringify(v);
    line += ` ${k}=${text}`;
  }
  return `${line}\n`;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.SAMSA_LOG_LEVEL ?? 'info';
  const out = options.destination ?? process.stdout;
  const base = { level, name: options.name ?? 'samsa' };
  if ((options.format ?? 'text') === 'json') return pino(base, out as pino.DestinationStream);
  let pending = '';
  const text = new Writable({
    write(chunk: Buffer, _enc, done) {
      pending += chunk.toString('utf8');
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        out.write(formatLine(pending.slice(0, nl)));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
      done();
    },
  });
  return pino(base, text);
}

/** A logger that drops everything (the default for libraries and tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
