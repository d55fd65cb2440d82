/**
 * Checking parsed JSON (config files, steering specs, request bodies) against a zod schema, with
 * one-line messages in tinymorph's style: `<field path> must be <what>, got <value>`. Each schema
 * states its expectations with mustBe(), whose message quotes the value through describeValue, so
 * a huge or deeply nested value is shown bounded and Infinity as Infinity. Zod's own ZodError is
 * never turned into a string: its message stringifies the issues whole.
 */
import { z } from 'zod';
import { describeValue } from './describe-value.js';

export type FieldPath = readonly PropertyKey[];

/** A zod error parameter: `must be <what>, got <the value>`. */
export function mustBe(what: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => `must be ${what}, got ${describeValue(issue.input)}` };
}

export const positiveInt = z.int(mustBe('a positive integer')).min(1, mustBe('a positive integer'));
export const nonNegativeInt = z.int(mustBe('a non-negative integer')).min(0, mustBe('a non-negative integer'));

/**
 * `raw` checked and transformed by `schema`; the first problem is thrown as `fail(path, problem)`.
 * An unknown key of a strict object is reported at its own path.
 */
export function validateJson<T>(schema: z.ZodType<T>, raw: unknown, fail: (path: FieldPath, problem: string) => Error): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
  throw fail(path, issue.message);
}

/** `features[0].index`: a path as written in JavaScript, with odd keys quoted (and cut) by describeValue. */
export function formatFieldPath(path: FieldPath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key) && key.length <= 64) out += out === '' ? key : `.${key}`;
    else out += `[${describeValue(typeof key === 'symbol' ? key.toString() : key, 40)}]`;
  }
  return out;
}

/** A root name and a path: `steering` + ['features', 0] → `steering.features[0]`. */
export function joinFieldPath(root: string, path: FieldPath): string {
  const rest = formatFieldPath(path);
  if (root === '') return rest;
  return rest === '' ? root : rest.startsWith('[') ? `${root}${rest}` : `${root}.${rest}`;
}
