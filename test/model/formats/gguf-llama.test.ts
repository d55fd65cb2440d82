import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ModelFileError, TokenizerFileError } from '../../../src/errors.js';
import { embeddedModelPath, embeddedTokenizerPath } from '../../../src/model/embedded.js';
import { generate } from '../../../src/model/generate.js';
import { GgufFile } from '../../../src/model/gguf/gguf-reader.js';
import { serializeGguf } from '../../../src/model/gguf/gguf-writer.js';
import { ggufLlamaMetadata, writeGgufLlama } from '../../../src/model/gguf-llama-write.js';
import type { LoadedModel } from '../../../src/model/load-model.js';
import { loadModel } from '../../../src/model/load-model.js';
import { LlamaModel } from '../../../src/model/llama-model.js';
import { readLlama2c } from '../../../src/model/llama2c-format.js';
import { activeBackend } from '../../../src/tensor/backend-registry.js';
import { Llama2cTokenizer } from '../../../src/model/llama2c-tokenizer.js';
import { loadTokenizer } from '../../../src/model/load-tokenizer.js';
import { f32ToF16, f16ToF32 } from '../../../src/tensor/half-float.js';
import { isQ80 } from '../../../src/tensor/weight-matrix.js';
import { packageRoot } from '../../../src/util/package-root.js';
import { assertAllClose, maxAbsDiff } from '../../helpers/assert-all-close.js';

/**
 * GGUF llama files: the fixture from ollama's test data (../shared/fixtures, a random 1-layer
 * Llama-2 with the full 32000-token vocabulary) against a float64 forward written here from its
 * tensors; its vocabulary against tokenizer32000.bin; the embedded llama2.c model written as GGUF
 * F32 / F16 / BF16 / Q8_0 and read back; bad files.
 */

