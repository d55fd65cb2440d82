/**
 * GET /api/related?path=&limit= — the notes related to `path` by SAE features (related-notes-index.ts),
 * each with the shared features named by the feature index's labels. The index is brought up to date
 * first; if that takes longer than a moment (a new vault being profiled), the answer says how far it
 * has got and lists nothing yet, and the page asks again.
 */
import { Hono } from 'hono';
import { UsageError } from '../../errors.js';
import { RelatedQuery, type RelatedNotes } from '../../vault/related-notes-api.js';
import type { Vault } from '../../vault/vault.js';
import type { RelatedNotesIndex } from './related-notes-index.js';

export interface RelatedNotesSource {
  /** The index, or a thrown error with `status` 503 while the model is still loading. */
  index(): RelatedNotesIndex;
  /** The SAE the profiles are made of, as requests name it. */
  readonly source: string;
  labels(features: number[]): Promise<Map<number, string>>;
}

/** How long a request waits for an update before answering with its progress. */
const WAIT_MS = 1500;

export function relatedRoutes(vault: Vault, related: RelatedNotesSource): Hono {
  return new Hono().get('/related', async (c) => {
    const q = RelatedQuery.safeParse(c.req.query());
    if (!q.success) throw new UsageError(`/api/related: ${q.error.issues.map((i) => `${i.path.join('.') || 'query'} ${i.message}`).join('; ')}`);
    const { path, limit } = q.data;
    if (!vault.peek(path)) vault.read(path); // the vault's own error: a bad path, one outside the vault, or no such note
    let index: RelatedNotesIndex;
    try {
      index = related.index();
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status !== 503) throw e;
      return c.json({ error: { message: (e as Error).message, type: 'service_unavailable_error', code: 'model_loading' } }, 503);
    }
    const updated = index.update().then(() => true);
    const ready = await Promise.race([updated, new Promise<false>((r) => setTimeout(() => r(false), WAIT_MS).unref())]);
    if (!ready) return c.json({ path, source: related.source, building: index.progress ?? { done: 0, total: 0 }, notes: [] } satisfies RelatedNotes);
    const ranked = index.related(path, limit);
    const labels = await related.labels([...new Set(ranked.flatMap((r) => r.shared))]);
    const notes = ranked.map((r) => ({ path: r.path, score: r.score, shared: r.shared.map((feature) => ({ feature, label: labels.get(feature) ?? '' })) }));
    return c.json({ path, source: related.source, building: null, notes } satisfies RelatedNotes);
  });
}
