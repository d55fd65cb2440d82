/**
 * Reads a JSON request body (or a query string) and validates it with its schema (api-schemas.ts).
 * Every problem is a 400 in OpenAI's error shape whose `param` is the path of the offending field
 * (`messages[0].role`) and whose message says what was wrong and what was sent.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError } from './api-error.js';

export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await c.req.text();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw ApiError.badRequest(`the request body is not valid JSON (${(e as Error).message})`, null, 'invalid_json');
  }
  return validated(raw, schema, 'the request body');
}

/** The query parameters (each given once), validated as a body is. */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  return validated(c.req.query(), schema, 'the query');
}

function validated<S extends z.ZodType>(raw: unknown, schema: S, what: string): z.infer<S> {
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = specific(parsed.error.issues[0]);
  const param = fieldPath(issue.path);
  const got = 'input' in issue && issue.input !== undefined ? ` (got ${describe(issue.input)})` : '';
  throw ApiError.badRequest(`${param ?? what}: ${issue.message}${got}`, param, issue.code);
}

/**
 * For a value that matches no branch of a union, the problem inside the branch it came closest to
 * (the first whose complaint is not about the value's type itself), with the full path; zod's own
 * message for a union is only "Invalid input" (and for a record key "Invalid key in record").
 */
function specific(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  // A bad record key: the key's own complaint, at the key's path.
  if (issue.code === 'invalid_key' && issue.issues[0]) return { ...issue.issues[0], path: issue.path };
  if (issue.code !== 'invalid_union') return issue;
  for (const branch of issue.errors) {
    const inner = branch[0];
    if (inner && !(inner.code === 'invalid_type' && inner.path.length === 0)) return specific({ ...inner, path: [...issue.path, ...inner.path] });
  }
  if (issue.message !== 'Invalid input') return issue; // the schema's own words
  const expected = issue.errors.map((b) => (b[0]?.code === 'invalid_type' ? b[0].expected : undefined)).filter((x) => x !== undefined);
  return { ...issue, message: `expected ${[...new Set(expected)].join(' or ')}` };
}

/** `messages[0].content` from ['messages', 0, 'content']; null for the body itself. */
export function fieldPath(path: readonly PropertyKey[]): string | null {
  if (path.length === 0) return null;
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** A short rendering of the offending value (bodies may be large, or nested too deep to stringify). */
function describe(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? 'an array nested too deep to show' : 'an object nested too deep to show';
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