const ROOT = packageRoot();
const FIXTURE = join(ROOT, '../shared/fixtures/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf');
const TOK32000 = join(ROOT, '../shared/models/tokenizer32000.bin');
const NO_FIXTURE = `${FIXTURE} is absent (it lives in the shared data folder, not in the repo)`;
const tmp = mkdtempSync(join(tmpdir(), 'tinymorph-gguf-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Llama-2 forward in float64 straight from the GGUF tensors (ggml shapes [cols, rows]): RMSNorm,
 * RoPE on interleaved pairs (llama.cpp's LLAMA_ROPE_TYPE_NORM, theta 10000), causal softmax
 * attention, SwiGLU; logits at every position.
 */
function referenceLogits(g: GgufFile, ids: number[]): Float64Array[] {
  const meta = (k: string) => Number((g.metadata.get(k) as { value: number }).value);
  const dim = meta('llama.embedding_length');
  const hidden = meta('llama.feed_forward_length');
  const nHeads = meta('llama.attention.head_count');
  const nKv = meta('llama.attention.head_count_kv');
  const eps = meta('llama.attention.layer_norm_rms_epsilon');
  const layers = meta('llama.block_count');
  const hs = dim / nHeads;
  const t = (name: string) => Float64Array.from(g.readF32(name));
  const emb = t('token_embd.weight');
  const vocab = emb.length / dim;
  const matvec = (w: Float64Array, x: Float64Array, rows: number) => Float64Array.from({ length: rows }, (_, r) => x.reduce((s, v, c) => s + w[r * x.length + c] * v, 0));
  const rms = (x: Float64Array, w: Float64Array) => {
    const scale = 1 / Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length + eps);
    return x.map((v, i) => v * scale * w[i]);
  };
  const rope = (v: Float64Array, pos: number) => {
    for (let h = 0; h < v.length / hs; h++)
      for (let i = 0; i < hs / 2; i++) {
        const a = pos * Math.pow(10000, (-2 * i) / hs);
        const [x0, x1] = [v[h * hs + 2 * i], v[h * hs + 2 * i + 1]];
        v[h * hs + 2 * i] = x0 * Math.cos(a) - x1 * Math.sin(a);
        v[h * hs + 2 * i + 1] = x0 * Math.sin(a) + x1 * Math.cos(a);
      }
    return v;
  };
  let xs = ids.map((id) => emb.slice(id * dim, (id + 1) * dim));
  for (let l = 0; l < layers; l++) {
    const w = (n: string) => t(`blk.${l}.${n}.weight`);
    const [wq, wk, wv, wo, an, fn, gate, up, down] = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'attn_norm', 'ffn_norm', 'ffn_gate', 'ffn_up', 'ffn_down'].map(w);
    const normed = xs.map((x) => rms(x, an));
    const q = normed.map((x, p) => rope(matvec(wq, x, dim), p));
    const k = normed.map((x, p) => rope(matvec(wk, x, nKv * hs), p));
    const v = normed.map((x) => matvec(wv, x, nKv * hs));
    xs = xs.map((x, p) => {
      const att = new Float64Array(dim);
      for (let h = 0; h < nHeads; h++) {
        const kh = Math.floor(h / (nHeads / nKv));
        const scores = Array.from({ length: p + 1 }, (_, s) => {
          let d = 0;
          for (let i = 0; i < hs; i++) d += q[p][h * hs + i] * k[s][kh * hs + i];
          return d / Math.sqrt(hs);
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let s = 0; s <= p; s++) for (let i = 0; i < hs; i++) att[h * hs + i] += (e[s] / z) * v[s][kh * hs + i];
      }
      const x1 = x.map((val, i) => val + matvec(wo, att, dim)[i]);
      const n2 = rms(x1, fn);
      const g1 = matvec(gate, n2, hidden);
      const u = matvec(up, n2, hidden);
      const act = g1.map((a, i) => (a / (1 + Math.exp(-a))) * u[i]);
      const ff = matvec(down, act, dim);
      return x1.map((val, i) => val + ff[i]);
    });
  }
  const out = g.tensor('output.weight') ? t('output.weight') : emb;
  return xs.map((x) => matvec(out, rms(x, t('output_norm.weight')), vocab));
}

test('the Llama-2 GGUF fixture: config from its metadata, logits at every position as a float64 forward of its tensors', (t) => {
  if (!existsSync(FIXTURE)) return t.skip(NO_FIXTURE);
  const m = loadModel({ model: FIXTURE });
  assert.equal(m.format, 'gguf');
  const c = m.model.config;
  assert.deepEqual([c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocabSize, c.seqLen, c.sharedClassifier], [8, 32, 1, 2, 2, 32000, 4096, false]);
  assert.equal(m.description.tensors.length, 12);
  const ids = m.tokenizer.encode('The quick brown fox', { bos: true });
  const got = m.model.forward(m.model.newCache(1), [ids], { allLogits: true }).logits;
  const want = referenceLogits(GgufFile.open(FIXTURE), ids);
  assertAllClose(got, want.flatMap((r) => [...r]), { atol: 1e-5 }, 'logits');
});

test('the fixture\'s greedy continuation: each id is the argmax of the float64 forward over the text before it', (t) => {
  if (!existsSync(FIXTURE)) return t.skip(NO_FIXTURE);
  const m = loadModel({ model: FIXTURE });
  const prompt = m.tokenizer.encode('Hello', { bos: true });
  const out = generate(m.model, m.tokenizer, [{ prompt, maxTokens: 6, sampling: { temperature: 0 }, stopAtEndOfText: false }])[0];
  const g = GgufFile.open(FIXTURE);
  const ids = [...prompt];
  assert.equal(out.tokens.length, 6);
  for (const tok of out.tokens) {
    const last = referenceLogits(g, ids).at(-1)!;
    const argmax = last.reduce((b, v, i) => (v > last[b] ? i : b), 0);
    assert.equal(tok, argmax);
    ids.push(argmax);
  }
});

test('the fixture\'s embedded vocabulary tokenizes and decodes like tokenizer32000.bin', (t) => {
  if (!existsSync(FIXTURE) || !existsSync(TOK32000)) return t.skip(NO_FIXTURE);
  const fromGguf = loadTokenizer(FIXTURE, 32000);
  const ref = Llama2cTokenizer.fromFile(TOK32000, 32000);
  const texts = [
    'Once upon a time, there was a little girl named Lily.',
    'Hello world! 123 + 456 = 579',
    '  leading spaces and\ttabs\nnew lines',
    'naïve café — “quotes” 日本語 🙂',
    readFileSync(join(ROOT, 'assets/data/tinystories_val.txt'), 'utf8').slice(0, 3000),
  ];
  for (const text of texts) {
    const ids = fromGguf.encode(text, { bos: true, eos: true });
    assert.deepEqual(ids, ref.encode(text, { bos: true, eos: true }), text.slice(0, 40));
    assert.equal(fromGguf.decode(ids), ref.decode(ids));
  }
});

const src = readLlama2c(embeddedModelPath());
const base = loadModel();
const PROMPT = 'Once upon a time';
const logitsOf = (m: LoadedModel) => m.model.forward(m.model.newCache(1), [m.tokenizer.encode(PROMPT)], { allLogits: true }).logits;
const greedy = (m: LoadedModel) => generate(m.model, m.tokenizer, [{ prompt: PROMPT, maxTokens: 40, sampling: { temperature: 0 } }])[0].text;

for (const [dtype, tol] of [
  ['F32', { atol: 1e-4 }],
  // F16 rounding of every matrix moves these logits by at most 0.017 (measured).
  ['F16', { atol: 2e-2 }],
  // BF16 keeps 8 significant bits: at most 0.08 here (measured).
  ['BF16', { atol: 0.1 }],
] as const) {
  test(`llama2.c → GGUF ${dtype} with tok512 embedded → load without --tokenizer: the same logits, greedy text and tokens`, () => {
    const path = join(tmp, `model-${dtype}.gguf`);
    writeGgufLlama(path, src.config, src.weights, { dtype, tokenizerBin: readFileSync(embeddedTokenizerPath()) });
    const m = loadModel({ model: path });
    assert.equal(m.tokenizerPath, path);
    assertAllClose(logitsOf(m), logitsOf(base), tol, 'logits');
    if (dtype === 'F32') assert.equal(greedy(m), greedy(base));
    const text = readFileSync(join(ROOT, 'assets/data/tinystories_val.txt'), 'utf8').slice(0, 2000);
    assert.deepEqual(m.tokenizer.encode(text), base.tokenizer.encode(text));
  });
}

test('GGUF Q8_0: matrices load as Q8_0 in groups of 32 holding exactly ggml\'s quantize_row_q8_0_ref of the weights', () => {
  const path = join(tmp, 'model-q8.gguf');
  writeGgufLlama(path, src.config, src.weights, { dtype: 'Q8_0', tokenizerBin: readFileSync(embeddedTokenizerPath()) });
  const m = loadModel({ model: path });
  const wq = m.model.weights.wq[0];
  assert.ok(isQ80(wq) && wq.groupSize === 32);
  assert.ok(!isQ80(m.model.weights.w2[0]), 'w2 rows (172) are not whole blocks: kept F32');
  // ggml-quants.c: d = amax/127 (stored fp16), q = roundf(x · (1/d)).
  const x = src.weights.wq[0] as Float32Array;
  for (let b = 0; b < x.length / 32; b++) {
    const block = x.subarray(b * 32, b * 32 + 32);
    const d = Math.fround(Math.max(...block.map(Math.abs)) / 127);
    assert.equal(wq.scales[b], f16ToF32(f32ToF16(Float32Array.of(d)))[0]);
    for (let j = 0; j < 32; j++) {
      const v = Math.fround(block[j] * Math.fround(1 / d));
      assert.equal(wq.q[b * 32 + j], Math.sign(v) * Math.round(Math.abs(v)) + 0); // + 0: Int8Array has no -0
    }
  }
  assertAllClose(logitsOf(m), logitsOf(base), { atol: 0.25 }, 'Q8_0 logits');
});

test('the format is told by content, not by name: a GGUF file called .bin and a llama2.c file called .gguf', () => {
  const ggufAsBin = join(tmp, 'model.bin');
  writeFileSync(ggufAsBin, readFileSync(join(tmp, 'model-F32.gguf')));
  assert.equal(loadModel({ model: ggufAsBin }).format, 'gguf');
  const binAsGguf = join(tmp, 'llama2c.gguf');
  writeFileSync(binAsGguf, readFileSync(embeddedModelPath()));
  assert.equal(loadModel({ model: binAsGguf }).format, 'llama2c-v0');
});

test('Llama-3 rope_scaling is written as convert_hf_to_gguf.py\'s rope_freqs tensor and read back to the same logits', () => {
  const ropeScaling = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 };
  const path = join(tmp, 'llama3.gguf');
  writeGgufLlama(path, { ...src.config, ropeScaling }, src.weights, { tokenizerBin: readFileSync(embeddedTokenizerPath()) });
  // convert_hf_to_gguf.py (LlamaModel): 1 for wavelengths under original_max / high_freq_factor, factor over original_max / low_freq_factor, else 1 / ((1 − smooth) / factor + smooth).
  const hs = src.config.dim / src.config.nHeads;
  const want = Array.from({ length: hs / 2 }, (_, i) => {
    const freq = 1 / Math.pow(10000, (2 * i) / hs);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < 64 / 4) return 1;
    if (wavelen > 64 / 1) return 8;
    const smooth = (64 / wavelen - 1) / (4 - 1);
    return 1 / ((1 - smooth) / 8 + smooth);
  });
  assertAllClose(GgufFile.open(path).readF32('rope_freqs.weight'), want, { rtol: 1e-6 }, 'rope_freqs');
  const m = loadModel({ model: path });
  assertAllClose(m.model.config.ropeFreqFactors!, want, { rtol: 1e-6 }, 'ropeFreqFactors');
  const direct = new LlamaModel({ ...src.config, ropeScaling }, src.weights, activeBackend());
  const ids = base.tokenizer.encode(PROMPT);
  const scaled = direct.forward(direct.newCache(1), [ids], { allLogits: true }).logits;
  assertAllClose(logitsOf(m), scaled, { atol: 1e-4 }, 'logits');
  assert.ok(maxAbsDiff(scaled, logitsOf(base)) > 1e-3, 'the scaling changes the logits');
});

