/**
 * Full decoding of one record batch v2: CRC check, decompression, and every record with its headers. Keys, values
 * and header values are subarray views of the input when the batch is uncompressed (of the decompressed buffer
 * otherwise). Control batches are decoded like any other: their record key and value stay raw.
 */
import { ProtocolError } from '../codec/protocol-error.js';
import { Reader } from '../codec/reader.js';
import { ATTRIBUTES_OFFSET, headerAt, LOG_OVERHEAD, MIN_RECORD_SIZE, RECORDS_OFFSET } from './batch-header.js';
import { decompress } from './compression.js';
import { crc32c } from './crc32c.js';
import type { KafkaRecord, RecordBatch, RecordHeader } from './types.js';

/** What is left of a decode call's decompression allowance, shared by its batches. */
export interface Budget {
  left: number;
}

export function corruptAt(pos: number, reason: string): ProtocolError {
  return new ProtocolError('corrupt-record', `record batch at byte ${pos}: ${reason}`);
}

/** Decompresses `data` within the budget, charging it. */
export function decompressWithin(codec: number, data: Buffer, budget: Budget, pos: number, legacyLz4 = false): Buffer {
  let out: Buffer;
  try {
    out = decompress(codec, data, { maxBytes: budget.left, legacyLz4 });
  } catch (e) {
    if (e instanceof ProtocolError) throw corruptAt(pos, e.message);
    throw e;
  }
  budget.left -= out.length;
  return out;
}

/**
 * Decodes the v2 batch at `pos` whose batchLength (`batchLength`, already checked to fit in `buf`) is known.
 */
export function decodeBatchV2(
  buf: Buffer,
  pos: number,
  batchLength: number,
  verifyCrc: boolean,
  budget: Budget,
): RecordBatch {
  const end = pos + LOG_OVERHEAD + batchLength;
  const batch = headerAt(buf, pos) as RecordBatch;
  if (verifyCrc) {
    const computed = crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, end));
    if (computed !== batch.crc) {
      throw corruptAt(pos, `CRC-32C mismatch: stored 0x${batch.crc.toString(16)}, computed 0x${computed.toString(16)}`);
    }
  }
  const count = batch.recordCount;
  if (count < 0) throw corruptAt(pos, `negative record count ${count}`);
  if (count === 0) {
    // As in the Java client, an empty batch (compaction keeps them for producer state) has nothing to decode.
    batch.records = [];
    return batch;
  }
  let data = buf;
  let start = pos + RECORDS_OFFSET;
  let stop = end;
  if (batch.compression !== 0) {
    if (batch.compression > 4) throw corruptAt(pos, `unknown compression codec ${batch.compression}`);
    // A compressed batch holds at least one byte per record: refuse absurd counts before decompressing.
    if (count > budget.left / MIN_RECORD_SIZE) {
      throw corruptAt(pos, `record count ${count} exceeds what the decompression limit allows`);
    }
    data = decompressWithin(batch.compression, buf.subarray(start, end), budget, pos);
    start = 0;
    stop = data.length;
  }
  if (count > (stop - start) / MIN_RECORD_SIZE) {
    throw corruptAt(pos, `record count ${count} cannot fit in ${stop - start} bytes of records`);
  }
  batch.records = decodeRecords(data, start, stop, batch, pos);
  return batch;
}

function decodeRecords(data: Buffer, start: number, stop: number, batch: RecordBatch, pos: number): KafkaRecord[] {
  const count = batch.recordCount;
  const records: KafkaRecord[] = [];
  const r = new Reader(data, start, stop);
  const baseOffset = batch.baseOffset;
  const baseTimestamp = batch.baseTimestamp;
  const logAppendTime = batch.timestampType === 1;
  let i = 0;
  try {
    for (; i < count; i++) {
      const length = r.varint();
      if (length < 0 || length > r.remaining()) {
        throw new ProtocolError('corrupt-record', `record length ${length} with ${r.remaining()} bytes left`);
      }
      const recordEnd = r.pos + length;
      r.end = recordEnd;
      r.int8(); // attributes: unused
      const timestampDelta = r.varlong();
      const offsetDelta = r.varint();
      const keyLength = r.varint();
      const key = keyLength === -1 ? null : r.raw(keyLength);
      const valueLength = r.varint();
      const value = valueLength === -1 ? null : r.raw(valueLength);
      const headerCount = r.varint();
      if (headerCount < 0 || headerCount > r.remaining()) {
        throw new ProtocolError('corrupt-record', `header count ${headerCount} with ${r.remaining()} bytes left`);
      }
      const headers: RecordHeader[] = [];
      for (let h = 0; h < headerCount; h++) {
        const hkLength = r.varint();
        const hkAt = r.pos;
        r.raw(hkLength);
        const hk = data.toString('utf8', hkAt, hkAt + hkLength);
        const hvLength = r.varint();
        headers.push({ key: hk, value: hvLength === -1 ? null : r.raw(hvLength) });
      }
      if (r.pos !== recordEnd) {
        throw new ProtocolError('corrupt-record', `record length ${length} disagrees with its content`);
      }
      r.end = stop;
      records.push({
        offset: baseOffset + BigInt(offsetDelta),
        timestamp: logAppendTime ? batch.maxTimestamp : baseTimestamp + timestampDelta,
        key,
        value,
        headers,
      });
    }
  } catch (e) {
    if (e instanceof ProtocolError) throw corruptAt(pos, `record ${i}: ${e.message}`);
    throw e;
  }
  if (r.pos !== stop) throw corruptAt(pos, `${stop - r.pos} bytes follow the last of ${count} records`);
  return records;
}
