/**
 * SAELens v6 SAE folders, read and written (sae_lens/saes/sae.py `save_model` / `load_from_disk`):
 *   cfg.json                  the config (sae-config.ts), `metadata` nested
 *   sae_weights.safetensors   W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_dec [d_in] and the
 *                             architecture's [d_sae] tensors (b_enc; threshold; b_gate, b_mag, r_mag)
 *   sparsity.safetensors      optional: `sparsity` [d_sae] = log10 of each latent's firing density
 * Folders from SAELens before 6.0 (flat cfg keys) load too. Every tensor is checked against the
 * config, and the config against the model's hook width when one is given, before the SAE is used;
 * failures are SaeFileErrors that name the file and say what disagrees.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelFileError, SaeFileError, UnknownHookError } from '../errors.js';
import type { LlamaConfig } from '../model/llama-config.js';
import type { TensorToWrite } from '../model/safetensors.js';
import { SafetensorsFile, writeSafetensors } from '../model/safetensors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { describeList, describeValue } from '../util/describe-value.js';
import { parseJson } from '../util/parse-json.js';
import { READ_LIMITS, readTextBounded } from '../util/bounded-read.js';
import type { SaeArchitecture } from './architecture-registry.js';
import { architectureNames, findArchitecture } from './architecture-registry.js';
import { hookWidth } from './hook-width.js';
import type { SaeConfig } from './sae-config.js';
import { isSaeLensV6Version, parseSaeConfig, SAE_LENS_V6_VERSION, saeConfigToJson } from './sae-config.js';
import type { Sae, SaeTensorName, SaeWeights } from './sae.js';
import { saeTensorShape } from './sae.js';

export const SAE_CFG_FILENAME = 'cfg.json';
export const SAE_WEIGHTS_FILENAME = 'sae_weights.safetensors';
export const SPARSITY_FILENAME = 'sparsity.safetensors';


export interface ReadSaeOptions {
  /** The model the SAE is for: its hook `hookName` (default: cfg metadata.hook_name) must exist and be d_in wide. */
  model?: LlamaConfig;
  /** Overrides metadata.hook_name for the model check. */
  hookName?: string;
  /** The width of the activation the SAE will read, when known without a model config. */
  hookWidth?: number;
}

/** Reads and checks a SAELens folder (v6 or pre-6.0). */
export function readSaeLensFolder(dir: string, opts: ReadSaeOptions = {}): Sae {
  const cfgPath = join(dir, SAE_CFG_FILENAME);
  const config = parseSaeConfig(readJson(cfgPath), cfgPath);
  const arch = checkSaeConfig(config, cfgPath, opts);

  const weightsPath = join(dir, SAE_WEIGHTS_FILENAME);
  const weights = asSaeFileError(() => readWeights(openSafetensors(weightsPath), config, arch.tensors));
  const sae: Sae = { config, weights };
  const sparsityPath = join(dir, SPARSITY_FILENAME);
  if (exists(sparsityPath)) {
    sae.sparsity = asSaeFileError(() => readChecked(openSafetensors(sparsityPath), 'sparsity', ['d_sae'], config));
  }
  return sae;
}

/** Writes `sae` as a SAELens v6 folder (created if missing); each file is replaced atomically. */
export function writeSaeLensFolder(dir: string, sae: Sae): void {
  const { config, weights } = sae;
  const arch = findArchitecture(config.architecture);
  if (!arch) throw new SaeFileError(dir, `cannot write architecture ${describeValue(config.architecture)} (known: ${architectureNames().join(', ')})`);
  const dtype = config.dtype === 'float16' ? 'F16' : config.dtype === 'bfloat16' ? 'BF16' : 'F32';
  const tensors: Record<string, TensorToWrite> = {};
  for (const name of ['W_enc', 'W_dec', 'b_dec', ...arch.tensors] as SaeTensorName[]) {
    const data = weights[name];
    if (data === undefined) throw new SaeFileError(dir, `cannot write a ${config.architecture} SAE without ${name}`);
    tensors[name] = { dtype, shape: saeTensorShape(config, name), data };
  }
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, SAE_WEIGHTS_FILENAME), tensors);
  if (sae.sparsity) writeSafetensors(join(dir, SPARSITY_FILENAME), { sparsity: { shape: [config.d_sae], data: sae.sparsity } });
  const json = saeConfigToJson(config);
  const metadata = json.metadata as Record<string, unknown>;
  // SAELens reads a config without a version ≥ 6 as pre-6.0, and would then ignore the nested metadata.
  if (!isSaeLensV6Version(metadata.sae_lens_version)) metadata.sae_lens_version = SAE_LENS_V6_VERSION;
  writeFileAtomic(join(dir, SAE_CFG_FILENAME), `${JSON.stringify(json, null, 2)}\n`);
}

