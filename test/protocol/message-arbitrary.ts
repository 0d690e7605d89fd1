// Builds fast-check arbitraries for any generated message at any version from the schema the generator emits,
// so that one property covers every version of every message.
import fc from 'fast-check';

export interface FieldSchema {
  prop: string;
  type: string;
  struct: boolean;
  versions: readonly [number, number] | null;
  nullable: readonly [number, number] | null;
  tagged: readonly [number, number] | null;
  ignorable: boolean;
}

export interface MessageSchema {
  name: string;
  root: string;
  valid: readonly [number, number];
  flexible: readonly [number, number] | null;
  structs: Record<string, readonly FieldSchema[]>;
}

const inRange = (r: readonly [number, number] | null, v: number): boolean => r !== null && v >= r[0] && v <= r[1];

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function scalar(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bool':
      return fc.boolean();
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'uint16':
      return fc.integer({ min: 0, max: 65535 });
    case 'int32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'uint32':
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case 'int64':
      return fc.bigInt({ min: INT64_MIN, max: INT64_MAX });
    case 'float64':
      return fc.double();
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 12 });
    case 'uuid':
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url'));
    case 'bytes':
    case 'records':
      return fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));
  }
  throw new Error(`no arbitrary for ${type}`);
}

/** An arbitrary object of struct `name` holding exactly the fields that exist in version `v`. */
export function structArbitrary(schema: MessageSchema, name: string, v: number, depth = 0): fc.Arbitrary<unknown> {
  const fields = schema.structs[name];
  if (!fields) throw new Error(`${schema.name}: no struct ${name}`);
  const flexible = inRange(schema.flexible, v);
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) {
    if (!inRange(f.versions, v)) continue;
    if (f.tagged !== null && inRange(f.tagged, v) && !flexible) continue;
    let arb: fc.Arbitrary<unknown>;
    if (f.type.startsWith('[]')) {
      const elem = f.type.slice(2);
      const elemArb = f.struct ? structArbitrary(schema, elem, v, depth + 1) : scalar(elem);
      arb = fc.array(elemArb, { maxLength: depth > 1 ? 1 : 3 });
    } else if (f.struct) {
      arb = structArbitrary(schema, f.type, v, depth + 1);
    } else {
      arb = scalar(f.type);
    }
    if (inRange(f.nullable, v)) arb = fc.option(arb, { nil: null, freq: 4 });
    parts[f.prop] = arb;
  }
  return fc.record(parts);
}

/** True when every field of `expected` (recursively) equals the same field of `actual`. */
export function containsFields(expected: unknown, actual: unknown, path = '$'): string | null {
  if (Buffer.isBuffer(expected)) {
    return Buffer.isBuffer(actual) && expected.equals(actual) ? null : `${path}: bytes differ`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${path}: array length differs`;
    for (let i = 0; i < expected.length; i++) {
      const d = containsFields(expected[i], actual[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return `${path}: expected an object`;
    for (const [k, v] of Object.entries(expected)) {
      const d = containsFields(v, (actual as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(expected, actual) ? null : `${path}: ${String(expected)} !== ${String(actual)}`;
}