/** A GGUF file of the embedded model with some metadata or tensors changed. */
function variant(name: string, edit: { meta?: (m: [string, ReturnType<typeof ggufLlamaMetadata>[number][1]][]) => void; drop?: string; reshape?: string }): string {
  const meta = ggufLlamaMetadata(src.config);
  edit.meta?.(meta);
  const path = join(tmp, `${name}.gguf`);
  const full = GgufFile.open(join(tmp, 'model-F32.gguf'));
  const tensors = full.tensors
    .filter((t) => t.name !== edit.drop)
    .map((t) => ({ name: t.name, shape: t.name === edit.reshape ? [...t.shape].reverse() : [...t.shape], data: full.readF32(t.name) }));
  const chunks = serializeGguf(meta, tensors);
  writeFileSync(path, Buffer.concat(chunks));
  return path;
}

test('bad GGUF files: one ModelFileError each, naming the file and the field', () => {
  const fails = (path: string, ...parts: string[]) =>
    assert.throws(
      () => loadModel({ model: path, tokenizer: embeddedTokenizerPath() }),
      (e: unknown) => {
        assert.ok(e instanceof ModelFileError, `expected a ModelFileError, got ${String(e)}`);
        for (const p of [path, ...parts]) assert.ok(e.message.includes(p), `"${e.message}" should name ${p}`);
        return true;
      },
    );
  const good = readFileSync(join(tmp, 'model-F32.gguf'));
  const truncated = join(tmp, 'truncated.gguf');
  writeFileSync(truncated, good.subarray(0, good.length - 1000));
  fails(truncated, 'truncated');
  const header = join(tmp, 'header.gguf');
  writeFileSync(header, good.subarray(0, 100));
  fails(header, 'tensor_count 47 cannot fit');
  fails(variant('gpt2', { meta: (m) => (m[0][1] = { type: 'string', value: 'gpt2' }) }), 'unsupported architecture', 'gpt2');
  fails(variant('no-heads', { meta: (m) => m.splice(m.findIndex(([k]) => k === 'llama.attention.head_count'), 1) }), 'llama.attention.head_count', 'missing');
  fails(variant('zero-layers', { meta: (m) => (m[m.findIndex(([k]) => k === 'llama.block_count')][1] = { type: 'uint32', value: 0 }) }), 'nLayers');
  fails(variant('no-down', { drop: 'blk.3.ffn_down.weight' }), 'blk.3.ffn_down.weight');
  fails(variant('transposed', { reshape: 'blk.0.ffn_up.weight' }), 'blk.0.ffn_up.weight', 'shape');
});

test('a GGUF vocabulary the llama2.c tokenizer cannot read, or none, is a TokenizerFileError that says to give --tokenizer or names the id', () => {
  const noVocab = variant('no-vocab', {});
  assert.throws(() => loadModel({ model: noVocab }), (e: unknown) => e instanceof TokenizerFileError && e.message.startsWith(noVocab) && e.message.includes('--tokenizer'));
  assert.equal(loadModel({ model: noVocab, tokenizer: embeddedTokenizerPath() }).tokenizer.vocabSize, 512);
  const withVocab = ggufLlamaMetadata(src.config, { tokenizerBin: readFileSync(embeddedTokenizerPath()) });
  const bos = variant('bos-5', { meta: (m) => m.splice(0, m.length, ...withVocab.map(([k, v]): [string, typeof v] => [k, k === 'tokenizer.ggml.bos_token_id' ? { type: 'uint32', value: 5 } : v])) });
  assert.throws(() => loadModel({ model: bos }), (e: unknown) => e instanceof TokenizerFileError && e.message.includes('tokenizer.ggml.bos_token_id') && e.message.includes('5'));
});
