/**
 * EleutherAI sparsify SAEs (github.com/EleutherAI/sparsify, sparsify/sparse_coder.py
 * `SparseCoder.save_to_disk` / `load_from_disk`): a folder per hook point holding
 *   cfg.json          {d_in, k, num_latents (0: d_in·expansion_factor), expansion_factor,
 *                      activation "topk", transcode, signed, normalize_decoder, …}
 *   sae.safetensors   encoder.weight [n, d] (an nn.Linear, so W_encᵀ), encoder.bias [n],
 *                     W_dec [n, d] (initialised as a clone of encoder.weight), b_dec [d]
 * Encoding is `encoder(x − b_dec)` unless the coder is a transcoder (`SparseCoder.encode`), then
 * ReLU and the top k per token — SAELens' `topk` with apply_b_dec_to_input true. (SAELens'
 * `sparsify_disk_loader` sets apply_b_dec_to_input = not normalize_decoder and transposes W_dec;
 * both disagree with sparsify's own encode and parameter shapes, which are followed here.)
 * Transcoders, signed and non-topk activations, and skip connections have no SAELens equivalent
 * and are refused. The folder name `layers.N` (sparsify's hookpoint for block N's output) gives
 * blocks.N.hook_resid_post, as in SAELens' `get_sparsify_config_from_disk`.
 */
import { basename, join, resolve } from 'node:path';
import { SaeFileError } from '../errors.js';
import type { ReadForeignSaeOptions } from './foreign-sae.js';
import { checkedTensor, finishForeignSae, foreignConfig, transpose } from './foreign-sae.js';
import { asSaeFileError, openSafetensors, readJson } from './saelens-format.js';
import type { Sae } from './sae.js';

export const SPARSIFY_CFG_FILENAME = 'cfg.json';
export const SPARSIFY_WEIGHTS_FILENAME = 'sae.safetensors';
const TENSORS = ['encoder.weight', 'encoder.bias', 'W_dec', 'b_dec'];

/** Reads a sparsify SAE folder as a SAELens topk SAE. */
export function readSparsify(dir: string, opts: ReadForeignSaeOptions = {}): Sae {
  const cfgPath = join(dir, SPARSIFY_CFG_FILENAME);
  const raw = readJson(cfgPath);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SaeFileError(cfgPath, 'cfg must be a JSON object');
  const cfg = raw as Record<string, unknown>;
  const int = (field: string, min: number): number => {
    const v = cfg[field];
    if (!Number.isSafeInteger(v) || (v as number) < min) throw new SaeFileError(cfgPath, `field "${field}" must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const d_in = int('d_in', 1);
  const k = int('k', 1);
  const numLatents = cfg.num_latents === undefined ? 0 : int('num_latents', 0);
  const d_sae = numLatents > 0 ? numLatents : d_in * int('expansion_factor', 1);
  for (const flag of ['transcode', 'signed', 'skip_connection']) {
    if (cfg[flag] === true) throw new SaeFileError(cfgPath, `field "${flag}" is true: such sparsify coders have no SAELens equivalent`);
  }
  if (cfg.activation !== undefined && cfg.activation !== 'topk') {
    throw new SaeFileError(cfgPath, `field "activation" is ${JSON.stringify(cfg.activation)}; only "topk" sparsify coders can be read`);
  }
  const layer = /^layers[._](\d+)$/.exec(basename(resolve(dir)))?.[1];
  const config = foreignConfig(
    { architecture: 'topk', d_in, d_sae, k, apply_b_dec_to_input: true, hookName: layer === undefined ? undefined : `blocks.${layer}.hook_resid_post`, metadata: { source_format: 'sparsify' } },
    cfgPath,
    opts,
  );
  const weightsPath = join(dir, SPARSIFY_WEIGHTS_FILENAME);
  const weights = asSaeFileError(() => {
    const file = openSafetensors(weightsPath);
    const unknown = file.names().filter((n) => !TENSORS.includes(n));
    if (unknown.length > 0) throw new SaeFileError(weightsPath, `unexpected tensor(s) ${unknown.map((n) => JSON.stringify(n)).join(', ')} (expected ${TENSORS.join(', ')})`);
    const get = (name: string, fields: ('d_in' | 'd_sae')[]) => {
      if (!file.has(name)) throw new SaeFileError(weightsPath, `no tensor "${name}", which a sparsify SAE needs (it has ${file.names().join(', ')})`);
      return checkedTensor(weightsPath, name, file.info(name).shape, file.readF32(name), fields, config);
    };
    return {
      W_enc: transpose(get('encoder.weight', ['d_sae', 'd_in']), d_sae, d_in),
      b_enc: get('encoder.bias', ['d_sae']).slice(),
      W_dec: get('W_dec', ['d_sae', 'd_in']).slice(),
      b_dec: get('b_dec', ['d_in']).slice(),
    };
  });
  return finishForeignSae(config, weights, cfgPath, opts);
}
