/** Hyper-parameters of a Llama-family model (the fields of llama2.c's `Config`, plus derived sizes). */
export interface LlamaConfig {
  /** Residual stream width. */
  dim: number;
  /** SwiGLU inner width. */
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  /** Key/value heads (grouped-query attention, Ainslie et al. 2023); nHeads must be a multiple. */
  nKvHeads: number;
  vocabSize: number;
  /** Maximum context length (positions 0..seqLen-1). */
  seqLen: number;
  /** True when the output classifier is the token embedding matrix. */
  sharedClassifier: boolean;
  /** RMSNorm epsilon (llama2.c: 1e-5). */
  normEps: number;
  /** RoPE base (llama2.c: 10000). */
  ropeTheta: number;
  /** Llama-3.1's RoPE frequency scaling (HF config.json `rope_scaling` with rope_type "llama3"); absent: none. */
  ropeScaling?: Llama3RopeScaling;
  /**
   * Per-pair divisors of the RoPE frequencies (headSize/2 of them): llama.cpp's `rope_freqs` tensor,
   * the form Llama-3.1's scaling takes in a GGUF file (convert_hf_to_gguf.py writes 1 / the llama3 ratio).
   */
  ropeFreqFactors?: number[];
}

/** HF transformers' `rope_scaling` for rope_type "llama3" (modeling_rope_utils.py `_compute_llama3_parameters`). */
export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export function headSize(c: LlamaConfig): number {
  return c.dim / c.nHeads;
}

export function kvDim(c: LlamaConfig): number {
  return (c.dim * c.nKvHeads) / c.nHeads;
}

/** Number of parameters, counting a shared classifier once. */
export function parameterCount(c: LlamaConfig): number {
  const kv = kvDim(c);
  const perLayer = 2 * c.dim + c.dim * c.dim * 2 + c.dim * kv * 2 + 3 * c.dim * c.hiddenDim;
  return c.vocabSize * c.dim + c.nLayers * perLayer + c.dim + (c.sharedClassifier ? 0 : c.vocabSize * c.dim);
}

/** Why this config cannot describe a model, or undefined when it can. */
export function configProblem(c: LlamaConfig): string | undefined {
  const positive: (keyof LlamaConfig)[] = ['dim', 'hiddenDim', 'nLayers', 'nHeads', 'nKvHeads', 'vocabSize', 'seqLen'];
  for (const k of positive) {
    const v = c[k] as number;
    if (!Number.isSafeInteger(v) || v <= 0 || v > 1 << 24) return `${k} = ${v} is not a positive integer in range`;
  }
  if (c.dim % c.nHeads !== 0) return `dim ${c.dim} is not divisible by n_heads ${c.nHeads}`;
  if (c.nHeads % c.nKvHeads !== 0) return `n_heads ${c.nHeads} is not a multiple of n_kv_heads ${c.nKvHeads}`;
  if (headSize(c) % 2 !== 0) return `head size ${headSize(c)} is odd; RoPE rotates pairs`;
  if (!(c.normEps > 0 && c.normEps < 1)) return `rms_norm_eps = ${c.normEps} is not in (0, 1)`;
  if (!(c.ropeTheta > 1 && Number.isFinite(c.ropeTheta))) return `rope_theta = ${c.ropeTheta} is not a finite number > 1`;
  const f = c.ropeFreqFactors;
  if (f && (f.length !== headSize(c) / 2 || !f.every((x) => x > 0 && Number.isFinite(x)))) return `RoPE frequency factors must be ${headSize(c) / 2} finite positive numbers (head size / 2)`;
  if (f && c.ropeScaling) return 'RoPE frequency factors and Llama-3 rope_scaling are two forms of one thing; a config has at most one';
  return undefined;
}
