import type { Tokenizer } from '../../model/tokenizer.js';

/**
 * Display strings of token ids, concatenating back to the text: each id decoded after its
 * predecessor (so a word's leading space is kept, and dropped right after BOS as sentencepiece does),
 * with BOS and EOS shown as `<s>` and `</s>` rather than vanishing from a context window.
 */
export function tokenStrings(tokenizer: Tokenizer, ids: ArrayLike<number>, prevId = -1): string[] {
  const out: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    out.push(id === tokenizer.bosId ? '<s>' : id === tokenizer.eosId ? '</s>' : tokenizer.decode([id], i === 0 ? prevId : ids[i - 1]));
  }
  return out;
}
