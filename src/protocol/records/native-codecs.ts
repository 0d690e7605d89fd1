/**
 * The native snappy and lz4 bindings, loaded on first use: each costs about 10 MB of resident memory, which a
 * broker whose producers never use that codec should not pay (idle RSS is a target). `require` keeps the codec
 * API synchronous; both packages are CommonJS addons.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface Snappy {
  compressSync(input: Buffer): Buffer;
  uncompressSync(input: Buffer): Buffer | string;
}

interface Lz4 {
  compressFrameSync(input: Buffer): Buffer;
  decompressFrameSync(input: Buffer): Buffer;
}

let snappy: Snappy | null = null;
let lz4: Lz4 | null = null;

export function snappyBinding(): Snappy {
  snappy ??= require('snappy') as Snappy;
  return snappy;
}

export function lz4Binding(): Lz4 {
  lz4 ??= require('lz4-napi') as Lz4;
  return lz4;
}
