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
import { z } from 'zod';
import { SaeFileError } from '../errors.js';
import { describeList, describeValue } from '../util/describe-value.js';
import { mustBe, nonNegativeInt, positiveInt, validateJson } from '../util/validate-json.js';
import type { ReadForeignSaeOptions } from './foreign-sae.js';
import { checkedTensor, finishForeignSae, foreignConfig, transpose } from './foreign-sae.js';
import { asSaeFileError, openSafetensors, readJson } from './saelens-format.js';
import { cfgFieldError } from './sae-config.js';
import type { Sae } from './sae.js';

export const SPARSIFY_CFG_FILENAME = 'cfg.json';
export const SPARSIFY_WEIGHTS_FILENAME = 'sae.safetensors';
const TENSORS = ['encoder.weight', 'encoder.bias', 'W_dec', 'b_dec'];

/** The cfg.json fields read here (sparsify's SparseCoderConfig; the others are ignored). */
const refused = z.unknown().refine((v) => v !== true, 'is true: such sparsify coders have no SAELens equivalent').optional();
const SPARSIFY_CFG_SCHEMA = z
  .looseObject(
    {
      d_in: positiveInt,
      k: positiveInt,
      // 0 (the default) means d_in × expansion_factor.
      num_latents: nonNegativeInt.default(0),
      expansion_factor: positiveInt.optional(),
      transcode: refused,
      signed: refused,
      skip_connection: refused,
      activation: z.literal('topk', { error: (issue) => `is ${describeValue(issue.input)}; only "topk" sparsify coders can be read` }).optional(),
    },
    mustBe('a JSON object'),
  )
  .superRefine((cfg, ctx) => {
    if (cfg.num_latents === 0 && cfg.expansion_factor === undefined) ctx.addIssue({ code: 'custom', path: ['expansion_factor'], message: 'must be a positive integer when num_latents is 0 or missing, got undefined' });
  });

/** Reads a sparsify SAE folder as a SAELens topk SAE. */
export function readSparsify(dir: string, opts: ReadForeignSaeOptions = {}): Sae {
  const cfgPath = join(dir, SPARSIFY_CFG_FILENAME);
  const cfg = validateJson(SPARSIFY_CFG_SCHEMA, readJson(cfgPath), cfgFieldError(cfgPath));
  const { d_in, k } = cfg;
  const d_sae = cfg.num_latents > 0 ? cfg.num_latents : d_in * (cfg.expansion_factor as number);
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
    if (unknown.length > 0) throw new SaeFileError(weightsPath, `unexpected tensor(s) ${describeList(unknown)} (expected ${TENSORS.join(', ')})`);
    const get = (name: string, fields: ('d_in' | 'd_sae')[]) => {
      if (!file.has(name)) throw new SaeFileError(weightsPath, `no tensor "${name}", which a sparsify SAE needs (it has ${describeList(file.names())})`);
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
