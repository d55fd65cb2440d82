/**
 * SAEs from saprmarks/dictionary_learning (dictionary_learning/dictionary.py and
 * trainers/{top_k,batch_top_k,matryoshka_batch_top_k}.py), when their state dict is saved as
 * safetensors (`save_pretrained` of PyTorchModelHubMixin writes model.safetensors + config.json;
 * a bare `ae.safetensors` is read too). The class is recognised from the tensor names:
 *   AutoEncoder        encoder.weight [n, d], encoder.bias [n], decoder.weight [d, n], bias [d]
 *                      f = ReLU(encoder(x − bias)), x̂ = decoder(f) + bias   → standard
 *   GatedAutoEncoder   encoder.weight [n, d], decoder.weight [d, n], decoder_bias [d],
 *                      gate_bias, mag_bias, r_mag [n]                       → gated
 *   AutoEncoderTopK    encoder.weight, encoder.bias, decoder.weight, b_dec, k (int scalar),
 *                      threshold (scalar, −1 when unset)                    → topk
 *   BatchTopKSAE       the same tensors; at inference `encode(use_threshold=True)` keeps
 *                      pre-activations above the global threshold           → jumprelu (per-latent
 *                      copies of the threshold, as SAELens saves BatchTopK) — chosen with
 *                      variant "batchtopk" or config.json dict_class "BatchTopKSAE"
 *   JumpReluAutoEncoder W_enc [d, n], b_enc, W_dec [n, d], b_dec, threshold [n]; no b_dec
 *                      subtraction (apply_b_dec_to_input False)            → jumprelu
 *   MatryoshkaBatchTopKSAE W_enc, b_enc, W_dec, b_dec, k, threshold (scalar), group_sizes;
 *                      encodes x − b_dec, keeps acts above the threshold   → jumprelu
 * Gated and JumpReLU classes scale latents by ‖decoder column‖ in encode and divide it out in
 * decode, so the reconstruction equals SAELens' (latent values differ by that factor).
 * Pickled `ae.pt` checkpoints are not read (they need a Python unpickler).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { SaeFileError } from '../errors.js';
import type { SafetensorsFile } from '../model/safetensors.js';
import { describeList } from '../util/describe-value.js';
import { mustBe, positiveInt, validateJson } from '../util/validate-json.js';
import type { ForeignConfigFields, ReadForeignSaeOptions } from './foreign-sae.js';
import { checkedTensor, finishForeignSae, foreignConfig, transpose } from './foreign-sae.js';
import { asSaeFileError, openSafetensors, readJson } from './saelens-format.js';
import type { SaeConfig } from './sae-config.js';
import { cfgFieldError } from './sae-config.js';
import type { Sae, SaeWeights } from './sae.js';

export const DICTIONARY_LEARNING_FILENAMES = ['model.safetensors', 'ae.safetensors'];

export interface ReadDictionaryLearningOptions extends ReadForeignSaeOptions {
  /** For encoder/decoder files with `k`: per-token "topk" (default) or thresholded "batchtopk". */
  variant?: 'topk' | 'batchtopk';
  /** k when the file has no `k` tensor and config.json none. */
  k?: number;
}

type Kind = 'standard' | 'gated' | 'topk' | 'jumprelu' | 'matryoshka';

/** Reads a dictionary_learning safetensors file (or a folder holding model.safetensors / ae.safetensors). */
export function readDictionaryLearning(path: string, opts: ReadDictionaryLearningOptions = {}): Sae {
  const file = resolveFile(path);
  const hub = readHubConfig(join(dirname(file), 'config.json'));
  return asSaeFileError(() => {
    const st = openSafetensors(file);
    const kind = detectKind(st);
    const dims = (name: string) => st.info(name).shape;
    const mat = (name: string) => {
      const s = dims(name);
      if (s.length !== 2) throw new SaeFileError(file, `${name} is [${s.join(', ')}] but must be 2-D`);
      return s;
    };
    // d_sae and d_in from the encoder, in whichever orientation this class stores it.
    const [d_sae, d_in] = kind === 'jumprelu' || kind === 'matryoshka' ? [...mat('W_enc')].reverse() : mat('encoder.weight');
    const fields: ForeignConfigFields = { architecture: 'standard', d_in, d_sae, apply_b_dec_to_input: true, metadata: { source_format: 'dictionary-learning' } };
    let globalThreshold: number | undefined;
    const expected = new Set<string>();
    if (kind === 'standard') ['encoder.weight', 'encoder.bias', 'decoder.weight', 'bias'].forEach((n) => expected.add(n));
    if (kind === 'gated') {
      fields.architecture = 'gated';
      ['encoder.weight', 'decoder.weight', 'decoder_bias', 'gate_bias', 'mag_bias', 'r_mag'].forEach((n) => expected.add(n));
    }
    if (kind === 'topk') {
      ['encoder.weight', 'encoder.bias', 'decoder.weight', 'b_dec', 'k', 'threshold'].forEach((n) => expected.add(n));
      const batch = opts.variant === 'batchtopk' || (opts.variant === undefined && hub?.dict_class === 'BatchTopKSAE');
      if (batch) {
        globalThreshold = scalar(st, 'threshold', file);
        if (globalThreshold === undefined || globalThreshold < 0) {
          throw new SaeFileError(file, `a BatchTopK SAE needs a trained global "threshold" ≥ 0 (got ${globalThreshold ?? 'none'})`);
        }
        fields.architecture = 'jumprelu';
      } else {
        fields.architecture = 'topk';
        fields.k = kValue(st, file, hub, opts);
      }
    }
    if (kind === 'jumprelu') {
      ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'threshold'].forEach((n) => expected.add(n));
      fields.architecture = 'jumprelu';
      fields.apply_b_dec_to_input = false;
    }
    if (kind === 'matryoshka') {
      ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'k', 'threshold', 'group_sizes'].forEach((n) => expected.add(n));
      globalThreshold = scalar(st, 'threshold', file);
      if (globalThreshold === undefined || globalThreshold < 0) throw new SaeFileError(file, `a Matryoshka BatchTopK SAE needs a trained global "threshold" ≥ 0 (got ${globalThreshold ?? 'none'})`);
      fields.architecture = 'jumprelu';
    }
    const unknown = st.names().filter((n) => !expected.has(n));
    if (unknown.length > 0) throw new SaeFileError(file, `unexpected tensor(s) ${describeList(unknown)} for a dictionary_learning ${kind} SAE (expected ${[...expected].join(', ')})`);

    const config = foreignConfig(fields, file, opts);
    const get = (name: string, f: ('d_in' | 'd_sae')[]) => {
      if (!st.has(name)) throw new SaeFileError(file, `no tensor "${name}", which a dictionary_learning ${kind} SAE needs (it has ${describeList(st.names())})`);
      return checkedTensor(file, name, dims(name), st.readF32(name), f, config).slice();
    };
    const weights = readWeights(kind, get, config, globalThreshold);
    return finishForeignSae(config, weights, file, opts);
  });
}

