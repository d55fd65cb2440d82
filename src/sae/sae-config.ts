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
import { z } from 'zod';
import { SaeFileError } from '../errors.js';
import type { FieldPath } from '../util/validate-json.js';
import { formatFieldPath, mustBe, nonNegativeInt, positiveInt, validateJson } from '../util/validate-json.js';

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
const PRE6_SPELLINGS: Record<string, string> = Object.fromEntries(Object.entries(PRE6_RENAMES).map(([old, renamed]) => [renamed, old]));
/** The sae_lens_version written into configs that need one to be read as v6. */
export const SAE_LENS_V6_VERSION = '6.0.0';
/** Keys this module reads into typed fields (everything else goes to `extra`). */
const TYPED_KEYS = new Set([
  'architecture', 'd_in', 'd_sae', 'dtype', 'apply_b_dec_to_input', 'normalize_activations', 'reshape_activations',
  'k', 'rescale_acts_by_decoder_norm', 'metadata',
]);

/** Parses a cfg.json object (v6 or pre-6.0); `file` names the file in errors, which name fields as the file spells them. */
export function parseSaeConfig(raw: unknown, file: string): SaeConfig {
  /** Where a field of the v6 view sits in a pre-6.0 file ("metadata.hook_name" ← "hook_point"). */
  const spelled = new Map<string, string>();
  const fail = cfgFieldError(file, spelled);
  validateJson(OUTER_SCHEMA, raw, fail);
  // The file's own objects from here on (key order and all), not zod's copies.
  const top = raw as Record<string, unknown>;
  const nested = (top.metadata ?? undefined) as Record<string, unknown> | undefined;
  const pre6 = isPre6(top, nested);
  const cfg: Record<string, unknown> = pre6 ? Object.fromEntries(Object.entries(top).map(([k, v]) => [PRE6_RENAMES[k] ?? k, v])) : { ...top };

  const metadata: SaeMetadata = { ...nested };
  if (pre6) {
    // Flat keys fill in metadata (a nested value, where a file has both, wins).
    for (const key of METADATA_KEYS) {
      if (key in cfg && !(key in metadata)) {
        metadata[key] = cfg[key];
        spelled.set(`metadata.${key}`, PRE6_SPELLINGS[key] ?? key);
      }
    }
  }
  let architecture = cfg.architecture ?? (pre6 ? 'standard' : undefined);
  let k = cfg.k;
  const kwargs = cfg.activation_fn_kwargs;
  if (pre6 && k === undefined && isObject(kwargs) && kwargs.k !== undefined) {
    k = kwargs.k;
    spelled.set('k', 'activation_fn_kwargs.k');
  }
  // Some pre-6.0 files mark a TopK SAE by its activation function alone.
  if (pre6 && architecture === 'standard' && cfg.activation_fn === 'topk') architecture = 'topk';

  const typed = validateJson(CFG_SCHEMA, { ...cfg, architecture, k, metadata }, fail);
  const config: SaeConfig = {
    architecture: typed.architecture,
    d_in: typed.d_in,
    d_sae: typed.d_sae,
    dtype: (typed.dtype?.replace(/^torch\./, '') ?? 'float32') as SaeDtype,
    apply_b_dec_to_input: typed.apply_b_dec_to_input ?? true,
    // Booleans and null are pre-6.0 spellings (SAELens maps them the same way).
    normalize_activations: typed.normalize_activations === true ? 'expected_average_only_in' : (typed.normalize_activations || 'none'),
    reshape_activations: typed.reshape_activations ?? (metadata.hook_name?.includes('hook_z') ? 'hook_z' : 'none'),
    metadata,
    extra: Object.fromEntries(Object.entries(cfg).filter(([key]) => !TYPED_KEYS.has(key) && !(pre6 && METADATA_KEYS.includes(key)))),
  };
  if (typed.k != null) config.k = typed.k;
  if (typed.rescale_acts_by_decoder_norm !== undefined) config.rescale_acts_by_decoder_norm = typed.rescale_acts_by_decoder_norm ?? false;
  return config;
}

/** A cfg.json problem as a SaeFileError: `field "d_in" must be …` (as `spelled` maps it), or `cfg must be …` for the whole file. */
export function cfgFieldError(file: string, spelled = new Map<string, string>()): (path: FieldPath, problem: string) => SaeFileError {
  return (path, problem) => {
    const field = formatFieldPath(path);
    return new SaeFileError(file, field === '' ? `cfg ${problem}` : `field "${spelled.get(field) ?? field}" ${problem}`);
  };
}

// A field given as null is unset (SAELens writes Python's None as null).
const optionalString = z.string(mustBe('a string')).nullish();
const optionalBool = z.boolean(mustBe('true or false')).nullish();

const OUTER_SCHEMA = z.looseObject({ metadata: z.looseObject({}, mustBe('an object')).nullish() }, mustBe('a JSON object'));

/** The typed fields of the v6 view of a cfg.json (other keys are kept as they are); SAEMetadata's typed keys. */
const CFG_SCHEMA = z.looseObject({
  architecture: z.string(mustBe('a non-empty string')).min(1, mustBe('a non-empty string')),
  d_in: positiveInt,
  d_sae: positiveInt,
  dtype: z.enum([...SAE_DTYPES, ...SAE_DTYPES.map((d) => `torch.${d}`)], mustBe(`one of ${SAE_DTYPES.join(', ')}`)).nullish(),
  apply_b_dec_to_input: optionalBool,
  normalize_activations: z.union([z.enum(NORMALIZE_ACTIVATIONS), z.boolean()], mustBe(`one of ${NORMALIZE_ACTIVATIONS.join(', ')}`)).nullish(),
  reshape_activations: z.enum(['none', 'hook_z'], mustBe('"none" or "hook_z"')).nullish(),
  k: positiveInt.nullish(),
  rescale_acts_by_decoder_norm: optionalBool,
  metadata: z.looseObject({
    model_name: optionalString,
    hook_name: optionalString,
    dataset_path: optionalString,
    neuronpedia_id: optionalString,
    hook_layer: nonNegativeInt.nullish(),
    hook_head_index: nonNegativeInt.nullish(),
    context_size: nonNegativeInt.nullish(),
    prepend_bos: optionalBool,
  }),
});

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
  return !isSaeLensV6Version(raw.sae_lens_version ?? nested?.sae_lens_version);
}

/** True for a `sae_lens_version` of 6.0 or later (SAELens reads a config without one as pre-6.0). */
export function isSaeLensV6Version(version: unknown): boolean {
  return typeof version === 'string' && Number(/^v?(\d+)/.exec(version)?.[1]) >= 6;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
