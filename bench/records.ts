// Record-layer benchmarks: CRC-32C (chosen implementation vs the pure-JS reference), validating and decoding a
// record set, and each compression codec's compress/decompress throughput over ~1 MiB of realistic 1 KiB JSON
// records. MB = 10^6 bytes of uncompressed input.

import {
  COMPRESSION_NAMES,
  Compression,
  compress,
  crc32c,
  crc32cJs,
  decodeRecordBatches,
  decompress,
  encodeRecordBatch,
  scanRecordSet,
} from '../src/protocol/records/index.js';
import { type Row, throughput } from './harness.js';

const RUNS = 5;
const MIN_MS = 200;
const MiB = 1024 * 1024;

/** A deterministic PRNG so every run benchmarks the same bytes. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'order',
  'created',
  'shipped',
  'customer',
  'premium',
  'checkout',
  'warehouse',
  'berlin',
  'lisbon',
  'toronto',
  'pending',
  'refund',
  'express',
  'standard',
  'gift',
  'card',
];

/** About 1 MiB of 1 KiB JSON records, as a producer's batch of events would hold. */
export function jsonRecords(totalBytes = MiB, recordBytes = 1024): Buffer {
  const rand = prng(42);
  const pick = () => WORDS[Math.floor(rand() * WORDS.length)]!;
  const parts: Buffer[] = [];
  let total = 0;
  for (let i = 0; total < totalBytes; i++) {
    const base = {
      id: `evt-${(1e9 + i).toString(36)}`,
      ts: 1_700_000_000_000 + Math.floor(rand() * 1e7),
      type: `${pick()}.${pick()}`,
      user: { id: Math.floor(rand() * 1e6), country: pick(), tier: pick() },
      amount: Math.round(rand() * 1e5) / 100,
      items: [] as { sku: string; qty: number; price: number }[],
      note: '',
    };
    let json = JSON.stringify(base);
    while (json.length < recordBytes - 60) {
      base.items.push({ sku: `sku-${Math.floor(rand() * 1e5)}`, qty: 1 + Math.floor(rand() * 5), price: rand() * 100 });
      json = JSON.stringify(base);
    }
    base.note = `${pick()} ${pick()} ${pick()} `.repeat(8).slice(0, Math.max(0, recordBytes - json.length));
    const rec = Buffer.from(JSON.stringify(base).slice(0, recordBytes));
    parts.push(rec);
    total += rec.length;
  }
  return Buffer.concat(parts).subarray(0, totalBytes);
}

/** ~1 MiB of the records as a Produce request carries them: v2 batches of 16 records of 1 KiB, uncompressed. */
function recordSet(data: Buffer): Buffer {
  const batches: Buffer[] = [];
  for (let at = 0; at < data.length; at += 16 * 1024) {
    const records = [];
    for (let i = at; i < Math.min(at + 16 * 1024, data.length); i += 1024) {
      records.push({ key: null, value: data.subarray(i, i + 1024) });
    }
    batches.push(encodeRecordBatch({ records }));
  }
  return Buffer.concat(batches);
}

export async function benchRecords(): Promise<Row[]> {
  const rows: Row[] = [];
  const data = jsonRecords();
  let sink = 0;
  const measure = (name: string, op: () => number, bytes: number, reference?: string): void => {
    const runs = throughput(
      () => {
        sink ^= op();
      },
      bytes,
      RUNS,
      MIN_MS,
    );
    rows.push(reference ? { name, unit: 'MB/s', runs, reference } : { name, unit: 'MB/s', runs });
  };

  const crcReference = 'crc32c pure JS (reference), 1 MiB';
  measure(crcReference, () => crc32cJs(data), data.length);
  const crcChosen = 'crc32c chosen (native), 1 MiB';
  measure(crcChosen, () => crc32c(data), data.length, crcReference);

  const set = recordSet(data);
  measure('scanRecordSet (validate), 16 KiB batches', () => scanRecordSet(set).length, set.length, crcChosen);
  measure('decodeRecordBatches, 16 KiB batches', () => decodeRecordBatches(set).length, set.length);

  for (const codec of [Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd]) {
    const name = COMPRESSION_NAMES[codec]!;
    const packed = compress(codec, data);
    const ratio = (data.length / packed.length).toFixed(1);
    measure(`${name} compress (ratio ${ratio})`, () => compress(codec, data).length, data.length);
    measure(`${name} decompress`, () => decompress(codec, packed).length, data.length);
  }
  if (sink === 0.5) console.log(sink); // keeps the results observable so nothing is optimised away
  return rows;
}