/**
 * Checks a parsed config: a known architecture whose fields are consistent, and a fit with the
 * model (checkModelFit). Returns the architecture. Shared by every SAE reader (also the foreign
 * formats in gemma-scope-format.ts, sparsify-format.ts, dictionary-learning-format.ts).
 */
export function checkSaeConfig(config: SaeConfig, cfgPath: string, opts: ReadSaeOptions): SaeArchitecture {
  const arch = findArchitecture(config.architecture);
  if (!arch) {
    throw new SaeFileError(cfgPath, `field "architecture" is ${describeValue(config.architecture)} (known: ${architectureNames().join(', ')})`);
  }
  const problem = arch.configProblem?.(config);
  if (problem) throw new SaeFileError(cfgPath, problem);
  checkModelFit(config, cfgPath, opts);
  return arch;
}

/** Checks that `config` fits the model: its hook exists and is d_in wide. */
export function checkModelFit(config: SaeConfig, cfgPath: string, opts: ReadSaeOptions): void {
  if (opts.hookWidth !== undefined && opts.hookWidth !== config.d_in) {
    throw new SaeFileError(cfgPath, `cfg d_in=${config.d_in} but the activation it is for has width ${opts.hookWidth}`);
  }
  if (!opts.model) return;
  const hook = opts.hookName ?? config.metadata.hook_name;
  const field = opts.hookName !== undefined ? 'hook name' : 'field "metadata.hook_name"';
  if (typeof hook !== 'string') throw new SaeFileError(cfgPath, `${field} is missing, so the SAE cannot be matched to a hook point`);
  let width: number | undefined;
  try {
    width = hookWidth(opts.model, hook);
  } catch (err) {
    if (err instanceof UnknownHookError) throw new SaeFileError(cfgPath, `${field}: ${err.message}`);
    throw err;
  }
  if (width === undefined) throw new SaeFileError(cfgPath, `${field} ${describeValue(hook)} has no fixed width for an SAE to read`);
  if (width !== config.d_in) throw new SaeFileError(cfgPath, `cfg d_in=${config.d_in} but the model's ${hook} has width ${width}`);
}

function readWeights(file: SafetensorsFile, config: SaeConfig, archTensors: readonly SaeTensorName[]): SaeWeights {
  const read = (name: SaeTensorName) => readChecked(file, name, shapeFields(name), config);
  const weights: SaeWeights = { W_enc: read('W_enc'), W_dec: read('W_dec'), b_dec: read('b_dec') };
  const known = new Set<string>(['W_enc', 'W_dec', 'b_dec', ...archTensors]);
  for (const name of archTensors) {
    // Training checkpoints of JumpReLU SAEs store log_threshold; inference files store threshold.
    if (name === 'threshold' && !file.has('threshold') && file.has('log_threshold')) {
      weights.threshold = readChecked(file, 'log_threshold', ['d_sae'], config).map(Math.exp);
      known.add('log_threshold');
      continue;
    }
    if (!file.has(name)) {
      throw new SaeFileError(file.file, `no tensor "${name}", which a ${config.architecture} SAE needs (it has ${describeList(file.names())})`);
    }
    weights[name] = read(name);
  }
  foldScalingFactor(file, config, weights, known);
  const unknown = file.names().filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new SaeFileError(file.file, `unexpected tensor(s) ${describeList(unknown)} for a ${config.architecture} SAE (expected ${[...known].join(', ')})`);
  }
  return weights;
}

