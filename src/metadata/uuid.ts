/** Kafka's Uuid in its text form: 16 random bytes as unpadded base64url (22 characters). */
import { randomBytes } from 'node:crypto';

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Kafka reserves Uuid 1 (METADATA_TOPIC_ID's sibling ONE_UUID) as well as zero. */
const ONE_UUID = 'AAAAAAAAAAAAAAAAAAAAAQ';

/** A random topic or cluster id; like Kafka, never the reserved ids and never starting with '-' (CLI-unfriendly). */
export function randomUuid(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (id !== ZERO_UUID && id !== ONE_UUID && !id.startsWith('-')) return id;
  }
}

export function isUuid(text: string): boolean {
  return text.length === 22 && /^[A-Za-z0-9_-]{22}$/.test(text) && Buffer.from(text, 'base64url').length === 16;
}
