/**
 * The client's network layer against a real broker (in process) and against sockets that misbehave: version
 * negotiation, pipelined requests, metadata and coordinator lookup, and the errors users see when nothing answers,
 * when an answer never comes, and when an answer is out of bounds.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import { KafkaConnectionError, KafkaTimeoutError } from '../../src/client/errors.js';
import { Cluster } from '../../src/client/network/cluster.js';
import { BrokerConnection } from '../../src/client/network/connection.js';
import { ErrorCode, KafkaError, type MetadataResponse } from '../../src/protocol/index.js';

let kafka: StartedBroker;

before(async () => {
  kafka = await startBroker();
  await kafka.broker.topics.createTopic({
    name: 'client-net',
    numPartitions: 3,
    replicationFactor: 1,
    assignments: [],
    configs: {},
  });
});

after(async () => {
  await kafka.stop();
});

/** A TCP server that accepts and then does `onData` with what it receives. */
async function fakeBroker(
  onData: (socket: net.Socket, data: Buffer) => void,
): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('data', (d) => onData(s, d));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('BrokerConnection', () => {
  it('negotiates versions and pipelines requests, answers matched to their requests', async () => {
    const conn = await BrokerConnection.connect({ host: kafka.host, port: kafka.port, clientId: 'net-test' });
    try {
      assert.deepEqual(conn.supported(3), [0, 12]);
      assert.equal(conn.version(3, 1, 9), 9);
      assert.throws(
        () => conn.version(3, 13, 20),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.UNSUPPORTED_VERSION,
      );
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          conn.send<MetadataResponse>(3, i % 2 === 0 ? 12 : 4, {
            topics: [{ name: 'client-net' }],
            allowAutoTopicCreation: false,
          }),
        ),
      );
      for (const a of answers) assert.equal(a.topics[0]!.partitions.length, 3);
    } finally {
      conn.close();
    }
  });

  it('a request without an answer times out and closes the connection', async () => {
    const server = await fakeBroker(() => {});
    try {
      await assert.rejects(
        BrokerConnection.connect({ host: '127.0.0.1', port: server.port, clientId: 't', requestTimeoutMs: 200 }),
        (e: unknown) => e instanceof KafkaTimeoutError && /no answer to ApiVersions v3 within 200 ms/.test(e.message),
      );
    } finally {
      server.close();
    }
  });

  it('an answer larger than the bound closes the connection before it is read', async () => {
    const server = await fakeBroker((s) => {
      const size = Buffer.alloc(4);
      size.writeInt32BE(0x7fffffff);
      s.write(size);
    });
    try {
      await assert.rejects(
        BrokerConnection.connect({ host: '127.0.0.1', port: server.port, clientId: 't' }),
        (e: unknown) => e instanceof KafkaConnectionError && /out of bounds/.test(e.message),
      );
    } finally {
      server.close();
    }
  });
});

describe('Cluster', () => {
  it('bootstraps, knows brokers, leaders and the group coordinator', async () => {
    const cluster = new Cluster({ bootstrapServers: [`127.0.0.1:${kafka.port}`] });
    try {
      const md = await cluster.metadata(['client-net']);
      assert.deepEqual([...md.brokers.keys()], [1]);
      assert.equal(md.topics.get('client-net')!.partitions.length, 3);
      assert.equal(await cluster.leaderOf('client-net', 2), 1);
      assert.equal(await cluster.coordinatorOf('some-group'), 1);
      const conn = await cluster.connection(1);
      assert.equal(conn.closed, false);
      await assert.rejects(
        cluster.topic('no-such-topic'),
        (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      );
    } finally {
      await cluster.close();
    }
  });

  it('a bootstrap broker that just failed is asked after the others, not waited for', { timeout: 20_000 }, async () => {
    // Accepts connections and drops them at once: every attempt fails, and each one is counted.
    let attempts = 0;
    const dead = net.createServer((s) => {
      attempts++;
      s.destroy();
    });
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadAddress = `127.0.0.1:${(dead.address() as net.AddressInfo).port}`;
    // A reconnect backoff far longer than the test: waiting it out would time the test out.
    const cluster = new Cluster({
      bootstrapServers: [deadAddress, `127.0.0.1:${kafka.port}`],
      reconnectBackoffMs: 600_000,
      reconnectBackoffMaxMs: 600_000,
    });
    try {
      const first = await cluster.anyConnection();
      assert.equal(first.address, `127.0.0.1:${kafka.port}`);
      assert.equal(attempts, 1, 'the first in the list was tried first');
      first.close();
      const second = await cluster.anyConnection();
      assert.equal(second.address, `127.0.0.1:${kafka.port}`);
      assert.equal(attempts, 1, 'the failed one, in its backoff, was not tried again');
    } finally {
      await cluster.close();
      dead.close();
    }
  });

  it('a bootstrap list where nothing answers is one error naming every address', async () => {
    const a = await fakeBroker(() => {});
    a.close();
    const cluster = new Cluster({ bootstrapServers: [`127.0.0.1:${a.port}`, '127.0.0.1:1'], reconnectBackoffMs: 1 });
    try {
      await assert.rejects(
        cluster.metadata(),
        (e: unknown) =>
          e instanceof KafkaConnectionError &&
          e.message.startsWith(`no broker answers at 127.0.0.1:${a.port}, 127.0.0.1:1`) &&
          e.retriable,
      );
    } finally {
      await cluster.close();
    }
  });
});
