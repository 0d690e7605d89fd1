/**
 * DescribeLogDirs (api key 35), versions 1..4 (Kafka 4 removed v0). One result per configured log dir, by absolute
 * path: an online dir lists the requested partitions it holds (all of them when topics is null) with their size on
 * disk, an offset lag of 0 (no replica is being moved between dirs, so there are no future logs) and, from v4
 * (KIP-827), the file system's total and usable bytes; an offline dir answers KAFKA_STORAGE_ERROR and nothing else.
 * Topics with no requested partition in a dir are left out, as Kafka does. The top-level error code (v3+) is 0:
 * there is no authorizer to refuse.
 */
import { statfsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type DescribeLogDirsRequest,
  type DescribeLogDirsResponse,
  type DescribeLogDirsResponseDescribeLogDirsResult,
  type DescribeLogDirsResponseDescribeLogDirsTopic,
  ErrorCode,
} from '../../protocol/index.js';
import type { BrokerContext } from '../context.js';
import type { Handler } from './registry.js';

type DirResult = DescribeLogDirsResponseDescribeLogDirsResult;

const LONG_MAX = 2n ** 63n - 1n;

/** Total and usable bytes of the file system holding `dir`. */
function space(dir: string): { totalBytes: bigint; usableBytes: bigint } {
  const s = statfsSync(dir, { bigint: true });
  const clamp = (n: bigint) => (n < 0n || n > LONG_MAX ? LONG_MAX : n);
  return { totalBytes: clamp(s.blocks * s.bsize), usableBytes: clamp(s.bavail * s.bsize) };
}

export default function describeLogDirsHandler(
  broker: BrokerContext,
): Handler<DescribeLogDirsRequest, DescribeLogDirsResponse> {
  return {
    apiKey: 35,
    minVersion: 1,
    maxVersion: 4,
    handle(ctx, request) {
      let wanted: Set<string> | null = null;
      if (request.topics !== null) {
        wanted = new Set();
        for (const t of request.topics) for (const p of t.partitions) wanted.add(`${t.topic}\0${p}`);
      }
      const hosted = broker.logs.partitions();
      const results: DirResult[] = [];
      for (const dir of broker.logs.onlineDirs()) {
        const logDir = resolve(dir);
        try {
          const byTopic = new Map<string, DescribeLogDirsResponseDescribeLogDirsTopic>();
          for (const p of hosted) {
            if (p.dir !== dir || (wanted !== null && !wanted.has(`${p.topic}\0${p.partition}`))) continue;
            let topic = byTopic.get(p.topic);
            if (topic === undefined) {
              topic = { name: p.topic, partitions: [] };
              byTopic.set(p.topic, topic);
            }
            topic.partitions.push({
              partitionIndex: p.partition,
              partitionSize: BigInt(p.log.size),
              offsetLag: 0n,
              isFutureKey: false,
            });
          }
          const sizes = ctx.apiVersion >= 4 ? space(dir) : { totalBytes: -1n, usableBytes: -1n };
          results.push({ errorCode: ErrorCode.NONE, logDir, topics: [...byTopic.values()], ...sizes });
        } catch (err) {
          ctx.logger.warn({ logDir, err: (err as Error).message }, 'cannot describe log dir');
          results.push({
            errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
            logDir,
            topics: [],
            totalBytes: -1n,
            usableBytes: -1n,
          });
        }
      }
      for (const dir of broker.logs.offlineDirs()) {
        results.push({
          errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
          logDir: resolve(dir),
          topics: [],
          totalBytes: -1n,
          usableBytes: -1n,
        });
      }
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results };
    },
  };
}
