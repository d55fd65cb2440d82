/**
 * What several targets share: a tiny random llama2.c model over the embedded 512-token vocabulary
 * (small, so that thousands of inputs a minute can be written and loaded), and a short generation
 * that uses what a reader returned, the way every command does after loading.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../../src/model/generate.js';
import type { LlamaConfig } from '../../src/model/llama-config.js';
import type { LlamaModel } from '../../src/model/llama-model.js';
import type { LlamaWeights } from '../../src/model/llama-weights.js';
import { layerWeightShapes } from '../../src/model/llama-weights.js';
import type { Tokenizer } from '../../src/model/tokenizer.js';
import { randomArray } from '../../test/sae/sae-test-helpers.js';
import { AcceptedBadInput } from '../outcome.js';

/** The embedded tokenizer's vocabulary, so that tiny models load with it as the CLI loads them. */
export const TINY_CONFIG: LlamaConfig = {
  dim: 16,
  hiddenDim: 32,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 512,
  seqLen: 32,
  sharedClassifier: true,
  normEps: 1e-5,
  ropeTheta: 10000,
};

/** Uniform random weights for `c` (the norms near 1, as trained models have them). */
export function randomLlamaWeights(c: LlamaConfig, seed: number): LlamaWeights<Float32Array> {
  let s = seed;
  const layer = (shape: number[], norm = false) =>
    Array.from({ length: c.nLayers }, () => {
      const a = randomArray(shape.reduce((x, y) => x * y, 1), s++, norm ? 0.1 : 0.3);
      return norm ? a.map((v) => v + 1) : a;
    });
  const shapes = layerWeightShapes(c);
  const tokenEmbedding = randomArray(c.vocabSize * c.dim, s++, 0.5);
  return {
    tokenEmbedding,
    rmsAtt: layer(shapes.rmsAtt, true),
    wq: layer(shapes.wq),
    wk: layer(shapes.wk),
    wv: layer(shapes.wv),
    wo: layer(shapes.wo),
    rmsFfn: layer(shapes.rmsFfn, true),
    w1: layer(shapes.w1),
    w2: layer(shapes.w2),
    w3: layer(shapes.w3),
    rmsFinal: randomArray(c.dim, s++, 0.1).map((v) => v + 1),
    classifier: c.sharedClassifier ? tokenEmbedding : randomArray(c.vocabSize * c.dim, s++, 0.5),
  };
}

export function writeFile(dir: string, name: string, data: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
}

/**
 * A few greedy and sampled tokens from `model`, as a command would generate after loading. A
 * request that cannot end early must give its tokens: a silently empty or short result is a bug.
 */
export function generateFew(model: LlamaModel, tokenizer: Tokenizer, prompt = 'Once upon a time'): void {
  const ids = tokenizer.encode(prompt);
  const room = model.config.seqLen - ids.length;
  if (room < 1) return;
  const maxTokens = Math.min(3, room);
  const results = generate(model, tokenizer, [
    { prompt: ids, maxTokens, sampling: { temperature: 0 }, stopAtEndOfText: false, seed: 1 },
    { prompt: ids, maxTokens, sampling: { temperature: 1, topP: 0.9 }, stopAtEndOfText: false, seed: 2 },
  ]);
  for (const r of results) {
    if (r.tokens.length !== maxTokens) throw new AcceptedBadInput(`generation gave ${r.tokens.length} of ${maxTokens} tokens without an error`);
    if (!r.tokens.every((t) => Number.isInteger(t) && t >= 0 && t < model.config.vocabSize)) throw new AcceptedBadInput('generation gave token ids outside the vocabulary');
  }
}
