import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeRandomLlama2c } from '../../bench/random-llama2c-model.js';
import { TinymorphError } from '../../src/errors.js';
import { embeddedTokenizerPath } from '../../src/model/embedded.js';
import type { LlamaConfig } from '../../src/model/llama-config.js';
import { loadModel } from '../../src/model/load-model.js';
import type { LoadedModel } from '../../src/model/load-model.js';
import { runWithCache } from '../../src/model/run-with-cache.js';
import { loadModelOffThread } from '../../src/serve/load-model-off-thread.js';
import { startServer } from '../../src/serve/server.js';

/**
 * The server listens first and loads the model after, off the event loop: until the model is in,
 * /health and the API answer 503 with Retry-After; then 200.
 */
const dir = mkdtempSync(join(tmpdir(), 'tm-serve-loading-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A random-weight model with tok512's vocabulary, ~19 MB: loading it (and quantising it at load) takes a noticeable while. */
const BIG: LlamaConfig = { dim: 256, hiddenDim: 688, nLayers: 6, nHeads: 8, nKvHeads: 8, vocabSize: 512, seqLen: 256, sharedClassifier: true, normEps: 1e-5, ropeTheta: 10000 };
const bigPath = join(dir, 'big.bin');
writeRandomLlama2c(bigPath, BIG);

const logits = (l: Pick<LoadedModel, 'model' | 'tokenizer'>): Float32Array => runWithCache(l.model, l.tokenizer.encode('Once upon a time'), []).logits;

test('while the model loads, /health, /metrics and the API answer 503 with Retry-After; once loaded, 200', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let starting!: ReturnType<typeof startServer>;
  const url = await new Promise<string>((onListening) => (starting = startServer({ port: 0, loaded: gate.then(() => loadModel()), onListening })));
  for (const [method, path] of [['GET', '/health'], ['GET', '/metrics'], ['GET', '/v1/models'], ['POST', '/v1/completions'], ['POST', '/v1/steer/completion'], ['GET', '/v1/features/2/3']]) {
    const res = await fetch(`${url}${path}`, { method, body: method === 'POST' ? '{"prompt": "x"}' : undefined });
    assert.equal(res.status, 503, `${method} ${path}`);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'model_loading');
  }
  release();
  const server = await starting;
  try {
    assert.equal(server.url, url);
    assert.equal((await fetch(`${url}/health`)).status, 200);
  } finally {
    await server.close();
  }
});

test('the model file is read on another thread: a /health request sent as the port opens is answered 503 during the load', async () => {
  let health: Promise<number> | undefined;
  const server = await startServer({ port: 0, model: bigPath, tokenizer: embeddedTokenizerPath(), quantize: 'q8_0', onListening: (u) => (health = fetch(`${u}/health`).then((r) => r.status)) });
  try {
    assert.equal(await health, 503);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    assert.equal(server.engine.modelId, 'big');
  } finally {
    await server.close();
  }
});

test('loadModelOffThread gives the model loadModel gives (fp32 and quantised at load), and its errors', async () => {
  for (const opts of [{}, { model: bigPath, tokenizer: embeddedTokenizerPath(), quantize: 'q8_0' as const }]) {
    const [here, there] = [loadModel(opts), await loadModelOffThread(opts)];
    assert.deepEqual(there.model.config, here.model.config);
    assert.deepEqual(there.model.weights, here.model.weights);
    assert.deepEqual([there.modelPath, there.tokenizerPath, there.format, there.fileBytes], [here.modelPath, here.tokenizerPath, here.format, here.fileBytes]);
    assert.deepEqual(logits(there), logits(here));
  }
  const missing = join(dir, 'missing.bin');
  const expected = (() => {
    try {
      loadModel({ model: missing });
    } catch (e) {
      return e as TinymorphError;
    }
  })();
  await assert.rejects(loadModelOffThread({ model: missing }), (e: unknown) => e instanceof TinymorphError && e.message === expected?.message && e.code === expected.code);
});
