/**
 * Kafka's config value types: parsing (values are trimmed first, as Kafka's ConfigDef does), the canonical string
 * form Kafka reports back, and validators. A validator yields Kafka's own wording for protocol errors and a short
 * expectation ("an integer >= 1") for startup errors.
 */

export type ConfigType = 'boolean' | 'string' | 'int' | 'short' | 'long' | 'double' | 'list' | 'class' | 'password';

/** Kafka's DescribeConfigs ConfigType ids (0 is UNKNOWN). */
export const CONFIG_TYPE_IDS: Readonly<Record<ConfigType, number>> = {
  boolean: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
  password: 9,
};

/** LONG values stay bigint so that Long.MAX_VALUE survives a round trip to its string form. */
export type ConfigValue = boolean | string | number | bigint | readonly string[];

export const LONG_MAX_STRING = '9223372036854775807';
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

export type ParseResult = { ok: true; value: ConfigValue } | { ok: false; reason: string };

const INTEGER_RE = /^[+-]?\d+$/;
const DOUBLE_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[dDfF]?$/;

function parseInteger(trimmed: string, min: bigint, max: bigint, typeName: string): ParseResult {
  const n = INTEGER_RE.test(trimmed) ? BigInt(trimmed) : null;
  if (n === null || n < min || n > max) return { ok: false, reason: `Not a number of type ${typeName}` };
  return { ok: true, value: typeName === 'LONG' ? n : Number(n) };
}

export function parseValue(type: ConfigType, raw: string): ParseResult {
  const trimmed = raw.trim();
  switch (type) {
    case 'boolean': {
      const lower = trimmed.toLowerCase();
      if (lower === 'true' || lower === 'false') return { ok: true, value: lower === 'true' };
      return { ok: false, reason: 'Expected value to be either true or false' };
    }
    case 'int':
      return parseInteger(trimmed, -(2n ** 31n), 2n ** 31n - 1n, 'INT');
    case 'short':
      return parseInteger(trimmed, -32768n, 32767n, 'SHORT');
    case 'long':
      return parseInteger(trimmed, LONG_MIN, LONG_MAX, 'LONG');
    case 'double':
      if (!DOUBLE_RE.test(trimmed)) return { ok: false, reason: 'Not a number of type DOUBLE' };
      return { ok: true, value: Number(trimmed.replace(/[dDfF]$/, '')) };
    case 'list':
      return { ok: true, value: trimmed === '' ? [] : trimmed.split(/\s*,\s*/) };
    default:
      return { ok: true, value: trimmed };
  }
}

/** The string Kafka reports for a value of `type` (Java's Double.toString prints 1 as "1.0"; lists use commas). */
export function formatValue(type: ConfigType, value: ConfigValue): string {
  if (Array.isArray(value)) return value.join(',');
  if (type === 'double' && typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 1e7) {
    return value.toFixed(1);
  }
  return String(value);
}

/** Clamps LONG values into the range a JS number holds exactly (Long.MAX becomes Number.MAX_SAFE_INTEGER). */
export function toNumber(value: ConfigValue): number {
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
    if (value < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
    return Number(value);
  }
  if (typeof value === 'number') return value;
  throw new TypeError(`not a numeric config value: ${String(value)}`);
}

export interface Violation {
  reason: string;
  /** The part of the value at fault when it is not the whole value (one element of a list). */
  offending?: string;
}

export interface Validator {
  check(value: ConfigValue): Violation | null;
  /** Completes "expected ..." given the type's noun ("an integer"). */
  expect(noun: string): string;
}

const numeric = (value: ConfigValue): number => (typeof value === 'bigint' ? Number(value) : (value as number));

export function atLeast(min: number): Validator {
  return {
    check: (v) => (numeric(v) < min ? { reason: `Value must be at least ${min}` } : null),
    expect: (noun) => `${noun} >= ${min}`,
  };
}

export function between(min: number, max: number): Validator {
  return {
    check: (v) => {
      const n = numeric(v);
      if (n < min) return { reason: `Value must be at least ${min}` };
      if (n > max) return { reason: `Value must be no more than ${max}` };
      return null;
    },
    expect: (noun) => `${noun} in [${min}, ${max}]`,
  };
}

export function oneOf(allowed: readonly string[]): Validator {
  return {
    check: (v) => (allowed.includes(v as string) ? null : { reason: `String must be one of: ${allowed.join(', ')}` }),
    expect: () => `one of: ${allowed.join(', ')}`,
  };
}

export function listOf(allowed: readonly string[]): Validator {
  return {
    check: (v) => {
      const bad = (v as readonly string[]).find((item) => !allowed.includes(item));
      return bad === undefined ? null : { reason: `String must be one of: ${allowed.join(', ')}`, offending: bad };
    },
    expect: () => `a comma-separated list of: ${allowed.join(', ')}`,
  };
}

export function custom(check: (value: ConfigValue) => string | null, expectation: string): Validator {
  return {
    check: (v) => {
      const reason = check(v);
      return reason === null ? null : { reason };
    },
    expect: () => expectation,
  };
}

/** Nouns for startup error messages, per type. */
export const TYPE_NOUNS: Readonly<Record<ConfigType, string>> = {
  boolean: 'true or false',
  string: 'a string',
  int: 'an integer',
  short: 'an integer',
  long: 'an integer',
  double: 'a number',
  list: 'a comma-separated list',
  class: 'a class name',
  password: 'a string',
};
