/**
 * Kafka's znode documents: what Kafka brokers wrote (documents in the shapes of Kafka 2.x/3.x ZooKeeper mode,
 * older versions included) decodes; what we encode decodes back to the same facts; damaged or foreign data is a
 * ZnodeFormatError naming the path, never a crash or a half-read value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeBroker,
  decodeClusterId,
  decodeConfig,
  decodeConfigChange,
  decodeController,
  decodeControllerEpoch,
  decodeIsrChange,
  decodePartitionState,
  decodeProducerIdBlock,
  decodeReassignment,
  decodeTopic,
  encodeBroker,
  encodeClusterId,
  encodeConfig,
  encodeConfigChange,
  encodeController,
  encodeControllerEpoch,
  encodeIsrChange,
  encodePartitionState,
  encodeProducerIdBlock,
  encodeReassignment,
  encodeTopic,
  Paths,
  ZnodeFormatError,
} from '../../../src/metadata/zookeeper/znodes.js';

const json = (s: string): Buffer => Buffer.from(s, 'utf8');

describe("Kafka's znode documents", () => {
  it('decodes what Kafka brokers write', () => {
    assert.equal(decodeClusterId(json('{"version":"1","id":"w7vC2dQZQ6C1d0wKkqYcZg"}')), 'w7vC2dQZQ6C1d0wKkqYcZg');
    assert.equal(decodeController(json('{"version":1,"brokerid":2,"timestamp":"1600000000000"}')), 2);
    assert.equal(
      decodeController(json('{"version":2,"brokerid":3,"timestamp":"1700000000000","kraftControllerEpoch":-1}')),
      3,
    );
    assert.equal(decodeControllerEpoch(json('17')), 17);
    assert.deepEqual(
      decodeBroker(
        1,
        json(
          '{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT","INTERNAL":"SSL"},' +
            '"endpoints":["PLAINTEXT://kafka-1:9092","INTERNAL://[::1]:9093"],"jmx_port":-1,"port":9092,' +
            '"host":"kafka-1","version":5,"timestamp":"1700000000000","rack":"eu-west-1a"}',
        ),
      ),
      {
        id: 1,
        rack: 'eu-west-1a',
        endpoints: [
          { listener: 'PLAINTEXT', host: 'kafka-1', port: 9092, securityProtocol: 'PLAINTEXT' },
          { listener: 'INTERNAL', host: '::1', port: 9093, securityProtocol: 'SSL' },
        ],
      },
    );
    // Version 1 (Kafka 0.8) knew only host and port.
    assert.deepEqual(decodeBroker(4, json('{"jmx_port":-1,"timestamp":"1","host":"old","version":1,"port":9092}')), {
      id: 4,
      rack: null,
      endpoints: [{ listener: 'PLAINTEXT', host: 'old', port: 9092, securityProtocol: 'PLAINTEXT' }],
    });
    const topic = decodeTopic(
      'orders',
      json(
        '{"partitions":{"1":[2,3,1],"0":[1,2,3]},"topic_id":"AAAAAAAAAAAAAAAAAAAAAQ",' +
          '"adding_replicas":{"1":[1]},"removing_replicas":{},"version":3}',
      ),
    );
    assert.deepEqual(topic.assignments, [
      [1, 2, 3],
      [2, 3, 1],
    ]);
    assert.equal(topic.topicId, 'AAAAAAAAAAAAAAAAAAAAAQ');
    assert.deepEqual([...topic.adding], [[1, [1]]]);
    // Kafka 1.x: version 1, no topic id.
    assert.equal(decodeTopic('old', json('{"version":1,"partitions":{"0":[1]}}')).topicId, null);
    assert.deepEqual(
      decodePartitionState(
        'orders',
        0,
        json('{"controller_epoch":5,"leader":2,"version":1,"leader_epoch":7,"isr":[2,3]}'),
      ),
      { leader: 2, leaderEpoch: 7, isr: [2, 3], controllerEpoch: 5 },
    );
    assert.deepEqual(decodeConfig('/config/topics/orders', json('{"version":1,"config":{"retention.ms":"1000"}}')), {
      'retention.ms': '1000',
    });
    assert.equal(
      decodeConfigChange(
        '/config/changes/config_change_0000000001',
        json('{"version":2,"entity_path":"topics/orders"}'),
      ),
      'topics/orders',
    );
    assert.equal(
      decodeConfigChange(
        '/config/changes/config_change_0000000002',
        json('{"version":1,"entity_type":"topics","entity_name":"x"}'),
      ),
      'topics/x',
    );
    assert.deepEqual(
      decodeReassignment(json('{"version":1,"partitions":[{"topic":"orders","partition":0,"replicas":[3,1]}]}')),
      [{ topic: 'orders', partition: 0, replicas: [3, 1] }],
    );
    assert.deepEqual(
      decodeIsrChange(
        '/isr_change_notification/isr_change_0000000003',
        json('{"version":1,"partitions":[{"topic":"orders","partition":1}]}'),
      ),
      [{ topic: 'orders', partition: 1 }],
    );
    assert.deepEqual(decodeProducerIdBlock(json('{"version":1,"broker":2,"block_start":"1000","block_end":"1999"}')), {
      broker: 2,
      first: 1000n,
      last: 1999n,
    });
  });

  it('decodes what it encodes', () => {
    assert.equal(decodeClusterId(encodeClusterId('abc')), 'abc');
    assert.equal(decodeController(encodeController(7)), 7);
    assert.equal(decodeControllerEpoch(encodeControllerEpoch(12)), 12);
    const broker = {
      id: 3,
      rack: 'r1',
      endpoints: [
        { listener: 'PLAINTEXT', host: '127.0.0.1', port: 19092, securityProtocol: 'PLAINTEXT' },
        { listener: 'REPLICATION', host: 'fe80::1', port: 19093, securityProtocol: 'PLAINTEXT' },
      ],
    };
    assert.deepEqual(decodeBroker(3, encodeBroker(broker)), broker);
    assert.deepEqual(decodeBroker(3, encodeBroker({ ...broker, rack: null })).rack, null);
    const doc = JSON.parse(encodeBroker(broker).toString('utf8'));
    assert.equal(doc.version, 5);
    assert.equal(doc.host, '127.0.0.1');
    assert.equal(doc.port, 19092);
    assert.deepEqual(doc.endpoints, ['PLAINTEXT://127.0.0.1:19092', 'REPLICATION://[fe80::1]:19093']);
    const state = { leader: 1, leaderEpoch: 4, isr: [1, 2], controllerEpoch: 9 };
    assert.deepEqual(decodePartitionState('t', 0, encodePartitionState(state)), state);
    assert.deepEqual(decodeConfig('/config/topics/t', encodeConfig({ 'cleanup.policy': 'compact' })), {
      'cleanup.policy': 'compact',
    });
    assert.equal(decodeConfigChange('/c', encodeConfigChange('topics/t')), 'topics/t');
    const moves = [{ topic: 't', partition: 2, replicas: [2, 3] }];
    assert.deepEqual(decodeReassignment(encodeReassignment(moves)), moves);
    assert.deepEqual(decodeIsrChange('/i', encodeIsrChange([{ topic: 't', partition: 0 }])), [
      { topic: 't', partition: 0 },
    ]);
    const block = { broker: 1, first: 5000n, last: 5999n };
    assert.deepEqual(decodeProducerIdBlock(encodeProducerIdBlock(block)), block);

    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(1000), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 50 }),
        fc.option(fc.string({ minLength: 1, maxLength: 22 }), { nil: null }),
        (assignments, topicId) => {
          const back = decodeTopic('t', encodeTopic({ topicId, assignments, adding: new Map(), removing: new Map() }));
          assert.deepEqual(back.assignments, assignments);
          assert.equal(back.topicId, topicId);
        },
      ),
    );
  });

  it('refuses damaged and foreign data with ZnodeFormatError naming the path', () => {
    const refuses = (f: () => unknown, path: string, pattern: RegExp): void => {
      assert.throws(f, (e: unknown) => e instanceof ZnodeFormatError && e.path === path && pattern.test(e.message));
    };
    refuses(() => decodeClusterId(null), Paths.clusterId, /no data/);
    refuses(() => decodeClusterId(json('{"version":"2","id":"x"}')), Paths.clusterId, /version/);
    refuses(() => decodeController(json('not json')), Paths.controller, /not JSON/);
    refuses(() => decodeController(json('[1]')), Paths.controller, /not an object/);
    refuses(() => decodeController(json('{"version":1,"brokerid":-4}')), Paths.controller, /brokerid/);
    refuses(() => decodeControllerEpoch(json('x1')), Paths.controllerEpoch, /not an epoch/);
    refuses(() => decodeBroker(1, json('{"version":5,"endpoints":["nonsense"]}')), Paths.broker(1), /endpoint/);
    refuses(() => decodeBroker(1, json('{"version":9}')), Paths.broker(1), /version/);
    refuses(() => decodeTopic('t', json('{"version":3,"partitions":{"0":[1],"2":[1]}}')), Paths.topic('t'), /0\.\.1/);
    refuses(() => decodeTopic('t', json('{"version":3,"partitions":{"0":[-1]}}')), Paths.topic('t'), /broker ids/);
    refuses(() => decodeTopic('t', json('{"version":3,"partitions":{"x":[1]}}')), Paths.topic('t'), /partition 'x'/);
    refuses(
      () =>
        decodePartitionState('t', 1, json('{"version":1,"leader":1,"leader_epoch":0,"isr":"1","controller_epoch":1}')),
      Paths.partitionState('t', 1),
      /isr/,
    );
    refuses(
      () => decodeConfig('/config/topics/t', json('{"version":1,"config":{"a":1}}')),
      '/config/topics/t',
      /string/,
    );
    refuses(
      () => decodeProducerIdBlock(json('{"version":1,"broker":1,"block_start":"10","block_end":"9"}')),
      Paths.producerIdBlock,
      /before/,
    );
    // Whatever bytes sit in a znode: a typed error or a value, never anything else.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const data = Buffer.from(bytes);
        for (const decode of [
          () => decodeClusterId(data),
          () => decodeController(data),
          () => decodeBroker(1, data),
          () => decodeTopic('t', data),
          () => decodePartitionState('t', 0, data),
          () => decodeConfig('/c', data),
          () => decodeReassignment(data),
          () => decodeProducerIdBlock(data),
        ]) {
          try {
            decode();
          } catch (e) {
            assert.ok(e instanceof ZnodeFormatError, String(e));
          }
        }
      }),
    );
  });
});
