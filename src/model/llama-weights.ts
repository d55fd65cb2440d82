import type { WeightMatrix } from '../tensor/weight-matrix.js';
import { isQ80, weightBytes } from '../tensor/weight-matrix.js';
import type { LlamaConfig } from './llama-config.js';
import { kvDim } from './llama-config.js';

/**
 * Weights of a Llama model as row-major views (out × in), one array per layer, as llama2.c's
 * TransformerWeights. Matrices are fp32 or Q8_0 (M); embedding and norms are always fp32.
 */
export interface LlamaWeights<M extends WeightMatrix = WeightMatrix> {
  tokenEmbedding: Float32Array; // [vocab, dim]
  rmsAtt: Float32Array[]; // L × [dim]
  wq: M[]; // L × [dim, dim]
  wk: M[]; // L × [kvDim, dim]
  wv: M[]; // L × [kvDim, dim]
  wo: M[]; // L × [dim, dim]
  rmsFfn: Float32Array[]; // L × [dim]
  w1: M[]; // L × [hidden, dim]  gate
  w2: M[]; // L × [dim, hidden]  down
  w3: M[]; // L × [hidden, dim]  up
  rmsFinal: Float32Array; // [dim]
  classifier: M; // [vocab, dim] (the embedding itself when shared and fp32; its own Q8_0 copy when quantised)
}

/** The matrices that matmul reads (quantisable); the rest are vectors or the embedding table. */
export const MATRIX_NAMES = ['wq', 'wk', 'wv', 'wo', 'w1', 'w2', 'w3'] as const;

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

/**
 * The weights of a checkpoint whose tensors are read one by one (HF folders, GGUF files): every
 * layer's weights from `layer(name, l)`; the classifier is the embedding itself when the config
 * shares it, else `classifier()`.
 */
export function assembleWeights<M extends WeightMatrix>(
  c: LlamaConfig,
  parts: { tokenEmbedding: Float32Array; layer: (name: LayerWeightName, l: number) => Float32Array | M; rmsFinal: Float32Array; classifier: () => M },
): LlamaWeights<M> {
  const layers = <T>(name: LayerWeightName): T[] => Array.from({ length: c.nLayers }, (_, l) => parts.layer(name, l) as T);
  return {
    tokenEmbedding: parts.tokenEmbedding,
    rmsAtt: layers('rmsAtt'),
    wq: layers('wq'),
    wk: layers('wk'),
    wv: layers('wv'),
    wo: layers('wo'),
    rmsFfn: layers('rmsFfn'),
    w1: layers('w1'),
    w2: layers('w2'),
    w3: layers('w3'),
    rmsFinal: parts.rmsFinal,
    classifier: c.sharedClassifier ? (parts.tokenEmbedding as M) : parts.classifier(),
  };
}

/** Every distinct weight tensor with a readable name (for inspection and scans); a shared classifier counts once unless quantised apart. */
export function namedWeights(w: LlamaWeights, c: LlamaConfig): [string, WeightMatrix][] {
  const out: [string, WeightMatrix][] = [['tok_embeddings', w.tokenEmbedding]];
  const names = Object.keys(layerWeightShapes(c)) as LayerWeightName[];
  for (let l = 0; l < c.nLayers; l++) for (const n of names) out.push([`layers.${l}.${n}`, w[n][l]]);
  out.push(['norm', w.rmsFinal]);
  if (w.classifier !== w.tokenEmbedding) out.push(['output', w.classifier]);
  return out;
}

export interface WeightSummary {
  /** How the matrices (MATRIX_NAMES and the classifier) are stored. */
  format: 'fp32' | 'q8_0' | 'mixed';
  /** Q8_0 group size per matrix name (`classifier` included); per layer (`layers.{l}.{name}`) where layers differ. */
  groupSizes: Record<string, number>;
  /** Bytes of all distinct weight tensors in memory. */
  bytes: number;
}

/** What `tinymorph inspect` shows about the weights: their format, Q8_0 group sizes, bytes. */
export function weightSummary(w: LlamaWeights, c: LlamaConfig): WeightSummary {
  const groupSizes: Record<string, number> = {};
  let quantised = 0;
  for (const name of MATRIX_NAMES) {
    const sizes = w[name].map((m) => (isQ80(m) ? m.groupSize : 0));
    quantised += sizes.filter((g) => g > 0).length;
    if (sizes.every((g) => g === sizes[0])) {
      if (sizes[0]) groupSizes[name] = sizes[0];
    } else sizes.forEach((g, l) => g && (groupSizes[`layers.${l}.${name}`] = g));
  }
  if (isQ80(w.classifier)) {
    groupSizes.classifier = w.classifier.groupSize;
    quantised++;
  }
  const total = MATRIX_NAMES.length * c.nLayers + 1;
  const bytes = namedWeights(w, c).reduce((s, [, m]) => s + weightBytes(m), 0);
  return { format: quantised === 0 ? 'fp32' : quantised === total ? 'q8_0' : 'mixed', groupSizes, bytes };
}
