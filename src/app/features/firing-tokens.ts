/**
 * From explain-text's answer for a paragraph to what "what fires here" marks: each token's place in
 * the note, how strongly the watched features fire on it (activationLevel, relative to each
 * feature's strongest activation in the paragraph), and the features to list when it is hovered.
 * Watched are the features the vault steers with (`chosen`, which the request asked explain-text
 * to report at every token), or else the paragraph's top features by summed activation.
 */
import { activationLevel } from './activation-level.js';
import type { Explanation } from './features-client.js';

/** Paragraph features watched when the writer steers with none. */
export const TOP_WATCHED = 3;

export interface TokenFeature {
  feature: number;
  act: number;
  label: string;
  /** One of the features the marks show (listed first, drawn stronger). */
  watched: boolean;
}

export interface FiringToken {
  from: number;
  to: number;
  /** 0 (no watched feature fires) to ACTIVATION_LEVELS. */
  level: number;
  /** Watched features that fire here, then the token's strongest others. */
  features: TokenFeature[];
}

export function firingTokens(r: Explanation, offset: number, chosen: readonly number[]): FiringToken[] {
  const label = (f: number): string => r.labels[String(f)] ?? '';
  const watched = chosen.length > 0 ? [...chosen] : r.top.slice(0, TOP_WATCHED).map((f) => f.feature);
  const actAt = (t: Explanation['tokens'][number], i: number): number =>
    chosen.length > 0 ? (t.chosen?.[i] ?? 0) : (t.features.find((f) => f.feature === watched[i])?.act ?? 0);
  const peak = watched.map((_, i) => Math.max(0, ...r.tokens.map((t) => actAt(t, i))));
  return r.tokens.map((t) => {
    const mine = watched.map((feature, i) => ({ feature, act: actAt(t, i), label: label(feature), watched: true })).filter((f) => f.act > 0);
    const level = Math.max(0, ...mine.map((f) => activationLevel(f.act, peak[watched.indexOf(f.feature)])));
    const others = t.features.filter((f) => !watched.includes(f.feature)).map((f) => ({ ...f, label: label(f.feature), watched: false }));
    return { from: offset + t.start, to: offset + t.end, level, features: [...mine.sort((a, b) => b.act - a.act), ...others] };
  });
}
