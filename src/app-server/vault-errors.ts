/**
 * What differs in the app server's error answers (the mapping itself is api-error.ts's, shared
 * with the API server): vault errors get the status their problem calls for, and the vault API's
 * body is `{error: {message, type, code}}` (OpenAI's shape without `param`, which vault-api.ts
 * validates), plus the disk and the writer's versions on a save conflict.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { NoteConflictError, VaultError, type VaultProblem } from '../errors.js';
import { ApiError } from '../serve/api-error.js';
import type { ConflictBody } from '../vault/vault-api.js';

const VAULT_STATUS: Record<VaultProblem, ContentfulStatusCode & ApiError['status']> = {
  bad_path: 400,
  outside_vault: 403,
  not_found: 404,
  exists: 409,
  conflict: 409,
  too_large: 413,
  bad_file: 500,
};

/** A vault error as the ApiError the page sees; undefined for any other error. */
export function vaultApiError(e: unknown): ApiError | undefined {
  if (e instanceof NoteConflictError) return new ApiError(409, e.message, 'conflict_error', null, e.code, undefined, e);
  if (e instanceof VaultError) return new ApiError(VAULT_STATUS[e.problem], e.message, 'invalid_request_error', null, e.code);
  return undefined;
}

/** The vault API's error body. */
export function vaultErrorBody(e: ApiError): { error: { message: string; type: string; code: string | null } } | ConflictBody {
  const error = { message: e.message, type: e.type, code: e.code };
  if (e.cause instanceof NoteConflictError) return { error, disk: e.cause.disk, yours: e.cause.yours };
  return { error };
}
