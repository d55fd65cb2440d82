import type { LlamaConfig } from './llama-config.js';
import { kvDim } from './llama-config.js';

/** Weights of a Llama model as row-major views (out × in), one array per layer, as llama2.c's TransformerWeights. */
export interface LlamaWeights {
  tokenEmbedding: Float32Array; // [vocab, dim]
  rmsAtt: Float32Array[]; // L × [dim]
  wq: Float32Array[]; // L × [dim, dim]
  wk: Float32Array[]; // L × [kvDim, dim]
  wv: Float32Array[]; // L × [kvDim, dim]
  wo: Float32Array[]; // L × [dim, dim]
  rmsFfn: Float32Array[]; // L × [dim]
  w1: Float32Array[]; // L × [hidden, dim]  gate
  w2: Float32Array[]; // L × [dim, hidden]  down
  w3: Float32Array[]; // L × [hidden, dim]  up
  rmsFinal: Float32Array; // [dim]
  classifier: Float32Array; // [vocab, dim] (the embedding itself when shared)
}

export type LayerWeightName = 'rmsAtt' | 'wq' | 'wk' | 'wv' | 'wo' | 'rmsFfn' | 'w1' | 'w2' | 'w3';

/** Shape of each per-layer weight. */
export function layerWeightShapes(c: LlamaConfig): Record<LayerWeightName, number[]> {
  const kv = kvDim(c);
  return {
    rmsAtt: [c.dim],
    wq: [c.dim, c.dim],
    wk: [kv, c.dim],
    wv: [kv, c.dim],
    wo: [c.dim, c.dim],
    rmsFfn: [c.dim],
    w1: [c.hiddenDim, c.dim],
    w2: [c.dim, c.hiddenDim],
    w3: [c.hiddenDim, c.dim],
  };
}

/** Every distinct weight tensor with a readable name (for inspection and scans). */
export function namedWeights(w: LlamaWeights, c: LlamaConfig): [string, Float32Array][] {
  const out: [string, Float32Array][] = [['tok_embeddings', w.tokenEmbedding]];
  const names = Object.keys(layerWeightShapes(c)) as LayerWeightName[];
  for (let l = 0; l < c.nLayers; l++) for (const n of names) out.push([`layers.${l}.${n}`, w[n][l]]);
  out.push(['norm', w.rmsFinal]);
  if (!c.sharedClassifier) out.push(['output', w.classifier]);
  return out;
}
