/**
 * Output of the `samsa` commands: aligned tables for people (`--output table`, the default) and JSON for scripts
 * (`--output json`: one document on stdout, bigints as strings). Nothing but the result goes to stdout, so JSON
 * output can be piped; progress and warnings go to stderr.
 */
import { UsageError } from './errors.js';

export type OutputFormat = 'table' | 'json';

export function outputFormat(value: string | undefined): OutputFormat {
  const v = value ?? 'table';
  if (v !== 'table' && v !== 'json') throw new UsageError(`--output must be table or json, got '${v}'`);
  return v;
}

/** JSON with bigints as decimal strings and Buffers as UTF-8 strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v !== null && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') {
        return Buffer.from((v as { data: number[] }).data).toString('utf8');
      }
      return v;
    },
    2,
  );
}

export type Cell = string | number | bigint | boolean | null | undefined;

/** An aligned text table; null and undefined cells print as '-', as Kafka's tools do. */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...text.map(line)].join('\n');
}

export function print(format: OutputFormat, json: unknown, table: () => string): void {
  process.stdout.write(`${format === 'json' ? toJson(json) : table()}\n`);
}
