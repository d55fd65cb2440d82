/**
 * Gemma Scope SAEs (google/gemma-scope-* on Hugging Face; Lieberum et al. 2024): one `params.npz`
 * per SAE holding, as float32,
 *   W_enc [d_in, d_sae]   W_dec [d_sae, d_in]   b_enc [d_sae]   b_dec [d_in]   threshold [d_sae]
 * — already SAELens' layout. They are JumpReLU SAEs that do NOT subtract b_dec from the input:
 * f = JumpReLU_θ(x·W_enc + b_enc), x̂ = f·W_dec + b_dec. This follows SAELens'
 * sae_lens/loading/pretrained_sae_loaders.py `gemma_2_sae_huggingface_loader` and
 * `get_gemma_2_config_from_hf` (architecture "jumprelu", apply_b_dec_to_input False; lower-case
 * "w_" array names are mapped to "W_"). The hook is read from the repository layout
 * `gemma-scope-<size>-<pt|it>-<res|mlp|att>/layer_<N>/width_<W>/average_l0_<L>/params.npz`
 * when the path has it (res → blocks.N.hook_resid_post, mlp → blocks.N.hook_mlp_out,
 * att → blocks.N.attn.hook_z), or given as an option.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { SaeFileError } from '../errors.js';
import { describeValue } from '../util/describe-value.js';
import type { ReadForeignSaeOptions } from './foreign-sae.js';
import { checkedTensor, finishForeignSae, foreignConfig } from './foreign-sae.js';
import type { NpyArray } from './npz.js';
import { readNpz } from './npz.js';
import type { Sae, SaeWeights } from './sae.js';

export const GEMMA_SCOPE_FILENAME = 'params.npz';
const ARRAYS = ['W_enc', 'W_dec', 'b_enc', 'b_dec', 'threshold'] as const;

/** Reads a Gemma Scope `params.npz` (or a folder holding one) as a SAELens jumprelu SAE. */
export function readGemmaScope(path: string, opts: ReadForeignSaeOptions = {}): Sae {
  const file = isDirectory(path) ? join(path, GEMMA_SCOPE_FILENAME) : path;
  const arrays = readNpz(file);
  const byName = new Map<string, NpyArray>();
  for (const [name, array] of arrays) {
    const canonical = name.startsWith('w_') ? `W_${name.slice(2)}` : name;
    if (!(ARRAYS as readonly string[]).includes(canonical)) {
      throw new SaeFileError(file, `unexpected array ${describeValue(name)} in a Gemma Scope SAE (expected ${ARRAYS.join(', ')})`);
    }
    byName.set(canonical, array);
  }
  for (const name of ARRAYS) {
    if (!byName.has(name)) throw new SaeFileError(file, `no array "${name}", which a Gemma Scope SAE needs (it has ${[...arrays.keys()].join(', ') || 'none'})`);
  }
  const wEnc = byName.get('W_enc')!;
  if (wEnc.shape.length !== 2) throw new SaeFileError(file, `W_enc is [${wEnc.shape.join(', ')}] but must be 2-D [d_in, d_sae]`);
  const [d_in, d_sae] = wEnc.shape;
  if (d_in < 1 || d_sae < 1) throw new SaeFileError(file, `W_enc is [${wEnc.shape.join(', ')}]: d_in and d_sae must be positive`);
  const config = foreignConfig(
    { architecture: 'jumprelu', d_in, d_sae, apply_b_dec_to_input: false, hookName: gemmaScopeHook(file), metadata: { source_format: 'gemma-scope' } },
    file,
    opts,
  );
  const get = (name: (typeof ARRAYS)[number], fields: ('d_in' | 'd_sae')[]) => {
    const a = byName.get(name)!;
    return checkedTensor(file, name, a.shape, a.data, fields, config);
  };
  const weights: SaeWeights = {
    W_enc: get('W_enc', ['d_in', 'd_sae']),
    W_dec: get('W_dec', ['d_sae', 'd_in']),
    b_enc: get('b_enc', ['d_sae']),
    b_dec: get('b_dec', ['d_in']),
    threshold: get('threshold', ['d_sae']),
  };
  return finishForeignSae(config, weights, file, opts);
}

/** The hook named by Gemma Scope's repository layout, when `file` follows it. */
export function gemmaScopeHook(file: string): string | undefined {
  const p = file.replace(/\\/g, '/');
  const layer = /(?:^|\/)layer_(\d+)(?:\/|$)/.exec(p)?.[1];
  const site = /gemma-scope-[^/]*-(res|mlp|att)(?:-[^/]*)?(?:\/|$)/.exec(p)?.[1];
  if (layer === undefined || site === undefined) return undefined;
  return site === 'res' ? `blocks.${layer}.hook_resid_post` : site === 'mlp' ? `blocks.${layer}.hook_mlp_out` : `blocks.${layer}.attn.hook_z`;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
