/**
 * KafkaJS's shapes of fetched data: messages with string offsets and timestamps and headers as an object (a
 * repeated header name becomes an array of its values, in order), and the `Batch` handed to eachBatch with its
 * offset and lag helpers, computed as KafkaJS computes them.
 */
import type { ConsumerMessage } from '../consumer/types.js';
import type { Batch, IHeaders, KafkaMessage } from './types.js';

export function toKafkaMessage(m: ConsumerMessage): KafkaMessage {
  const headers: IHeaders = {};
  for (const h of m.headers) {
    // KafkaJS hands out header values as the bytes they are (null stays null).
    const value = h.value as Buffer;
    const seen = headers[h.key];
    if (seen === undefined) headers[h.key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else headers[h.key] = [seen, value];
  }
  return {
    magicByte: 2,
    attributes: 0,
    timestamp: String(m.timestamp),
    offset: String(m.offset),
    key: m.key,
    value: m.value,
    headers,
    isControlRecord: false,
  };
}

export class KafkaJSBatch implements Batch {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly highWatermark: string,
    readonly messages: KafkaMessage[],
  ) {}

  isEmpty(): boolean {
    return this.messages.length === 0;
  }

  firstOffset(): string | null {
    return this.messages.length === 0 ? null : this.messages[0]!.offset;
  }

  /** The last message's offset; for an empty batch the one before the high watermark. */
  lastOffset(): string {
    return this.messages.length === 0
      ? String(BigInt(this.highWatermark) - 1n)
      : this.messages[this.messages.length - 1]!.offset;
  }

  /** Messages after this batch's last one. */
  offsetLag(): string {
    return String(BigInt(this.highWatermark) - 1n - BigInt(this.lastOffset()));
  }

  /** Messages after this batch's first one. */
  offsetLagLow(): string {
    if (this.messages.length === 0) return '0';
    return String(BigInt(this.highWatermark) - 1n - BigInt(this.firstOffset()!));
  }
}