/**
 * Older SAELens files may carry `scaling_factor` / `finetuning_scaling_factor` [d_sae], a factor
 * on the activations before W_dec (Wright & Sharkey 2024). All ones means none; otherwise it is
 * folded into the rows of W_dec, which gives the same reconstruction.
 */
function foldScalingFactor(file: SafetensorsFile, config: SaeConfig, weights: SaeWeights, known: Set<string>): void {
  for (const name of ['scaling_factor', 'finetuning_scaling_factor']) {
    if (!file.has(name)) continue;
    known.add(name);
    const scale = readChecked(file, name, ['d_sae'], config);
    if (scale.every((s) => s === 1)) continue;
    const W = weights.W_dec.slice();
    for (let j = 0; j < config.d_sae; j++) for (let i = 0; i < config.d_in; i++) W[j * config.d_in + i] *= scale[j];
    weights.W_dec = W;
  }
}

/** A tensor of exactly `shape`, all finite, or an error that says which cfg values disagree. */
function readChecked(file: SafetensorsFile, name: string, fields: Dim[], config: SaeConfig): Float32Array {
  checkTensorShape(file.file, name, file.info(name).shape, fields, config);
  return checkFinite(file.file, name, file.readF32(name));
}

/**
 * Fails unless a tensor's shape `got` is exactly the cfg dimensions `fields`, saying which cfg
 * values disagree; `name` is the tensor as the file calls it.
 */
export function checkTensorShape(file: string, name: string, got: readonly number[], fields: Dim[], config: SaeConfig): void {
  const shape = fields.map((f) => config[f]);
  if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
    throw new SaeFileError(file, `${name} is [${got.join(', ')}] but ${cfgValues(fields, [...got], config)} (expected [${shape.join(', ')}])`);
  }
}

/** `data`, after checking that every value is finite. */
export function checkFinite(file: string, name: string, data: Float32Array): Float32Array {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new SaeFileError(file, `${name} has a non-finite value (${data[i]}) at flat index ${i}`);
  }
  return data;
}

export type Dim = 'd_in' | 'd_sae';

/** The cfg field behind each dimension of a weight. */
function shapeFields(name: SaeTensorName): Dim[] {
  return name === 'W_enc' ? ['d_in', 'd_sae'] : name === 'W_dec' ? ['d_sae', 'd_in'] : name === 'b_dec' ? ['d_in'] : ['d_sae'];
}

/** "cfg d_in=128": the cfg fields whose dimension disagrees with `got` (all of them if the rank differs). */
function cfgValues(fields: Dim[], got: number[], config: SaeConfig): string {
  const wrong = got.length === fields.length ? fields.filter((f, i) => got[i] !== config[f]) : fields;
  return `cfg ${wrong.map((f) => `${f}=${config[f]}`).join(', ')}`;
}

export function openSafetensors(path: string): SafetensorsFile {
  return SafetensorsFile.open(path);
}

/** Runs `body`, turning the safetensors reader's ModelFileError into a SaeFileError for the same file. */
export function asSaeFileError<T>(body: () => T): T {
  try {
    return body();
  } catch (err) {
    if (err instanceof ModelFileError) {
      const prefix = `${err.file}: `;
      throw new SaeFileError(err.file, err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message);
    }
    throw err;
  }
}

/** A JSON config file (within READ_LIMITS.config), parsed; failures are SaeFileErrors naming the file. */
export function readJson(path: string): unknown {
  const text = readTextBounded(path, READ_LIMITS.config, (problem) => new SaeFileError(path, problem));
  return parseJson(text, READ_LIMITS.config.maxBytes, (problem) => new SaeFileError(path, problem));
}

function exists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
