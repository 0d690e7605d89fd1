/**
 * LogManager: every partition log of a broker across its log dirs (`log.dirs`).
 *
 * Files it owns in each log dir (Kafka's layout): `<topic>-<partition>/` per partition, the
 * `recovery-point-offset-checkpoint` and `log-start-offset-checkpoint` files, and `.kafka_cleanshutdown`, written
 * last by a clean shutdown and removed once the logs are loaded again. A partition being deleted is first renamed
 * to `<topic>-<partition>.<id>-delete` and removed in the background; leftovers of an interrupted removal are
 * removed at startup.
 *
 * After a crash the marker is missing, so each log is recovered from its checkpointed recovery point. A log dir that
 * fails (ENOSPC, EIO, EROFS, ENOTDIR...: any KAFKA_STORAGE_ERROR or errno error) is taken offline: its logs are
 * closed as far as possible and its partitions report KAFKA_STORAGE_ERROR (also those it holds but could not load),
 * while the other dirs keep serving. A dir stays offline until the process restarts. Callers reach the logs
 * through `guard` (or `append` / `read` / `flush`), which is what notices a failing disk; a log whose background
 * flush failed takes its dir offline at the next checkpoint at the latest.
 *
 * Concurrency: single-threaded, like the logs it manages. Only `delete`, `flush` and `shutdown` are asynchronous.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Logger, silentLogger } from '../log/logger.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import {
  LOG_START_OFFSET_CHECKPOINT_FILE,
  partitionKey,
  RECOVERY_POINT_CHECKPOINT_FILE,
  readOffsetCheckpoint,
  writeOffsetCheckpoint,
} from './checkpoint.js';
import { LogCleaner } from './cleaner/index.js';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './config.js';
import { errnoCode, isStorageError, storageError } from './errors.js';
import { FileCache } from './file-cache.js';
import { SegmentLog } from './segment-log.js';
import type { AppendOptions, AppendResult, ReadOptions, ReadResult } from './types.js';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
const PARTITION_DIR = /^(.+)-(\d+)$/;
const DELETED_DIR = /-delete$/;
/** Kafka's legal topic names. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const INT32_MAX = 0x7fffffff;

export interface LogManagerOptions {
  logDirs: readonly string[];
  /** Broker-level defaults for every log (topic overrides are passed per log). */
  defaultConfig?: Partial<LogConfig>;
  logger?: Logger;
  /** Bound on open file descriptors across all segments. */
  maxOpenFiles?: number;
  /** `log.flush.offset.checkpoint.interval.ms` */
  checkpointIntervalMs?: number;
  /** `log.retention.check.interval.ms` */
  retentionCheckIntervalMs?: number;
  /** `log.cleaner.enable` (default true): compact logs whose cleanup.policy includes compact. */
  cleanerEnable?: boolean;
  /** `log.cleaner.io.max.bytes.per.second` */
  cleanerIoMaxBytesPerSecond?: number;
  /** `log.cleaner.backoff.ms` */
  cleanerBackoffMs?: number;
  /** `producer.id.expiration.ms` */
  producerIdExpirationMs?: number;
  /** `producer.id.expiration.check.interval.ms` (Kafka's default: 10 minutes) */
  producerIdExpirationCheckIntervalMs?: number;
  now?: () => number;
}

interface ManagedLog {
  topic: string;
  partition: number;
  dir: string;
  log: SegmentLog;
}

/** A failure of the disk (as opposed to a bad argument or a bug): what takes a log dir offline. */
function isDiskError(err: unknown): boolean {
  if (err instanceof KafkaError) return isStorageError(err);
  return typeof errnoCode(err) === 'string';
}

