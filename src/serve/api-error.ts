/**
 * The servers' one error type and one error mapper. Every error thrown while handling a request
 * becomes an ApiError (toApiError): library errors (TinymorphError) are the client's mistake and
 * become 400s, an HTTPException keeps its 4xx status, anything else is a server fault (500, logged;
 * its message says only that it is internal, so a bug never leaks paths or stack traces). A server
 * adds its own errors' mapping (the app's vault errors) and may give the body its own shape (the
 * vault API's); by default the body is OpenAI's error JSON
 *   {"error": {"message", "type", "param", "code"}}
 * as api.openai.com sends it and the official clients parse it (APIError.type/param/code).
 */
import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ClientErrorStatusCode } from 'hono/utils/http-status';
import { SteeringError, TinymorphError } from '../errors.js';
import { SPEC_KEYS } from '../steer/steering-spec.js';

/** OpenAI's error `type` values for the statuses this server answers with. */
export type ApiErrorType = 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error' | 'conflict_error' | 'rate_limit_error' | 'server_error' | 'service_unavailable_error';

export interface OpenAiErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: ClientErrorStatusCode | 500 | 503,
    message: string,
    readonly type: ApiErrorType,
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Seconds for a Retry-After header (429, 503). */
    readonly retryAfter?: number,
    /** The error it stands for, when a body shape needs more of it (the vault's conflict). */
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'ApiError';
  }

  static badRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
    return new ApiError(400, message, 'invalid_request_error', param, code);
  }

  body(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const STEERING_FIELD = new RegExp(`^(?:steering|${SPEC_KEYS.join('|')})(?![\\w])[^\\s:,"]*`);

/** A server's own errors as ApiErrors; undefined for an error it does not know. */
export type ErrorMapper = (e: unknown) => ApiError | undefined;

/** Any error thrown while handling a request, as the ApiError the client sees; `own` is tried first. */
export function toApiError(e: unknown, own?: ErrorMapper): ApiError {
  if (e instanceof ApiError) return e;
  const mapped = own?.(e);
  if (mapped) return mapped;
  // A steering message starts with the field it is about: `steering.features[1].strength must be …`,
  // or `features[1].strength …` where the spec's fields are the body's own (/v1/steer/completion).
  if (e instanceof SteeringError) return ApiError.badRequest(e.message, STEERING_FIELD.exec(e.message)?.[0] ?? 'steering', e.code);
  if (e instanceof TinymorphError) return ApiError.badRequest(e.message, null, e.code);
  if (e instanceof HTTPException) {
    if (e.status >= 400 && e.status < 500) return new ApiError(e.status as ClientErrorStatusCode, e.message || `HTTP ${e.status}`, 'invalid_request_error');
    return new ApiError(500, e.message || `HTTP ${e.status}`, 'server_error');
  }
  process.stderr.write(`tinymorph: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return new ApiError(500, 'internal server error', 'server_error', null, 'internal_error');
}

/** The response for `e`: its status, Retry-After when it has one, and `body(e)` as JSON (OpenAI's shape by default). */
export function errorResponse(c: Context, e: ApiError, body: (e: ApiError) => unknown = (x) => x.body()): Response {
  if (e.retryAfter !== undefined) c.header('Retry-After', String(e.retryAfter));
  return c.json(body(e), e.status);
}

/** An app.onError handler: every error through toApiError (with a server's own mapping first), answered by errorResponse. */
export function errorHandler(o: { own?: ErrorMapper; body?: (e: ApiError) => unknown } = {}): ErrorHandler {
  return (err, c) => errorResponse(c, toApiError(err, o.own), o.body);
}
