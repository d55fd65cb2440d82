/**
 * Using an SAE a reader returned, as every command does after loading one: encode a few tokens
 * and decode them again.
 */
import { decode, encodeWithNorm } from '../../src/sae/sae-forward.js';
import type { Sae } from '../../src/sae/sae.js';
import { randomArray } from '../../test/sae/sae-test-helpers.js';
import { AcceptedBadInput } from '../outcome.js';

/** Hook names, architecture names and other cfg strings that mean something to the SAE readers. */
export const SAE_STRINGS = [
  'standard', 'gated', 'jumprelu', 'topk', 'batchtopk', 'float16', 'bfloat16', 'torch.float32', 'float64', 'int8',
  'none', 'layer_norm', 'constant_norm_rescale', 'expected_average_only_in', 'hook_z',
  'blocks.2.hook_resid_post', 'blocks.2.attn.hook_z', 'blocks.9.hook_resid_post', 'hook_embed', 'ln_final.hook_normalized', '6.0.0', '5.9.1',
];

const TOKENS = 3;

export function useSae(sae: Sae): void {
  const { d_in, d_sae } = sae.config;
  const x = randomArray(TOKENS * d_in, 5, 2);
  const { acts, norm } = encodeWithNorm(sae, x, TOKENS);
  const out = decode(sae, acts, TOKENS, norm);
  if (acts.length !== TOKENS * d_sae || out.length !== TOKENS * d_in) throw new AcceptedBadInput('encode/decode gave arrays of the wrong size');
}