export class LogManager {
  private readonly logDirs: readonly string[];
  private readonly defaults: LogConfig;
  private readonly logger: Logger;
  private readonly files: FileCache;
  private readonly now: () => number;
  private readonly logs = new Map<string, ManagedLog>();
  /** Partitions found in a dir that failed before they were loaded: key -> dir. */
  private readonly unloaded = new Map<string, string>();
  /** Partitions being closed for deletion; they cannot be created again until that ends. */
  private readonly deleting = new Set<string>();
  private readonly removals = new Set<string>();
  private readonly offline = new Map<string, Error>();
  private timers: NodeJS.Timeout[] = [];
  private readonly options: LogManagerOptions;
  /** Compacts the logs whose cleanup.policy includes compact; null when log.cleaner.enable is false. */
  private readonly cleaner: LogCleaner | null;

  constructor(options: LogManagerOptions) {
    if (options.logDirs.length === 0) throw new Error('log.dirs is empty');
    if (new Set(options.logDirs).size !== options.logDirs.length) throw new Error('log.dirs lists a dir twice');
    this.options = options;
    this.logDirs = options.logDirs;
    this.defaults = { ...DEFAULT_LOG_CONFIG, ...options.defaultConfig };
    this.logger = options.logger ?? silentLogger;
    this.files = new FileCache({
      logger: this.logger,
      ...(options.maxOpenFiles === undefined ? {} : { maxOpen: options.maxOpenFiles }),
    });
    this.now = options.now ?? Date.now;
    this.cleaner =
      options.cleanerEnable === false
        ? null
        : new LogCleaner({
            logger: this.logger,
            now: this.now,
            ...(options.cleanerIoMaxBytesPerSecond === undefined
              ? {}
              : { ioMaxBytesPerSecond: options.cleanerIoMaxBytesPerSecond }),
            ...(options.cleanerBackoffMs === undefined ? {} : { backoffMs: options.cleanerBackoffMs }),
          });
  }

  /**
   * Loads every partition log found in the log dirs, recovering those not cleanly shut down. A dir that fails is
   * taken offline; a partition found in two dirs is a configuration error and throws (as Kafka refuses to start).
   */
  startup(configFor: (topic: string) => Partial<LogConfig> = () => ({})): void {
    for (const dir of this.logDirs) {
      try {
        this.loadDir(dir, configFor);
      } catch (err) {
        if (!isDiskError(err)) throw err;
        this.takeOffline(dir, err);
      }
    }
  }

