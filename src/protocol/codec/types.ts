/** A tagged field the decoder did not recognise, kept as raw bytes so that it survives re-encoding. */
export interface RawTaggedField {
  tag: number;
  data: Buffer;
}

/**
 * What an encoder accepts: the message type with every field optional (missing fields take the spec's
 * default), recursively. Decoders always return complete objects.
 */
export type Input<T> = T extends Buffer
  ? T
  : T extends bigint | number | string | boolean | null | undefined
    ? T
    : T extends readonly (infer E)[]
      ? readonly Input<E>[]
      : T extends object
        ? { [K in keyof T]?: Input<T[K]> }
        : T;
