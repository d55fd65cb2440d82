/**
 * An HF transformers Llama checkpoint folder: config.json (hf-llama-config.ts) and the weights in
 * model.safetensors or in shards listed by model.safetensors.index.json ({"weight_map": {tensor:
 * shard file}}), with transformers' LlamaForCausalLM tensor names. F32, F16 and BF16 tensors are
 * widened to fp32 at load (keeping 16-bit weights in memory is a kernel task for later); q_proj and
 * k_proj rows are put back from HF's rotary order into llama2.c's (rotary-permute.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ModelFileError } from '../errors.js';
import { describeValue } from '../util/describe-value.js';
import { parseJson } from '../util/parse-json.js';
import { READ_LIMITS, readFileBounded } from '../util/bounded-read.js';
import { llamaConfigFromHf } from './hf-llama-config.js';
import type { LlamaConfig } from './llama-config.js';
import type { LayerWeightName, LlamaWeights } from './llama-weights.js';
import { assembleWeights, layerWeightShapes } from './llama-weights.js';
import type { ModelDescription } from './model-format.js';
import { permuteFromHf } from './rotary-permute.js';
import { SafetensorsFile } from './safetensors.js';

export const HF_CONFIG_FILE = 'config.json';
export const HF_WEIGHTS_FILE = 'model.safetensors';
export const HF_INDEX_FILE = 'model.safetensors.index.json';

/** transformers' LlamaForCausalLM state-dict name of each per-layer weight. */
export const HF_LAYER_NAMES: Record<LayerWeightName, string> = {
  rmsAtt: 'input_layernorm.weight',
  wq: 'self_attn.q_proj.weight',
  wk: 'self_attn.k_proj.weight',
  wv: 'self_attn.v_proj.weight',
  wo: 'self_attn.o_proj.weight',
  rmsFfn: 'post_attention_layernorm.weight',
  w1: 'mlp.gate_proj.weight',
  w2: 'mlp.down_proj.weight',
  w3: 'mlp.up_proj.weight',
};
export const HF_EMBEDDING = 'model.embed_tokens.weight';
export const HF_FINAL_NORM = 'model.norm.weight';
export const HF_LM_HEAD = 'lm_head.weight';
export const hfLayerName = (l: number, n: LayerWeightName): string => `model.layers.${l}.${HF_LAYER_NAMES[n]}`;

const FLOAT_DTYPES = ['F32', 'F16', 'BF16'];

export interface HfLlamaFolder {
  config: LlamaConfig;
  weights: LlamaWeights<Float32Array>;
  fileBytes: number;
  description: ModelDescription;
}

