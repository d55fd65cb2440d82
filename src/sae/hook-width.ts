/**
 * The width of each hook point's per-token activation for a Llama-family model, as the forward
 * pass hands it to hooks (see model/hook-points.ts), so an SAE can be checked against the model it
 * is meant for before any forward pass. attn.hook_z and the q/k/v hooks are flattened
 * [heads·head_size], which is what SAELens' reshape_activations="hook_z" SAEs read.
 */
import type { LlamaConfig } from '../model/llama-config.js';
import { headSize, kvDim } from '../model/llama-config.js';
import { hookIndex } from '../model/hook-points.js';

/** Per-token width of `hookName`, or undefined for attn.hook_pattern (its width grows with the context). */
export function hookWidth(config: LlamaConfig, hookName: string): number | undefined {
  hookIndex(config.nLayers, hookName); // throws UnknownHookError for a name the model does not have
  const local = hookName.startsWith('blocks.') ? hookName.slice(hookName.indexOf('.', 'blocks.'.length) + 1) : hookName;
  switch (local) {
    case 'attn.hook_q':
    case 'attn.hook_z':
      return config.nHeads * headSize(config);
    case 'attn.hook_k':
    case 'attn.hook_v':
      return kvDim(config);
    case 'attn.hook_pattern':
      return undefined;
    case 'mlp.hook_pre':
    case 'mlp.hook_post':
      return config.hiddenDim;
    default:
      return config.dim;
  }
}

