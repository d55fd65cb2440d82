/**
 * SAE feature activations on the tokens of arbitrary texts: each text is tokenized, cut into
 * pieces that fit the model's context (each started with BOS, as the index's contexts are), run in
 * batched forwards that stop after the SAE's block (hook-activations.ts), and encoded. BOS
 * positions are left out of the result, as they are out of the index's statistics.
 */
import { UsageError } from '../../errors.js';
import type { HookName } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import { hookActivations } from '../activation-store/hook-activations.js';
import { encode } from '../sae-forward.js';
import type { Sae } from '../sae.js';
import { tokenStrings } from './token-strings.js';

export interface TextActivations {
  tokenIds: number[];
  tokens: string[];
  /** [tokens, d_sae] */
  acts: Float32Array;
}

const BATCH_PIECES = 16;

/** The hook an SAE reads: `hook`, else its cfg.json metadata.hook_name. */
export function saeHook(sae: Sae, hook?: HookName): HookName {
  const h = hook ?? (sae.config.metadata.hook_name as HookName | null | undefined);
  if (!h) throw new UsageError('the SAE names no hook (cfg.json metadata.hook_name); pass one');
  return h;
}

export function textActivations(model: LlamaModel, tokenizer: Tokenizer, sae: Sae, texts: readonly string[], hook?: HookName): TextActivations[] {
  const d = sae.config.d_sae;
  const body = model.config.seqLen - 1;
  const pieces: { text: number; ids: Int32Array }[] = [];
  const ids = texts.map((t) => tokenizer.encode(t, { bos: false }));
  ids.forEach((all, text) => {
    for (let at = 0; at < all.length; at += body) pieces.push({ text, ids: Int32Array.from([tokenizer.bosId, ...all.slice(at, at + body)]) });
  });
  const acts = ids.map((all) => new Float32Array(all.length * d));
  const filled = new Int32Array(texts.length);
  let next = 0;
  for (const batch of hookActivations(
    model,
    pieces.map((p) => p.ids),
    { hook: saeHook(sae, hook), batchContexts: BATCH_PIECES },
  )) {
    const encoded = encode(sae, batch.data, batch.n, model.backend);
    let row = 0;
    for (const len of batch.perContext) {
      const { text } = pieces[next++];
      // Row 0 of each piece is its BOS.
      acts[text].set(encoded.subarray((row + 1) * d, (row + len) * d), filled[text] * d);
      filled[text] += len - 1;
      row += len;
    }
  }
  return ids.map((tokenIds, i) => ({ tokenIds, tokens: tokenStrings(tokenizer, tokenIds, tokenizer.bosId), acts: acts[i] }));
}
