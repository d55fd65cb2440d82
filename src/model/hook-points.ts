import { UnknownHookError } from '../errors.js';

/**
 * Hook point names, verbatim from TransformerLens (hook_points.py / HookedTransformer), so that SAEs
 * trained with SAELens on `blocks.2.hook_resid_post` attach to the same activation here.
 * Shapes (per token; rows of a batch are packed one after another):
 *   hook_embed, hook_resid_pre/mid/post, hook_attn_out, hook_mlp_out, ln_final.hook_normalized: [dim]
 *   attn.hook_q, attn.hook_z: [n_heads, head_size]; attn.hook_k, attn.hook_v: [n_kv_heads, head_size]
 *     (q and k before RoPE, as TransformerLens' hook_q/hook_k)
 *   attn.hook_pattern: [n_heads, key_len] (softmaxed; zero beyond the token's own position)
 *   mlp.hook_pre: [hidden] (the gate projection w1·x, as TransformerLens for gated MLPs); mlp.hook_post: [hidden] (silu(w1·x)·(w3·x))
 */
export const LAYER_HOOKS = [
  'hook_resid_pre',
  'attn.hook_q',
  'attn.hook_k',
  'attn.hook_v',
  'attn.hook_pattern',
  'attn.hook_z',
  'hook_attn_out',
  'hook_resid_mid',
  'mlp.hook_pre',
  'mlp.hook_post',
  'hook_mlp_out',
  'hook_resid_post',
] as const;
export type LayerHook = (typeof LAYER_HOOKS)[number];
export const GLOBAL_HOOKS = ['hook_embed', 'ln_final.hook_normalized'] as const;
export type GlobalHook = (typeof GLOBAL_HOOKS)[number];
export type HookName = GlobalHook | `blocks.${number}.${LayerHook}`;

/** Index of each hook inside a model's flat hook table: globals first, then layer by layer. */
export function hookIndex(nLayers: number, name: string): number {
  const g = (GLOBAL_HOOKS as readonly string[]).indexOf(name);
  if (g === 0) return 0;
  if (g === 1) return 1 + nLayers * LAYER_HOOKS.length;
  const m = /^blocks\.(\d+)\.(.+)$/.exec(name);
  const layer = m ? Number(m[1]) : -1;
  const local = m ? (LAYER_HOOKS as readonly string[]).indexOf(m[2]) : -1;
  if (!m || local < 0) {
    throw new UnknownHookError(name, `expected hook_embed, ln_final.hook_normalized or blocks.{layer}.{${LAYER_HOOKS.join('|')}}`);
  }
  if (layer >= nLayers) throw new UnknownHookError(name, `the model has layers 0..${nLayers - 1}`);
  return 1 + layer * LAYER_HOOKS.length + local;
}

export function hookCount(nLayers: number): number {
  return 2 + nLayers * LAYER_HOOKS.length;
}

export function allHookNames(nLayers: number): HookName[] {
  const names: HookName[] = ['hook_embed'];
  for (let l = 0; l < nLayers; l++) for (const h of LAYER_HOOKS) names.push(`blocks.${l}.${h}`);
  names.push('ln_final.hook_normalized');
  return names;
}
