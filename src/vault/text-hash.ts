import { createHash } from 'node:crypto';

/** A note's content hash: hex SHA-256 of its UTF-8 bytes. Changes are detected by content, never by mtime. */
export function textHash(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}
