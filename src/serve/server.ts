/**
 * Starts the server: checks the bind is safe, listens (so /health answers 503 while the model
 * loads), loads the model and its scheduler, and hands back a handle that closes everything in
 * order — stop accepting connections, let running generations finish for a grace period, cancel
 * the rest, then close the sockets.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, extname } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import { UsageError } from '../errors.js';
import type { LoadedModel, LoadOptions } from '../model/load-model.js';
import { SteeringContext } from '../steer/steering-context.js';
import { AnalysisThread } from './analysis/analysis-thread.js';
import { ApiError } from './api-error.js';
import { createApp } from './app.js';
import type { FeatureIndexOptions } from './feature-indexes.js';
import { FeatureIndexes } from './feature-indexes.js';
import { loadModelOffThread } from './load-model-off-thread.js';
import { LOOPBACK_HOSTS } from './middleware/request-guard.js';
import type { SchedulerOptions } from './scheduler.js';
import { Scheduler } from './scheduler.js';
import type { ServeEngine } from './serve-engine.js';
import { EngineRef } from './serve-engine.js';

export interface ServerOptions extends LoadOptions {
  /** Default 127.0.0.1; any other address needs apiKey. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  apiKey?: string;
  corsOrigins?: readonly string[];
  maxBodyBytes?: number;
  scheduler?: Partial<SchedulerOptions>;
  /** Where feature indexes live and how big one built on first use is. */
  features?: FeatureIndexOptions;
  /** A model in memory or on its way (the editor, tests) instead of loading the files named in LoadOptions. */
  loaded?: LoadedParts | Promise<LoadedParts>;
  /** Called once the port is bound, before the model has loaded (requests meanwhile get 503). */
  onListening?: (url: string) => void;
}

export type LoadedParts = Pick<LoadedModel, 'model' | 'tokenizer' | 'modelPath' | 'tokenizerPath'>;

export interface RunningServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  host: string;
  port: number;
  app: Hono;
  engine: ServeEngine;
  /** Stops accepting, gives running generations `graceMs` to finish, cancels the rest, closes every connection. */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8080;
const DEFAULT_GRACE_MS = 3000;

/** Names that reach only this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startServer(o: ServerOptions = {}): Promise<RunningServer> {
  const host = o.host ?? DEFAULT_HOST;
  const port = o.port ?? DEFAULT_PORT;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) throw new UsageError(`port must be an integer in 0..65535, got ${port}`);
  if (o.apiKey !== undefined && o.apiKey.trim() === '') throw new UsageError('the API key must not be empty');
  if (!isLoopback(host) && o.apiKey === undefined) {
    throw new UsageError(`refusing to listen on ${host} without an API key: anyone who can reach it could use the model (give --api-key, or bind 127.0.0.1)`);
  }
  const loopback = isLoopback(host);
  const engines = new EngineRef();
  const loopbackNames = [...LOOPBACK_HOSTS, host.includes(':') ? `[${host}]` : host];
  const app = createApp({ engines, allowedHosts: loopback ? loopbackNames : undefined, apiKey: o.apiKey, corsOrigins: o.corsOrigins, maxBodyBytes: o.maxBodyBytes });
  // A request too malformed to become a Request (no Host, a bad one, a bad target) never reaches
  // the app; it is answered here, in the same error JSON. Node's own 400 for a missing Host is off
  // so that a loopback server can refuse it as the Host allow-list would (403).
  const listener = getRequestListener(app.fetch, { errorHandler: (e) => malformedRequest(e, loopback) });
  const server = createServer({ requireHostHeader: false }, listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new UsageError(`cannot listen on ${host}:${port}: ${e.code ?? e.message}`)));
    server.listen(port, host, resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;
  o.onListening?.(url);

  let engine: ServeEngine;
  try {
    // Off the event loop: until it is done, every request (/health included) is answered 503.
    engine = buildEngine(await (o.loaded ?? loadModelOffThread(o)), o);
    engines.current = engine;
  } catch (e) {
    server.close();
    throw e;
  }

  const close = async (graceMs = DEFAULT_GRACE_MS): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await closeEngine(engine, graceMs);
    // Cancelled streams end their responses now; sockets still open after a moment are dropped.
    const force = setTimeout(() => 'closeAllConnections' in server && server.closeAllConnections(), 500);
    await closed;
    clearTimeout(force);
  };
  return { url, host, port: bound, app, engine, close };
}

/** What the routes serve from, for a loaded model: the scheduler, steering, and the analysis thread behind the feature routes. */
export function buildEngine(parts: LoadedParts, o: Pick<ServerOptions, 'scheduler' | 'features'> = {}): ServeEngine {
  const { model, tokenizer, modelPath, tokenizerPath } = parts;
  const analysis = new AnalysisThread(model, tokenizerPath);
  return {
    modelId: basename(modelPath, extname(modelPath)),
    created: Math.floor(Date.now() / 1000),
    model,
    tokenizer,
    steering: new SteeringContext(model, tokenizer),
    scheduler: new Scheduler(model, tokenizer, o.scheduler),
    analysis,
    features: new FeatureIndexes(analysis, o.features),
  };
}

/** Lets running generations finish for `graceMs`, cancels the rest, and stops the engine's threads. */
export async function closeEngine(engine: ServeEngine, graceMs = DEFAULT_GRACE_MS): Promise<void> {
  await engine.scheduler.close(graceMs);
  await engine.analysis.close();
  await engine.features.close();
}

function malformedRequest(e: unknown, loopback: boolean): Response {
  const message = e instanceof Error ? e.message : String(e);
  const error = loopback && /host/i.test(message)
    ? new ApiError(403, `${message}: a loopback server answers only to localhost, 127.0.0.1 and [::1]`, 'permission_error', null, 'host_not_allowed')
    : ApiError.badRequest(`malformed request: ${message}`, null, 'malformed_request');
  return Response.json(error.body(), { status: error.status });
}
