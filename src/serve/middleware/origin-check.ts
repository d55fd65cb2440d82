/**
 * Refuses (403) a browser request whose Origin is neither this server's own origin nor one given
 * with --cors-origin. CORS only stops a page from reading a response; without this a page on any
 * site could still make the local model generate (a cross-site POST needs no preflight). Requests
 * without an Origin (curl, SDKs) are not browsers acting for a page and pass.
 */
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../api-error.js';

export function originCheck(corsOrigins: readonly string[]): MiddlewareHandler {
  return async function originCheck(c, next) {
    const origin = c.req.header('origin');
    const own = `${new URL(c.req.url).protocol}//${c.req.header('host') ?? ''}`;
    if (origin !== undefined && !corsOrigins.includes(origin) && origin.toLowerCase() !== own.toLowerCase()) {
      throw new ApiError(403, `Origin ${JSON.stringify(origin)} is not allowed (start the server with --cors-origin ${origin} to allow it)`, 'permission_error', null, 'origin_not_allowed');
    }
    await next();
  };
}
