// Produce request benchmarks: a 1 MiB Produce request (v9, one partition, 1 KiB records in one batch), decoded
// as a broker does (header, body, batch validation with CRC-32C) and encoded as a client does. References: the
// CRC-32C of the same bytes (the floor for validating them) and a plain copy (touching every byte once). Decoding
// without validation and encoding into chunks never touch the record bytes, so their MB/s only says that.
import {
  Reader,
  readProduceRequest,
  readRequestHeader,
  Writer,
  writeProduceRequest,
  writeRequestHeader,
} from '../src/protocol/index.js';
import { crc32c, encodeRecordBatch, scanRecordSet } from '../src/protocol/records/index.js';
import { type Row, throughput } from './harness.js';

const RECORD_SIZE = 1024;
const TARGET = 1024 * 1024;
const VERSION = 9;

function buildBatch(): Buffer {
  const value = Buffer.alloc(RECORD_SIZE - 16, 'x');
  const records = [];
  // Each record carries a 16-byte key and ~1 KiB value; stop when the batch reaches 1 MiB.
  for (let i = 0; (i + 1) * (RECORD_SIZE + 8) < TARGET; i++) {
    records.push({ key: `key-${String(i).padStart(12, '0')}`, value });
  }
  return encodeRecordBatch({ records, baseTimestamp: 1_700_000_000_000n });
}

function encodeRequest(batch: Buffer): Buffer[] {
  const w = new Writer(256);
  const size = w.reserveInt32();
  writeRequestHeader(w, 2, { requestApiKey: 0, requestApiVersion: VERSION, correlationId: 1, clientId: 'bench' });
  writeProduceRequest(w, VERSION, {
    acks: -1,
    timeoutMs: 30000,
    topicData: [{ name: 'bench', partitionData: [{ index: 0, records: batch }] }],
  });
  w.patchInt32(size, w.length - 4);
  return w.chunks();
}

export function benchProtocol(): Row[] {
  const batch = buildBatch();
  const frame = Buffer.concat(encodeRequest(batch));
  const bytes = frame.length;
  const copyTarget = Buffer.allocUnsafe(bytes);
  const reader = new Reader(frame);

  const decode = (): void => {
    reader.reset(frame, 4);
    readRequestHeader(reader, 2);
    const req = readProduceRequest(reader, VERSION);
    for (const topic of req.topicData) for (const p of topic.partitionData) scanRecordSet(p.records!);
  };
  const decodeOnly = (): void => {
    reader.reset(frame, 4);
    readRequestHeader(reader, 2);
    readProduceRequest(reader, VERSION);
  };
  const crcRef = 'CRC-32C of the frame (reference)';
  return [
    { name: 'copy 1 MiB (reference)', unit: 'MB/s', runs: throughput(() => frame.copy(copyTarget), bytes) },
    { name: crcRef, unit: 'MB/s', runs: throughput(() => crc32c(frame), bytes) },
    {
      name: 'Produce v9 decode + CRC-32C validation',
      unit: 'MB/s',
      runs: throughput(decode, bytes),
      reference: crcRef,
    },
    {
      name: 'Produce v9 decode (header + body, records as a view)',
      unit: 'MB/s',
      runs: throughput(decodeOnly, bytes),
      reference: 'copy 1 MiB (reference)',
    },
    {
      name: 'Produce v9 encode (chunks for writev)',
      unit: 'MB/s',
      runs: throughput(() => encodeRequest(batch), bytes),
      reference: 'copy 1 MiB (reference)',
    },
    {
      name: 'Produce v9 encode into one buffer',
      unit: 'MB/s',
      runs: throughput(() => Buffer.concat(encodeRequest(batch)), bytes),
      reference: 'copy 1 MiB (reference)',
    },
    {
      name: 'record batch encode (1 KiB records, no compression)',
      unit: 'MB/s',
      runs: throughput(buildBatch, bytes),
      reference: 'copy 1 MiB (reference)',
    },
  ];
}
