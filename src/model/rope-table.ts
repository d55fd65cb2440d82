import type { LlamaConfig } from './llama-config.js';
import { headSize } from './llama-config.js';

/**
 * (cos, sin) of RoPE angles as [positions, headSize/2, 2] (default: all seqLen positions). The angle
 * for pair i at position p is p · theta^(−2i/headSize), computed in float32 steps as llama2.c run.c
 * does (powf, pos*freq), so our rotations match the reference to the last bit where possible.
 */
export function ropeTable(c: LlamaConfig, positions = c.seqLen): Float32Array {
  const hs = headSize(c);
  const half = hs / 2;
  const table = new Float32Array(positions * hs);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const freq = Math.fround(1 / Math.fround(Math.pow(c.ropeTheta, Math.fround((2 * i) / hs))));
      const angle = Math.fround(p * freq);
      table[p * hs + 2 * i] = Math.cos(angle);
      table[p * hs + 2 * i + 1] = Math.sin(angle);
    }
  }
  return table;
}
