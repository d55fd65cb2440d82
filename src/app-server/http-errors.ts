/**
 * One mapping from errors to HTTP responses, in OpenAI's error shape `{error: {message, type, code}}`.
 * A user mistake (a TinymorphError) gets its status and its one-line message; anything else is a
 * 500 whose message says only that it is internal, so a bug never leaks paths or stack traces.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { NoteConflictError, TinymorphError, UsageError, VaultError, type VaultProblem } from '../errors.js';
import type { ConflictBody } from '../vault/vault-api.js';

const VAULT_STATUS: Record<VaultProblem, ContentfulStatusCode> = {
  bad_path: 400,
  outside_vault: 403,
  not_found: 404,
  exists: 409,
  conflict: 409,
  too_large: 413,
  bad_file: 500,
};

export function errorResponse(err: Error, c: Context): Response {
  if (err instanceof NoteConflictError) {
    const body: ConflictBody = { error: { message: err.message, type: 'conflict_error', code: err.code }, disk: err.disk, yours: err.yours };
    return c.json(body, 409);
  }
  if (err instanceof VaultError) return c.json({ error: { message: err.message, type: 'invalid_request_error', code: err.code } }, VAULT_STATUS[err.problem]);
  if (err instanceof UsageError) return c.json({ error: { message: err.message, type: 'invalid_request_error', code: err.code } }, 400);
  if (err instanceof TinymorphError) return c.json({ error: { message: err.message, type: 'invalid_request_error', code: err.code } }, 400);
  const status = (err as { status?: number }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return c.json({ error: { message: err.message, type: 'invalid_request_error', code: null } }, status as ContentfulStatusCode);
  }
  process.stderr.write(`tinymorph app: ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}\n`);
  return c.json({ error: { message: 'internal error (see the server log)', type: 'server_error', code: null } }, 500);
}
