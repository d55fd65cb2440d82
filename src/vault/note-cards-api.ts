/**
 * The margin-note cards a note keeps in its sidecar file (see src/vault/note-cards.ts), as zod
 * schemas the server validates with and the page parses with. Browser-safe: no Node imports.
 * A card records what made it (seed and the exact `steering` field sent to /v1/completions, absent
 * when unsteered), so a script can ask the server for the same text again.
 */
import * as z from 'zod';
import { VaultPath } from './vault-api.js';

/** At most this many places keep cards per note (the oldest are dropped first). */
export const MAX_CARD_SETS = 50;
/** A sidecar larger than this is refused: cards are a few sentences each, so 256 KiB is far beyond real use. */
export const MAX_CARDS_BYTES = 256 * 1024;

/** Steering specs nest a few levels (spec → features → entry → inline vector); far deeper is not a spec. */
const MAX_JSON_DEPTH = 16;

/**
 * JSON that survives a write and a read unchanged: finite numbers (JSON.stringify writes Infinity
 * as null) and nesting no deeper than MAX_JSON_DEPTH (JSON.stringify recurses, so a deep enough
 * value overflows its stack).
 */
function isPlainJson(v: unknown, depth = 0): boolean {
  if (depth > MAX_JSON_DEPTH) return false;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isPlainJson(x, depth + 1));
  return typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every((x) => isPlainJson(x, depth + 1));
}

export const MarginCard = z.object({
  label: z.string().max(500),
  text: z.string().max(8000),
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  steering: z
    .record(z.string(), z.unknown())
    .refine((s) => isPlainJson(s), `must be plain JSON: finite numbers, nested at most ${MAX_JSON_DEPTH} deep`)
    .optional(),
});
export type MarginCard = z.infer<typeof MarginCard>;

/** The cards offered at one place in the note: `before` is the end of the text before the cursor where they were asked for (the key that finds them again). */
export const CardSet = z.object({
  before: z.string().max(2000),
  cards: z.array(MarginCard).max(16),
  createdAt: z.number(),
});
export type CardSet = z.infer<typeof CardSet>;

export const NoteCards = z.object({ version: z.literal(1).default(1), sets: z.array(CardSet).max(MAX_CARD_SETS).default([]) });
export type NoteCards = z.infer<typeof NoteCards>;

export const SaveCardsBody = z.object({ path: VaultPath, cards: NoteCards });
export type SaveCardsBody = z.infer<typeof SaveCardsBody>;
export const CardsOfNote = z.object({ path: VaultPath, cards: NoteCards });
