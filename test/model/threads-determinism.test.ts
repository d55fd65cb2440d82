import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from '../../src/model/generate.js';
import { LlamaModel } from '../../src/model/llama-model.js';
import { loadModel } from '../../src/model/load-model.js';
import { quantizeWeights } from '../../src/model/quantize-weights.js';
import type { LlamaWeights } from '../../src/model/llama-weights.js';
import { nativeBackend, nativeThreads, setNativeParallelMinWork, setNativeThreads } from '../../src/tensor/native-backend.js';

/**
 * Issue 4: threaded results are deterministic — the same logits and the same greedy text for 1 and
 * N threads, fp32 and Q8_0 — because every output element is computed by one thread in a fixed order.
 * Parallel work is forced on even for this small model (threshold 0) so the threaded paths run.
 */
const skip = nativeBackend ? false : 'native addon not available (its own test fails under CI)';

test('1 thread and 2 threads give bit-identical logits and greedy text, fp32 and Q8_0', { skip }, () => {
  const { model: base, tokenizer } = loadModel();
  const fp32 = new LlamaModel(base.config, base.weights, nativeBackend!);
  const q8 = new LlamaModel(base.config, quantizeWeights(base.weights as LlamaWeights<Float32Array>, base.config), nativeBackend!);
  const prompts = ['Once upon a time', 'Lily and Ben', 'Zoo'].map((p) => tokenizer.encode(p));
  const run = (model: LlamaModel): { logits: Float32Array; texts: string[] } => {
    const cache = model.newCache(prompts.length, 64);
    const logits = model.forward(cache, prompts, { allLogits: true }).logits.slice();
    const texts = generate(model, tokenizer, ['', 'Zoo', 'Lily'].map((prompt) => ({ prompt, maxTokens: 40, sampling: { temperature: 0 } }))).map((r) => r.text);
    return { logits, texts };
  };
  const before = nativeThreads();
  const minWork = setNativeParallelMinWork(0);
  try {
    for (const model of [fp32, q8]) {
      setNativeThreads(1);
      const one = run(model);
      setNativeThreads(2);
      const two = run(model);
      assert.deepEqual(two.logits, one.logits);
      assert.deepEqual(two.texts, one.texts);
    }
  } finally {
    setNativeThreads(before);
    setNativeParallelMinWork(minWork);
  }
});
