/**
 * The page's files (built by scripts/build-app.mjs into dist/app/), read once at startup and served
 * by exact name: no path from a request ever reaches the file system here. index.html gets this
 * response's CSP nonce in place of its placeholder.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Hono } from 'hono';
import { UsageError } from '../errors.js';
import type { AppEnv } from './security-headers.js';

const NONCE_PLACEHOLDER = '__CSP_NONCE__';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
};

export function staticBundle(dir: string): Hono<AppEnv> {
  if (!existsSync(join(dir, 'index.html'))) throw new UsageError(`${dir}: the page is not built (run "npm run build")`);
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) files.set(`/${name}`, { body: readFileSync(join(dir, name)), type });
  }
  const index = files.get('/index.html')?.body.toString('utf8') ?? '';
  const app = new Hono<AppEnv>();
  app.get('/*', (c) => {
    // The page reads ?note=PATH itself, so the page's address serves index.html whatever the query.
    if (c.req.path === '/' || c.req.path === '/index.html') return c.html(index.replaceAll(NONCE_PLACEHOLDER, c.get('cspNonce')), 200, { 'Cache-Control': 'no-store' });
    const file = files.get(c.req.path);
    if (!file) return c.json({ error: { message: `no such file ${c.req.path}`, type: 'invalid_request_error', code: 'not_found' } }, 404);
    return c.body(new Uint8Array(file.body), 200, { 'Content-Type': file.type, 'Cache-Control': 'no-cache' });
  });
  return app;
}
