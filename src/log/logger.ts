/**
 * Structured logging: one line per event, JSON by default (pino). Components take a `Logger` so tests can pass a
 * silent or capturing one; `createLogger` is the process-wide default.
 */
import { pino } from 'pino';

export type Logger = Pick<pino.Logger, 'info' | 'warn' | 'error' | 'debug' | 'child'>;

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({ level: options.level ?? process.env.SAMSA_LOG_LEVEL ?? 'info', name: options.name ?? 'samsa' });
}

/** A logger that drops everything (the default for libraries and tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
