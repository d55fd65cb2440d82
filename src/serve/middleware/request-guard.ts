/**
 * The one guard in front of both servers (the API server's routes, and the writing app's page,
 * vault API and the API routes it mounts), for a server on the user's own machine:
 * - DNS rebinding: a page on evil.example whose name is made to resolve to 127.0.0.1 reaches the
 *   server with `Host: evil.example`, so on a loopback bind any Host that is not one of the
 *   allowed names is refused (403), an empty or missing one too.
 * - Cross-site requests: CORS only stops a page from reading a response; any page may still POST
 *   to 127.0.0.1 (a cross-site POST needs no preflight). So a request whose Origin is neither the
 *   server's own nor one given with --cors-origin is refused (403). Requests without an Origin
 *   (curl, SDKs) are not a browser acting for a page and pass.
 * - With `jsonBodies` (the vault API), a state-changing request must carry JSON (415 otherwise),
 *   which a cross-site form cannot send without a CORS preflight that is never granted.
 * Refusals are ApiErrors, so each server's error mapper answers them in its own shape.
 */
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../api-error.js';

/** Host names a loopback server answers to: the names a browser uses for the printed address. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', 'localhost', '[::1]'];

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface RequestGuardOptions {
  /** Host names the Host header may carry; undefined: any (a non-loopback bind, guarded by its API key). */
  allowedHosts?: readonly string[];
  /** Origins besides the server's own that pages may send requests from (--cors-origin). */
  corsOrigins?: readonly string[];
  /** Refuse (415) a POST/PUT/PATCH/DELETE whose Content-Type is not application/json. */
  jsonBodies?: boolean;
}

export function requestGuard(o: RequestGuardOptions = {}): MiddlewareHandler {
  const allowed = o.allowedHosts && new Set(o.allowedHosts.map((h) => h.toLowerCase()));
  const corsOrigins = o.corsOrigins ?? [];
  return async function requestGuard(c, next) {
    const host = c.req.header('host') ?? '';
    if (allowed && !allowed.has(hostName(host))) {
      throw new ApiError(403, `Host ${JSON.stringify(host)} is not one this server answers to (${[...allowed].join(', ')})`, 'permission_error', null, 'host_not_allowed');
    }
    const origin = c.req.header('origin');
    const own = `${new URL(c.req.url).protocol}//${host}`;
    if (origin !== undefined && !corsOrigins.includes(origin) && origin.toLowerCase() !== own.toLowerCase()) {
      throw new ApiError(403, `Origin ${JSON.stringify(origin)} is not allowed (start the server with --cors-origin ${origin} to allow it)`, 'permission_error', null, 'origin_not_allowed');
    }
    if (o.jsonBodies && !SAFE_METHODS.has(c.req.method)) {
      const type = c.req.header('content-type') ?? '';
      if (!/^application\/json\s*(;|$)/i.test(type)) throw new ApiError(415, `expected Content-Type: application/json, got ${JSON.stringify(type)}`, 'invalid_request_error', 'content-type', 'unsupported_media_type');
    }
    await next();
  };
}

/** The host name of a Host header value, without the port: `[::1]:8080` → `[::1]`. */
function hostName(host: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d*)?$/.exec(host.trim());
  return (m ? m[1] : host).toLowerCase();
}
