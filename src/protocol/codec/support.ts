// Helpers shared by the generated codecs: constants and the errors they raise.
import { ProtocolError } from './protocol-error.js';
import type { Reader } from './reader.js';
import type { RawTaggedField } from './types.js';
import type { Writer } from './writer.js';

export const EMPTY_BYTES: Buffer = Buffer.alloc(0);
/** Kafka's Uuid.ZERO_UUID in its textual form. */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export function unsupportedField(field: string, version: number): ProtocolError {
  return new ProtocolError(
    'unsupported-field',
    `field ${field} has a non-default value but version ${version} lacks it`,
  );
}

export function nonNullable(field: string, version: number): ProtocolError {
  return new ProtocolError('invalid-value', `field ${field} is null but not nullable in version ${version}`);
}

export function tooManyTags(count: number, r: Reader): ProtocolError {
  return new ProtocolError('invalid-length', `${count} tagged fields cannot fit in ${r.remaining()} bytes`);
}

export function tagTooLong(tag: number, size: number, r: Reader): ProtocolError {
  return new ProtocolError('invalid-length', `tagged field ${tag} of ${size} bytes exceeds ${r.remaining()} remaining`);
}

export function tagSizeMismatch(tag: number, r: Reader): ProtocolError {
  return new ProtocolError('invalid-length', `tagged field ${tag} does not end where its size says (offset ${r.pos})`);
}

/** Writes the tagged-field section: known fields and preserved unknown ones, in ascending tag order. */
export function writeTaggedFields(
  w: Writer,
  known: RawTaggedField[] | null,
  unknown: readonly { tag?: number; data?: Buffer }[] | undefined,
): void {
  let all: RawTaggedField[] = known ?? [];
  if (unknown !== undefined && unknown.length > 0) {
    all = all.concat(unknown.map((u) => ({ tag: u.tag ?? 0, data: u.data ?? EMPTY_BYTES })));
    all.sort((a, b) => a.tag - b.tag);
  }
  w.uvarint(all.length);
  for (const f of all) {
    w.uvarint(f.tag);
    w.uvarint(f.data.length);
    w.raw(f.data);
  }
}
