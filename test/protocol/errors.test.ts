import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ALL_ERRORS,
  ErrorCode,
  type ErrorCodeName,
  errorByName,
  errorInfo,
  isRetriable,
  KafkaError,
} from '../../src/protocol/errors.js';

interface TableRow {
  name: string;
  code: number;
  retriable: boolean;
}

const PROTOCOL_HTML = new URL('../../../../shared/kafka-protocol/docs/protocol.html', import.meta.url);

const stripTags = (s: string): string =>
  s
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .trim();

/**
 * Extracts the error-code table from the "Error Codes" section of protocol.html. The published page inlines the
 * table; the source tree only has a server-side include of generated/protocol_errors.html, which is followed when
 * that file exists next to the page. Returns [] when no table is present.
 */
function parseErrorTable(html: string, baseUrl?: URL): TableRow[] {
  const start = html.indexOf('id="protocol_error_codes"');
  if (start < 0) return [];
  const afterHeading = html.indexOf('</h', start);
  const nextHeading = html.indexOf('<h', afterHeading + 3);
  let section = html.slice(start, nextHeading < 0 ? undefined : nextHeading);
  if (baseUrl !== undefined) {
    section = section.replace(/<!--#include virtual="([^"]+)"\s*-->/g, (whole, rel: string) => {
      const target = new URL(rel, baseUrl);
      return existsSync(target) ? readFileSync(target, 'utf8') : whole;
    });
  }
  const rows = [...section.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/gi)].map((m) => m[1]);
  let columns = { name: 0, code: 1, retriable: 2 };
  const out: TableRow[] = [];
  for (const row of rows) {
    const headers = [...row.matchAll(/<th[^>]*>([\s\S]*?)<\/th>/gi)].map((m) => stripTags(m[1]).toLowerCase());
    if (headers.length > 0) {
      columns = {
        name: headers.indexOf('error'),
        code: headers.indexOf('code'),
        retriable: headers.indexOf('retriable'),
      };
      assert.ok(columns.name >= 0 && columns.code >= 0 && columns.retriable >= 0, `unexpected header ${headers}`);
      continue;
    }
    const cells = [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/gi)].map((m) => stripTags(m[1]));
    if (cells.length === 0) continue;
    const retriable = cells[columns.retriable].toLowerCase();
    assert.ok(retriable === 'true' || retriable === 'false', `bad retriable cell in ${row}`);
    assert.match(cells[columns.code], /^-?\d+$/);
    out.push({ name: cells[columns.name], code: Number(cells[columns.code]), retriable: retriable === 'true' });
  }
  return out;
}

function checkAgainstTable(rows: readonly TableRow[]): void {
  const seen = new Set<number>();
  for (const row of rows) {
    seen.add(row.code);
    const info = errorInfo(row.code);
    assert.deepEqual(
      { code: info.code, name: info.name, retriable: info.retriable },
      { code: row.code, name: row.name, retriable: row.retriable },
      `code ${row.code}`,
    );
  }
  const missingFromDocs = ALL_ERRORS.filter((e) => !seen.has(e.code)).map((e) => e.name);
  assert.deepEqual(missingFromDocs, [], 'codes in errors.ts that the documentation table does not list');
}

describe('error table vs protocol.html', () => {
  it('the table parser reads the generated table format', () => {
    const fixture = [
      '<h5><a id="protocol_error_codes"></a>Error Codes</h5>',
      '<table class="data-table"><tbody>',
      '<tr><th>Error</th>\n<th>Code</th>\n<th>Retriable</th>\n<th>Description</th>\n</tr>',
      '<tr>\n<td>UNKNOWN_SERVER_ERROR</td><td>-1</td><td>False</td><td>x</td></tr>',
      '<tr>\n<td>NONE</td><td>0</td><td>False</td><td></td></tr>',
      '<tr>\n<td>CORRUPT_MESSAGE</td><td>2</td><td>True</td><td>y</td></tr>',
      '</tbody></table>',
      '<h5>Api Keys</h5><table><tr><td>Produce</td><td>0</td><td>x</td></tr></table>',
    ].join('\n');
    const rows = parseErrorTable(fixture);
    assert.deepEqual(rows, [
      { name: 'UNKNOWN_SERVER_ERROR', code: -1, retriable: false },
      { name: 'NONE', code: 0, retriable: false },
      { name: 'CORRUPT_MESSAGE', code: 2, retriable: true },
    ]);
    for (const row of rows) assert.equal(errorInfo(row.code).retriable, row.retriable);
  });

  it('every code, name and retriable flag matches the documentation table', (t) => {
    if (!existsSync(PROTOCOL_HTML)) {
      t.skip('shared/kafka-protocol/docs/protocol.html not present');
      return;
    }
    const rows = parseErrorTable(readFileSync(PROTOCOL_HTML, 'utf8'), PROTOCOL_HTML);
    if (rows.length === 0) {
      t.skip('protocol.html has no inline error table (only an include of generated/protocol_errors.html)');
      return;
    }
    checkAgainstTable(rows);
  });
});