  private loadDir(dir: string, configFor: (topic: string) => Partial<LogConfig>): void {
    mkdirSync(dir, { recursive: true });
    const marker = join(dir, CLEAN_SHUTDOWN_FILE);
    const cleanShutdown = existsSync(marker);
    const started = this.now();
    const found: { name: string; topic: string; partition: number; key: string }[] = [];
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!statSync(path).isDirectory()) continue;
      if (DELETED_DIR.test(name)) {
        this.logger.info({ logDir: dir, dir: name }, 'removing the leftover of a deleted partition');
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      const m = PARTITION_DIR.exec(name);
      if (!m || !TOPIC_NAME.test(m[1]!) || Number(m[2]) > INT32_MAX) continue;
      const topic = m[1]!;
      const partition = Number(m[2]);
      const key = partitionKey(topic, partition);
      const other = this.logs.get(key)?.dir ?? this.unloaded.get(key);
      if (other !== undefined) throw new Error(`partition ${key} is in two log dirs: ${other} and ${dir}`);
      found.push({ name, topic, partition, key });
    }
    // Until loaded, each is known to live here (so that a failure reports it offline rather than unknown).
    for (const f of found) this.unloaded.set(f.key, dir);
    const recoveryPoints = readOffsetCheckpoint(join(dir, RECOVERY_POINT_CHECKPOINT_FILE));
    const startOffsets = readOffsetCheckpoint(join(dir, LOG_START_OFFSET_CHECKPOINT_FILE));
    for (const { name, topic, partition, key } of found) {
      const log = SegmentLog.open(
        join(dir, name),
        { ...this.defaults, ...configFor(topic) },
        {
          recoveryPoint: recoveryPoints.get(key) ?? 0n,
          ...(startOffsets.has(key) ? { logStartOffset: startOffsets.get(key)! } : {}),
          cleanShutdown,
          logger: this.logger,
          files: this.files,
          now: this.now,
          ...this.producerOptions(),
        },
      );
      this.unloaded.delete(key);
      this.logs.set(key, { topic, partition, dir, log });
      this.cleaner?.add(log);
    }
    // From now on a crash must be detected as one.
    if (cleanShutdown) unlinkSync(marker);
    this.logger.info(
      { logDir: dir, partitions: found.length, cleanShutdown, ms: this.now() - started },
      cleanShutdown ? 'log dir loaded after a clean shutdown' : 'log dir loaded and recovered',
    );
  }

  /** Periodic checkpoints and retention; timers do not keep the process alive. */
  startScheduler(): void {
    this.cleaner?.start();
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(() => {
        try {
          fn();
        } catch (err) {
          this.logger.error({ err: (err as Error).message }, 'log manager background task failed');
        }
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.options.checkpointIntervalMs ?? 60_000, () => this.checkpoint());
    every(this.options.retentionCheckIntervalMs ?? 300_000, () => this.applyRetention());
    every(this.options.producerIdExpirationCheckIntervalMs ?? 600_000, () => this.removeExpiredProducers());
  }

  private producerOptions(): { producerIdExpirationMs?: number } {
    const ms = this.options.producerIdExpirationMs;
    return ms === undefined ? {} : { producerIdExpirationMs: ms };
  }

  /** Drops the idle producer ids (producer.id.expiration.ms) of every online log; returns how many. */
  removeExpiredProducers(): number {
    let removed = 0;
    const now = this.now();
    for (const m of this.logs.values()) {
      if (this.offline.has(m.dir)) continue;
      removed += m.log.removeExpiredProducers(now);
    }
    if (removed > 0) this.logger.info({ removed }, 'expired producer ids removed');
    return removed;
  }

  /**
   * The log of a partition, or undefined when it is not hosted here. Throws KAFKA_STORAGE_ERROR when the partition
   * lives in an offline dir. Operations on the returned log bypass the offline bookkeeping: prefer `guard`.
   */
  get(topic: string, partition: number): SegmentLog | undefined {
    const key = partitionKey(topic, partition);
    const managed = this.logs.get(key);
    const dir = managed?.dir ?? this.unloaded.get(key);
    if (dir !== undefined && this.offline.has(dir)) throw this.offlineError(dir);
    return managed?.log;
  }

  /** The log dir holding a partition, if hosted (online or not). */
  dirOf(topic: string, partition: number): string | undefined {
    const key = partitionKey(topic, partition);
    return this.logs.get(key)?.dir ?? this.unloaded.get(key);
  }

  /** The log of a partition, created in the online log dir holding the fewest partitions when missing. */
  getOrCreate(topic: string, partition: number, config: Partial<LogConfig> = {}): SegmentLog {
    const existing = this.get(topic, partition);
    if (existing) return existing;
    if (!TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
      throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `invalid topic name ${JSON.stringify(topic)}`);
    }
    if (!Number.isInteger(partition) || partition < 0 || partition > INT32_MAX) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `invalid partition ${partition}`);
    }
    const key = partitionKey(topic, partition);
    if (this.deleting.has(key)) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${key} is being deleted`);
    }
    const dir = this.pickDir();
    const path = join(dir, key);
    try {
      // Not recursive: a missing or replaced log dir must fail here, not be silently recreated.
      mkdirSync(path);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw this.storageFailure(dir, err);
    }
    try {
      const log = SegmentLog.open(
        path,
        { ...this.defaults, ...config },
        {
          logger: this.logger,
          files: this.files,
          now: this.now,
          ...this.producerOptions(),
        },
      );
      this.logs.set(key, { topic, partition, dir, log });
      this.cleaner?.add(log);
      return log;
    } catch (err) {
      throw this.storageFailure(dir, err);
    }
  }

  /**
   * Removes a partition's log: closed, renamed `<topic>-<partition>.<id>-delete` at once, and its files removed in
   * the background (a leftover is removed at the next startup). Throws KAFKA_STORAGE_ERROR when its dir is offline.
   */
  async delete(topic: string, partition: number): Promise<void> {
    const key = partitionKey(topic, partition);
    const managed = this.logs.get(key);
    if (!managed) return;
    if (this.offline.has(managed.dir)) throw this.offlineError(managed.dir);
    this.logs.delete(key);
    this.deleting.add(key);
    const path = managed.log.dir;
    try {
      await this.cleaner?.remove(managed.log);
      await managed.log.close();
      const gone = `${path}.${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}-delete`;
      renameSync(path, gone);
      this.removals.add(gone);
      setImmediate(() => this.remove(gone));
    } catch (err) {
      throw this.storageFailure(managed.dir, err);
    } finally {
      this.deleting.delete(key);
    }
  }

  private remove(path: string): void {
    if (!this.removals.delete(path)) return;
    try {
      rmSync(path, { recursive: true, force: true });
    } catch (err) {
      // The next startup removes it.
      this.logger.warn({ dir: path, err: (err as Error).message }, 'cannot remove a deleted partition');
    }
  }

  /** Every partition currently loaded, with the log dir it lives in (offline ones included). */
  partitions(): { topic: string; partition: number; dir: string; log: SegmentLog }[] {
    return [...this.logs.values()].map((m) => ({ ...m }));
  }

  isOffline(dir: string): boolean {
    return this.offline.has(dir);
  }

  /** Why a dir went offline, if it did. */
  offlineReason(dir: string): Error | undefined {
    return this.offline.get(dir);
  }

  onlineDirs(): string[] {
    return this.logDirs.filter((d) => !this.offline.has(d));
  }

  offlineDirs(): string[] {
    return this.logDirs.filter((d) => this.offline.has(d));
  }

  /**
   * Runs an operation on a log and takes the log's dir offline when it fails with a storage error, so that the
   * failure of one disk does not stop the others. A promise result is watched the same way.
   */
  guard<T>(topic: string, partition: number, fn: (log: SegmentLog) => T): T {
    const key = partitionKey(topic, partition);
    const managed = this.logs.get(key);
    const dir = managed?.dir ?? this.unloaded.get(key);
    if (dir !== undefined && this.offline.has(dir)) throw this.offlineError(dir);
    if (!managed) {
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${partition} is not hosted here`);
    }
    let result: T;
    try {
      result = fn(managed.log);
    } catch (err) {
      throw this.onError(managed, err);
    }
    if (result instanceof Promise) {
      return result.catch((err: unknown) => {
        throw this.onError(managed, err);
      }) as unknown as T;
    }
    return result;
  }

  /** Appends through `guard`. */
  append(topic: string, partition: number, records: Buffer, options?: AppendOptions): AppendResult {
    return this.guard(topic, partition, (log) => log.append(records, options));
  }

  /** Reads through `guard`. */
  read(topic: string, partition: number, offset: bigint, options: ReadOptions): ReadResult {
    return this.guard(topic, partition, (log) => log.read(offset, options));
  }

  /** Flushes through `guard` (what an fsync-before-ack produce awaits). */
  flush(topic: string, partition: number): Promise<void> {
    return this.guard(topic, partition, (log) => log.flush());
  }

  private onError(managed: ManagedLog, err: unknown): unknown {
    if (!isDiskError(err)) return err;
    // A log closed because its dir went offline reports the dir's failure.
    if (this.offline.has(managed.dir)) return this.offlineError(managed.dir);
    return this.storageFailure(managed.dir, err);
  }

  /** Writes each online dir's recovery-point and log-start-offset checkpoints. */
  checkpoint(): void {
    for (const m of this.logs.values()) {
      const failure = m.log.storageFailure;
      if (failure !== null) this.takeOffline(m.dir, failure);
    }
    for (const dir of this.onlineDirs()) {
      const recovery = new Map<string, bigint>();
      const starts = new Map<string, bigint>();
      for (const m of this.logs.values()) {
        if (m.dir !== dir) continue;
        const key = partitionKey(m.topic, m.partition);
        recovery.set(key, m.log.recoveryPoint);
        starts.set(key, m.log.logStartOffset);
      }
      try {
        writeOffsetCheckpoint(join(dir, RECOVERY_POINT_CHECKPOINT_FILE), recovery);
        writeOffsetCheckpoint(join(dir, LOG_START_OFFSET_CHECKPOINT_FILE), starts);
      } catch (err) {
        if (!isDiskError(err)) throw err;
        this.takeOffline(dir, err);
      }
    }
  }

  /** Applies retention to every online log; returns how many segments were deleted. */
  applyRetention(): number {
    let deleted = 0;
    const now = this.now();
    for (const m of this.logs.values()) {
      if (this.offline.has(m.dir)) continue;
      try {
        deleted += m.log.applyRetention(now);
      } catch (err) {
        if (!isDiskError(err)) throw err;
        this.takeOffline(m.dir, err);
      }
    }
    return deleted;
  }

  /**
   * Clean shutdown: every log flushed and closed, checkpoints written, then the clean-shutdown marker in each dir
   * whose logs all closed cleanly (a dir that failed gets none, so its logs are recovered at the next start).
   */
  async shutdown(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.cleaner?.stop();
    await Promise.all(
      [...this.logs.values()].map(async (m) => {
        if (this.offline.has(m.dir)) return;
        try {
          await m.log.close();
        } catch (err) {
          this.takeOffline(m.dir, err);
        }
      }),
    );
    this.checkpoint();
    for (const dir of this.onlineDirs()) {
      try {
        writeFileSync(join(dir, CLEAN_SHUTDOWN_FILE), '');
      } catch (err) {
        this.takeOffline(dir, err);
      }
    }
    for (const path of [...this.removals]) this.remove(path);
    this.logs.clear();
    this.unloaded.clear();
    this.files.closeAll();
  }

  private pickDir(): string {
    const online = this.onlineDirs();
    if (online.length === 0) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'every log dir is offline');
    const counts = new Map(online.map((d) => [d, 0]));
    for (const m of this.logs.values()) if (counts.has(m.dir)) counts.set(m.dir, counts.get(m.dir)! + 1);
    let best = online[0]!;
    for (const d of online) if (counts.get(d)! < counts.get(best)!) best = d;
    return best;
  }

  private offlineError(dir: string): KafkaError {
    const reason = this.offline.get(dir);
    return new KafkaError(
      ErrorCode.KAFKA_STORAGE_ERROR,
      `log dir ${dir} is offline${reason ? `: ${reason.message}` : ''}`,
      reason ? { cause: reason } : undefined,
    );
  }

  /** Takes `dir` offline for a disk error and returns it as KAFKA_STORAGE_ERROR; other errors come back as they are. */
  private storageFailure(dir: string, err: unknown): KafkaError {
    if (err instanceof KafkaError && !isStorageError(err)) return err;
    this.takeOffline(dir, err);
    return storageError(`log dir ${dir}`, err);
  }

  private takeOffline(dir: string, err: unknown): void {
    if (this.offline.has(dir)) return;
    const error = err instanceof Error ? err : new Error(String(err));
    this.offline.set(dir, error);
    let partitions = 0;
    for (const m of this.logs.values()) {
      if (m.dir !== dir) continue;
      partitions++;
      // Releases its files; with the disk failing the final flush may fail too (recovery handles the rest).
      this.cleaner?.remove(m.log).catch(() => {});
      m.log.close().catch(() => {});
    }
    for (const d of this.unloaded.values()) if (d === dir) partitions++;
    this.logger.error(
      { logDir: dir, err: error.message, partitions },
      'log dir offline: its partitions report KAFKA_STORAGE_ERROR',
    );
  }
}
