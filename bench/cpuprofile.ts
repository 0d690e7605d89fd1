// Summary of a V8 .cpuprofile (as written by `node --cpu-prof`): the functions and files with the most self time, as
// Markdown tables. Self time of a sample is the time delta recorded with it. Runnable on its own:
// `node dist/bench/cpuprofile.js FILE.cpuprofile [TOP]`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Shortens a script URL to its path from src/, dist/ or node_modules/ on (node: internals stay as they are). */
function shortUrl(url: string): string {
  if (url === '') return '';
  const m = /(node_modules\/.*|dist\/.*|src\/.*)$/.exec(url.replace(/^file:\/\//, ''));
  return m ? m[1]! : url.replace(/^file:\/\//, '');
}

const pct = (x: number, total: number): string => `${((100 * x) / total).toFixed(1)}%`;

/** The top `top` functions and top files by self time, excluding idle time from the percentages. */
export function summarizeProfile(path: string, top = 20): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfByNode = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, us] of selfByNode) {
    const f = byId.get(id)!.callFrame;
    total += us;
    if (f.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const url = shortUrl(f.url);
    const name = `${f.functionName || '(anonymous)'}${url ? ` ${url}:${f.lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const file = url || f.functionName;
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  const busy = total - idle;
  const lines = [
    `profile ${path}: ${(total / 1e6).toFixed(2)} s sampled, ${pct(idle, total)} idle; percentages are of the ` +
      `${(busy / 1e6).toFixed(2)} s busy`,
    '',
    '| self ms | self % | function (file:line) |',
    '|---:|---:|---|',
  ];
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [name, us] of sorted(byFunction)) lines.push(`| ${(us / 1000).toFixed(0)} | ${pct(us, busy)} | ${name} |`);
  lines.push('', '| self ms | self % | file |', '|---:|---:|---|');
  for (const [name, us] of sorted(byFile)) lines.push(`| ${(us / 1000).toFixed(0)} | ${pct(us, busy)} | ${name} |`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === undefined) {
    console.error('usage: node dist/bench/cpuprofile.js FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  console.log(summarizeProfile(process.argv[2], Number(process.argv[3] ?? 25)));
}