export function readHfLlama(dir: string): HfLlamaFolder {
  const configPath = join(dir, HF_CONFIG_FILE);
  const configText = readFileBounded(configPath, READ_LIMITS.config, (p) => new ModelFileError(configPath, p)).toString('utf8');
  const config = llamaConfigFromHf(
    parseJson(configText, READ_LIMITS.config.maxBytes, (p) => new ModelFileError(configPath, p)),
    configPath,
  );
  const shards = openShards(dir);
  const tensor = (name: string, shape: number[]): Float32Array => {
    const file = shards.fileOf(name);
    const t = file.info(name);
    if (!FLOAT_DTYPES.includes(t.dtype)) throw new ModelFileError(file.file, `tensor ${describeValue(name)} has dtype ${t.dtype}; a Llama weight must be one of ${FLOAT_DTYPES.join(', ')}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFileError(file.file, `tensor ${describeValue(name)} has shape ${describeValue(t.shape)}, but ${HF_CONFIG_FILE} needs ${describeValue(shape)}`);
    }
    return file.readF32(name);
  };
  const shapes = layerWeightShapes(config);
  const weights = assembleWeights<Float32Array>(config, {
    tokenEmbedding: tensor(HF_EMBEDDING, [config.vocabSize, config.dim]),
    layer: (n, l) => {
      const w = tensor(hfLayerName(l, n), shapes[n]);
      if (n === 'wq') return permuteFromHf(w, config.nHeads, config.dim);
      if (n === 'wk') return permuteFromHf(w, config.nKvHeads, config.dim);
      return w;
    },
    rmsFinal: tensor(HF_FINAL_NORM, [config.dim]),
    // A tied checkpoint may still store lm_head (a copy); the config decides, as transformers' tie_weights does.
    classifier: () => tensor(HF_LM_HEAD, [config.vocabSize, config.dim]),
  });
  return { config, weights, fileBytes: shards.bytes, description: { architecture: 'LlamaForCausalLM', tensors: shards.describe() } };
}

interface Shards {
  fileOf(tensor: string): SafetensorsFile;
  bytes: number;
  describe(): ModelDescription['tensors'];
}

/** The folder's safetensors file(s): model.safetensors, else the shards its index names (each checked to hold what the index says). */
function openShards(dir: string): Shards {
  const single = join(dir, HF_WEIGHTS_FILE);
  const indexPath = join(dir, HF_INDEX_FILE);
  if (existsSync(single) && !existsSync(indexPath)) {
    const f = SafetensorsFile.open(single);
    return { fileOf: () => f, bytes: fileBytes([f]), describe: () => describeFiles([f]) };
  }
  if (!existsSync(indexPath)) {
    // PyTorch pickles (pytorch_model.bin) can run code when unpickled; only safetensors are read.
    const pickle = existsSync(join(dir, 'pytorch_model.bin')) ? ' (pytorch_model.bin is not read: convert it to safetensors)' : '';
    throw new ModelFileError(dir, `has neither ${HF_WEIGHTS_FILE} nor ${HF_INDEX_FILE}${pickle}`);
  }
  const weightMap = readWeightMap(indexPath);
  const files = new Map<string, SafetensorsFile>();
  for (const shard of new Set(weightMap.values())) {
    const path = join(dir, shard);
    if (!existsSync(path)) throw new ModelFileError(indexPath, `names shard ${describeValue(shard)}, which is missing from ${dir}`);
    files.set(shard, SafetensorsFile.open(path));
  }
  for (const [tensor, shard] of weightMap) {
    if (!files.get(shard)!.has(tensor)) throw new ModelFileError(indexPath, `says tensor ${describeValue(tensor)} is in ${describeValue(shard)}, which has no such tensor`);
  }
  return {
    fileOf(tensor) {
      const shard = weightMap.get(tensor);
      if (shard === undefined) throw new ModelFileError(indexPath, `weight_map has no tensor ${describeValue(tensor)}`);
      return files.get(shard)!;
    },
    bytes: fileBytes([...files.values()]),
    describe: () => describeFiles([...files.values()]),
  };
}

function readWeightMap(indexPath: string): Map<string, string> {
  const fail = (p: string) => new ModelFileError(indexPath, p);
  const json = parseJson(readFileBounded(indexPath, READ_LIMITS.config, fail).toString('utf8'), READ_LIMITS.config.maxBytes, fail);
  const map = typeof json === 'object' && json !== null ? (json as Record<string, unknown>).weight_map : undefined;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw fail(`field "weight_map" must be an object of tensor name → shard file, got ${describeValue(map)}`);
  const out = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(map)) {
    // A shard is a file beside the index: no path separators, so an index cannot reach outside the folder.
    if (typeof shard !== 'string' || !/^[^/\\]+\.safetensors$/.test(shard) || shard.startsWith('.')) {
      throw fail(`weight_map[${describeValue(tensor)}] = ${describeValue(shard)} is not a .safetensors file name in the same folder`);
    }
    out.set(tensor, shard);
  }
  return out;
}

function fileBytes(files: SafetensorsFile[]): number {
  return files.reduce((s, f) => s + f.byteLength, 0);
}

function describeFiles(files: SafetensorsFile[]): ModelDescription['tensors'] {
  return files.flatMap((f) => f.names().map((name) => ({ name, dtype: f.info(name).dtype, shape: f.info(name).shape })));
}
