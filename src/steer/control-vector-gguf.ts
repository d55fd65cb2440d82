/**
 * llama.cpp control vectors (`--control-vector file.gguf`, llama-adapter.cpp; made by repeng's
 * `ControlVector.export_gguf` and llama.cpp's cvector-generator): a GGUF file with
 * `general.architecture = "controlvector"`, `controlvector.model_hint` (the model architecture,
 * e.g. "llama"), `controlvector.layer_count` (the number of direction tensors; repeng writes it as
 * uint32 through gguf-py, cvector-generator as int32, and llama.cpp's loader does not read it), and
 * one 1-D F32 tensor `direction.N` per steered layer. llama.cpp adds `direction.N` to the output of
 * block N (0-based, `cvec.apply_to(cur, il)` at the end of layer il) at every position, and
 * rejects `direction.0`: the output of block 0 cannot be steered in that format. Here that output
 * is `blocks.N.hook_resid_post`, so exactly those hooks with N ≥ 1 map to and from the file.
 */
import { ModelFileError, SteeringError } from '../errors.js';
import { GgufFile, quote } from '../model/gguf/gguf-reader.js';
import type { GgufValue } from '../model/gguf/gguf-types.js';
import { writeGguf } from '../model/gguf/gguf-writer.js';
import type { HookName } from '../model/hook-points.js';
import type { SteeringVectorSet } from './steering-vector-set.js';

const ARCH = 'controlvector';
const DIRECTION = /^direction\.(\d+)$/;
const RESID_POST = /^blocks\.(\d+)\.hook_resid_post$/;
/** Metadata of ours kept in the GGUF under this prefix, so a round trip keeps provenance. */
const TINYMORPH_PREFIX = 'tinymorph.';

export interface ControlVectorExportOptions {
  /** `controlvector.model_hint`; llama.cpp compares it with the model's architecture. Default "llama". */
  modelHint?: string;
}

/** Writes `set` as a llama.cpp control vector; every vector must sit at blocks.N.hook_resid_post with N ≥ 1. */
export function writeControlVectorGguf(path: string, set: SteeringVectorSet, opts: ControlVectorExportOptions = {}): void {
  const layers = [...set.vectors].map(([hook, v]) => ({ layer: exportLayer(hook), v })).sort((a, b) => a.layer - b.layer);
  if (layers.length === 0) throw new SteeringError('the vector set is empty: nothing to export');
  const width = layers[0].v.length;
  for (const { layer, v } of layers) {
    if (v.length !== width) throw new SteeringError(`blocks.${layer}.hook_resid_post has ${v.length} values but other vectors have ${width}; a control vector has one width`);
  }
  const metadata: [string, GgufValue][] = [
    ['general.architecture', { type: 'string', value: ARCH }],
    [`${ARCH}.model_hint`, { type: 'string', value: opts.modelHint ?? 'llama' }],
    [`${ARCH}.layer_count`, { type: 'uint32', value: layers.length }],
    ...Object.entries(set.metadata).map(([k, value]): [string, GgufValue] => [TINYMORPH_PREFIX + k, { type: 'string', value }]),
  ];
  writeGguf(
    path,
    metadata,
    layers.map(({ layer, v }) => ({ name: `direction.${layer}`, shape: [v.length], data: v })),
  );
}

/** Reads a llama.cpp control vector: `direction.N` becomes blocks.N.hook_resid_post; with `nLayers`, N must be a layer of that model. */
export function readControlVectorGguf(path: string, nLayers?: number): SteeringVectorSet & { modelHint: string | undefined } {
  const file = GgufFile.open(path);
  const arch = file.metadata.get('general.architecture');
  if (arch?.type !== 'string' || arch.value !== ARCH) {
    throw new ModelFileError(path, `general.architecture is ${arch?.type === 'string' ? quote(arch.value) : 'missing'}, a control vector has "${ARCH}"`);
  }
  const vectors = new Map<HookName, Float32Array>();
  let width: number | undefined;
  for (const t of file.tensors) {
    const m = DIRECTION.exec(t.name);
    if (!m) throw new ModelFileError(path, `tensor ${quote(t.name)} is not a direction.N tensor`);
    const layer = Number(m[1]);
    if (layer === 0) throw new ModelFileError(path, 'direction.0 is not allowed (llama.cpp steers block outputs from layer 1 on)');
    if (nLayers !== undefined && layer >= nLayers) throw new SteeringError(`${path}: direction.${layer} is past the model's last layer ${nLayers - 1}`);
    if (t.shape.length !== 1 || t.shape[0] === 0) throw new ModelFileError(path, `tensor ${t.name} has shape [${t.shape.join(', ')}], a direction is 1-D and not empty`);
    if (width !== undefined && t.shape[0] !== width) throw new ModelFileError(path, `tensor ${t.name} has ${t.shape[0]} values but others have ${width}`);
    width = t.shape[0];
    const v = file.readF32(t.name);
    if (!v.every(Number.isFinite)) throw new ModelFileError(path, `tensor ${t.name} holds NaN or Inf`);
    vectors.set(`blocks.${layer}.hook_resid_post`, v);
  }
  if (vectors.size === 0) throw new ModelFileError(path, 'holds no direction tensors');
  const metadata: Record<string, string> = {};
  for (const [k, v] of file.metadata) if (k.startsWith(TINYMORPH_PREFIX) && v.type === 'string') metadata[k.slice(TINYMORPH_PREFIX.length)] = v.value;
  const hint = file.metadata.get(`${ARCH}.model_hint`);
  return { vectors, metadata, modelHint: hint?.type === 'string' ? hint.value : undefined };
}

function exportLayer(hook: HookName): number {
  const m = RESID_POST.exec(hook);
  if (!m) throw new SteeringError(`${hook}: a llama.cpp control vector can only hold blocks.N.hook_resid_post vectors (it adds direction.N to block N's output)`);
  const layer = Number(m[1]);
  if (layer === 0) throw new SteeringError(`${hook}: llama.cpp control vectors cannot steer block 0's output (direction.0 is rejected by its loader); leave blocks.0 out`);
  return layer;
}
