/**
 * The Admin client's retries, against a real in-process broker seen through a proxy that can change one answer:
 * the proxy decodes every answer with the protocol codecs, points broker addresses (Metadata, FindCoordinator,
 * DescribeCluster) at itself, and applies one-shot rules (set an error code in the next answer of an API, or drop
 * the connection instead of forwarding a request). Each test checks the outcome and which requests the client sent
 * to recover: a new FindCoordinator after NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS / COORDINATOR_NOT_AVAILABLE
 * (once, then the error), a metadata refresh after NOT_LEADER_OR_FOLLOWER and NOT_CONTROLLER, a new connection
 * after a dropped one.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type StartedBroker, startBroker } from '../../src/broker/start-broker.js';
import { Admin, KafkaAdminError } from '../../src/client/admin/index.js';
import {
  apiSpec,
  ErrorCode,
  KafkaError,
  Reader,
  readResponseHeader,
  responseHeaderVersion,
  Writer,
  writeResponseHeader,
} from '../../src/protocol/index.js';

const METADATA = 3;
const LIST_OFFSETS = 2;
const OFFSET_FETCH = 9;
const FIND_COORDINATOR = 10;
const DESCRIBE_GROUPS = 15;
const CREATE_TOPICS = 19;
const DESCRIBE_CONFIGS = 32;
const DELETE_GROUPS = 42;
const CONSUMER_GROUP_DESCRIBE = 69;

// biome-ignore lint/suspicious/noExplicitAny: answers of any API pass through the rules
type Body = any;
interface Rule {
  apiKey: number;
  /** Changes the answer in place; absent: the connection is dropped instead of forwarding the request. */
  change?: (body: Body) => void;
}

/** Splits a byte stream into Kafka frames (without their size prefix). */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) return;
      onFrame(pending.subarray(4, 4 + size));
      pending = pending.subarray(4 + size);
    }
  };
}

class RewritingProxy {
  readonly requests: number[] = [];
  readonly rules: Rule[] = [];
  port = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly upstream: { host: string; port: number }) {
    this.server = net.createServer((client) => this.serve(client));
  }

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }

  /** Requests of an API sent since `from` (an index into `requests`). */
  count(apiKey: number, from = 0): number {
    return this.requests.slice(from).filter((k) => k === apiKey).length;
  }

  private takeRule(apiKey: number, dropping: boolean): Rule | undefined {
    const i = this.rules.findIndex((r) => r.apiKey === apiKey && (r.change === undefined) === dropping);
    return i < 0 ? undefined : this.rules.splice(i, 1)[0];
  }

  private serve(client: net.Socket): void {
    const upstream = net.connect(this.upstream.port, this.upstream.host);
    this.sockets.add(client).add(upstream);
    const inFlight = new Map<number, { apiKey: number; version: number }>();
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    client.on(
      'data',
      framer((frame) => {
        const apiKey = frame.readInt16BE(0);
        this.requests.push(apiKey);
        if (this.takeRule(apiKey, true) !== undefined) {
          closeBoth();
          return;
        }
        inFlight.set(frame.readInt32BE(4), { apiKey, version: frame.readInt16BE(2) });
        const size = Buffer.alloc(4);
        size.writeInt32BE(frame.length);
        upstream.write(Buffer.concat([size, frame]));
      }),
    );
    upstream.on(
      'data',
      framer((frame) => {
        const correlationId = frame.readInt32BE(0);
        const { apiKey, version } = inFlight.get(correlationId)!;
        inFlight.delete(correlationId);
        const spec = apiSpec(apiKey)!;
        const headerVersion = responseHeaderVersion(apiKey, version);
        const r = new Reader(frame);
        readResponseHeader(r, headerVersion);
        const body = spec.readResponse(r, version);
        this.pointAtProxy(apiKey, body);
        this.takeRule(apiKey, false)?.change?.(body);
        const w = new Writer();
        const at = w.reserveInt32();
        writeResponseHeader(w, headerVersion, { correlationId });
        spec.writeResponse(w, version, body);
        w.patchInt32(at, w.length - 4);
        client.write(w.toBuffer());
      }),
    );
  }

  private pointAtProxy(apiKey: number, body: Body): void {
    if (apiKey === METADATA) for (const b of body.brokers) b.port = this.port;
    if (apiKey === 60) for (const b of body.brokers) b.port = this.port;
    if (apiKey === FIND_COORDINATOR) {
      if (body.port > 0) body.port = this.port;
      for (const c of body.coordinators ?? []) if (c.port > 0) c.port = this.port;
    }
  }
}

let kafka: StartedBroker;
let proxy: RewritingProxy;
let admin: Admin;

before(async () => {
  kafka = await startBroker();
  proxy = new RewritingProxy({ host: kafka.host, port: kafka.port });
  await proxy.listen();
  admin = new Admin({ bootstrapServers: [`127.0.0.1:${proxy.port}`], retryBackoffMs: 10 });
  await admin.createTopics([{ name: 'route', numPartitions: 2 }]);
  await admin.resetGroupOffsets('route-group', { topic: 'route', to: 'earliest' });
});

