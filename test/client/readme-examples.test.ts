/**
 * The README's client examples run as written against a real broker process: each block marked
 * `<!-- example: ... -->` is compiled with TypeScript (as a user's project would), its `from 'samsa'` pointed at
 * this build and its `localhost:9092` at the test broker, run with Node, and checked against the output its
 * comments promise.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { type BrokerProcess, startBrokerProcess } from '../compat/broker/broker-process.js';

const run = promisify(execFile);
/** dist/test/client -> the repository root and the package entry of this build. */
const README = fileURLToPath(new URL('../../../README.md', import.meta.url));
const ENTRY = pathToFileURL(fileURLToPath(new URL('../../src/index.js', import.meta.url))).href;

function examples(): Map<string, string> {
  const text = readFileSync(README, 'utf8');
  const out = new Map<string, string>();
  for (const m of text.matchAll(/<!-- example: (.+?) -->\n```ts\n([\s\S]*?)```/g)) out.set(m[1]!, m[2]!);
  return out;
}

let broker: BrokerProcess;
const written: string[] = [];

before(async () => {
  broker = await startBrokerProcess({ config: { 'group.initial.rebalance.delay.ms': '0' } });
});

after(async () => {
  for (const f of written) rmSync(f, { force: true });
  await broker.stop();
  broker.cleanup();
});

async function runExample(name: string): Promise<string[]> {
  const source = examples().get(name);
  assert.ok(source !== undefined, `README has no example "${name}"`);
  const code = source.replaceAll("from 'samsa'", `from '${ENTRY}'`).replaceAll('localhost:9092', broker.bootstrap);
  const js = ts.transpileModule(code, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
  const file = fileURLToPath(new URL(`./readme-${name.replace(/\W+/g, '-')}.mjs`, import.meta.url));
  writeFileSync(file, js);
  written.push(file);
  const { stdout } = await run(process.execPath, [file], { timeout: 60_000 });
  return stdout.trim().split('\n');
}

describe('README client examples', () => {
  it('produce and consume: prints the partition and offset, then the message', async () => {
    const lines = await runExample('produce and consume');
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, /^[0-2] 0n$/);
    assert.equal(lines[1], 'user-42 logged in 0n');
  });

  it('group lag: the group committed what it read, lag 0', async () => {
    const lines = await runExample('group lag');
    assert.ok(lines.length >= 1, lines.join('\n'));
    assert.ok(
      lines.some((l) => /^user_activity [0-2] 1n 1n 0n$/.test(l)),
      lines.join('\n'),
    );
  });
});
