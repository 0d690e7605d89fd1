/**
 * Producer ids for InitProducerId: unique across the cluster and across restarts, handed out from blocks of 1000
 * consecutive ids (Kafka's block size). A block is claimed from a `ProducerIdBlockStore`, which persists the claim
 * before it returns, and only then are ids from it given out; ids are never persisted one by one. After a crash the
 * next claim starts after the last persisted block, so the unused rest of a block is skipped, never reused.
 *
 * The next block is claimed in the background once 90% of the current one is used (Kafka does the same), so a busy
 * broker rarely waits for the store. Claims are serialised: at most one is in flight.
 *
 * Stores: `FileProducerIdBlockStore` (single node: a small file in the metadata dir); in cluster mode a ZooKeeper
 * store will claim blocks with a versioned write of `/latest_producer_id_block`, as Kafka's ZooKeeper mode did.
 *
 * Concurrency: used from the event loop; `generate` may be called again before an earlier call resolves.
 */

/** Kafka's producer id block size. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;
const PREFETCH_RATIO = 0.9;
const LONG_MAX = 0x7fffffffffffffffn;

/** Consecutive producer ids `firstId`..`lastId` (inclusive) owned by one broker. */
export interface ProducerIdBlock {
  readonly brokerId: number;
  readonly firstId: bigint;
  readonly lastId: bigint;
}

/** Where claimed blocks are recorded; a claim is durable once the promise resolves. */
export interface ProducerIdBlockStore {
  /** Claims the block of `size` ids after the latest claimed one (by any broker) for `brokerId`. */
  claimNextBlock(brokerId: number, size: number): Promise<ProducerIdBlock>;
}

/** No producer id can be handed out: the id space is used up, or the block store holds something unreadable. */
export class ProducerIdUnavailableError extends Error {
  override readonly name = 'ProducerIdUnavailableError';
}

/** The block after `latest` (or the first block when none was claimed), checked against the int64 id space. */
export function nextBlock(latest: ProducerIdBlock | null, brokerId: number, size: number): ProducerIdBlock {
  const firstId = latest === null ? 0n : latest.lastId + 1n;
  if (firstId > LONG_MAX - BigInt(size)) {
    throw new ProducerIdUnavailableError(`producer ids are used up: the last block claimed ends at ${latest?.lastId}`);
  }
  return { brokerId, firstId, lastId: firstId + BigInt(size) - 1n };
}

export interface ProducerIdManagerOptions {
  brokerId: number;
  store: ProducerIdBlockStore;
  blockSize?: number;
}

export class ProducerIdManager {
  private readonly brokerId: number;
  private readonly store: ProducerIdBlockStore;
  private readonly blockSize: number;
  private current: ProducerIdBlock | null = null;
  private nextId = 0n;
  private prefetched: ProducerIdBlock | null = null;
  private claiming: Promise<void> | null = null;

  constructor(options: ProducerIdManagerOptions) {
    this.brokerId = options.brokerId;
    this.store = options.store;
    this.blockSize = options.blockSize ?? PRODUCER_ID_BLOCK_SIZE;
    if (!Number.isInteger(this.blockSize) || this.blockSize < 1) throw new RangeError('invalid producer id block size');
  }

  /** A producer id never handed out before; rejects when no block can be claimed. */
  async generate(): Promise<bigint> {
    for (;;) {
      const id = this.take();
      if (id !== null) return id;
      await this.claim();
    }
  }

  /** An id from the current block (switching to the prefetched one when it is used up), or null. */
  private take(): bigint | null {
    if (this.current === null || this.nextId > this.current.lastId) {
      if (this.prefetched === null) return null;
      this.current = this.prefetched;
      this.nextId = this.current.firstId;
      this.prefetched = null;
    }
    const id = this.nextId++;
    const used = Number(this.nextId - this.current.firstId);
    if (this.prefetched === null && this.claiming === null && used >= this.blockSize * PREFETCH_RATIO) {
      // Failures of a background claim surface at the next claim that someone waits for.
      this.claim().catch(() => {});
    }
    return id;
  }

  private claim(): Promise<void> {
    this.claiming ??= this.store
      .claimNextBlock(this.brokerId, this.blockSize)
      .then((block) => {
        this.prefetched = block;
      })
      .finally(() => {
        this.claiming = null;
      });
    return this.claiming;
  }
}
