/**
 * The one error type the wire codec throws. Decoding never trusts a length or count from the network: every
 * violation (truncated input, negative or oversized lengths, bad varints, unknown versions) becomes a
 * ProtocolError, which a server turns into a closed connection or Kafka's CORRUPT_MESSAGE/INVALID_REQUEST.
 */
export type ProtocolErrorKind =
  | 'truncated'
  | 'invalid-length'
  | 'invalid-varint'
  | 'invalid-value'
  | 'unsupported-version'
  | 'unsupported-field'
  | 'corrupt-record';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly kind: ProtocolErrorKind;

  constructor(kind: ProtocolErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}
