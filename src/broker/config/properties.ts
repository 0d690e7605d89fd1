/**
 * Java `.properties` reader with the semantics of `java.util.Properties.load`, so that a Kafka `server.properties`
 * file means the same thing here. One difference: the text is taken as already decoded (UTF-8 on disk), not Latin-1.
 */

/** Thrown for text that Java would also reject (a malformed `\uXXXX` escape). */
export class PropertiesSyntaxError extends Error {
  override name = 'PropertiesSyntaxError';
}

const isBlank = (c: string): boolean => c === ' ' || c === '\t' || c === '\f';

/** Parses properties text; a key given twice keeps its last value, as Java does. */
export function parseProperties(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const { line, lineNumber } of logicalLines(text)) {
    const [key, value] = splitKeyValue(line, lineNumber);
    result.set(key, value);
  }
  return result;
}

interface LogicalLine {
  line: string;
  lineNumber: number;
}

/**
 * Joins continued lines (odd number of trailing backslashes) and drops blank and comment lines. The leading blanks of
 * every natural line are skipped, including continuation lines; a comment line never continues.
 */
function* logicalLines(text: string): Generator<LogicalLine> {
  const natural = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  let i = 0;
  while (i < natural.length) {
    const lineNumber = i + 1;
    let current = stripLeading(natural[i++]!);
    if (current === '' || current[0] === '#' || current[0] === '!') continue;
    while (endsWithContinuation(current)) {
      current = current.slice(0, -1);
      if (i >= natural.length) break;
      current += stripLeading(natural[i++]!);
    }
    yield { line: current, lineNumber };
  }
}

function stripLeading(s: string): string {
  let start = 0;
  while (start < s.length && isBlank(s[start]!)) start++;
  return s.slice(start);
}

function endsWithContinuation(s: string): boolean {
  let backslashes = 0;
  for (let j = s.length - 1; j >= 0 && s[j] === '\\'; j--) backslashes++;
  return backslashes % 2 === 1;
}

/** The key ends at the first unescaped `=`, `:` or blank; blanks and at most one `=`/`:` separate it from the value. */
function splitKeyValue(line: string, lineNumber: number): [string, string] {
  let keyEnd = 0;
  let escaped = false;
  for (; keyEnd < line.length; keyEnd++) {
    const c = line[keyEnd]!;
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === '=' || c === ':' || isBlank(c)) break;
  }
  let valueStart = keyEnd;
  while (valueStart < line.length && isBlank(line[valueStart]!)) valueStart++;
  if (valueStart < line.length && (line[valueStart] === '=' || line[valueStart] === ':')) valueStart++;
  while (valueStart < line.length && isBlank(line[valueStart]!)) valueStart++;
  return [unescapeText(line.slice(0, keyEnd), lineNumber), unescapeText(line.slice(valueStart), lineNumber)];
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescapeText(s: string, lineNumber: number): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = s[++i];
    if (next === undefined) break; // a lone trailing backslash (continuation at end of input) is dropped
    if (next === 'u') {
      const hex = s.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex))
        throw new PropertiesSyntaxError(`line ${lineNumber}: malformed \\uXXXX escape`);
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 4;
    } else {
      out += SIMPLE_ESCAPES[next] ?? next;
    }
  }
  return out;
}
