/**
 * The line reader of `samsa produce` (src/cli/support/lines.ts): the same lines whatever the chunks the input
 * arrives in (split at every byte, CRLF split between chunks, a line longer than many chunks), and the parts of a
 * line as kafka-console-producer's reader properties say (key separator, headers, null marker, ignore.error).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineError, type LineFormat, LineSplitter, parseLine, unescapeSeparator } from '../../src/cli/support/lines.js';

function split(chunks: readonly Buffer[]): string[] {
  const splitter = new LineSplitter();
  const out: Buffer[] = [];
  for (const c of chunks) splitter.push(c, out);
  const last = splitter.end();
  if (last !== null) out.push(last);
  return out.map((b) => b.toString('utf8'));
}

const TEXT = 'alpha\r\nbeta\n\nünïcødé ✓\r\n\r\nlast';
const LINES = ['alpha', 'beta', '', 'ünïcødé ✓', '', 'last'];

const format = (f: Partial<LineFormat> = {}): LineFormat => ({
  keySeparator: null,
  headers: null,
  nullMarker: null,
  ignoreError: false,
  skipEmpty: false,
  json: false,
  ...f,
});

describe('LineSplitter', () => {
  it('the same lines for one chunk, two chunks split at every byte, and one byte per chunk', () => {
    const bytes = Buffer.from(TEXT, 'utf8');
    assert.deepEqual(split([bytes]), LINES);
    for (let at = 0; at <= bytes.length; at++) {
      assert.deepEqual(split([bytes.subarray(0, at), bytes.subarray(at)]), LINES, `split at ${at}`);
    }
    assert.deepEqual(split([...bytes].map((b) => Buffer.from([b]))), LINES);
  });

  it('a trailing newline ends the last line (no empty line after it); a line over many chunks is whole', () => {
    assert.deepEqual(split([Buffer.from('a\nb\n')]), ['a', 'b']);
    assert.deepEqual(split([Buffer.from('a\r\n')]), ['a']);
    const long = 'x'.repeat(100_000);
    const chunks = [];
    const bytes = Buffer.from(`${long}\n${long}`);
    for (let i = 0; i < bytes.length; i += 4096) chunks.push(bytes.subarray(i, i + 4096));
    assert.deepEqual(split(chunks), [long, long]);
  });
});

describe('parseLine', () => {
  const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'));

  it('keys at the first separator; a missing separator fails, or with ignore.error the line is the value', () => {
    const f = format({ keySeparator: Buffer.from('::') });
    const p = parseLine(Buffer.from('k::v::w'), 1, f);
    assert.deepEqual([text(p.key), text(p.value), p.headers], ['k', 'v::w', null]);
    assert.throws(() => parseLine(Buffer.from('kv'), 7, f), LineError);
    assert.throws(() => parseLine(Buffer.from('kv'), 7, f), /^LineError: line 7 has no key separator '::': 'kv'$/);
    const lenient = parseLine(Buffer.from('kv'), 7, { ...f, ignoreError: true });
    assert.deepEqual([lenient.key, text(lenient.value)], [null, 'kv']);
  });

  it('headers before the headers delimiter: name:value pairs, a name alone has a null value; null marker', () => {
    const f = format({
      keySeparator: Buffer.from('\t'),
      headers: { delimiter: Buffer.from('\t'), separator: Buffer.from(','), keySeparator: Buffer.from(':') },
      nullMarker: Buffer.from('<null>'),
    });
    const p = parseLine(Buffer.from('a:1,b,c:x:y,d:<null>\t<null>\tvalue'), 1, f);
    assert.equal(p.key, null);
    assert.equal(text(p.value), 'value');
    assert.deepEqual(
      p.headers!.map((h) => [h.key, text(h.value)]),
      [
        ['a', '1'],
        ['b', null],
        ['c', 'x:y'],
        ['d', null],
      ],
    );
    assert.deepEqual(parseLine(Buffer.from('\tk\t<null>'), 1, f).headers, []);
    assert.equal(parseLine(Buffer.from('\tk\t<null>'), 1, f).value, null);
    assert.throws(() => parseLine(Buffer.from('no delimiter'), 3, f), /line 3 has no headers delimiter/);
    assert.throws(() => parseLine(Buffer.from('<null>:v\tk\tv'), 3, f), /a header name is the null marker/);
  });

  it('--value-format json checks each value; escapes in separators', () => {
    const f = format({ json: true });
    assert.equal(text(parseLine(Buffer.from('{"a":[1,2]}'), 1, f).value), '{"a":[1,2]}');
    assert.throws(() => parseLine(Buffer.from('{oops'), 4, f), /^LineError: line 4: the value is not JSON/);
    assert.deepEqual(unescapeSeparator('\\t', 'x'), Buffer.from('\t'));
    assert.deepEqual(unescapeSeparator('a\\\\b', 'x'), Buffer.from('a\\b'));
    assert.throws(() => unescapeSeparator('', '--key-separator'), /--key-separator must not be empty/);
    assert.throws(() => unescapeSeparator('\\n', '--key-separator'), /line break/);
  });
});
