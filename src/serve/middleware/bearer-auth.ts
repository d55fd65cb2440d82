/**
 * API-key check as OpenAI's API does it: `Authorization: Bearer <key>`, 401 in OpenAI's error
 * JSON otherwise. The comparison takes the same time wherever the keys differ (timingSafeEqual on
 * SHA-256 digests, so lengths leak nothing either). `publicPaths` (the health probe) need no key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../api-error.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function bearerAuth(apiKey: string, publicPaths: readonly string[] = []): MiddlewareHandler {
  const expected = digest(apiKey);
  return async function bearerAuth(c, next) {
    if (!publicPaths.includes(c.req.path)) {
      const m = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '');
      if (!m || !timingSafeEqual(digest(m[1].trim()), expected)) {
        throw new ApiError(401, m ? 'Incorrect API key provided' : 'You didn\'t provide an API key: send it as "Authorization: Bearer <key>"', 'authentication_error', null, 'invalid_api_key');
      }
    }
    await next();
  };
}
