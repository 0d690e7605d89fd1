/**
 * LogManager: every partition log of a broker across its log dirs (`log.dirs`).
 *
 * Files it owns in each log dir (Kafka's layout): `<topic>-<partition>/` per partition, the
 * `recovery-point-offset-checkpoint` and `log-start-offset-checkpoint` files, and `.kafka_cleanshutdown`, written
 * last by a clean shutdown and removed once the logs are loaded again. A partition being deleted is first renamed
 * to `<topic>-<partition>.<id>-delete` and removed in the background.
 *
 * After a crash the marker is missing, so each log is recovered from its checkpointed recovery point. A log dir that
 * fails (ENOSPC, EIO, EACCES: any KAFKA_STORAGE_ERROR) is taken offline: its logs are closed as far as possible and
 * report KAFKA_STORAGE_ERROR, while the other dirs keep serving. Single-threaded, like the logs it manages.
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
import { DEFAULT_LOG_CONFIG, type LogConfig } from './config.js';
import { FileCache } from './file-cache.js';
import { SegmentLog } from './segment-log.js';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
const PARTITION_DIR = /^(.+)-(\d+)$/;
const DELETED_DIR = /-delete$/;

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
  now?: () => number;
}

interface ManagedLog {
  topic: string;
  partition: number;
  dir: string;
  log: SegmentLog;
}

export class LogManager {
  private readonly logDirs: readonly string[];
  private readonly defaults: LogConfig;
  private readonly logger: Logger;
  private readonly files: FileCache;
  private readonly now: () => number;
  private readonly logs = new Map<string, ManagedLog>();
  private readonly offline = new Map<string, Error>();
  private timers: NodeJS.Timeout[] = [];
  private readonly options: LogManagerOptions;

  constructor(options: LogManagerOptions) {
    if (options.logDirs.length === 0) throw new Error('log.dirs is empty');
    this.options = options;
    this.logDirs = options.logDirs;
    this.defaults = { ...DEFAULT_LOG_CONFIG, ...options.defaultConfig };
    this.logger = options.logger ?? silentLogger;
    this.files = new FileCache(options.maxOpenFiles === undefined ? {} : { maxOpen: options.maxOpenFiles });
    this.now = options.now ?? Date.now;
  }

  /** Loads every partition log found in the log dirs, recovering those not cleanly shut down. */
  startup(configFor: (topic: string) => Partial<LogConfig> = () => ({})): void {
    for (const dir of this.logDirs) {
      try {
        this.loadDir(dir, configFor);
      } catch (err) {
        this.takeOffline(dir, err);
      }
    }
  }

  private loadDir(dir: string, configFor: (topic: string) => Partial<LogConfig>): void {
    mkdirSync(dir, { recursive: true });
    const marker = join(dir, CLEAN_SHUTDOWN_FILE);
    const cleanShutdown = existsSync(marker);
    const recoveryPoints = readOffsetCheckpoint(join(dir, RECOVERY_POINT_CHECKPOINT_FILE));
    const startOffsets = readOffsetCheckpoint(join(dir, LOG_START_OFFSET_CHECKPOINT_FILE));
    const started = this.now();
    let loaded = 0;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!statSync(path).isDirectory()) continue;
      if (DELETED_DIR.test(name)) {
        rmSync(path, { recursive: true, force: true });
        continue;
      }
      const m = PARTITION_DIR.exec(name);
      if (!m) continue;
      const topic = m[1]!;
      const partition = Number(m[2]);
      const key = partitionKey(topic, partition);
      const log = SegmentLog.open(
        path,
        { ...this.defaults, ...configFor(topic) },
        {
          recoveryPoint: recoveryPoints.get(key) ?? 0n,
          ...(startOffsets.has(key) ? { logStartOffset: startOffsets.get(key)! } : {}),
          cleanShutdown,
          logger: this.logger,
          files: this.files,
          now: this.now,
        },
      );
      this.logs.set(key, { topic, partition, dir, log });
      loaded++;
    }
    // From now on a crash must be detected as one.
    if (cleanShutdown) unlinkSync(marker);
    this.logger.info({ logDir: dir, partitions: loaded, cleanShutdown, ms: this.now() - started }, 'log dir loaded');
  }

  /** Periodic checkpoints and retention; timers do not keep the process alive. */
  startScheduler(): void {
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.options.checkpointIntervalMs ?? 60_000, () => this.checkpoint());
    every(this.options.retentionCheckIntervalMs ?? 300_000, () => this.applyRetention());
  }

  get(topic: string, partition: number): SegmentLog | undefined {
    const managed = this.logs.get(partitionKey(topic, partition));
    if (managed && this.offline.has(managed.dir)) {
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log dir ${managed.dir} is offline`);
    }
    return managed?.log;
  }

  /** The log of a partition, created in the online log dir holding the fewest partitions when missing. */
  getOrCreate(topic: string, partition: number, config: Partial<LogConfig> = {}): SegmentLog {
    const existing = this.get(topic, partition);
    if (existing) return existing;
    const dir = this.pickDir();
    const path = join(dir, `${topic}-${partition}`);
    try {
      mkdirSync(path, { recursive: true });
      const log = SegmentLog.open(
        path,
        { ...this.defaults, ...config },
        {
          logger: this.logger,
          files: this.files,
          now: this.now,
        },
      );
      this.logs.set(partitionKey(topic, partition), { topic, partition, dir, log });
      return log;
    } catch (err) {
      throw this.storageFailure(dir, err);
    }
  }

  /** Removes a partition's log: renamed out of the way at once, its files deleted after. */
  async delete(topic: string, partition: number): Promise<void> {
    const key = partitionKey(topic, partition);
    const managed = this.logs.get(key);
    if (!managed) return;
    this.logs.delete(key);
    const path = managed.log.dir;
    try {
      await managed.log.close();
      const gone = `${path}.${Date.now().toString(36)}-delete`;
      renameSync(path, gone);
      setImmediate(() => rmSync(gone, { recursive: true, force: true }));
    } catch (err) {
      throw this.storageFailure(managed.dir, err);
    }
  }

  /** Every partition currently hosted, with the log dir it lives in. */
  partitions(): { topic: string; partition: number; dir: string; log: SegmentLog }[] {
    return [...this.logs.values()];
  }

  isOffline(dir: string): boolean {
    return this.offline.has(dir);
  }

  onlineDirs(): string[] {
    return this.logDirs.filter((d) => !this.offline.has(d));
  }

  /**
   * Runs an operation on a log and takes the log's dir offline when it fails with a storage error, so that the
   * failure of one disk does not stop the others.
   */
  guard<T>(topic: string, partition: number, fn: (log: SegmentLog) => T): T {
    const managed = this.logs.get(partitionKey(topic, partition));
    if (!managed)
      throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${partition} is not hosted here`);
    if (this.offline.has(managed.dir)) {
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log dir ${managed.dir} is offline`);
    }
    try {
      return fn(managed.log);
    } catch (err) {
      if (err instanceof KafkaError && err.code === ErrorCode.KAFKA_STORAGE_ERROR) this.takeOffline(managed.dir, err);
      throw err;
    }
  }

  /** Writes each online dir's recovery-point and log-start-offset checkpoints. */
  checkpoint(): void {
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
        this.takeOffline(dir, err);
      }
    }
  }

  applyRetention(): number {
    let deleted = 0;
    const now = this.now();
    for (const m of this.logs.values()) {
      if (this.offline.has(m.dir)) continue;
      try {
        deleted += m.log.applyRetention(now);
      } catch (err) {
        this.takeOffline(m.dir, err);
      }
    }
    return deleted;
  }

  /** Clean shutdown: every log flushed and closed, checkpoints written, then the clean-shutdown marker. */
  async shutdown(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const m of this.logs.values()) {
      if (this.offline.has(m.dir)) continue;
      try {
        await m.log.close();
      } catch (err) {
        this.takeOffline(m.dir, err);
      }
    }
    this.checkpoint();
    for (const dir of this.onlineDirs()) {
      try {
        writeFileSync(join(dir, CLEAN_SHUTDOWN_FILE), '');
      } catch (err) {
        this.takeOffline(dir, err);
      }
    }
    this.logs.clear();
    this.files.closeAll();
  }

  private pickDir(): string {
    const online = this.onlineDirs();
    if (online.length === 0) throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'every log dir is offline');
    const counts = new Map(online.map((d) => [d, 0]));
    for (const m of this.logs.values()) if (counts.has(m.dir)) counts.set(m.dir, counts.get(m.dir)! + 1);
    return [...counts.entries()].sort((a, b) => a[1] - b[1])[0]![0];
  }

  private storageFailure(dir: string, err: unknown): KafkaError {
    if (err instanceof KafkaError && err.code !== ErrorCode.KAFKA_STORAGE_ERROR) return err;
    this.takeOffline(dir, err);
    return err instanceof KafkaError
      ? err
      : new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `log dir ${dir}: ${(err as Error).message}`, { cause: err });
  }

  private takeOffline(dir: string, err: unknown): void {
    if (this.offline.has(dir)) return;
    const error = err instanceof Error ? err : new Error(String(err));
    this.offline.set(dir, error);
    this.logger.error(
      { logDir: dir, err: error.message },
      'log dir offline: its partitions report KAFKA_STORAGE_ERROR',
    );
    for (const m of this.logs.values()) {
      if (m.dir !== dir) continue;
      m.log.close().catch(() => {});
    }
  }
}