after(async () => {
  await admin.close();
  proxy.close();
  await kafka.stop();
});

beforeEach(() => {
  proxy.rules.length = 0;
});

const setGroupError = (code: number) => (body: Body) => {
  for (const g of body.groups ?? []) g.errorCode = code;
  body.errorCode = code;
};

describe('Admin retries where Kafka says the request went to the wrong broker', () => {
  it('NOT_COORDINATOR: looks the coordinator up again and retries once', async () => {
    const from = proxy.requests.length;
    proxy.rules.push({ apiKey: OFFSET_FETCH, change: setGroupError(ErrorCode.NOT_COORDINATOR) });
    const offsets = await admin.listGroupOffsets('route-group');
    assert.deepEqual(
      offsets.map((o) => [o.partition, o.offset]),
      [
        [0, 0n],
        [1, 0n],
      ],
    );
    assert.equal(proxy.count(OFFSET_FETCH, from), 2);
    assert.equal(proxy.count(FIND_COORDINATOR, from), 1, 'the cached coordinator was forgotten');
  });

  it('COORDINATOR_LOAD_IN_PROGRESS on one group of a batch: only that group is asked again', async () => {
    const from = proxy.requests.length;
    proxy.rules.push({
      apiKey: CONSUMER_GROUP_DESCRIBE,
      change: (body) => {
        body.groups[0].errorCode = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
      },
    });
    const [g] = await admin.describeGroups(['route-group']);
    assert.equal(g!.state, 'Empty');
    assert.equal(proxy.count(CONSUMER_GROUP_DESCRIBE, from), 2);
    assert.equal(proxy.count(DESCRIBE_GROUPS, from), 1);
    assert.equal(proxy.count(FIND_COORDINATOR, from), 1);
  });

  it('a coordinator still unavailable after the retry is the error', async () => {
    const from = proxy.requests.length;
    for (let i = 0; i < 2; i++) {
      proxy.rules.push({
        apiKey: DELETE_GROUPS,
        change: (body) => {
          body.results[0].errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
        },
      });
    }
    await assert.rejects(
      admin.deleteGroups(['route-group']),
      (e: unknown) =>
        e instanceof KafkaAdminError &&
        e.code === ErrorCode.COORDINATOR_NOT_AVAILABLE &&
        e.retriable &&
        e.failures[0]!.item === 'route-group',
    );
    assert.equal(proxy.count(DELETE_GROUPS, from), 2);
  });

  it('NOT_LEADER_OR_FOLLOWER: refreshes metadata and asks the leader again', async () => {
    const from = proxy.requests.length;
    proxy.rules.push({
      apiKey: LIST_OFFSETS,
      change: (body) => {
        body.topics[0].partitions[0].errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
        body.topics[0].partitions[0].offset = -1n;
      },
    });
    const listed = await admin.listOffsets([
      { topic: 'route', partition: 0, spec: 'latest' },
      { topic: 'route', partition: 1, spec: 'latest' },
    ]);
    assert.deepEqual(
      listed.map((o) => o.offset),
      [0n, 0n],
    );
    assert.equal(proxy.count(LIST_OFFSETS, from), 2);
    assert.ok(proxy.count(METADATA, from) >= 1, 'metadata refreshed');
  });

  it('NOT_CONTROLLER: refreshes metadata and sends the topic again', async () => {
    const from = proxy.requests.length;
    proxy.rules.push({
      apiKey: CREATE_TOPICS,
      change: (body) => {
        body.topics[0].errorCode = ErrorCode.NOT_CONTROLLER;
      },
    });
    const [t] = await admin.createTopics([{ name: 'route-2', numPartitions: 3 }], { validateOnly: true });
    assert.equal(t!.numPartitions, 3);
    assert.equal(proxy.count(CREATE_TOPICS, from), 2);
    assert.ok(proxy.count(METADATA, from) >= 1);
  });

  it('a dropped connection: reconnects and asks again', async () => {
    const from = proxy.requests.length;
    proxy.rules.push({ apiKey: DESCRIBE_CONFIGS });
    const [r] = await admin.describeConfigs([{ type: 'topic', name: 'route', configNames: ['cleanup.policy'] }]);
    assert.equal(r!.entries[0]!.value, 'delete');
    assert.equal(proxy.count(DESCRIBE_CONFIGS, from), 2);
  });

  it('errors that are not about routing are not retried', async () => {
    const from = proxy.requests.length;
    proxy.rules.push({ apiKey: OFFSET_FETCH, change: setGroupError(ErrorCode.GROUP_AUTHORIZATION_FAILED) });
    await assert.rejects(
      admin.listGroupOffsets('route-group'),
      (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.GROUP_AUTHORIZATION_FAILED,
    );
    assert.equal(proxy.count(OFFSET_FETCH, from), 1);
  });
});
