/**
 * KafkaJS's logging contract: `logLevel`, a `logCreator(level)` that returns the function every entry goes to
 * (`{ namespace, level, label, log: { timestamp, logger, message, ...extra } }`), and loggers with
 * info/error/warn/debug, `namespace()` and `setLogLevel()`. The default writes one JSON line per entry to the
 * console, as KafkaJS does; KAFKAJS_LOG_LEVEL in the environment overrides the configured level.
 *
 * Only the adapter's own lines go through it (starting, joins, crashes, restarts): the Samsa clients underneath do
 * not log.
 */

export const logLevel = {
  NOTHING: 0,
  ERROR: 1,
  WARN: 2,
  INFO: 4,
  DEBUG: 5,
} as const;

export type LogLevel = (typeof logLevel)[keyof typeof logLevel];
// KafkaJS's logLevel is an enum: a value and a type.
export type logLevel = LogLevel;

export interface LogEntry {
  namespace: string;
  level: LogLevel;
  label: string;
  log: { timestamp: string; message: string; [key: string]: unknown };
}

export type LogCreator = (level: LogLevel) => (entry: LogEntry) => void;

export interface Logger {
  info(message: string, extra?: object): void;
  error(message: string, extra?: object): void;
  warn(message: string, extra?: object): void;
  debug(message: string, extra?: object): void;
  namespace(namespace: string, level?: LogLevel): Logger;
  setLogLevel(level: LogLevel): void;
}

const LABELS: Readonly<Record<number, string>> = { 1: 'ERROR', 2: 'WARN', 4: 'INFO', 5: 'DEBUG' };

/** The environment's KAFKAJS_LOG_LEVEL (a level name) wins over the configured level, as in KafkaJS. */
function effectiveLevel(level: LogLevel): LogLevel {
  const name = (process.env.KAFKAJS_LOG_LEVEL ?? '').toUpperCase();
  return name in logLevel ? logLevel[name as keyof typeof logLevel] : level;
}

export const consoleLogCreator: LogCreator = () => (entry) => {
  const prefix = entry.namespace === '' ? '' : `[${entry.namespace}] `;
  const line = JSON.stringify({ level: entry.label, ...entry.log, message: `${prefix}${entry.log.message}` });
  if (entry.level === logLevel.ERROR) console.error(line);
  else if (entry.level === logLevel.WARN) console.warn(line);
  else if (entry.level === logLevel.INFO) console.info(line);
  else console.log(line);
};

export function createLogger(level: LogLevel = logLevel.INFO, logCreator: LogCreator = consoleLogCreator): Logger {
  const root = { level: effectiveLevel(level) };
  const write = logCreator(root.level);
  const make = (namespace: string, own: LogLevel | null): Logger => {
    const at =
      (entryLevel: LogLevel) =>
      (message: string, extra: object = {}): void => {
        if (entryLevel > (own ?? root.level)) return;
        try {
          write({
            namespace,
            level: entryLevel,
            label: LABELS[entryLevel]!,
            log: { timestamp: new Date().toISOString(), logger: 'kafkajs', message, ...extra },
          });
        } catch {
          // A failing log function must not break the client.
        }
      };
    return {
      error: at(logLevel.ERROR),
      warn: at(logLevel.WARN),
      info: at(logLevel.INFO),
      debug: at(logLevel.DEBUG),
      namespace: (ns, nsLevel) => make(ns, nsLevel === undefined ? null : effectiveLevel(nsLevel)),
      setLogLevel: (newLevel) => {
        root.level = newLevel;
      },
    };
  };
  return make('', null);
}
