/**
 * Errors across a worker-thread boundary. Structured cloning keeps an Error's message but not its
 * class, so a TinymorphError (a user's mistake: a bad file, a text with no tokens) would arrive as a
 * plain Error and be answered as a server fault. Errors travel as {code, message} and come back as
 * TinymorphErrors with the same code and message; anything else stays a plain Error (a fault).
 */
import { TinymorphError } from '../errors.js';

export interface WorkerError {
  /** The TinymorphError code; undefined for any other error. */
  code?: string;
  message: string;
}

export function toWorkerError(e: unknown): WorkerError {
  if (e instanceof TinymorphError) return { code: e.code, message: e.message };
  return { message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}

export function fromWorkerError(e: WorkerError): Error {
  return e.code === undefined ? new Error(e.message) : new TinymorphError(e.code, e.message);
}

/** The distinct ArrayBuffers under `value`'s typed arrays: what a message can hand over instead of copying. */
export function arrayBuffersIn(value: unknown, found = new Set<ArrayBuffer>()): ArrayBuffer[] {
  if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) found.add(value.buffer);
  } else if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) arrayBuffersIn(v, found);
  }
  return [...found];
}
