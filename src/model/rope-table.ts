import type { Llama3RopeScaling, LlamaConfig } from './llama-config.js';
import { headSize } from './llama-config.js';

/**
 * (cos, sin) of RoPE angles as [positions, headSize/2, 2] (default: all seqLen positions). The angle
 * for pair i at position p is p · theta^(−2i/headSize), computed in float32 steps as llama2.c run.c
 * does (powf, pos*freq), so our rotations match the reference to the last bit where possible. A
 * config with Llama-3 `ropeScaling` rescales each frequency first (llama3InvFreq); one with
 * `ropeFreqFactors` divides frequency i by factor i (llama.cpp's ggml_rope_ext with freq_factors).
 */
export function ropeTable(c: LlamaConfig, positions = c.seqLen): Float32Array {
  const hs = headSize(c);
  const half = hs / 2;
  const table = new Float32Array(positions * hs);
  const freqs = Array.from({ length: half }, (_, i) => {
    const freq = Math.fround(1 / Math.fround(Math.pow(c.ropeTheta, Math.fround((2 * i) / hs))));
    if (c.ropeScaling) return Math.fround(llama3InvFreq(freq, c.ropeScaling));
    return c.ropeFreqFactors ? Math.fround(freq / c.ropeFreqFactors[i]) : freq;
  });
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(p * freqs[i]);
      table[p * hs + 2 * i] = Math.cos(angle);
      table[p * hs + 2 * i + 1] = Math.sin(angle);
    }
  }
  return table;
}

/**
 * Llama-3.1's frequency rescaling of one inverse frequency (HF transformers modeling_rope_utils.py
 * `_compute_llama3_parameters`): wavelengths longer than original_max / low_freq_factor are divided
 * by `factor`, shorter than original_max / high_freq_factor are kept, and those between blend the two
 * linearly in original_max / wavelength.
 */
export function llama3InvFreq(invFreq: number, s: Llama3RopeScaling): number {
  const wavelen = (2 * Math.PI) / invFreq;
  const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  if (wavelen > lowFreqWavelen) return invFreq / s.factor;
  if (wavelen < highFreqWavelen) return invFreq;
  const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
  return ((1 - smooth) * invFreq) / s.factor + smooth * invFreq;
}

/** What llama.cpp's convert_hf_to_gguf.py stores as `rope_freqs` for Llama-3 scaling: frequency i's divisor. */
export function llama3FreqFactors(c: LlamaConfig, s: Llama3RopeScaling): number[] {
  const hs = headSize(c);
  return Array.from({ length: hs / 2 }, (_, i) => {
    const freq = 1 / Math.pow(c.ropeTheta, (2 * i) / hs);
    return freq / llama3InvFreq(freq, s);
  });
}
