/**
 * A set of steering vectors, one per hook point (e.g. a CAA vector per layer's residual stream),
 * and its file format: a safetensors file with one F32 tensor [width] per hook, named by the hook
 * point (`blocks.2.hook_resid_post`), and string metadata saying how the vectors were made
 * (`method`, `model`, …). llama.cpp control-vector GGUF is the interchange format (control-vector-gguf.ts).
 */
import { ModelFileError, SteeringError } from '../errors.js';
import { hookIndex } from '../model/hook-points.js';
import type { HookName } from '../model/hook-points.js';
import { SafetensorsFile, writeSafetensors } from '../model/safetensors.js';
import { describeValue } from '../util/describe-value.js';

export interface SteeringVectorSet {
  /** One vector per hook point, each [width of that hook]. */
  vectors: Map<HookName, Float32Array>;
  /** Provenance, kept through save/load: method, model, layer choice, sample counts, … */
  metadata: Record<string, string>;
}

/** Written in the metadata so that a vector file is recognisable among other safetensors files. */
export const VECTOR_FILE_FORMAT = 'tinymorph-steering-vectors';

export function writeSteeringVectors(path: string, set: SteeringVectorSet): void {
  const tensors = Object.fromEntries([...set.vectors].map(([hook, v]) => [hook, { shape: [v.length], data: v }]));
  writeSafetensors(path, tensors, { ...set.metadata, format: VECTOR_FILE_FORMAT });
}

/**
 * Reads a vector file; with `nLayers`, every tensor name must be a hook point of that model.
 * Any safetensors file of 1-D float tensors named by hook points loads (the `format` key is not required).
 */
export function readSteeringVectors(path: string, nLayers?: number): SteeringVectorSet {
  const file = SafetensorsFile.open(path);
  const vectors = new Map<HookName, Float32Array>();
  for (const name of file.names()) {
    const info = file.info(name);
    if (info.shape.length !== 1) throw new ModelFileError(path, `tensor ${describeValue(name)} has shape [${info.shape.join(', ')}], a steering vector is 1-D`);
    if (nLayers !== undefined) checkHook(path, name, nLayers);
    const v = file.readF32(name).slice();
    if (!v.every(Number.isFinite)) throw new ModelFileError(path, `tensor ${describeValue(name)} holds NaN or Inf`);
    vectors.set(name as HookName, v);
  }
  if (vectors.size === 0) throw new ModelFileError(path, 'holds no vectors');
  const { format: _format, ...metadata } = file.metadata;
  return { vectors, metadata };
}

function checkHook(path: string, name: string, nLayers: number): void {
  try {
    hookIndex(nLayers, name);
  } catch (e) {
    throw new SteeringError(`${path}: tensor ${describeValue(name)} is not a hook point of this model (${(e as Error).message})`);
  }
}
