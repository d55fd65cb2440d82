/**
 * DNS-rebinding guard for a server bound to loopback: a page on evil.example whose name is made to
 * resolve to 127.0.0.1 reaches this server with `Host: evil.example`, so any Host that is not one
 * of the loopback names is refused (403), an empty or missing one too.
 */
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../api-error.js';

/** The host name of a Host header value, without the port: `[::1]:8080` → `[::1]`. */
function hostName(host: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d*)?$/.exec(host.trim());
  return (m ? m[1] : host).toLowerCase();
}

export function hostAllowList(names: readonly string[]): MiddlewareHandler {
  const allowed = new Set(names.map((n) => n.toLowerCase()));
  return async function hostAllowList(c, next) {
    const host = c.req.header('host') ?? '';
    if (!allowed.has(hostName(host))) {
      throw new ApiError(403, `Host ${JSON.stringify(host)} is not one this server answers to (${[...allowed].join(', ')})`, 'permission_error', null, 'host_not_allowed');
    }
    await next();
  };
}
