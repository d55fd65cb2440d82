/**
 * An SAE's configuration as SAELens v6 writes it in `cfg.json` (sae_lens/saes/sae.py `SAEConfig.to_dict`):
 *   { d_in, d_sae, dtype, device, apply_b_dec_to_input, normalize_activations, reshape_activations,
 *     architecture, <architecture fields such as k>, metadata: { model_name, hook_name, context_size,
 *     prepend_bos, …, sae_lens_version, sae_lens_training_version } }
 * Files from SAELens before 6.0 keep everything flat at the top level, with `hook_point` for
 * `hook_name` and topk's `k` inside `activation_fn_kwargs`; they are recognised as SAELens itself
 * does (sae_lens/loading/pretrained_sae_loaders.py `handle_config_defaulting`): no `sae_lens_version`
 * at the top level or in `metadata`, or one below 6.0.
 */
import { SaeFileError } from '../errors.js';

/**
 * How activations are normalised before encoding. SAELens applies `constant_norm_rescale` and
 * `layer_norm` at run time; `expected_average_only_in` is a training-time scale that must be folded
 * into the weights, and at run time is the identity (as in SAELens' `_setup_activation_normalization`).
 */
export const NORMALIZE_ACTIVATIONS = ['none', 'expected_average_only_in', 'constant_norm_rescale', 'layer_norm'] as const;
export type NormalizeActivations = (typeof NORMALIZE_ACTIVATIONS)[number];

/** cfg.json `dtype` values (with or without SAELens' older "torch." prefix). */
export const SAE_DTYPES = ['float32', 'float16', 'bfloat16', 'float64'] as const;
export type SaeDtype = (typeof SAE_DTYPES)[number];

/** SAEMetadata: how the SAE is meant to be used. Known keys are typed; other keys are kept as they were. */
export interface SaeMetadata {
  model_name?: string | null;
  hook_name?: string | null;
  hook_layer?: number | null;
  hook_head_index?: number | null;
  context_size?: number | null;
  prepend_bos?: boolean | null;
  dataset_path?: string | null;
  neuronpedia_id?: string | null;
  sae_lens_version?: string | null;
  sae_lens_training_version?: string | null;
  [key: string]: unknown;
}

export interface SaeConfig {
  /** SAELens architecture name: standard | gated | jumprelu | topk (see architecture-registry.ts). */
  architecture: string;
  d_in: number;
  d_sae: number;
  dtype: SaeDtype;
  /** Encode subtracts b_dec from the input first (SAELens default true). */
  apply_b_dec_to_input: boolean;
  normalize_activations: NormalizeActivations;
  /** "hook_z": the SAE reads attn.hook_z flattened to [n_heads·d_head] (as our hook view already is). */
  reshape_activations: 'none' | 'hook_z';
  /** topk: latents kept per token. */
  k?: number;
  /** topk: pre-activations scaled by ‖W_dec row‖ before the top-k, acts divided by it before decoding. */
  rescale_acts_by_decoder_norm?: boolean;
  metadata: SaeMetadata;
  /** Other top-level cfg.json keys (device, training fields, …), kept so a round trip loses nothing. */
  extra: Record<string, unknown>;
}

/** SAELens' LLM_METADATA_KEYS: the flat pre-6.0 keys that v6 moved under `metadata`. */
const METADATA_KEYS = [
  'model_name', 'hook_name', 'model_class_name', 'hook_head_index', 'model_from_pretrained_kwargs', 'prepend_bos',
  'exclude_special_tokens', 'neuronpedia_id', 'context_size', 'seqpos_slice', 'dataset_path',
  'sae_lens_version', 'sae_lens_training_version',
];
/** Pre-6.0 names renamed by SAELens' handle_pre_6_0_config. */
const PRE6_RENAMES: Record<string, string> = {
  hook_point: 'hook_name',
  hook_point_head_index: 'hook_head_index',
  activation_fn_str: 'activation_fn',
};
/** Keys this module reads into typed fields (everything else goes to `extra`). */
const TYPED_KEYS = new Set([
  'architecture', 'd_in', 'd_sae', 'dtype', 'apply_b_dec_to_input', 'normalize_activations', 'reshape_activations',
  'k', 'rescale_acts_by_decoder_norm', 'metadata',
]);

