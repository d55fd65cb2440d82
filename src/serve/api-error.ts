/**
 * The server's one error type, mapped once (app.ts onError) to OpenAI's error JSON:
 *   {"error": {"message", "type", "param", "code"}}
 * as api.openai.com sends it and the official clients parse it (APIError.type/param/code). Library
 * errors (TinymorphError) thrown while serving a request are the client's mistake and become 400s
 * through toApiError; anything else is a server fault (500) and is logged.
 */
import { HTTPException } from 'hono/http-exception';
import { SteeringError, TinymorphError } from '../errors.js';
import { SPEC_KEYS } from '../steer/steering-spec.js';

/** OpenAI's error `type` values for the statuses this server answers with. */
export type ApiErrorType = 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error' | 'rate_limit_error' | 'server_error' | 'service_unavailable_error';

export interface OpenAiErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 413 | 429 | 500 | 503,
    message: string,
    readonly type: ApiErrorType,
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Seconds for a Retry-After header (429, 503). */
    readonly retryAfter?: number,
  ) {
    super(message);
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

/** Any error thrown while handling a request, as the ApiError the client sees. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  // A steering message starts with the field it is about: `steering.features[1].strength must be …`,
  // or `features[1].strength …` where the spec's fields are the body's own (/v1/steer/completion).
  if (e instanceof SteeringError) return ApiError.badRequest(e.message, STEERING_FIELD.exec(e.message)?.[0] ?? 'steering', e.code);
  if (e instanceof TinymorphError) return ApiError.badRequest(e.message, null, e.code);
  if (e instanceof HTTPException) {
    const status = e.status === 413 ? 413 : e.status < 500 ? 400 : 500;
    return new ApiError(status, e.message || `HTTP ${e.status}`, status === 500 ? 'server_error' : 'invalid_request_error');
  }
  process.stderr.write(`tinymorph serve: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return new ApiError(500, 'internal server error', 'server_error', null, 'internal_error');
}
