/**
 * What the readers of other tools' SAE files (gemma-scope-format.ts, sparsify-format.ts,
 * dictionary-learning-format.ts) share: a SAELens config built from what the file says, a
 * transpose for weights stored the other way round, and the final checks of saelens-format.ts.
 */
import type { ReadSaeOptions } from './saelens-format.js';
import { checkFinite, checkSaeConfig, checkTensorShape } from './saelens-format.js';
import type { Dim } from './saelens-format.js';
import type { SaeConfig, SaeMetadata } from './sae-config.js';
import { parseSaeConfig, SAE_LENS_V6_VERSION } from './sae-config.js';
import type { Sae, SaeWeights } from './sae.js';

export interface ReadForeignSaeOptions extends ReadSaeOptions {
  /** The hook point the SAE reads (recorded as metadata.hook_name, and used for the model check). */
  hookName?: string;
  /** Recorded as metadata.model_name. */
  modelName?: string;
}

export interface ForeignConfigFields {
  architecture: string;
  d_in: number;
  d_sae: number;
  apply_b_dec_to_input: boolean;
  k?: number;
  /** What the file says about its hook, used when opts.hookName is not given. */
  hookName?: string;
  /** Other metadata (model name, source format, …). */
  metadata?: SaeMetadata;
}

/** A SAELens config for an SAE read from another format; `file` names it in errors. */
export function foreignConfig(fields: ForeignConfigFields, file: string, opts: ReadForeignSaeOptions): SaeConfig {
  const metadata: SaeMetadata = { ...fields.metadata };
  const hook = opts.hookName ?? fields.hookName;
  if (hook !== undefined) metadata.hook_name = hook;
  if (opts.modelName !== undefined) metadata.model_name = opts.modelName;
  const raw: Record<string, unknown> = {
    architecture: fields.architecture,
    d_in: fields.d_in,
    d_sae: fields.d_sae,
    dtype: 'float32',
    apply_b_dec_to_input: fields.apply_b_dec_to_input,
    normalize_activations: 'none',
    metadata: { ...metadata, sae_lens_version: SAE_LENS_V6_VERSION },
  };
  if (fields.k !== undefined) raw.k = fields.k;
  const config = parseSaeConfig(raw, file);
  // The version was only there so the config parses as v6; the file was not written by SAELens.
  delete config.metadata.sae_lens_version;
  return config;
}

/** Checks a tensor against the config's dimensions (as the file stores it) and that it is finite. */
export function checkedTensor(file: string, name: string, shape: readonly number[], data: Float32Array, fields: Dim[], config: SaeConfig): Float32Array {
  checkTensorShape(file, name, shape, fields, config);
  return checkFinite(file, name, data);
}

/** out [cols, rows] ← the transpose of a row-major [rows, cols] matrix. */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** The SAE, after the checks every reader makes (architecture fields; fit with the model). */
export function finishForeignSae(config: SaeConfig, weights: SaeWeights, file: string, opts: ReadSaeOptions): Sae {
  checkSaeConfig(config, file, opts);
  return { config, weights };
}
