/**
 * `samsa cluster info` and the behaviour every client command shares (exit statuses, the one-line error when no
 * broker answers, JSON output), run as the real binary against a real broker process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type BrokerProcess, startBrokerProcess } from '../compat/broker/broker-process.js';
import { runCli } from './run-cli.js';

let broker: BrokerProcess;

before(async () => {
  broker = await startBrokerProcess();
});

after(async () => {
  await broker.stop();
  broker.cleanup();
});

describe('samsa cluster info', () => {
  it('prints the cluster id, the controller and the brokers as a table', async () => {
    const r = await runCli(['cluster', 'info', '--bootstrap-server', broker.bootstrap]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Cluster id: [A-Za-z0-9_-]{22}$/m);
    assert.match(r.stdout, /^Controller: 1$/m);
    assert.match(r.stdout, /^BROKER\s+HOST\s+PORT\s+RACK\s+CONTROLLER$/m);
    assert.match(r.stdout, new RegExp(`^1\\s+${broker.host}\\s+${broker.port}\\s+-\\s+yes$`, 'm'));
  });

  it('--output json is one parseable document', async () => {
    const r = await runCli(['cluster', 'info', '-b', broker.bootstrap, '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { controllerId: number; brokers: { nodeId: number; port: number }[] };
    assert.equal(info.controllerId, 1);
    assert.deepEqual(
      info.brokers.map((b) => [b.nodeId, b.port]),
      [[1, broker.port]],
    );
  });

  it('no broker: one line that says what to do, exit status 3', async () => {
    const r = await runCli(['cluster', 'info', '--bootstrap-server', '127.0.0.1:1']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      'samsa: no broker answers at 127.0.0.1:1: is `samsa start` running? (or pass --bootstrap-server)\n',
    );
  });

  it('bad usage: exit status 2', async () => {
    const unknown = await runCli(['cluster', 'info', '--no-such-flag']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--no-such-flag'/);
    const format = await runCli(['cluster', 'info', '-b', broker.bootstrap, '--output', 'xml']);
    assert.equal(format.code, 2);
    assert.equal(format.stderr, "samsa: --output must be table or json, got 'xml'\n");
  });
});
