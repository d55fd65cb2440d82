/**
 * Writes a model as an HF transformers Llama folder (the inverse of hf-llama-read.ts): config.json
 * and model.safetensors, or shards of at most `maxShardBytes` with model.safetensors.index.json as
 * transformers' save_pretrained writes them. q_proj/k_proj rows are put in HF's rotary order
 * (transformers' convert_llama_weights_to_hf.py `permute`); a tied classifier is not stored.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { dequantizeQ80 } from '../tensor/q80.js';
import type { WeightMatrix } from '../tensor/weight-matrix.js';
import { isQ80 } from '../tensor/weight-matrix.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { hfConfigFromLlama } from './hf-llama-config.js';
import { HF_CONFIG_FILE, HF_EMBEDDING, HF_FINAL_NORM, HF_INDEX_FILE, HF_LM_HEAD, HF_WEIGHTS_FILE, hfLayerName } from './hf-llama-read.js';
import type { LlamaConfig } from './llama-config.js';
import type { LayerWeightName, LlamaWeights } from './llama-weights.js';
import { layerWeightShapes } from './llama-weights.js';
import { permuteToHf } from './rotary-permute.js';
import type { TensorToWrite } from './safetensors.js';
import { writeSafetensors } from './safetensors.js';

export type HfDtype = 'F32' | 'F16' | 'BF16';
const TORCH_DTYPE: Record<HfDtype, 'float32' | 'float16' | 'bfloat16'> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };
const DTYPE_BYTES: Record<HfDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export interface HfWriteOptions {
  dtype?: HfDtype;
  /** Split into shards of at most this many bytes of tensor data (a tensor is never split); default: one file. */
  maxShardBytes?: number;
}

export function writeHfLlama(dir: string, c: LlamaConfig, w: LlamaWeights, opts: HfWriteOptions = {}): void {
  if (c.ropeFreqFactors) throw new UsageError('a model with RoPE frequency factors (a GGUF rope_freqs tensor) has no HF config.json form; export it as GGUF');
  const dtype = opts.dtype ?? 'F32';
  const tensors: [string, TensorToWrite][] = [];
  const add = (name: string, m: WeightMatrix, shape: number[]) => tensors.push([name, { dtype, shape, data: isQ80(m) ? dequantizeQ80(m) : m }]);
  add(HF_EMBEDDING, w.tokenEmbedding, [c.vocabSize, c.dim]);
  const shapes = layerWeightShapes(c);
  for (let l = 0; l < c.nLayers; l++) {
    for (const n of Object.keys(shapes) as LayerWeightName[]) {
      let m = w[n][l];
      if (n === 'wq' || n === 'wk') m = permuteToHf(isQ80(m) ? dequantizeQ80(m) : m, n === 'wq' ? c.nHeads : c.nKvHeads, c.dim);
      add(hfLayerName(l, n), m, shapes[n]);
    }
  }
  add(HF_FINAL_NORM, w.rmsFinal, [c.dim]);
  if (!c.sharedClassifier) add(HF_LM_HEAD, w.classifier, [c.vocabSize, c.dim]);

  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, HF_CONFIG_FILE), JSON.stringify(hfConfigFromLlama(c, TORCH_DTYPE[dtype]), null, 2) + '\n');
  const metadata = { format: 'pt' };
  const bytesOf = (t: TensorToWrite) => t.data.length * DTYPE_BYTES[dtype];
  if (opts.maxShardBytes === undefined) {
    writeSafetensors(join(dir, HF_WEIGHTS_FILE), Object.fromEntries(tensors), metadata);
    return;
  }
  const shards: [string, TensorToWrite][][] = [[]];
  let size = 0;
  for (const t of tensors) {
    if (size > 0 && size + bytesOf(t[1]) > opts.maxShardBytes) {
      shards.push([]);
      size = 0;
    }
    shards[shards.length - 1].push(t);
    size += bytesOf(t[1]);
  }
  const weightMap: Record<string, string> = {};
  const pad = (i: number) => String(i).padStart(5, '0');
  shards.forEach((shard, i) => {
    const file = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
    for (const [name] of shard) weightMap[name] = file;
    writeSafetensors(join(dir, file), Object.fromEntries(shard), metadata);
  });
  const totalSize = tensors.reduce((s, [, t]) => s + bytesOf(t), 0);
  writeFileAtomic(join(dir, HF_INDEX_FILE), JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2) + '\n');
}
