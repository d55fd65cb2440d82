/**
 * The writing app's HTTP server: the page's static files, the vault API under /api, and (merged
 * later) the model's OpenAI-compatible routes beside them, all behind one request guard and one set
 * of security headers. `createAppServer` only builds the Hono app; `listenAppServer` binds it.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { Vault } from '../vault/vault.js';
import type { VaultWatcher } from '../vault/vault-watcher.js';
import { errorHandler } from '../serve/api-error.js';
import { LOOPBACK_HOSTS, requestGuard } from '../serve/middleware/request-guard.js';
import { securityHeaders, type AppEnv } from './security-headers.js';
import { staticBundle } from './static-bundle.js';
import { vaultErrorBody, vaultApiError } from './vault-errors.js';
import { vaultRoutes } from './vault-routes.js';

export interface AppServerOptions {
  vault: Vault;
  watcher?: VaultWatcher;
  /** The built page (dist/app). */
  pageDir: string;
  /** Host names the Host header may carry (default: the loopback names). */
  allowedHosts?: readonly string[];
  /** More routes to mount before the page's catch-all (the OpenAI-compatible API, when merged). */
  mount?: (app: Hono<AppEnv>) => void;
}

export function createAppServer(o: AppServerOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(securityHeaders());
  app.use(requestGuard({ allowedHosts: o.allowedHosts ?? LOOPBACK_HOSTS, jsonBodies: true }));
  app.onError(errorHandler({ own: vaultApiError, body: vaultErrorBody }));
  app.route('/api', vaultRoutes(o.vault, o.watcher));
  o.mount?.(app);
  app.route('/', staticBundle(o.pageDir));
  return app;
}

export interface ListeningServer {
  url: string;
  port: number;
  server: ServerType;
  close(): Promise<void>;
}

/** Bind `app` on `hostname:port` (port 0 picks a free one) and resolve once it listens. */
export function listenAppServer(app: Hono<AppEnv>, hostname: string, port: number): Promise<ListeningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port }, (info: AddressInfo) => {
      const host = hostname.includes(':') ? `[${hostname}]` : hostname;
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        server,
        close: () =>
          new Promise<void>((done) => {
            // Open event streams would otherwise keep close() waiting for ever.
            if ('closeAllConnections' in server) server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
    server.once('error', reject);
  });
}
