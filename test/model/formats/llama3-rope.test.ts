import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelFileError } from '../../../src/errors.js';
import { hfConfigFromLlama, llamaConfigFromHf } from '../../../src/model/hf-llama-config.js';
import type { LlamaConfig } from '../../../src/model/llama-config.js';
import { ropeTable } from '../../../src/model/rope-table.js';
import { assertAllClose } from '../../helpers/assert-all-close.js';

/**
 * Llama-3.1 RoPE scaling against HF transformers' modeling_rope_utils.py `_compute_llama3_parameters`,
 * written out again here in float64 with its torch.where masks:
 *   wavelen = 2π / inv_freq
 *   inv_freq_llama = where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
 *   smooth = (old_context_len / wavelen − low_freq_factor) / (high_freq_factor − low_freq_factor)
 *   smoothed = (1 − smooth) · inv_freq_llama / factor + smooth · inv_freq_llama
 *   is_medium = ¬(wavelen < high_freq_wavelen) ∧ ¬(wavelen > low_freq_wavelen)
 *   inv_freq_llama = where(is_medium, smoothed, inv_freq_llama)
 */
const HF_LLAMA_31 = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 2,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  vocab_size: 128256,
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-5,
  rope_theta: 500000.0,
  rope_scaling: { factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  tie_word_embeddings: false,
};

function hfInvFreq(headDim: number, base: number, s: typeof HF_LLAMA_31.rope_scaling): number[] {
  const lowWave = s.original_max_position_embeddings / s.low_freq_factor;
  const highWave = s.original_max_position_embeddings / s.high_freq_factor;
  return Array.from({ length: headDim / 2 }, (_, k) => {
    const invFreq = 1 / Math.pow(base, (2 * k) / headDim);
    const wavelen = (2 * Math.PI) / invFreq;
    let llama = wavelen > lowWave ? invFreq / s.factor : invFreq;
    const smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    const smoothed = ((1 - smooth) * llama) / s.factor + smooth * llama;
    if (!(wavelen < highWave) && !(wavelen > lowWave)) llama = smoothed;
    return llama;
  });
}

test('config.json rope_scaling (llama3) gives the RoPE table of transformers\' _compute_llama3_parameters', () => {
  const c: LlamaConfig = llamaConfigFromHf(HF_LLAMA_31, 'config.json');
  assert.deepEqual(c.ropeScaling, { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
  const positions = [0, 1, 7, 1000];
  const table = ropeTable(c, 1001);
  const freqs = hfInvFreq(128, 500000, HF_LLAMA_31.rope_scaling);
  // The three regimes all occur for head size 128 and base 500000: kept, blended and divided by 8.
  const scaled = freqs.map((f, k) => f / (1 / Math.pow(500000, (2 * k) / 128)));
  assert.ok(scaled.some((r) => r === 1) && scaled.some((r) => Math.abs(r - 1 / 8) < 1e-12) && scaled.some((r) => r > 1 / 8 + 1e-6 && r < 1 - 1e-6));
  for (const p of positions) {
    const got = table.subarray(p * 128, (p + 1) * 128);
    const want = freqs.flatMap((f) => [Math.cos(p * f), Math.sin(p * f)]);
    // Angles are float32 products (as run.c's); at position 1000 that is ≈1e-4 of rounding.
    assertAllClose(got, want, { atol: p > 10 ? 2e-4 : 2e-6 }, `position ${p}`);
  }
});

test('rope_scaling round-trips through the exporter\'s config.json; bad values are ModelFileErrors naming the field', () => {
  const c = llamaConfigFromHf(HF_LLAMA_31, 'config.json');
  assert.deepEqual(llamaConfigFromHf(hfConfigFromLlama(c, 'bfloat16'), 'config.json'), c);
  const bad = (rope: unknown, field: string) =>
    assert.throws(() => llamaConfigFromHf({ ...HF_LLAMA_31, rope_scaling: rope }, 'x/config.json'), (e: unknown) => e instanceof ModelFileError && e.message.startsWith('x/config.json') && e.message.includes(field));
  bad({ ...HF_LLAMA_31.rope_scaling, factor: 0 }, 'rope_scaling.factor');
  bad({ ...HF_LLAMA_31.rope_scaling, high_freq_factor: 1 }, 'rope_scaling.high_freq_factor');
  bad({ rope_type: 'linear', factor: 2 }, 'rope_scaling.rope_type');
  bad([1], 'rope_scaling');
});
