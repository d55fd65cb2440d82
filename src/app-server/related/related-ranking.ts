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

/** A profile's tf-idf weights and their L2 norm, what the ranking compares. */
export interface WeightedProfile {
  w: Map<number, number>;
  norm: number;
}

export function weighProfile(p: NoteProfile, idf: Idf): WeightedProfile {
  const w = new Map<number, number>();
  let sq = 0;
  for (const [j, mean] of p.features) {
    const v = mean * idf(j);
    if (v > 0) {
      w.set(j, v);
      sq += v * v;
    }
  }
  return { w, norm: Math.sqrt(sq) };
}

/** The notes most related to `target` (not itself), best first; notes sharing no weighted feature are left out. */
export function rankRelated(target: string, profiles: ReadonlyMap<string, NoteProfile>, idf: Idf, limit: number, sharedPerNote = 3): RelatedNote[] {
  return rankWeighted(target, new Map([...profiles].map(([path, p]) => [path, weighProfile(p, idf)])), limit, sharedPerNote);
}

/** rankRelated over profiles already weighed (an index keeps them between questions). */
export function rankWeighted(target: string, weighted: ReadonlyMap<string, WeightedProfile>, limit: number, sharedPerNote = 3): RelatedNote[] {
  const a = weighted.get(target);
  if (!a || a.norm === 0) return [];
  const out: RelatedNote[] = [];
  for (const [path, b] of weighted) {
    if (path === target) continue;
    let dot = 0;
    // The few most shared features, kept sorted as found (a full sort per note would cost more than the dot product).
    const top: [number, number][] = [];
    for (const [j, va] of a.w) {
      const vb = b.w.get(j);
      if (vb === undefined) continue;
      const v = va * vb;
      dot += v;
      if (top.length < sharedPerNote || better([j, v], top[top.length - 1])) {
        const at = top.findIndex((t) => better([j, v], t));
        top.splice(at < 0 ? top.length : at, 0, [j, v]);
        if (top.length > sharedPerNote) top.pop();
      }
    }
    if (top.length === 0) continue;
    out.push({ path, score: dot / (a.norm * b.norm), shared: top.map(([j]) => j) });
  }
  out.sort((x, y) => y.score - x.score || (x.path < y.path ? -1 : 1));
  return out.slice(0, limit);
}

/** Larger product first; the lower feature index breaks ties. */
const better = (x: readonly [number, number], y: readonly [number, number]): boolean => x[1] > y[1] || (x[1] === y[1] && x[0] < y[0]);
