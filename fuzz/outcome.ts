/**
 * What one fuzz input did, and the crash classes that group the bad outcomes. Fine: a valid result,
 * or a TinymorphError whose message is one clear line. Everything else is a crash, grouped by kind,
 * exception type and the first frame in our own code, so that a thousand inputs hitting one bug
 * count as one class.
 */
import { relative, sep } from 'node:path';
import { TinymorphError } from '../src/errors.js';
import { packageRoot } from '../src/util/package-root.js';

export type Outcome =
  | { kind: 'valid' }
  | { kind: 'rejected'; code: string }
  | { kind: 'crash'; crashClass: string; message: string };

/** An error line longer than this is not "one clear line" (an echoed 5,000-level value is 10 kB). */
export const MAX_MESSAGE_CHARS = 1024;

/**
 * Internal values that leak into user errors: a token id read past an array (`token id undefined`),
 * an object printed as `[object Object]`, the batch row of a request (`requests[1].steering`). (A
 * missing JSON field reported as `got undefined` says what the file holds, and is not one.)
 */
const LEAKS: readonly [RegExp, string][] = [
  [/\btoken id\b.*\b(?:undefined|NaN)\b/, 'token id undefined in the message'],
  [/\[object Object\]/, '[object Object] in the message'],
  [/\brequests\[\d+\]/, 'internal request row in the message'],
];

/**
 * Thrown by a target when a reader accepted what it must not (a vector of the wrong width
 * silently cut, an empty generation from a valid request): a crash class of its own.
 */
export class AcceptedBadInput extends Error {}

export function classifyError(e: unknown): Outcome {
  if (e instanceof TinymorphError) {
    const problem = messageProblem(e.message);
    if (problem === undefined) return { kind: 'rejected', code: e.code };
    return { kind: 'crash', crashClass: `${problem}: ${e.name} at ${topFrame(e.stack)}`, message: firstLine(e.message) };
  }
  if (e instanceof AcceptedBadInput) return { kind: 'crash', crashClass: `accepted: ${e.message}`, message: e.message };
  if (e instanceof Error) {
    const what = /Maximum call stack size exceeded/.test(e.message) ? 'stack overflow' : e.name;
    return { kind: 'crash', crashClass: `${what} at ${topFrame(e.stack)}`, message: firstLine(e.message) };
  }
  return { kind: 'crash', crashClass: `non-Error thrown (${typeof e})`, message: firstLine(String(e)) };
}

/** Why a user-facing error message is not one clear line, or undefined when it is. */
export function messageProblem(message: string): string | undefined {
  if (message.includes('\n')) return 'multi-line error message';
  if (message.length > MAX_MESSAGE_CHARS) return `error message over ${MAX_MESSAGE_CHARS} chars`;
  for (const [pattern, what] of LEAKS) if (pattern.test(message)) return what;
  return undefined;
}

/**
 * The first frame of a stack trace (an Error's, or one a process printed) in our own code, node
 * internals and dependencies skipped, as "fn (src/file.ts:line)"; "none" when there is no frame.
 */
export function topFrame(stack = ''): string {
  const frames = stack.split('\n').filter((l) => /^\s+at /.test(l)).map((l) => l.trim().slice(3));
  const root = packageRoot();
  const ours = frames.find((f) => f.includes(root) && !f.includes(`${sep}node_modules${sep}`)) ?? frames[0] ?? 'none';
  // file:///…/src/x.ts:12:5 → src/x.ts:12 (the column makes one bug many classes).
  return ours.replace(/(?:file:\/\/)?(\/[^():]+):(\d+):\d+/, (_m, file: string, line: string) => `${relative(root, file)}:${line}`);
}

export function firstLine(text: string): string {
  const line = text.split('\n')[0];
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