/** Parses a cfg.json object (v6 or pre-6.0); `file` names the file in errors. */
export function parseSaeConfig(raw: unknown, file: string): SaeConfig {
  const fail = (problem: string) => new SaeFileError(file, problem);
  if (!isObject(raw)) throw fail(`cfg must be a JSON object, got ${describe(raw)}`);
  const nested = raw.metadata;
  if (nested !== undefined && nested !== null && !isObject(nested)) throw fail(`field "metadata" must be an object, got ${describe(nested)}`);
  const pre6 = isPre6(raw, nested ?? undefined);
  const cfg: Record<string, unknown> = pre6 ? Object.fromEntries(Object.entries(raw).map(([k, v]) => [PRE6_RENAMES[k] ?? k, v])) : { ...raw };

  const metadata: SaeMetadata = { ...(nested ?? {}) };
  if (pre6) {
    // Flat keys fill in metadata (a nested value, where a file has both, wins).
    for (const key of METADATA_KEYS) if (key in cfg && !(key in metadata)) metadata[key] = cfg[key];
  }
  checkMetadata(metadata, fail);

  const archField = cfg.architecture ?? (pre6 ? 'standard' : undefined);
  if (typeof archField !== 'string' || archField === '') throw fail(`field "architecture" must be a non-empty string, got ${describe(archField)}`);
  let architecture: string = archField;
  let k = cfg.k;
  const kwargs = cfg.activation_fn_kwargs;
  if (pre6 && k === undefined && isObject(kwargs) && kwargs.k !== undefined) k = kwargs.k;
  // Some pre-6.0 files mark a TopK SAE by its activation function alone.
  if (pre6 && architecture === 'standard' && cfg.activation_fn === 'topk') architecture = 'topk';

  const config: SaeConfig = {
    architecture,
    d_in: positiveInt(cfg.d_in, 'd_in', fail),
    d_sae: positiveInt(cfg.d_sae, 'd_sae', fail),
    dtype: parseDtype(cfg.dtype, fail),
    apply_b_dec_to_input: bool(cfg.apply_b_dec_to_input, 'apply_b_dec_to_input', true, fail),
    normalize_activations: parseNormalize(cfg.normalize_activations, fail),
    reshape_activations: parseReshape(cfg.reshape_activations, metadata.hook_name, fail),
    metadata,
    extra: Object.fromEntries(Object.entries(cfg).filter(([key]) => !TYPED_KEYS.has(key) && !(pre6 && METADATA_KEYS.includes(key)))),
  };
  if (k !== undefined && k !== null) config.k = positiveInt(k, 'k', fail);
  if (cfg.rescale_acts_by_decoder_norm !== undefined) {
    config.rescale_acts_by_decoder_norm = bool(cfg.rescale_acts_by_decoder_norm, 'rescale_acts_by_decoder_norm', false, fail);
  }
  return config;
}

/**
 * The cfg.json object SAELens v6 writes for `config`: typed fields, architecture fields, then
 * `metadata`. Extra keys read from a file are written back unchanged.
 */
export function saeConfigToJson(config: SaeConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    d_in: config.d_in,
    d_sae: config.d_sae,
    dtype: config.dtype,
    device: 'cpu',
    apply_b_dec_to_input: config.apply_b_dec_to_input,
    normalize_activations: config.normalize_activations,
    reshape_activations: config.reshape_activations,
    ...config.extra,
  };
  if (config.k !== undefined) out.k = config.k;
  if (config.rescale_acts_by_decoder_norm !== undefined) out.rescale_acts_by_decoder_norm = config.rescale_acts_by_decoder_norm;
  out.metadata = { ...config.metadata };
  out.architecture = config.architecture;
  return out;
}

function isPre6(raw: Record<string, unknown>, nested: Record<string, unknown> | undefined): boolean {
  const version = raw.sae_lens_version ?? nested?.sae_lens_version;
  if (typeof version !== 'string' || version === '') return true;
  const major = Number(/^v?(\d+)/.exec(version)?.[1]);
  return !(major >= 6);
}

type Fail = (problem: string) => SaeFileError;

function checkMetadata(metadata: SaeMetadata, fail: Fail): void {
  const str = (key: string) => {
    const v = metadata[key];
    if (v !== undefined && v !== null && typeof v !== 'string') throw fail(`field "metadata.${key}" must be a string, got ${describe(v)}`);
  };
  const int = (key: string) => {
    const v = metadata[key];
    if (v !== undefined && v !== null && !(Number.isSafeInteger(v) && (v as number) >= 0)) {
      throw fail(`field "metadata.${key}" must be a non-negative integer, got ${describe(v)}`);
    }
  };
  for (const key of ['model_name', 'hook_name', 'dataset_path', 'neuronpedia_id']) str(key);
  for (const key of ['hook_layer', 'hook_head_index', 'context_size']) int(key);
  const bos = metadata.prepend_bos;
  if (bos !== undefined && bos !== null && typeof bos !== 'boolean') throw fail(`field "metadata.prepend_bos" must be a boolean, got ${describe(bos)}`);
}

function positiveInt(v: unknown, field: string, fail: Fail): number {
  if (!Number.isSafeInteger(v) || (v as number) < 1) throw fail(`field "${field}" must be a positive integer, got ${describe(v)}`);
  return v as number;
}

function bool(v: unknown, field: string, fallback: boolean, fail: Fail): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw fail(`field "${field}" must be true or false, got ${describe(v)}`);
  return v;
}

function parseDtype(v: unknown, fail: Fail): SaeDtype {
  if (v === undefined || v === null) return 'float32';
  const name = typeof v === 'string' ? v.replace(/^torch\./, '') : v;
  if (!(SAE_DTYPES as readonly unknown[]).includes(name)) throw fail(`field "dtype" must be one of ${SAE_DTYPES.join(', ')}, got ${describe(v)}`);
  return name as SaeDtype;
}

function parseNormalize(v: unknown, fail: Fail): NormalizeActivations {
  // Booleans and null are pre-6.0 spellings (SAELens maps them the same way).
  if (v === undefined || v === null || v === false) return 'none';
  if (v === true) return 'expected_average_only_in';
  if (!(NORMALIZE_ACTIVATIONS as readonly unknown[]).includes(v)) {
    throw fail(`field "normalize_activations" must be one of ${NORMALIZE_ACTIVATIONS.join(', ')}, got ${describe(v)}`);
  }
  return v as NormalizeActivations;
}

function parseReshape(v: unknown, hookName: unknown, fail: Fail): 'none' | 'hook_z' {
  if (v === undefined || v === null) return typeof hookName === 'string' && hookName.includes('hook_z') ? 'hook_z' : 'none';
  if (v !== 'none' && v !== 'hook_z') throw fail(`field "reshape_activations" must be "none" or "hook_z", got ${describe(v)}`);
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
