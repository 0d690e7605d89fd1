// Tiny benchmark harness: repeated timed runs, medians, and ratios to a reference measured in the same run.

export interface Row {
  name: string;
  unit: string;
  /** One figure per run; the table shows their median, minimum and maximum. */
  runs: number[];
  /** Name of another row in the same table whose median this one is compared to. */
  reference?: string;
}

/**
 * Runs `op` (which processes `bytes` bytes per call) repeatedly for at least `minMs` per run, `runs` times,
 * after a warm-up, and returns MB/s per run (MB = 10^6 bytes).
 */
export function throughput(op: () => void, bytes: number, runs = 7, minMs = 200): number[] {
  const deadline = performance.now() + minMs / 2;
  while (performance.now() < deadline) op();
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      op();
      n++;
      elapsed = performance.now() - start;
    } while (elapsed < minMs);
    out.push((n * bytes) / 1e6 / (elapsed / 1000));
  }
  return out;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const fmt = (x: number): string =>
  x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(3);

/** A Markdown table: median, min, max and the ratio of the median to the reference row's median. */
export function table(title: string, rows: readonly Row[]): string {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const lines = [
    `### ${title}`,
    '',
    '| benchmark | median | min | max | unit | runs | vs reference |',
    '|---|---:|---:|---:|---|---:|---|',
  ];
  for (const row of rows) {
    const ref = row.reference ? byName.get(row.reference) : undefined;
    const ratio = ref ? `${(median(row.runs) / median(ref.runs)).toFixed(2)}x ${ref.name}` : '';
    lines.push(
      `| ${row.name} | ${fmt(median(row.runs))} | ${fmt(Math.min(...row.runs))} | ${fmt(Math.max(...row.runs))} | ${row.unit} | ${row.runs.length} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

/** Rows collected run by run: each `add` appends one run's value to its named row (created on first use). */
export class Rows {
  private readonly rows = new Map<string, Row>();
  add(name: string, unit: string, value: number, reference?: string): void {
    let row = this.rows.get(name);
    if (row === undefined) {
      row = { name, unit, runs: [], ...(reference ? { reference } : {}) };
      this.rows.set(name, row);
    }
    row.runs.push(value);
  }
  list(): Row[] {
    return [...this.rows.values()];
  }
  /** The median of a row's runs so far (NaN when it has none). */
  median(name: string): number {
    const row = this.rows.get(name);
    return row === undefined || row.runs.length === 0 ? Number.NaN : median(row.runs);
  }
}
