/**
 * An HF transformers Llama `config.json` (LlamaConfig in transformers/models/llama) as our
 * LlamaConfig, and back. Every field is checked: a missing or out-of-range value, or a feature this
 * runtime does not implement (biases, another activation, another RoPE scaling), is a
 * ModelFileError naming config.json and the field.
 */
import { ModelFileError } from '../errors.js';
import { describeValue } from '../util/describe-value.js';
import type { Llama3RopeScaling, LlamaConfig } from './llama-config.js';
import { configProblem, headSize } from './llama-config.js';

/** The `architectures` / `model_type` values read as Llama. */
const LLAMA_ARCHITECTURES = ['LlamaForCausalLM'];

type Json = Record<string, unknown>;

export function llamaConfigFromHf(json: unknown, file: string): LlamaConfig {
  const fail = (problem: string) => new ModelFileError(file, problem);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw fail(`must be a JSON object, got ${describeValue(json)}`);
  const j = json as Json;
  const archs = j.architectures;
  const arch = Array.isArray(archs) ? archs.find((a) => typeof a === 'string') : undefined;
  if (j.model_type !== 'llama' || (arch !== undefined && !LLAMA_ARCHITECTURES.includes(arch as string))) {
    throw fail(`unsupported architecture ${describeValue(arch ?? j.model_type)} (model_type ${describeValue(j.model_type)}); this loader reads Llama (model_type "llama", ${LLAMA_ARCHITECTURES.join(', ')})`);
  }
  const int = (key: string, fallback?: number): number => {
    const v = j[key] ?? fallback;
    if (v === undefined) throw fail(`field "${key}" is missing`);
    if (!Number.isSafeInteger(v) || (v as number) <= 0 || (v as number) > 1 << 24) throw fail(`field "${key}" = ${describeValue(v)} is not a positive integer in range`);
    return v as number;
  };
  const num = (key: string, fallback: number): number => {
    const v = j[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(`field "${key}" = ${describeValue(v)} is not a finite number`);
    return v;
  };
  const nHeads = int('num_attention_heads');
  const config: LlamaConfig = {
    dim: int('hidden_size'),
    hiddenDim: int('intermediate_size'),
    nLayers: int('num_hidden_layers'),
    nHeads,
    // transformers: "If it is not specified, will default to num_attention_heads".
    nKvHeads: int('num_key_value_heads', nHeads),
    vocabSize: int('vocab_size'),
    seqLen: int('max_position_embeddings'),
    // transformers' LlamaConfig default is tie_word_embeddings = False.
    sharedClassifier: bool(j, 'tie_word_embeddings', false, fail),
    normEps: num('rms_norm_eps', 1e-6),
    ropeTheta: num('rope_theta', 10000),
  };
  const rope = ropeScaling(j.rope_scaling, fail);
  if (rope) config.ropeScaling = rope;
  const problem = configProblem(config);
  if (problem) throw fail(problem);
  if (j.head_dim !== undefined && j.head_dim !== null && j.head_dim !== headSize(config)) {
    throw fail(`field "head_dim" = ${describeValue(j.head_dim)} differs from hidden_size / num_attention_heads = ${headSize(config)}, which this runtime assumes`);
  }
  if ((j.hidden_act ?? 'silu') !== 'silu') throw fail(`field "hidden_act" = ${describeValue(j.hidden_act)} is not supported (Llama uses "silu")`);
  for (const key of ['attention_bias', 'mlp_bias']) if (bool(j, key, false, fail)) throw fail(`field "${key}" = true is not supported (Llama has no biases)`);
  return config;
}

function bool(j: Json, key: string, fallback: boolean, fail: (p: string) => ModelFileError): boolean {
  const v = j[key] ?? fallback;
  if (typeof v !== 'boolean') throw fail(`field "${key}" = ${describeValue(v)} is not true or false`);
  return v;
}

function ropeScaling(v: unknown, fail: (p: string) => ModelFileError): Llama3RopeScaling | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw fail(`field "rope_scaling" = ${describeValue(v)} is not an object or null`);
  const s = v as Json;
  // Older configs call rope_type "type".
  const type = s.rope_type ?? s.type;
  if (type === 'default') return undefined;
  if (type !== 'llama3') throw fail(`field "rope_scaling.rope_type" = ${describeValue(type)} is not supported (only "llama3")`);
  const positive = (key: string): number => {
    const x = s[key];
    if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw fail(`field "rope_scaling.${key}" = ${describeValue(x)} is not a positive number`);
    return x;
  };
  const r: Llama3RopeScaling = {
    factor: positive('factor'),
    lowFreqFactor: positive('low_freq_factor'),
    highFreqFactor: positive('high_freq_factor'),
    originalMaxPositionEmbeddings: positive('original_max_position_embeddings'),
  };
  if (r.highFreqFactor <= r.lowFreqFactor) throw fail(`field "rope_scaling.high_freq_factor" = ${r.highFreqFactor} must be greater than low_freq_factor = ${r.lowFreqFactor}`);
  return r;
}

/** config.json for a model (what the HF exporter writes; transformers' LlamaConfig field names). */
export function hfConfigFromLlama(c: LlamaConfig, dtype: 'float32' | 'float16' | 'bfloat16'): Json {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: c.dim,
    intermediate_size: c.hiddenDim,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nKvHeads,
    vocab_size: c.vocabSize,
    max_position_embeddings: c.seqLen,
    rms_norm_eps: c.normEps,
    rope_theta: c.ropeTheta,
    rope_scaling: c.ropeScaling
      ? {
          rope_type: 'llama3',
          factor: c.ropeScaling.factor,
          low_freq_factor: c.ropeScaling.lowFreqFactor,
          high_freq_factor: c.ropeScaling.highFreqFactor,
          original_max_position_embeddings: c.ropeScaling.originalMaxPositionEmbeddings,
        }
      : null,
    tie_word_embeddings: c.sharedClassifier,
    hidden_act: 'silu',
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: dtype,
  };
}
