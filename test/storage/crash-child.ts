// Child process for the crash tests: appends deterministic batches to a SegmentLog as fast as it can and, after
// each append is durable (fsync before ack), prints "<batch number> <last offset>" on stdout. The parent kills it
// with SIGKILL at a random moment. Batch numbers continue from what the recovered log already holds.
import { encodeRecordBatch } from '../../src/protocol/records/index.js';
import { logConfig } from '../../src/storage/config.js';
import { SegmentLog } from '../../src/storage/segment-log.js';

export function crashBatch(n: number): Buffer {
  const count = 1 + (n % 5);
  return encodeRecordBatch({
    baseTimestamp: 1_700_000_000_000n + BigInt(n),
    compression: n % 7 === 3 ? 1 : 0,
    records: Array.from({ length: count }, (_, r) => ({
      key: `b${n}`,
      value: Buffer.alloc(100 + ((n * 131 + r * 17) % 900), (n + r) & 0xff),
    })),
  });
}

export const CRASH_CONFIG = logConfig({ segmentBytes: 64 * 1024, indexIntervalBytes: 1024, flushBeforeAck: true });

async function main(): Promise<void> {
  const dir = process.argv[2]!;
  const log = SegmentLog.open(dir, CRASH_CONFIG, { recoveryPoint: 0n, cleanShutdown: false });
  // Each batch's first record key says its number; the next number follows the last stored batch.
  let n = 0;
  if (log.logEndOffset > 0n) {
    const tail = log.read(log.logEndOffset - 1n, { maxBytes: 1 });
    const { decodeRecordBatches } = await import('../../src/protocol/records/index.js');
    const [last] = decodeRecordBatches(tail.records);
    n = Number(last!.records[0]!.key!.toString().slice(1)) + 1;
  }
  process.stdout.write(`start ${n} ${log.logEndOffset}\n`);
  for (;;) {
    const result = log.append(crashBatch(n));
    await log.flush();
    process.stdout.write(`${n} ${result.lastOffset}\n`);
    n++;
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
