// `npm run bench`: every benchmark, printed as Markdown tables of medians over repeated runs with ratios to a
// reference measured in the same run. Timings live here, never in tests.
// `node dist/bench/run.js broker` (or SAMSA_BENCH=broker) runs only the broker section; `storage` only the storage
// section; `idempotence` only the cost of idempotent producers on the broker; `broker-profile` profiles the broker under load instead (not part of the full run); `groups` runs only the
// consumer-group section; `client` only the client section (samsa's Producer next to @platformatic/kafka and KafkaJS);
// `cluster` only the cluster section (three brokers on ZooKeeper: replication throughput and fail-over time).
import { arch, cpus, platform } from 'node:os';
import { benchBroker, profileBroker } from './broker.js';
import { benchClient } from './client.js';
import { benchCluster } from './cluster.js';
import { benchGroups } from './groups.js';
import { table } from './harness.js';
import { benchIdempotence } from './idempotence.js';
import { benchProtocol } from './protocol.js';
import { benchRecords } from './records.js';
import { benchStorage } from './storage.js';

const only = process.argv[2] ?? process.env.SAMSA_BENCH ?? 'all';
const known = ['all', 'storage', 'broker', 'idempotence', 'broker-profile', 'groups', 'client', 'cluster'];
if (!known.includes(only)) {
  console.error(`unknown section ${only}: one of ${known.join(', ')}`);
  process.exit(2);
}

console.log(`# samsa benchmarks: node ${process.version}, ${platform()}/${arch()}, ${cpus().length} cpus`);
console.log(`${cpus()[0]?.model ?? ''}\n`);
if (only === 'all') {
  console.log(table('Produce request (1 MiB, 1 KiB records)', benchProtocol()));
  console.log('');
  console.log(table('Record layer: CRC-32C and compression', await benchRecords()));
  console.log('');
}
if (only === 'all' || only === 'storage') {
  const storage = await benchStorage();
  console.log(table('Storage: partition log on this disk', storage.rows));
  for (const note of storage.notes) console.log(`\n- ${note}`);
  console.log('');
}
if (only === 'all' || only === 'broker') {
  const broker = await benchBroker();
  console.log(broker.blocks.join('\n\n'));
}
if (only === 'all' || only === 'idempotence') {
  if (only === 'all') console.log('');
  console.log((await benchIdempotence()).join('\n\n'));
}
if (only === 'all' || only === 'groups') {
  if (only === 'all') console.log('');
  const groups = await benchGroups();
  console.log(groups.blocks.join('\n\n'));
}
if (only === 'all' || only === 'client') {
  if (only === 'all') console.log('');
  const client = await benchClient();
  console.log(client.blocks.join('\n\n'));
}
if (only === 'all' || only === 'cluster') {
  if (only === 'all') console.log('');
  const cluster = await benchCluster();
  console.log(cluster.blocks.join('\n\n'));
}
if (only === 'broker-profile') {
  console.log((await profileBroker()).join('\n\n'));
}