describe('ErrorCode table', () => {
  it('covers every code from -1 to the highest without gaps or duplicates', () => {
    const codes = Object.values(ErrorCode).sort((a, b) => a - b);
    const max = codes[codes.length - 1];
    assert.equal(max, 128);
    assert.deepEqual(
      codes,
      Array.from({ length: max + 2 }, (_, i) => i - 1),
    );
    assert.equal(ALL_ERRORS.length, codes.length);
    assert.deepEqual(
      ALL_ERRORS.map((e) => e.code),
      codes,
    );
  });

  it('has a short one-line message for every error', () => {
    for (const e of ALL_ERRORS) {
      assert.ok(e.message.length > 0 && e.message.length <= 120, e.name);
      assert.doesNotMatch(e.message, /\n/);
      assert.equal(ErrorCode[e.name], e.code);
    }
  });

  it('marks well-known errors retriable or not like Kafka', () => {
    const retriable: ErrorCodeName[] = [
      'CORRUPT_MESSAGE',
      'UNKNOWN_TOPIC_OR_PARTITION',
      'LEADER_NOT_AVAILABLE',
      'NOT_LEADER_OR_FOLLOWER',
      'REQUEST_TIMED_OUT',
      'NETWORK_EXCEPTION',
      'COORDINATOR_LOAD_IN_PROGRESS',
      'COORDINATOR_NOT_AVAILABLE',
      'NOT_COORDINATOR',
      'NOT_ENOUGH_REPLICAS',
      'NOT_CONTROLLER',
      'CONCURRENT_TRANSACTIONS',
      'KAFKA_STORAGE_ERROR',
      'FENCED_LEADER_EPOCH',
      'UNKNOWN_TOPIC_ID',
      'THROTTLING_QUOTA_EXCEEDED',
    ];
    const fatal: ErrorCodeName[] = [
      'NONE',
      'UNKNOWN_SERVER_ERROR',
      'OFFSET_OUT_OF_RANGE',
      'BROKER_NOT_AVAILABLE',
      'MESSAGE_TOO_LARGE',
      'REBALANCE_IN_PROGRESS',
      'TOPIC_AUTHORIZATION_FAILED',
      'UNSUPPORTED_VERSION',
      'INVALID_REQUEST',
      'PRODUCER_FENCED',
      'TRANSACTION_ABORTABLE',
    ];
    for (const n of retriable) assert.equal(errorByName(n).retriable, true, n);
    for (const n of fatal) assert.equal(errorByName(n).retriable, false, n);
    assert.equal(ALL_ERRORS.filter((e) => e.retriable).length, 31);
  });
});

describe('errorInfo / errorByName / isRetriable', () => {
  it('looks errors up by code and by name', () => {
    const info = errorInfo(3);
    assert.equal(info.name, 'UNKNOWN_TOPIC_OR_PARTITION');
    assert.equal(info.code, 3);
    assert.equal(info.retriable, true);
    assert.equal(errorByName('UNKNOWN_TOPIC_OR_PARTITION'), info);
    assert.equal(errorInfo(0).name, 'NONE');
    assert.equal(errorInfo(-1).name, 'UNKNOWN_SERVER_ERROR');
    assert.equal(errorByName('NOT_A_KAFKA_ERROR'), undefined);
    assert.ok(Object.isFrozen(info));
  });

  it('falls back to an UNKNOWN_SERVER_ERROR-named info that keeps an unknown code', () => {
    for (const code of [129, 32767, -2, -32768]) {
      const info = errorInfo(code);
      assert.equal(info.code, code);
      assert.equal(info.name, 'UNKNOWN_SERVER_ERROR');
      assert.equal(info.retriable, false);
      assert.match(info.message, new RegExp(String(code)));
      assert.equal(isRetriable(code), false);
    }
  });

  it('isRetriable follows the table', () => {
    assert.equal(isRetriable(ErrorCode.NOT_LEADER_OR_FOLLOWER), true);
    assert.equal(isRetriable(ErrorCode.NONE), false);
  });
});

describe('KafkaError', () => {
  it('carries code, name and retriable flag', () => {
    const err = new KafkaError(ErrorCode.NOT_COORDINATOR);
    assert.ok(err instanceof Error);
    assert.ok(err instanceof KafkaError);
    assert.equal(err.name, 'KafkaError');
    assert.equal(err.code, 16);
    assert.equal(err.errorName, 'NOT_COORDINATOR');
    assert.equal(err.retriable, true);
    assert.equal(err.message, errorInfo(16).message);
    assert.match(String(err), /^KafkaError: /);
    assert.ok(err.stack !== undefined);
  });

  it('accepts a message override and a cause', () => {
    const cause = new Error('disk');
    const err = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'segment 42 unreadable', { cause });
    assert.equal(err.message, 'segment 42 unreadable');
    assert.equal(err.cause, cause);
    assert.equal(err.errorName, 'KAFKA_STORAGE_ERROR');
  });

  it('keeps unknown codes', () => {
    const err = new KafkaError(4242);
    assert.equal(err.code, 4242);
    assert.equal(err.errorName, 'UNKNOWN_SERVER_ERROR');
    assert.equal(err.retriable, false);
  });

  it('can be built from a name', () => {
    const err = KafkaError.fromName('TOPIC_ALREADY_EXISTS', 'topic t exists');
    assert.equal(err.code, 36);
    assert.equal(err.retriable, false);
    assert.equal(err.message, 'topic t exists');
  });
});
