/**
 * An explicit commit is never undone by the automatic one: a consumer that commits the message in hand and leaves
 * its loop early (break) keeps that commit through close(), whose automatic commit would otherwise store the
 * position of the last message the loop had finished (found through the README's example).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import { Admin } from '../../src/client/admin/index.js';
import { Consumer } from '../../src/client/consumer/index.js';
import { Producer } from '../../src/client/producer/index.js';

let kafka: StartedBroker;

before(async () => {
  kafka = await startBroker({ config: { 'group.initial.rebalance.delay.ms': '0' } });
});

after(async () => {
  await kafka.stop();
});

it('commit() then break: close() keeps the committed offset', async () => {
  const bootstrapServers = [kafka.bootstrap];
  const admin = new Admin({ bootstrapServers });
  const producer = new Producer({ bootstrapServers });
  try {
    await admin.createTopics([{ name: 'commit-then-break', numPartitions: 1, replicationFactor: 1 }]);
    for (let i = 0; i < 5; i++) {
      await producer.send({ topic: 'commit-then-break', value: Buffer.from(`m${i}`) });
    }
    for (const expected of [3n, 5n]) {
      const consumer = new Consumer({ bootstrapServers, groupId: 'commit-then-break', autoOffsetReset: 'earliest' });
      consumer.subscribe(['commit-then-break']);
      let seen = 0;
      for await (const m of consumer) {
        seen++;
        if (m.offset === expected - 1n) {
          await consumer.commit();
          break;
        }
      }
      await consumer.close();
      assert.ok(seen > 0);
      const [committed] = await admin.listGroupOffsets('commit-then-break');
      assert.equal(committed?.offset, expected);
    }
  } finally {
    await producer.close();
    await admin.close();
  }
});
