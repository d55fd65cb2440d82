/**
 * Reads a JSON request body and validates it with its schema (api-schemas.ts). Every problem is a
 * 400 in OpenAI's error shape whose `param` is the path of the offending field (`messages[0].role`)
 * and whose message says what was wrong and what was sent.
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
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = fieldPath(issue.path);
  const got = 'input' in issue ? ` (got ${describe(issue.input)})` : '';
  throw ApiError.badRequest(`${param ?? 'the request body'}: ${issue.message}${got}`, param, issue.code);
}

/** `messages[0].content` from ['messages', 0, 'content']; null for the body itself. */
export function fieldPath(path: readonly PropertyKey[]): string | null {
  if (path.length === 0) return null;
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** A short rendering of the offending value (bodies may be large). */
function describe(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
