/**
 * What steering needs besides the spec: the model, and the SAEs and vectors a spec names, loaded
 * once and kept (a server resolves thousands of requests against the same few SAEs).
 *   SAE sources: a hook name with a shipped SAE (assets/saes/<hook>), a layer number (that layer's
 *   shipped hook_resid_post SAE), or a SAELens folder on disk.
 *   Vectors: a name given to a vector set built in memory (defineVectorSet), a preset name
 *   (assets/steering/presets/<name>.safetensors) or a vector file (.safetensors as
 *   steering-vector-set.ts writes, or a llama.cpp control-vector .gguf).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SteeringError, TinymorphError } from '../errors.js';
import { validationTextPath } from '../model/embedded.js';
import type { HookName } from '../model/hook-points.js';
import type { LlamaConfig } from '../model/llama-config.js';
import type { LlamaModel } from '../model/llama-model.js';
import type { Tokenizer } from '../model/tokenizer.js';
import { featureLogitEffects } from '../sae/feature-logits.js';
import { meanActivations } from '../sae/feature-means.js';
import { hookWidth } from '../sae/hook-width.js';
import type { FeatureMeans } from '../sae/feature-means.js';
import { readSaeLensFolder } from '../sae/saelens-format.js';
import type { Sae } from '../sae/sae.js';
import { describeValue } from '../util/describe-value.js';
import { assetPath } from '../util/package-root.js';
import { readControlVectorGguf } from './control-vector-gguf.js';
import { readSteeringVectors } from './steering-vector-set.js';
import type { SteeringVectorSet } from './steering-vector-set.js';

export interface SaeSource {
  /** The source string as resolved (folder path). */
  id: string;
  sae: Sae;
  hook: HookName;
}

export const shippedSaeDir = (hook: string): string => assetPath('saes', hook);
export const presetPath = (name: string): string => assetPath('steering', 'presets', `${name}.safetensors`);

export class SteeringContext {
  private readonly saes = new Map<string, SaeSource>();
  private readonly vectorSets = new Map<string, SteeringVectorSet>();
  private readonly defined = new Map<string, SteeringVectorSet>();
  private readonly means = new Map<Sae, FeatureMeans>();
  private readonly meansLoading = new Map<Sae, Promise<void>>();
  private readonly logitDirs = new Map<Sae, Map<number, Float32Array>>();

  constructor(
    readonly model: LlamaModel,
    readonly tokenizer: Tokenizer,
  ) {}

  /** The SAE a feature edit names, loaded (and checked against the model) on first use. */
  sae(source: string): SaeSource {
    const hit = this.saes.get(source);
    if (hit) return hit;
    const dir = /^\d+$/.test(source) ? shippedSaeDir(`blocks.${source}.hook_resid_post`) : existsSync(shippedSaeDir(source)) ? shippedSaeDir(source) : source;
    if (!existsSync(join(dir, 'cfg.json'))) {
      throw new SteeringError(`SAE source ${describeValue(source)}: no shipped SAE for that hook or layer, and there is no ${describeValue(join(dir, 'cfg.json'), 160)}`);
    }
    const sae = readSaeLensFolder(dir, { model: this.model.config });
    const hook = sae.config.metadata.hook_name as HookName; // checked against the model by readSaeLensFolder
    const resolved = { id: dir, sae, hook };
    this.saes.set(source, resolved);
    return resolved;
  }

  /**
   * Makes `set` available to specs under `name`, before presets and files of that name: a vector
   * built in memory (a style vector from texts posted to the server). Replaces one defined before.
   */
  defineVectorSet(name: string, set: SteeringVectorSet): void {
    this.defined.set(name, set);
  }

  /** The vector sets defined with defineVectorSet, by name. */
  definedVectorSets(): ReadonlyMap<string, SteeringVectorSet> {
    return this.defined;
  }

  /** A vector set by defined name, preset name or file path. */
  vectorSet(name: string): SteeringVectorSet {
    const hit = this.defined.get(name) ?? this.vectorSets.get(name);
    if (hit) return hit;
    const path = existsSync(presetPath(name)) ? presetPath(name) : name;
    if (!existsSync(path)) throw new SteeringError(`vector ${describeValue(name)} is neither a preset (${describeValue(presetPath(name), 160)}) nor a file`);
    const nLayers = this.model.config.nLayers;
    const set = path.toLowerCase().endsWith('.gguf') ? readControlVectorGguf(path, nLayers) : readSteeringVectors(path, nLayers);
    checkVectorWidths(path, set, this.model.config);
    this.vectorSets.set(name, set);
    return set;
  }

  /** Each feature's mean activation on the shipped validation text (for MEAN_ABLATE and guidance), computed once per SAE. */
  featureMeans(source: SaeSource): FeatureMeans {
    let m = this.means.get(source.sae);
    if (!m) {
      m = meanActivations(this.model, this.tokenizer, source.sae, source.hook, validationTextPath());
      this.means.set(source.sae, m);
    }
    return m;
  }

  /**
   * Fills featureMeans(source) from `compute` unless it is known already: a server computes the
   * means on another thread, so its decode loop does not stall for the ~1.5 s they take. Callers
   * asking at the same time share one computation.
   */
  async loadFeatureMeans(source: SaeSource, compute: () => Promise<FeatureMeans>): Promise<void> {
    if (this.means.has(source.sae)) return;
    let loading = this.meansLoading.get(source.sae);
    if (!loading) {
      loading = compute()
        .then((m) => void this.means.set(source.sae, m))
        .finally(() => this.meansLoading.delete(source.sae));
      this.meansLoading.set(source.sae, loading);
    }
    await loading;
  }

  /**
   * The feature's direct effect on the logits (featureLogitEffects), centred and scaled so that its
   * largest entry is ±1: guidance strength is then "logits added to the feature's top token".
   */
  featureLogitDirection(source: SaeSource, index: number): Float32Array {
    let bySae = this.logitDirs.get(source.sae);
    if (!bySae) this.logitDirs.set(source.sae, (bySae = new Map()));
    let dir = bySae.get(index);
    if (!dir) {
      dir = featureLogitEffects(this.model, source.sae, [index]);
      let mean = 0;
      for (const v of dir) mean += v / dir.length;
      let max = 0;
      for (let i = 0; i < dir.length; i++) max = Math.max(max, Math.abs((dir[i] -= mean)));
      if (max > 0) for (let i = 0; i < dir.length; i++) dir[i] /= max;
      bySae.set(index, dir);
    }
    return dir;
  }
}

/**
 * Each vector of a set must be as wide as its hook's activations: adding a shorter one would read
 * past its end (NaN at every later position), and a longer one would be cut without a word.
 */
export function checkVectorWidths(path: string, set: SteeringVectorSet, config: LlamaConfig): void {
  for (const [hook, v] of set.vectors) {
    const width = hookWidth(config, hook);
    if (width !== v.length) throw new SteeringError(`${path}: the vector for ${hook} is ${v.length} wide, the hook is ${width ?? 'not a fixed width'}${width === undefined ? '' : ' wide'}`);
  }
}

/** Runs `body`, turning a failure to load something a spec names into a SteeringError naming the field. */
export function inField<T>(field: string, body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (e instanceof TinymorphError && !e.message.startsWith(field)) throw new SteeringError(`${field}: ${e.message}`);
    throw e;
  }
}
