/**
 * Producer id blocks claimed in ZooKeeper, as Kafka's ZooKeeper mode does: /latest_producer_id_block holds the
 * latest block any broker claimed; a broker claims the next one with a compare-and-set on that znode's version
 * (created at first use), so no two brokers ever get the same ids. A claim is durable once ZooKeeper accepted it.
 */
import { isZkError } from '../../metadata/zookeeper/errors.js';
import type { ZkClient } from '../../metadata/zookeeper/zk-client.js';
import { decodeProducerIdBlock, encodeProducerIdBlock, Paths } from '../../metadata/zookeeper/znodes.js';
import { nextBlock, type ProducerIdBlock, type ProducerIdBlockStore } from './producer-id-manager.js';

export class ZkProducerIdBlockStore implements ProducerIdBlockStore {
  constructor(private readonly zk: ZkClient) {}

  async claimNextBlock(brokerId: number, size: number): Promise<ProducerIdBlock> {
    for (;;) {
      const found = await this.zk.get(Paths.producerIdBlock);
      const latest =
        found === null
          ? null
          : (() => {
              const b = decodeProducerIdBlock(found.data);
              return { brokerId: b.broker, firstId: b.first, lastId: b.last };
            })();
      const block = nextBlock(latest, brokerId, size);
      const data = encodeProducerIdBlock({ broker: brokerId, first: block.firstId, last: block.lastId });
      try {
        if (found === null) await this.zk.create(Paths.producerIdBlock, data);
        else await this.zk.set(Paths.producerIdBlock, data, found.stat.version);
        return block;
      } catch (e) {
        // Another broker claimed a block in between: read again and take the one after it.
        if (!isZkError(e, 'BAD_VERSION') && !isZkError(e, 'NODE_EXISTS')) throw e;
      }
    }
  }
}
