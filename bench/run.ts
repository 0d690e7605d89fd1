// `npm run bench`: every benchmark, printed as Markdown tables of medians over repeated runs with ratios to a
// reference measured in the same run. Timings live here, never in tests.
import { arch, cpus, platform } from 'node:os';
import { table } from './harness.js';
import { benchProtocol } from './protocol.js';
import { benchRecords } from './records.js';
import { benchStorage } from './storage.js';

console.log(`# samsa benchmarks: node ${process.version}, ${platform()}/${arch()}, ${cpus().length} cpus`);
console.log(`${cpus()[0]?.model ?? ''}\n`);
console.log(table('Produce request (1 MiB, 1 KiB records)', benchProtocol()));
console.log('');
console.log(table('Record layer: CRC-32C and compression', await benchRecords()));
console.log('');
const storage = await benchStorage();
console.log(table('Storage: partition log on this disk', storage.rows));
for (const note of storage.notes) console.log(`\n- ${note}`);
