/**
 * Headers on every response. The Content-Security-Policy allows only the app's own origin: scripts
 * and styles from its own files (no inline script, no eval), requests to itself only, no frames,
 * no forms posted anywhere; so nothing the writer types can be sent elsewhere even by injected markup.
 * The one exception is a per-response nonce for <style> elements: CodeMirror writes its styles into
 * one (style-mod, with EditorView.cspNonce), and the page reads the nonce from its <meta name=csp-nonce>.
 */
import { randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

/** Hono context variables the app's middleware share. */
export interface AppEnv {
  Variables: { cspNonce: string };
}

function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async function headers(c, next) {
    const nonce = randomBytes(16).toString('base64');
    c.set('cspNonce', nonce);
    await next();
    c.header('Content-Security-Policy', contentSecurityPolicy(nonce));
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
    c.header('X-Frame-Options', 'DENY');
    if (c.req.path.startsWith('/api/')) c.header('Cache-Control', 'no-store');
  };
}
