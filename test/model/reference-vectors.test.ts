import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { splitDocuments } from '../../src/model/documents.js';
import { generate } from '../../src/model/generate.js';
import { loadModel } from '../../src/model/load-model.js';
import { LlamaModel } from '../../src/model/llama-model.js';
import { meanCrossEntropy } from '../../src/model/perplexity.js';
import { availableBackends, backendByName } from '../../src/tensor/backend-registry.js';
import { assetPath } from '../../src/util/package-root.js';
import { assertAllClose } from '../helpers/assert-all-close.js';

/**
 * The embedded stories260K against the reference vectors of ../shared/README.md (an independent
 * numpy re-implementation of llama2.c run.c) and Karpathy's published greedy sample, on every
 * available kernel backend.
 */

const loaded = loadModel();
const { tokenizer } = loaded;
const VOCAB = loaded.model.config.vocabSize;

/** Ids of the k largest logits, largest first (ties: lower id first). */
function topK(logits: Float32Array, k: number): number[] {
  return Array.from(logits.keys())
    .sort((a, b) => logits[b] - logits[a] || a - b)
    .slice(0, k);
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

for (const backend of availableBackends()) {
  const model = new LlamaModel(loaded.model.config, loaded.model.weights, backendByName(backend));

  test(`${backend}: BOS at position 0: the first logits and the top 5 match the numpy reference`, () => {
    const out = model.forward(model.newCache(1), [[1]]);
    assert.equal(out.logits.length, VOCAB);
    assertAllClose(out.logits.subarray(0, 5), [-6.22291, 8.40434, -6.22374, -6.22254, -6.22195], { atol: 1e-4 }, 'logits[0..4]');
    const top = topK(out.logits, 5);
    assert.deepEqual(top, [403, 385, 410, 317, 407]);
    assertAllClose(
      top.map((id) => out.logits[id]),
      [17.0235, 15.4062, 13.1083, 12.7692, 12.4181],
      { atol: 1e-4 },
      'top-5 logits',
    );
    assert.deepEqual(
      top.map((id) => tokenizer.piece(id)),
      [' Once', ' One', ' ', ' Lily', ' upon'],
    );
  });

  test(`${backend}: teacher-forced "Once upon a time": argmax and its logit after every position`, () => {
    const ids = tokenizer.encode('Once upon a time');
    assert.deepEqual(ids, [1, 403, 407, 261, 378]);
    const out = model.forward(model.newCache(1), [ids], { allLogits: true });
    assert.equal(out.logits.length, ids.length * VOCAB);
    const expected: [number, number, number][] = [
      // [id, logit, atol]: atol from the digits the reference gives
      [403, 17.0235, 1e-3],
      [407, 18.46, 1e-2],
      [261, 17.137, 1e-3],
      [378, 18.8744, 1e-3],
      [432, 17.7994, 1e-3],
    ];
    expected.forEach(([id, logit, atol], pos) => {
      const row = out.logits.subarray(pos * VOCAB, (pos + 1) * VOCAB);
      assert.equal(argmax(row), id, `argmax after position ${pos}`);
      assertAllClose([row[id]], [logit], { atol }, `logit of ${id} after position ${pos}`);
    });
    assert.equal(tokenizer.piece(432), ',');
  });

  test(`${backend}: mean next-token cross-entropy of the 32-token "Once upon a time, …" sentence is 0.1804 nats`, () => {
    const ids = tokenizer.encode('Once upon a time, there was a little girl named Lily. She loved to play outside in the park.');
    assert.deepEqual(
      ids,
      [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426],
    );
    const ce = meanCrossEntropy(model, [ids]);
    assert.equal(ce.tokens, 31);
    assert.equal(ce.documents, 1);
    assertAllClose([ce.meanNats], [0.1804], { atol: 5e-4 }, 'mean CE');
  });

  test(`${backend}: greedy from the empty prompt, 256 tokens: Karpathy's published sample`, () => {
    const [r] = generate(model, tokenizer, [{ prompt: '', maxTokens: 256, sampling: { temperature: 0 } }]);
    assert.equal(r.promptTokens, 1);
    assert.equal(r.tokens.length, 256);
    assert.equal(r.finishReason, 'length');
    const start =
      'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.';
    assert.ok(r.text.startsWith(start), `text starts ${JSON.stringify(r.text.slice(0, 200))}`);
    assert.ok(r.text.endsWith('Her mom said, "Don\'t worry, Lily. We can help you.'), `text ends ${JSON.stringify(r.text.slice(-80))}`);
    assert.equal(r.text, tokenizer.decode(r.tokens, 1));
  });

  test(`${backend}: greedy "Zoo" as llama2.c -n 60 (60 forwards: 3 consume the 4-token prompt, 57 sample)`, () => {
    const prompt = 'Zoo';
    assert.deepEqual(tokenizer.encode(prompt), [1, 410, 469, 347]);
    // run.c runs `steps` forwards; the first 3 only consume prompt tokens, the other 57 each sample one.
    const [r] = generate(model, tokenizer, [{ prompt, maxTokens: 60 - 3, sampling: { temperature: 0 } }]);
    assert.equal(r.tokens.length, 57);
    assert.equal(
      prompt + r.text,
      "Zoo was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but she didn't want to play with",
    );
  });

  test(`${backend}: mean cross-entropy of the first 25 TinyStories train stories (BOS, ≤ 512 tokens) is 1.258 nats`, () => {
    const text = readFileSync(assetPath('data', 'tinystories_train_sample.txt'), 'utf8');
    const docs = splitDocuments(text)
      .slice(0, 25)
      .map((d) => tokenizer.encode(d).slice(0, model.config.seqLen));
    assert.equal(docs.length, 25);
    for (const d of docs) assert.equal(d[0], 1);
    const ce = meanCrossEntropy(model, docs);
    assert.equal(ce.documents, 25);
    assert.equal(ce.tokens, docs.reduce((s, d) => s + d.length - 1, 0));
    assertAllClose([ce.meanNats], [1.258], { atol: 5e-3 }, 'mean CE');
  });
}
