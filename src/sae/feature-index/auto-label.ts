/**
 * A feature's automatic label from what the index already knows: the tokens it promotes (top
 * positive output tokens) and the tokens it fires on (the token at the maximum of each top
 * context), e.g. `"Lily" / "she" (fires on: Lily, her)`. Automated interpretability writes
 * explanations with a language model shown the top contexts (Bills et al. 2023); no such model is
 * available offline, so the label says only what the statistics show, and its source says so.
 */
import type { OutputToken } from './output-tokens.js';

export const AUTO_LABEL_SOURCE = 'auto: top tokens and contexts (no language model available offline to write explanations)';
export const USER_LABEL_SOURCE = 'user';

const OUTPUT_TOKENS_SHOWN = 2;
const FIRING_TOKENS_SHOWN = 3;

/** `firesOn`: the word at the maximum of each top context (wordAt), strongest context first. */
export function autoLabel(positive: readonly OutputToken[], firesOn: readonly string[], fireCount: number, scoredTokens: number): string {
  if (fireCount === 0) return `dead (never fired on ${scoredTokens} tokens)`;
  const outputs = positive
    .map((t) => t.token.trim())
    .filter((t) => t.length > 0)
    .slice(0, OUTPUT_TOKENS_SHOWN)
    .map((t) => JSON.stringify(t));
  return `${outputs.join(' / ')} (fires on: ${mostFrequent(firesOn.map((t) => t.trim()).filter((t) => t.length > 0), FIRING_TOKENS_SHOWN).join(', ')})`;
}

/** The `n` most frequent strings, ties broken by first appearance. */
function mostFrequent(items: readonly string[], n: number): string[] {
  const counts = new Map<string, number>();
  for (const s of items) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([s]) => s);
}

/**
 * The whole word around token `pos` of a window: a small vocabulary splits words into pieces
 * ("th" "ing" "s"), and "fires on: things" says more than "ing". A word starts at a piece that
 * begins with a space or follows a non-letter, and runs while the next piece continues it.
 */
export function wordAt(tokens: readonly string[], pos: number): string {
  const continues = (i: number): boolean => /^\p{L}/u.test(tokens[i]) && /\p{L}$/u.test(tokens[i - 1]);
  let a = pos;
  while (a > 0 && continues(a)) a--;
  let b = pos;
  while (b + 1 < tokens.length && continues(b + 1)) b++;
  return tokens.slice(a, b + 1).join('').trim();
}
