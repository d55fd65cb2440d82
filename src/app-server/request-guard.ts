/**
 * Protection for a server on the writer's own machine. DNS rebinding: a web page on another site
 * can make its own host name resolve to 127.0.0.1, so the Host header must name us; cross-site
 * requests: any page may POST to 127.0.0.1, so a request that changes something must come from our
 * origin and carry JSON (which a cross-site form cannot send without a CORS preflight we never grant).
 */
import type { MiddlewareHandler } from 'hono';

/** Host names always allowed: the loopback names a browser uses for the printed address. */
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function requestGuard(allowedHosts: readonly string[] = LOOPBACK_HOSTS): MiddlewareHandler {
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
  return async function guard(c, next) {
    const host = hostName(c.req.header('host'));
    if (host === undefined || !allowed.has(host)) return refuse(c, 403, `Host "${c.req.header('host') ?? ''}" is not this server (allowed: ${[...allowed].join(', ')})`);
    if (!SAFE_METHODS.has(c.req.method)) {
      const origin = c.req.header('origin');
      if (origin !== undefined && (origin === 'null' || !allowed.has(hostName(safeUrlHost(origin)) ?? ''))) return refuse(c, 403, `requests from origin "${origin}" are refused`);
      const type = c.req.header('content-type') ?? '';
      if (!/^application\/json\s*(;|$)/i.test(type)) return refuse(c, 415, `expected Content-Type: application/json, got "${type}"`);
    }
    await next();
  };
}

/** "127.0.0.1:5173" → "127.0.0.1", "[::1]:80" → "[::1]"; undefined for a missing header. */
function hostName(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

function safeUrlHost(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

function refuse(c: Parameters<MiddlewareHandler>[0], status: 403 | 415, message: string): Response {
  return c.json({ error: { message, type: 'invalid_request_error', code: status === 403 ? 'forbidden' : 'unsupported_media_type' } }, status);
}
