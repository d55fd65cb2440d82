/**
 * The vault's HTTP API (mounted under /api by createAppServer). Every body and query is checked
 * against the shared schemas in src/vault/vault-api.ts; paths are confined by the Vault itself, so
 * the page's own checks are a convenience, never the protection.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type * as z from 'zod';
import { UsageError } from '../errors.js';
import { MAX_CARDS_BYTES, SaveCardsBody } from '../vault/note-cards-api.js';
import type { Vault } from '../vault/vault.js';
import type { VaultWatcher } from '../vault/vault-watcher.js';
import {
  CreateFolderBody,
  CreateNoteBody,
  PathQuery,
  RenameBody,
  RestoreBody,
  SaveNoteBody,
  SearchQuery,
  Settings,
  TrashBody,
  TrashIdBody,
  TrashRestoreBody,
  VersionQuery,
  type VaultEvent,
} from '../vault/vault-api.js';

/** Idle SSE connections get a comment line this often, so proxies and browsers keep them open. */
const KEEPALIVE_MS = 20_000;

export function vaultRoutes(vault: Vault, watcher?: VaultWatcher): Hono {
  const app = new Hono();
  // JSON escaping can double a note's size (quotes, backslashes, control characters), plus the other fields.
  const limit = bodyLimit({
    maxSize: 2 * vault.maxNoteBytes + 64 * 1024,
    onError: (c) => c.json({ error: { message: `request body over ${2 * vault.maxNoteBytes + 64 * 1024} bytes`, type: 'invalid_request_error', code: 'vault_too_large' } }, 413),
  });

  app.get('/vault/tree', (c) => c.json(vault.tree()));
  app.get('/vault/note', (c) => c.json(vault.read(query(c, PathQuery).path)));
  app.put('/vault/note', limit, async (c) => {
    const b = await body(c, SaveNoteBody);
    return c.json(vault.save(b.path, b.text, b.baseHash));
  });
  app.post('/vault/note', limit, async (c) => {
    const b = await body(c, CreateNoteBody);
    return c.json(vault.create(b.path, b.text), 201);
  });
  app.post('/vault/folder', async (c) => {
    const b = await body(c, CreateFolderBody);
    vault.createFolder(b.path);
    return c.json({ path: b.path }, 201);
  });
  app.post('/vault/rename', async (c) => {
    const b = await body(c, RenameBody);
    return c.json(vault.rename(b.from, b.to));
  });
  app.post('/vault/trash', async (c) => {
    const b = await body(c, TrashBody);
    return c.json({ path: b.path, trashedTo: vault.trash(b.path) });
  });
  app.get('/vault/trash', (c) => c.json({ entries: vault.trashList() }));
  app.post('/vault/trash/restore', async (c) => {
    const b = await body(c, TrashRestoreBody);
    return c.json(vault.restoreFromTrash(b.id, b.freeName));
  });
  app.post('/vault/trash/delete', async (c) => {
    const b = await body(c, TrashIdBody);
    return c.json({ deleted: vault.deleteFromTrash(b.id) });
  });
  app.post('/vault/trash/empty', (c) => c.json({ deleted: vault.emptyTrash() }));
  app.get('/vault/history', (c) => {
    const { path } = query(c, PathQuery);
    return c.json({ path, versions: vault.versions(path) });
  });
  app.get('/vault/history/version', (c) => {
    const { path, id } = query(c, VersionQuery);
    return c.json({ path, id, text: vault.version(path, id) });
  });
  app.post('/vault/history/restore', async (c) => {
    const b = await body(c, RestoreBody);
    return c.json(vault.restore(b.path, b.id, b.baseHash));
  });
  // Margin-note cards, kept in the note's sidecar (src/vault/note-cards.ts).
  const cardsLimit = bodyLimit({
    maxSize: 2 * MAX_CARDS_BYTES,
    onError: (c) => c.json({ error: { message: `request body over ${2 * MAX_CARDS_BYTES} bytes`, type: 'invalid_request_error', code: 'vault_too_large' } }, 413),
  });
  app.get('/vault/cards', (c) => {
    const { path } = query(c, PathQuery);
    return c.json({ path, cards: vault.cards(path) });
  });
  app.put('/vault/cards', cardsLimit, async (c) => {
    const b = await body(c, SaveCardsBody);
    vault.saveCards(b.path, b.cards);
    return c.json({ path: b.path, cards: b.cards });
  });
  app.get('/vault/search', (c) => {
    const { q, limit: n } = query(c, SearchQuery);
    const start = performance.now();
    const hits = vault.search(q, n);
    return c.json({ query: q, hits, ms: performance.now() - start });
  });
  app.get('/vault/events', (c) => {
    if (!watcher) return c.json({ error: { message: 'this server does not watch the vault', type: 'invalid_request_error', code: 'not_found' } }, 404);
    return streamSSE(c, async (stream) => {
      const unsubscribe = watcher.subscribe((e: VaultEvent) => void stream.writeSSE({ data: JSON.stringify(e) }));
      stream.onAbort(unsubscribe);
      while (!stream.aborted) {
        await stream.sleep(KEEPALIVE_MS);
        if (!stream.aborted) await stream.write(': keepalive\n\n');
      }
    });
  });
  app.get('/settings', (c) => c.json(vault.settings()));
  app.put('/settings', async (c) => {
    const s = await body(c, Settings);
    vault.saveSettings(s);
    return c.json(s);
  });
  return app;
}

/** The request's JSON body checked against `schema`, or a UsageError naming the first wrong field. */
async function body<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let json: unknown;
  try {
    json = await c.req.json();
  } catch {
    throw new UsageError('request body is not valid JSON');
  }
  return check(schema, json, 'body');
}

function query<S extends z.ZodType>(c: Context, schema: S): z.infer<S> {
  return check(schema, c.req.query(), 'query');
}

function check<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new UsageError(`${[where, ...issue.path].join('.')}: ${issue.message}`);
}