function readWeights(kind: Kind, get: (name: string, f: ('d_in' | 'd_sae')[]) => Float32Array, config: SaeConfig, globalThreshold: number | undefined): SaeWeights {
  const { d_in, d_sae } = config;
  const perLatent = () => (globalThreshold === undefined ? undefined : new Float32Array(d_sae).fill(globalThreshold));
  if (kind === 'jumprelu' || kind === 'matryoshka') {
    return {
      W_enc: get('W_enc', ['d_in', 'd_sae']), b_enc: get('b_enc', ['d_sae']), W_dec: get('W_dec', ['d_sae', 'd_in']), b_dec: get('b_dec', ['d_in']),
      threshold: kind === 'jumprelu' ? get('threshold', ['d_sae']) : perLatent(),
    };
  }
  const W_enc = transpose(get('encoder.weight', ['d_sae', 'd_in']), d_sae, d_in);
  const W_dec = transpose(get('decoder.weight', ['d_in', 'd_sae']), d_in, d_sae);
  if (kind === 'standard') return { W_enc, W_dec, b_enc: get('encoder.bias', ['d_sae']), b_dec: get('bias', ['d_in']) };
  if (kind === 'gated') {
    return { W_enc, W_dec, b_dec: get('decoder_bias', ['d_in']), b_gate: get('gate_bias', ['d_sae']), b_mag: get('mag_bias', ['d_sae']), r_mag: get('r_mag', ['d_sae']) };
  }
  const w: SaeWeights = { W_enc, W_dec, b_enc: get('encoder.bias', ['d_sae']), b_dec: get('b_dec', ['d_in']) };
  const threshold = perLatent();
  if (threshold) w.threshold = threshold;
  return w;
}

function detectKind(st: SafetensorsFile): Kind {
  if (st.has('W_enc')) return st.has('threshold') && st.info('threshold').shape.length === 1 && !st.has('k') ? 'jumprelu' : 'matryoshka';
  if (!st.has('encoder.weight')) throw new SaeFileError(st.file, `neither "encoder.weight" nor "W_enc": not a dictionary_learning SAE (it has ${describeList(st.names())})`);
  if (st.has('gate_bias') || st.has('mag_bias') || st.has('r_mag')) return 'gated';
  if (st.has('b_dec') || st.has('k')) return 'topk';
  return 'standard';
}

/** A scalar (shape [] or [1]) tensor's value, or undefined when absent. */
function scalar(st: SafetensorsFile, name: string, file: string): number | undefined {
  if (!st.has(name)) return undefined;
  const values = st.readNumbers(name);
  if (values.length !== 1 || !Number.isFinite(values[0])) throw new SaeFileError(file, `${name} must be one finite number, got [${st.info(name).shape.join(', ')}] with ${values.length} values`);
  return values[0];
}

function kValue(st: SafetensorsFile, file: string, hub: HubConfig | undefined, opts: ReadDictionaryLearningOptions): number {
  const k = scalar(st, 'k', file) ?? hub?.k ?? opts.k;
  if (k === undefined) throw new SaeFileError(file, 'no tensor "k" and no k in config.json: give k as an option');
  if (!Number.isSafeInteger(k) || k < 1) throw new SaeFileError(file, `k must be a positive integer, got ${k}`);
  return k;
}

/** The config.json fields read here (PyTorchModelHubMixin writes the dictionary's constructor arguments; the others are ignored). */
const HUB_CONFIG_SCHEMA = z.looseObject({ k: positiveInt.nullish(), dict_class: z.string(mustBe('a string')).nullish() }, mustBe('a JSON object'));
type HubConfig = z.infer<typeof HUB_CONFIG_SCHEMA>;

function readHubConfig(path: string): HubConfig | undefined {
  return existsSync(path) ? validateJson(HUB_CONFIG_SCHEMA, readJson(path), cfgFieldError(path)) : undefined;
}

function resolveFile(path: string): string {
  let dir = false;
  try {
    dir = statSync(path).isDirectory();
  } catch (err) {
    throw new SaeFileError(path, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message);
  }
  if (!dir) return path;
  const found = DICTIONARY_LEARNING_FILENAMES.map((n) => join(path, n)).find((p) => existsSync(p));
  if (!found) throw new SaeFileError(path, `has no ${DICTIONARY_LEARNING_FILENAMES.join(' or ')}`);
  return found;
}
