/**
 * Text input to records for `samsa produce` and `samsa console-producer`: a stream is cut into lines (LF or CRLF)
 * as it arrives, without ever holding more than the line being read, and each line becomes a record's key, value
 * and headers. Lines stay bytes (views of the chunk read, no decoding and no copy), so values are sent exactly as
 * they were written; only `--value-format json` decodes them, to check them.
 *
 * A line is, as kafka-console-producer reads it: `[headers <headers delimiter>][key <key separator>]value`, where
 * headers are `name<header key separator>value` pairs joined by the header separator (parse.headers), and a key,
 * value or header value equal to the null marker stands for null.
 */
import { UsageError } from './errors.js';

export interface HeaderFormat {
  /** Ends the headers part of a line (kafka-console-producer: headers.delimiter, default '\t'). */
  delimiter: Buffer;
  /** Between two headers (headers.separator, default ','). */
  separator: Buffer;
  /** Between a header's name and its value (headers.key.separator, default ':'). */
  keySeparator: Buffer;
}

export interface LineFormat {
  /** Splits key from value at its first occurrence; null: no keys (the whole line is the value). */
  keySeparator: Buffer | null;
  /** Lines start with their own headers; null: they do not. */
  headers: HeaderFormat | null;
  /** A key, value or header value equal to this is null. */
  nullMarker: Buffer | null;
  /** A line without its separator is sent whole as the value (with a null key) instead of failing. */
  ignoreError: boolean;
  /** Empty lines are skipped (`samsa produce`) rather than sent as empty values (kafka-console-producer). */
  skipEmpty: boolean;
  /** Each value must be JSON. */
  json: boolean;
}

export interface ParsedLine {
  key: Buffer | null;
  value: Buffer | null;
  /** Headers of the line itself (the ones given on the command line are added by the caller). */
  headers: { key: string; value: Buffer | null }[] | null;
}

/** A line that cannot be turned into a record: the command stops with exit status 1. */
export class LineError extends Error {
  override readonly name = 'LineError';
}

/** Turns escapes typed on a command line (`\t`, `\n`, `\\`...) into the characters they stand for. */
export function unescapeSeparator(text: string, what: string): Buffer {
  const s = text.replace(/\\(t|n|r|0|\\)/g, (_m, c: string) =>
    c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c === '0' ? '\0' : '\\',
  );
  if (s === '') throw new UsageError(`${what} must not be empty`);
  if (s.includes('\n')) throw new UsageError(`${what} must not contain a line break (each line is one message)`);
  return Buffer.from(s, 'utf8');
}

const show = (line: Buffer): string => {
  const text = line.toString('utf8');
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

function nullable(part: Buffer, marker: Buffer | null): Buffer | null {
  return marker !== null && part.equals(marker) ? null : part;
}

function parseHeaders(text: Buffer, f: HeaderFormat, marker: Buffer | null, lineNo: number): ParsedLine['headers'] {
  const headers: { key: string; value: Buffer | null }[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf(f.separator, start);
    if (end < 0) end = text.length;
    const pair = text.subarray(start, end);
    start = end + f.separator.length;
    if (pair.length === 0) continue;
    const colon = pair.indexOf(f.keySeparator);
    const name = colon < 0 ? pair : pair.subarray(0, colon);
    if (marker !== null && name.equals(marker)) {
      throw new LineError(`line ${lineNo}: a header name is the null marker: '${show(text)}'`);
    }
    headers.push({
      key: name.toString('utf8'),
      value: colon < 0 ? null : nullable(pair.subarray(colon + f.keySeparator.length), marker),
    });
  }
  return headers;
}

/** One line (without its line break) as a record's parts. */
export function parseLine(line: Buffer, lineNo: number, f: LineFormat): ParsedLine {
  let rest = line;
  let headers: ParsedLine['headers'] = null;
  if (f.headers !== null) {
    const at = rest.indexOf(f.headers.delimiter);
    if (at < 0) {
      if (!f.ignoreError) {
        throw new LineError(`line ${lineNo} has no headers delimiter (parse.headers is on): '${show(line)}'`);
      }
    } else {
      headers = parseHeaders(rest.subarray(0, at), f.headers, f.nullMarker, lineNo);
      rest = rest.subarray(at + f.headers.delimiter.length);
    }
  }
  let key: Buffer | null = null;
  if (f.keySeparator !== null) {
    const at = rest.indexOf(f.keySeparator);
    if (at < 0) {
      if (!f.ignoreError) {
        throw new LineError(
          `line ${lineNo} has no key separator '${f.keySeparator.toString('utf8').replace('\t', '\\t')}': '${show(line)}'`,
        );
      }
    } else {
      key = nullable(rest.subarray(0, at), f.nullMarker);
      rest = rest.subarray(at + f.keySeparator.length);
    }
  }
  const value = nullable(rest, f.nullMarker);
  if (f.json && value !== null) {
    try {
      JSON.parse(value.toString('utf8'));
    } catch (e) {
      throw new LineError(`line ${lineNo}: the value is not JSON (${(e as Error).message}): '${show(value)}'`);
    }
  }
  return { key, value, headers };
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Cuts chunks into lines. `push` returns the complete lines of a chunk (views of it, or of the carried-over start
 * of a line joined to it) and keeps the unfinished last one for the next chunk; `end` returns that one, if any.
 */
export class LineSplitter {
  /** The start of an unfinished line, in the pieces it arrived in (joined once its end arrives). */
  private pending: Buffer[] = [];

  push(chunk: Buffer, out: Buffer[]): void {
    let nl = chunk.indexOf(LF);
    if (nl < 0) {
      if (chunk.length > 0) this.pending.push(chunk);
      return;
    }
    let start = 0;
    if (this.pending.length > 0) {
      this.pending.push(chunk.subarray(0, nl));
      out.push(trimCr(Buffer.concat(this.pending)));
      this.pending = [];
      start = nl + 1;
      nl = chunk.indexOf(LF, start);
    }
    for (; nl >= 0; nl = chunk.indexOf(LF, start)) {
      out.push(chunk.subarray(start, nl > start && chunk[nl - 1] === CR ? nl - 1 : nl));
      start = nl + 1;
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
  }

  end(): Buffer | null {
    if (this.pending.length === 0) return null;
    const last = Buffer.concat(this.pending);
    this.pending = [];
    return trimCr(last);
  }
}

function trimCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}
