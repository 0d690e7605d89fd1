/**
 * The single-node producer id block store: the latest claimed block in `producer-id-block` in the metadata dir (the
 * first log dir). Format version 1, the JSON document Kafka's ZooKeeper mode keeps in `/latest_producer_id_block`,
 * so the cluster-mode store can use the same parser:
 *
 *     {"version":1,"broker":1,"block_start":"1000","block_end":"1999"}
 *
 * A claim rewrites the file atomically and durably (temp file, fsync, rename, fsync of the dir) before the block is
 * used; after a crash the file names the last block that may have been used, and the next claim follows it. A file
 * that cannot be parsed is never guessed around (ids could repeat): claims fail until an operator fixes it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../../storage/durable-file.js';
import {
  nextBlock,
  type ProducerIdBlock,
  type ProducerIdBlockStore,
  ProducerIdUnavailableError,
} from './producer-id-manager.js';

export const PRODUCER_ID_BLOCK_FILE = 'producer-id-block';
const FORMAT_VERSION = 1;
const DECIMAL = /^(0|[1-9][0-9]{0,18})$/;
const LONG_MAX = 0x7fffffffffffffffn;

/** Parses the block document (file or znode); throws ProducerIdUnavailableError on anything malformed. */
export function parseProducerIdBlock(text: string, source: string): ProducerIdBlock {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ProducerIdUnavailableError(`${source}: not JSON: ${(err as Error).message}`);
  }
  const d = doc as { version?: unknown; broker?: unknown; block_start?: unknown; block_end?: unknown };
  if (d === null || typeof d !== 'object' || d.version !== FORMAT_VERSION) {
    throw new ProducerIdUnavailableError(`${source}: expected a version ${FORMAT_VERSION} producer id block`);
  }
  const start = d.block_start;
  const end = d.block_end;
  if (
    !Number.isInteger(d.broker) ||
    typeof start !== 'string' ||
    typeof end !== 'string' ||
    !DECIMAL.test(start) ||
    !DECIMAL.test(end) ||
    BigInt(start) > BigInt(end) ||
    BigInt(end) > LONG_MAX
  ) {
    throw new ProducerIdUnavailableError(`${source}: malformed producer id block ${text.trim()}`);
  }
  return { brokerId: d.broker as number, firstId: BigInt(start), lastId: BigInt(end) };
}

export function formatProducerIdBlock(block: ProducerIdBlock): string {
  return `${JSON.stringify({
    version: FORMAT_VERSION,
    broker: block.brokerId,
    block_start: String(block.firstId),
    block_end: String(block.lastId),
  })}\n`;
}

export class FileProducerIdBlockStore implements ProducerIdBlockStore {
  readonly path: string;
  /** The latest claimed block once read (only this process writes the file). */
  private latest: ProducerIdBlock | null | undefined;

  constructor(dir: string) {
    this.path = join(dir, PRODUCER_ID_BLOCK_FILE);
  }

  async claimNextBlock(brokerId: number, size: number): Promise<ProducerIdBlock> {
    if (this.latest === undefined) {
      this.latest = existsSync(this.path) ? parseProducerIdBlock(readFileSync(this.path, 'utf8'), this.path) : null;
    }
    const block = nextBlock(this.latest, brokerId, size);
    writeFileDurably(this.path, formatProducerIdBlock(block));
    this.latest = block;
    return block;
  }
}
