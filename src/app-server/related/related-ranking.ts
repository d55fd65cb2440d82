/**
 * Which notes are related, from their SAE feature profiles (sae/feature-index/feature-profile.ts):
 * tf-idf over features instead of words (Salton & Buckley 1988; the retrieval-with-SAEs sketch in
 * the project's glossary). A note's weight for feature j is its mean activation of j times an
 * inverse document frequency, so that a feature that fires everywhere (punctuation, "the", the
 * start of a story) counts little and a rare one counts most:
 *   corpusIdf: idf_j = −ln(density_j), the feature's firing density on the SAE's training text
 *              (SAELens' sparsity.safetensors) — "fires everywhere" measured on millions of tokens;
 *   vaultIdf:  idf_j = ln((1 + N) / (1 + df_j)) over the vault's N notes (for an SAE without one).
 * On the two-topic test vault (test/app-server/two-topic-notes.ts, blocks.2 SAE) the corpus idf
 * ranks all five same-topic notes first for 12 of 12 notes, the vault idf for 10 of 12: twelve
 * notes are too few to tell a common feature from a topical one. Notes are ranked by the cosine of
 * their weight vectors; the features they share are those with the largest product of weights.
 */

export interface NoteProfile {
  /** [feature, mean activation] pairs, strongest first. */
  features: readonly (readonly [number, number])[];
}

export interface RelatedNote {
  path: string;
  /** Cosine similarity of the tf-idf weighted profiles, in [0, 1]. */
  score: number;
  /** The features both notes weigh, most shared first. */
  shared: number[];
}

export type Idf = (feature: number) => number;

/** From SAELens' `sparsity` (log10 of each feature's firing density); a feature never seen firing gets the rarest seen one's weight. */
export function corpusIdf(log10Density: Float32Array): Idf {
  const finite = [...log10Density].filter(Number.isFinite);
  const rarest = finite.length ? Math.min(...finite) : 0;
  return (j) => -(Number.isFinite(log10Density[j]) ? log10Density[j] : rarest) * Math.LN10;
}

export function vaultIdf(profiles: Iterable<NoteProfile>): Idf {
  const df = new Map<number, number>();
  let n = 0;
  for (const p of profiles) {
    n++;
    for (const [j] of p.features) df.set(j, (df.get(j) ?? 0) + 1);
  }
  return (j) => Math.log((1 + n) / (1 + (df.get(j) ?? 0)));
}

function weights(p: NoteProfile, idf: Idf): Map<number, number> {
  const w = new Map<number, number>();
  for (const [j, mean] of p.features) {
    const v = mean * idf(j);
    if (v > 0) w.set(j, v);
  }
  return w;
}

const norm = (w: ReadonlyMap<number, number>): number => Math.sqrt([...w.values()].reduce((s, v) => s + v * v, 0));

/** The notes most related to `target` (not itself), best first; notes sharing no weighted feature are left out. */
export function rankRelated(target: string, profiles: ReadonlyMap<string, NoteProfile>, idf: Idf, limit: number, sharedPerNote = 3): RelatedNote[] {
  const own = profiles.get(target);
  if (!own) return [];
  const a = weights(own, idf);
  const na = norm(a);
  if (na === 0) return [];
  const out: RelatedNote[] = [];
  for (const [path, p] of profiles) {
    if (path === target) continue;
    const b = weights(p, idf);
    const products: [number, number][] = [];
    for (const [j, va] of a) {
      const vb = b.get(j);
      if (vb !== undefined) products.push([j, va * vb]);
    }
    if (products.length === 0) continue;
    const dot = products.reduce((s, [, v]) => s + v, 0);
    products.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    out.push({ path, score: dot / (na * norm(b)), shared: products.slice(0, sharedPerNote).map(([j]) => j) });
  }
  out.sort((x, y) => y.score - x.score || (x.path < y.path ? -1 : 1));
  return out.slice(0, limit);
}
