/**
 * The related-notes route's typed description (GET /api/related), shared by the server and the
 * page as vault-api.ts is. Nothing here may import Node modules: this file runs in the browser too.
 */
import * as z from 'zod';
import { VaultPath } from './vault-api.js';

export const RelatedQuery = z.object({ path: VaultPath, limit: z.coerce.number().int().min(1).max(50).default(8) });

export const RelatedNotes = z.object({
  path: VaultPath,
  /** The SAE whose features the profiles are made of (a shipped SAE's hook). */
  source: z.string(),
  /** While the index is being built or brought up to date: notes profiled of those that need it; the list is empty meanwhile. */
  building: z.object({ done: z.number(), total: z.number() }).nullable(),
  notes: z.array(
    z.object({
      path: VaultPath,
      /** Cosine similarity of the two notes' tf-idf weighted feature profiles, 0…1. */
      score: z.number(),
      /** The features both notes weigh most, each with its label from the feature index. */
      shared: z.array(z.object({ feature: z.number().int(), label: z.string() })),
    }),
  ),
});
export type RelatedNotes = z.infer<typeof RelatedNotes>;
