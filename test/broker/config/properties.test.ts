import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PropertiesSyntaxError, parseProperties } from '../../../src/broker/config/properties.js';

const parse = (text: string): Record<string, string> => Object.fromEntries(parseProperties(text));

describe('parseProperties', () => {
  it('accepts =, : and whitespace as separators', () => {
    assert.deepEqual(parse('a=1\nb:2\nc 3\nd\t4\ne = 5\nf : 6\ng   =   7'), {
      a: '1',
      b: '2',
      c: '3',
      d: '4',
      e: '5',
      f: '6',
      g: '7',
    });
  });

  it('skips comments and blank lines, also when indented', () => {
    assert.deepEqual(parse('# comment\n! also comment\n   # indented\n\n   \t\nkey=value\n'), { key: 'value' });
  });

  it('keeps a # inside a value', () => {
    assert.deepEqual(parse('a=b#c'), { a: 'b#c' });
  });

  it('strips leading whitespace but keeps trailing whitespace of values, as Java does', () => {
    assert.deepEqual(parse('   key   =   value  '), { key: 'value  ' });
  });

  it('a key without a value maps to the empty string', () => {
    assert.deepEqual(parse('alone\nempty=\nspaced   '), { alone: '', empty: '', spaced: '' });
  });

  it('only the first separator splits; later ones belong to the value', () => {
    assert.deepEqual(parse('listeners=PLAINTEXT://:9092\nk = =v\nm::n'), {
      listeners: 'PLAINTEXT://:9092',
      k: '=v',
      m: ':n',
    });
  });

  it('joins continuation lines and drops their leading whitespace', () => {
    assert.deepEqual(parse('log.dirs=/a,\\\n    /b,\\\n\t/c\nnext=1'), { 'log.dirs': '/a,/b,/c', next: '1' });
  });

  it('an even number of trailing backslashes does not continue the line', () => {
    assert.deepEqual(parse('a=x\\\\\nb=y'), { a: 'x\\', b: 'y' });
  });

  it('a continued line may start with # without being a comment', () => {
    assert.deepEqual(parse('a=1\\\n#2'), { a: '1#2' });
  });

  it('a comment line ending in a backslash does not continue', () => {
    assert.deepEqual(parse('# note \\\na=1'), { a: '1' });
  });

  it('a continuation at the end of the input is dropped', () => {
    assert.deepEqual(parse('a=1\\'), { a: '1' });
  });

  it('decodes escapes in keys and values', () => {
    assert.deepEqual(parse('tab=a\\tb\nnl=a\\nb\nbs=a\\\\b\nuni=\\u00e9\\u4E2D\nother=\\q\\=\\:'), {
      tab: 'a\tb',
      nl: 'a\nb',
      bs: 'a\\b',
      uni: 'é中',
      other: 'q=:',
    });
    assert.deepEqual(parse('my\\ key\\=x = v'), { 'my key=x': 'v' });
  });

  it('rejects a malformed \\u escape', () => {
    assert.throws(() => parse('a=\\u12G4'), PropertiesSyntaxError);
    assert.throws(() => parse('ok=1\nb=\\u12'), /line 2/);
  });

  it('handles CRLF and CR line ends and a byte order mark', () => {
    assert.deepEqual(parse('\uFEFFa=1\r\nb=2\rc=3'), { a: '1', b: '2', c: '3' });
    assert.deepEqual(parse('a=1,\\\r\n  2'), { a: '1,2' });
  });

  it('the last of repeated keys wins', () => {
    assert.deepEqual(parse('a=1\na=2'), { a: '2' });
  });
});
