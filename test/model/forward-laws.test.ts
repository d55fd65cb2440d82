import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ShapeError, UnknownHookError, UsageError } from '../../src/errors.js';
import type { HookActivation, HookFn } from '../../src/model/hook-registry.js';
import type { HookName } from '../../src/model/hook-points.js';
import { allHookNames, LAYER_HOOKS } from '../../src/model/hook-points.js';
import type { KVCache } from '../../src/model/kv-cache.js';
import { loadModel } from '../../src/model/load-model.js';
import type { LlamaWeights } from '../../src/model/llama-weights.js';
import { runWithCache } from '../../src/model/run-with-cache.js';
import { assetPath } from '../../src/util/package-root.js';
import { assertAllClose, maxAbsDiff } from '../helpers/assert-all-close.js';

/**
 * Laws the batched, KV-cached forward pass must obey whatever its inputs: batched == one by one,
 * cached == recomputed, identity hooks change nothing, edits apply at every step (prompt and
 * decode), per-row hooks touch their row only, and bad calls fail with UsageError.
 */

const { model, tokenizer } = loadModel();
const c = model.config;
const V = c.vocabSize;
const DIM = c.dim;
const HEAD = DIM / c.nHeads;
const KV = (DIM * c.nKvHeads) / c.nHeads;
const TOL = 1e-4;

// Real TinyStories token ids, so the activations look like the model's usual inputs.
const corpus = tokenizer.encode(readFileSync(assetPath('data', 'tinystories_val.txt'), 'utf8').slice(0, 20000), { bos: false });

/** A BOS-prefixed sequence of `len` tokens taken from the corpus at `offset`. */
function seq(len: number, offset: number): number[] {
  return [1, ...corpus.slice(offset, offset + len - 1)];
}

/** The token that follows seq(len, offset) in the corpus, `k` steps on. */
function continuation(len: number, offset: number, k: number): number {
  return corpus[offset + len - 1 + k];
}

/** A fixed steering vector of width DIM, large enough to move the logits. */
const STEER = Float32Array.from({ length: DIM }, (_, i) => 2 * Math.sin(1.7 * i + 0.3));

function addSteer(act: HookActivation): Float32Array {
  const out = act.data.slice();
  for (let t = 0; t < out.length / act.width; t++) for (let i = 0; i < act.width; i++) out[t * act.width + i] += STEER[i];
  return out;
}

/** Logits of each sequence alone: one prefill with allLogits, as a fresh copy. */
function alone(tokens: readonly number[]): { cache: KVCache; logits: Float32Array } {
  const cache = model.newCache(1);
  return { cache, logits: model.forward(cache, [tokens], { allLogits: true }).logits.slice() };
}

function segmentLengths(act: HookActivation): number[] {
  return Array.from(act.rows, (_, i) => act.rowStart[i + 1] - act.rowStart[i]);
}

// ---------------------------------------------------------------------------------------------
// The scenario the hook tests replay: 3 rows prefilled together (all logits), then 3 decode steps.

const SCENARIO_LENS = [6, 11, 4];
const SCENARIO_OFFSETS = [40, 300, 900];
const DECODE_STEPS = 3;

/** Runs the scenario and returns copies of every step's logits; `afterPrefill` runs between prefill and decode. */
function scenario(afterPrefill?: () => void): Float32Array[] {
  const cache = model.newCache(SCENARIO_LENS.length);
  const prompts = SCENARIO_LENS.map((n, i) => seq(n, SCENARIO_OFFSETS[i]));
  const steps = [model.forward(cache, prompts, { allLogits: true }).logits.slice()];
  afterPrefill?.();
  for (let k = 0; k < DECODE_STEPS; k++) {
    const inputs = SCENARIO_LENS.map((n, i) => [continuation(n, SCENARIO_OFFSETS[i], k)]);
    steps.push(model.forward(cache, inputs).logits.slice());
  }
  return steps;
}

/** Row r's logits in scenario step s: its token block in the prefill, its row in a decode step. */
function rowLogits(steps: Float32Array[], s: number, r: number): Float32Array {
  if (s > 0) return steps[s].subarray(r * V, (r + 1) * V);
  const start = SCENARIO_LENS.slice(0, r).reduce((a, b) => a + b, 0);
  return steps[0].subarray(start * V, (start + SCENARIO_LENS[r]) * V);
}

const clean = scenario();

// ---------------------------------------------------------------------------------------------

test('everyPositionRows: those rows\' logits at every token == allLogits\' blocks; every row\'s last-token logits unchanged', () => {
  const prompts = SCENARIO_LENS.map((n, i) => seq(n, SCENARIO_OFFSETS[i]));
  const last = model.forward(model.newCache(3), prompts).logits.slice();
  const out = model.forward(model.newCache(3), prompts, { everyPositionRows: new Set([0, 2]) });
  assertAllClose(out.logits, last, { atol: TOL }, 'last-token logits');
  const every = out.everyPosition;
  assert.ok(every);
  assert.deepEqual([...every.rows], [0, 2]);
  assert.deepEqual([...every.rowStart], [0, SCENARIO_LENS[0], SCENARIO_LENS[0] + SCENARIO_LENS[2]]);
  assertAllClose(every.logits.subarray(0, SCENARIO_LENS[0] * V), rowLogits(clean, 0, 0), { atol: TOL }, 'row 0, every token');
  assertAllClose(every.logits.subarray(SCENARIO_LENS[0] * V), rowLogits(clean, 0, 2), { atol: TOL }, 'row 2, every token');
  assert.equal(model.forward(model.newCache(3), prompts, { everyPositionRows: new Set([5]) }).everyPosition, undefined);
});

test('batched prefill of 4 prompts (3, 17, 40, 9 tokens) and decode steps == each prompt alone', () => {
  const lens = [3, 17, 40, 9];
  const offsets = [10, 200, 500, 1500];
  const prompts = lens.map((n, i) => seq(n, offsets[i]));
  const cache = model.newCache(4);
  const out = model.forward(cache, prompts, { allLogits: true });
  assert.deepEqual(Array.from(out.rows), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(out.rowStart), [0, 3, 20, 60, 69]);
  assert.equal(out.logits.length, 69 * V);
  const batched = out.logits.slice();
  const single = prompts.map(alone);
  prompts.forEach((_, i) => {
    const d = maxAbsDiff(batched.subarray(out.rowStart[i] * V, out.rowStart[i + 1] * V), single[i].logits);
    assert.ok(d <= TOL, `prefill row ${i}: max |Δlogit| ${d}`);
  });

  for (let k = 0; k < 5; k++) {
    const toks = lens.map((n, i) => continuation(n, offsets[i], k));
    const step = model.forward(
      cache,
      toks.map((t) => [t]),
    );
    assert.equal(step.logits.length, 4 * V);
    const together = step.logits.slice();
    toks.forEach((t, i) => {
      const own = model.forward(single[i].cache, [[t]]).logits;
      const d = maxAbsDiff(together.subarray(i * V, (i + 1) * V), own);
      assert.ok(d <= TOL, `decode step ${k}, row ${i}: max |Δlogit| ${d}`);
    });
  }
  assert.deepEqual(Array.from(cache.lengths), [8, 22, 45, 14]);
});

test('a step where only some rows advance (others absent, one row adding several tokens) == each alone', () => {
  const lens = [5, 12, 8, 20];
  const offsets = [60, 700, 1100, 2000];
  const prompts = lens.map((n, i) => seq(n, offsets[i]));
  const cache = model.newCache(4);
  model.forward(cache, prompts);
  const single = prompts.map(alone);
  const plan: (number[] | undefined)[][] = [
    [[continuation(5, 60, 0)], undefined, [continuation(8, 1100, 0)], undefined],
    [undefined, [continuation(12, 700, 0), continuation(12, 700, 1), continuation(12, 700, 2)], undefined, [continuation(20, 2000, 0)]],
    [undefined, undefined, [continuation(8, 1100, 1)]], // fewer input entries than rows
    [[continuation(5, 60, 1)], [continuation(12, 700, 3)], [continuation(8, 1100, 2)], [continuation(20, 2000, 1)]],
  ];
  for (const [k, inputs] of plan.entries()) {
    const before = Array.from(cache.lengths);
    const out = model.forward(cache, inputs);
    const moving = inputs.flatMap((x, r) => (x ? [r] : []));
    assert.deepEqual(Array.from(out.rows), moving, `step ${k}: rows`);
    const together = out.logits.slice();
    moving.forEach((r, s) => {
      const own = model.forward(single[r].cache, [inputs[r]]).logits;
      const d = maxAbsDiff(together.subarray(s * V, (s + 1) * V), own);
      assert.ok(d <= TOL, `step ${k}, row ${r}: max |Δlogit| ${d}`);
    });
    before.forEach((len, r) => assert.equal(cache.lengths[r], len + (inputs[r]?.length ?? 0), `step ${k}: length of row ${r}`));
  }
});

test('KV-cached decode == one full forward over the whole sequence', () => {
  const tokens = seq(48, 3000);
  const full = alone(tokens).logits;
  const cache = model.newCache(1, 48); // a cache smaller than the model's context works the same
  const prefill = 8;
  const first = model.forward(cache, [tokens.slice(0, prefill)]).logits;
  let d = maxAbsDiff(first, full.subarray((prefill - 1) * V, prefill * V));
  assert.ok(d <= TOL, `after prefill: max |Δlogit| ${d}`);
  for (let p = prefill; p < tokens.length; p++) {
    const step = model.forward(cache, [[tokens[p]]]).logits;
    d = maxAbsDiff(step, full.subarray(p * V, (p + 1) * V));
    assert.ok(d <= TOL, `decode at position ${p}: max |Δlogit| ${d}`);
  }
  assert.equal(cache.lengths[0], 48);
});

test('a prompt prefilled in two chunks == in one', () => {
  const tokens = seq(48, 4000);
  const full = alone(tokens).logits;
  const cache = model.newCache(1);
  const a = model.forward(cache, [tokens.slice(0, 19)], { allLogits: true }).logits.slice();
  const b = model.forward(cache, [tokens.slice(19)], { allLogits: true }).logits.slice();
  const chunked = new Float32Array(a.length + b.length);
  chunked.set(a);
  chunked.set(b, a.length);
  const d = maxAbsDiff(chunked, full);
  assert.ok(d <= TOL, `max |Δlogit| ${d}`);
});

// ---------------------------------------------------------------------------------------------
// Hooks

test('identity hooks on every hook point (read, in place, returned copy) leave every step bit-identical', () => {
  const names = allHookNames(c.nLayers);
  assert.equal(names.length, 2 + c.nLayers * LAYER_HOOKS.length);
  assert.ok(names.includes('blocks.3.attn.hook_pattern'));
  const called = new Map<string, number>();
  const count = (act: HookActivation): void => void called.set(act.name, (called.get(act.name) ?? 0) + 1);
  const inPlace: HookFn = (act) => {
    for (let i = 0; i < act.data.length; i++) act.data[i] = act.data[i] * 1; // writes the same values
  };
  const copy: HookFn = (act) => act.data.slice();
  const hooks = names.flatMap((name) => [count, inPlace, copy].map((fn) => ({ name, fn })));
  const hooked = model.hooks.with(hooks, () => scenario());
  assert.deepEqual(hooked, clean);
  for (const name of names) assert.equal(called.get(name), 1 + DECODE_STEPS, `calls of ${name}`);
  assert.deepEqual(scenario(), clean, 'after with() the hooks are gone');
});

test('a replacing hook on blocks.2.hook_resid_post steers the prompt and every decode step', () => {
  const seen: number[][] = [];
  const steer: HookFn = (act) => {
    seen.push(segmentLengths(act));
    return addSteer(act);
  };
  const steered = model.hooks.with([{ name: 'blocks.2.hook_resid_post', fn: steer }], () => scenario());
  assert.deepEqual(seen, [SCENARIO_LENS, [1, 1, 1], [1, 1, 1], [1, 1, 1]], 'called once per step, one token per row while decoding');
  for (let s = 0; s <= DECODE_STEPS; s++) {
    for (let r = 0; r < SCENARIO_LENS.length; r++) {
      const d = maxAbsDiff(rowLogits(steered, s, r), rowLogits(clean, s, r));
      assert.ok(d > 0.05, `step ${s}, row ${r}: steered logits differ from clean by only ${d}`);
    }
  }

  // Steering only the prompt (the known bug elsewhere) gives different decode logits: the hook
  // itself acts on each decode step, not just through the prompt's cached keys and values.
  const handle = model.hooks.add('blocks.2.hook_resid_post', addSteer);
  const promptOnly = scenario(() => handle.remove());
  assert.deepEqual(promptOnly[0], steered[0]);
  for (let s = 1; s <= DECODE_STEPS; s++) {
    const d = maxAbsDiff(promptOnly[s], steered[s]);
    assert.ok(d > 0.05, `decode step ${s}: prompt-only steering matches full steering (Δ ${d})`);
  }

  // The same edit by another route: in place, on the next block's input (the same activation).
  const inPlace: HookFn = (act) => {
    for (let t = 0; t < act.data.length / DIM; t++) for (let i = 0; i < DIM; i++) act.data[t * DIM + i] += STEER[i];
  };
  const other = model.hooks.with([{ name: 'blocks.3.hook_resid_pre', fn: inPlace }], () => scenario());
  assert.deepEqual(other, steered);
  assert.deepEqual(scenario(), clean);
});

test('steering the last block equals the edit computed by hand: classifier · rmsnorm(resid_post + v)', () => {
  const last = `blocks.${c.nLayers - 1}.hook_resid_post` as HookName;
  const resid: Float32Array[] = [];
  model.hooks.with([{ name: last, fn: (act) => void resid.push(act.data.slice()) }], () => scenario());
  const steered = model.hooks.with([{ name: last, fn: addSteer }], () => scenario());
  const w = model.weights as LlamaWeights<Float32Array>; // the embedded model is fp32
  const lastTokenOf = (s: number): number[] => {
    if (s > 0) return SCENARIO_LENS.map((_, r) => r);
    return Array.from({ length: SCENARIO_LENS.reduce((a, b) => a + b, 0) }, (_, t) => t); // allLogits: every token
  };
  for (let s = 0; s <= DECODE_STEPS; s++) {
    const expected: number[] = [];
    for (const t of lastTokenOf(s)) {
      const x = Array.from({ length: DIM }, (_, i) => resid[s][t * DIM + i] + STEER[i]);
      const rms = Math.sqrt(x.reduce((a, b) => a + b * b, 0) / DIM + 1e-5);
      const xn = x.map((xi, i) => (xi / rms) * w.rmsFinal[i]);
      for (let o = 0; o < V; o++) {
        let dot = 0;
        for (let i = 0; i < DIM; i++) dot += w.classifier[o * DIM + i] * xn[i];
        expected.push(dot);
      }
    }
    assertAllClose(steered[s], expected, { atol: TOL }, `step ${s} logits`);
  }
});

test('a per-row hook ({row: 1}) changes row 1 only; the other rows stay bit-identical', () => {
  const seen: { rows: number[]; tokens: number }[] = [];
  const steer: HookFn = (act) => {
    seen.push({ rows: Array.from(act.rows), tokens: act.data.length / act.width });
    return addSteer(act);
  };
  const steered = model.hooks.with([{ name: 'blocks.1.hook_resid_post', fn: steer, row: 1 }], () => scenario());
  assert.deepEqual(seen, [{ rows: [1], tokens: SCENARIO_LENS[1] }, ...Array.from({ length: DECODE_STEPS }, () => ({ rows: [1], tokens: 1 }))]);
  for (let s = 0; s <= DECODE_STEPS; s++) {
    assert.deepEqual(rowLogits(steered, s, 0), rowLogits(clean, s, 0), `step ${s}, row 0`);
    assert.deepEqual(rowLogits(steered, s, 2), rowLogits(clean, s, 2), `step ${s}, row 2`);
    assert.ok(maxAbsDiff(rowLogits(steered, s, 1), rowLogits(clean, s, 1)) > 0.05, `step ${s}, row 1 unchanged`);
  }

  // Row 1 steered in the batch == row 1 alone with the same (batch-wide) hook.
  const alone1 = model.hooks.with([{ name: 'blocks.1.hook_resid_post', fn: addSteer }], () => {
    const cache = model.newCache(1);
    const steps = [model.forward(cache, [seq(SCENARIO_LENS[1], SCENARIO_OFFSETS[1])], { allLogits: true }).logits.slice()];
    for (let k = 0; k < DECODE_STEPS; k++) steps.push(model.forward(cache, [[continuation(SCENARIO_LENS[1], SCENARIO_OFFSETS[1], k)]]).logits.slice());
    return steps;
  });
  for (let s = 0; s <= DECODE_STEPS; s++) {
    const d = maxAbsDiff(rowLogits(steered, s, 1), alone1[s]);
    assert.ok(d <= TOL, `step ${s}: row 1 in the batch vs alone, max |Δlogit| ${d}`);
  }

  // A row hook is not called on a step its row sits out.
  let calls = 0;
  model.hooks.with([{ name: 'blocks.1.hook_resid_post', fn: () => void calls++, row: 1 }], () => {
    const cache = model.newCache(3);
    model.forward(cache, [[1, 2], undefined, [1]]);
  });
  assert.equal(calls, 0);
});

test('residual stream laws: resid_post(l) == resid_pre(l+1), resid_pre(0) == embed, mid = pre + attn_out, post = mid + mlp_out, SwiGLU by hand', () => {
  const tokens = seq(23, 5000);
  const names = allHookNames(c.nLayers);
  const run = runWithCache(model, tokens, names);
  const a = (n: string): Float32Array => run.activations.get(n as HookName)!;
  assert.deepEqual(a('blocks.0.hook_resid_pre'), a('hook_embed'));
  for (let l = 0; l < c.nLayers; l++) {
    if (l + 1 < c.nLayers) assert.deepEqual(a(`blocks.${l}.hook_resid_post`), a(`blocks.${l + 1}.hook_resid_pre`), `layer ${l}`);
    const pre = a(`blocks.${l}.hook_resid_pre`);
    const mid = a(`blocks.${l}.hook_resid_mid`);
    const attn = a(`blocks.${l}.hook_attn_out`);
    assertAllClose(
      mid,
      pre.map((x, i) => x + attn[i]),
      { atol: 1e-5, rtol: 1e-6 },
      `blocks.${l} resid_mid`,
    );
    const mlp = a(`blocks.${l}.hook_mlp_out`);
    assertAllClose(
      a(`blocks.${l}.hook_resid_post`),
      mid.map((x, i) => x + mlp[i]),
      { atol: 1e-5, rtol: 1e-6 },
      `blocks.${l} resid_post`,
    );
    // SwiGLU by hand from resid_mid: xn = rmsnorm(mid)·rms_ffn; hook_pre = w1·xn; hook_post = silu(w1·xn)·(w3·xn); mlp_out = w2·post.
    const w = model.weights as LlamaWeights<Float32Array>;
    const H = c.hiddenDim;
    const pre1 = new Float32Array(tokens.length * H);
    const post = new Float32Array(tokens.length * H);
    const out = new Float32Array(tokens.length * DIM);
    for (let t = 0; t < tokens.length; t++) {
      const x = mid.subarray(t * DIM, (t + 1) * DIM);
      const rms = Math.sqrt(x.reduce((s, xi) => s + xi * xi, 0) / DIM + 1e-5);
      const xn = Array.from(x, (xi, i) => (xi / rms) * w.rmsFfn[l][i]);
      for (let j = 0; j < H; j++) {
        let g = 0;
        let u = 0;
        for (let i = 0; i < DIM; i++) {
          g += w.w1[l][j * DIM + i] * xn[i];
          u += w.w3[l][j * DIM + i] * xn[i];
        }
        pre1[t * H + j] = g;
        post[t * H + j] = (g / (1 + Math.exp(-g))) * u;
      }
      for (let o = 0; o < DIM; o++) {
        let acc = 0;
        for (let j = 0; j < H; j++) acc += w.w2[l][o * H + j] * post[t * H + j];
        out[t * DIM + o] = acc;
      }
    }
    assertAllClose(a(`blocks.${l}.mlp.hook_pre`), pre1, { atol: 1e-4, rtol: 1e-4 }, `blocks.${l}.mlp.hook_pre`);
    assertAllClose(a(`blocks.${l}.mlp.hook_post`), post, { atol: 1e-4, rtol: 1e-4 }, `blocks.${l}.mlp.hook_post`);
    assertAllClose(mlp, out, { atol: 1e-4, rtol: 1e-4 }, `blocks.${l}.hook_mlp_out`);
  }
});

test('hook_pattern: each token\'s weights sum to 1 over keys 0..pos, are 0 beyond, and z = pattern · V per GQA head', () => {
  const seqs = [seq(7, 6000), seq(12, 6500)];
  const layers = Array.from({ length: c.nLayers }, (_, l) => l);
  const names = layers.flatMap((l) => [`blocks.${l}.attn.hook_pattern`, `blocks.${l}.attn.hook_v`, `blocks.${l}.attn.hook_z`] as HookName[]);
  const run = runWithCache(model, seqs, names);
  const keyLen = 12;
  for (const l of layers) {
    const pattern = run.activations.get(`blocks.${l}.attn.hook_pattern`)!;
    const v = run.activations.get(`blocks.${l}.attn.hook_v`)!;
    const z = run.activations.get(`blocks.${l}.attn.hook_z`)!;
    assert.equal(run.widths.get(`blocks.${l}.attn.hook_pattern`), c.nHeads * keyLen);
    seqs.forEach((s, si) => {
      const start = run.rowStart[si];
      for (let p = 0; p < s.length; p++) {
        const t = start + p;
        for (let h = 0; h < c.nHeads; h++) {
          const w = pattern.subarray((t * c.nHeads + h) * keyLen, (t * c.nHeads + h + 1) * keyLen);
          const sum = w.subarray(0, p + 1).reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - 1) <= 1e-5, `layer ${l}, seq ${si}, pos ${p}, head ${h}: weights sum to ${sum}`);
          for (let k = 0; k <= p; k++) assert.ok(w[k] >= 0);
          for (let k = p + 1; k < keyLen; k++) assert.equal(w[k], 0, `layer ${l}, seq ${si}, pos ${p}, head ${h}, key ${k}`);
          // GQA: query head h reads kv head h / (nHeads / nKvHeads).
          const kvHead = Math.floor(h / (c.nHeads / c.nKvHeads));
          const expected = Array.from({ length: HEAD }, (_, i) => {
            let acc = 0;
            for (let k = 0; k <= p; k++) acc += w[k] * v[(start + k) * KV + kvHead * HEAD + i];
            return acc;
          });
          assertAllClose(z.subarray(t * DIM + h * HEAD, t * DIM + (h + 1) * HEAD), expected, { atol: 1e-5, rtol: 1e-5 }, `z layer ${l} pos ${p} head ${h}`);
        }
      }
    });
  }

  // A decode step: rows at different lengths; the key axis spans the longest row.
  const cache = model.newCache(2);
  model.forward(cache, seqs);
  const patterns: { data: Float32Array; width: number }[] = [];
  model.hooks.with([{ name: 'blocks.0.attn.hook_pattern', fn: (act) => void patterns.push({ data: act.data.slice(), width: act.width }) }], () =>
    model.forward(cache, [[5], [6]]),
  );
  const [{ data, width }] = patterns;
  assert.equal(width, c.nHeads * 13);
  [7, 12].forEach((pos, r) => {
    for (let h = 0; h < c.nHeads; h++) {
      const w = data.subarray(r * width + h * 13, r * width + (h + 1) * 13);
      assertAllClose([w.subarray(0, pos + 1).reduce((a, b) => a + b, 0)], [1], { atol: 1e-5 }, `decode row ${r} head ${h} sum`);
      for (let k = pos + 1; k < 13; k++) assert.equal(w[k], 0);
    }
  });
});

test('hook_embed equals the embedding rows of the tokens, read straight from the model file', () => {
  const bytes = readFileSync(assetPath('models', 'stories260K.bin'));
  const fileView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // llama2.c v0: 7 int32 header, then token_embedding_table [vocab, dim] float32.
  const embRow = (id: number): number[] => Array.from({ length: DIM }, (_, i) => fileView.getFloat32(28 + 4 * (id * DIM + i), true));
  const tokens = [1, 403, 407, 261, 378, 0, 511, 3];
  const run = runWithCache(model, tokens, ['hook_embed']);
  const got = run.activations.get('hook_embed')!;
  tokens.forEach((id, t) => assert.deepEqual(Array.from(got.subarray(t * DIM, (t + 1) * DIM)), embRow(id), `token ${id}`));
});

test('removing hooks restores the clean output (handle.remove, with() even when its body throws)', () => {
  const h1 = model.hooks.add('blocks.0.hook_mlp_out', addSteer);
  const h2 = model.hooks.add('ln_final.hook_normalized', addSteer);
  assert.notDeepEqual(scenario(), clean);
  h1.remove();
  assert.notDeepEqual(scenario(), clean);
  h2.remove();
  h2.remove(); // twice is harmless
  assert.deepEqual(scenario(), clean);

  assert.throws(
    () =>
      model.hooks.with([{ name: 'blocks.4.hook_resid_mid', fn: addSteer }], () => {
        model.forward(model.newCache(1), [[1, 2, 3]]);
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.deepEqual(scenario(), clean);
});

test('unknown hook names throw UnknownHookError and leave no hook behind', () => {
  const bad = ['blocks.9.hook_resid_post', `blocks.${c.nLayers}.hook_resid_post`, 'blocks.0.hook_nope', 'hook_nope', 'blocks.x.hook_resid_pre', ''];
  for (const name of bad) {
    assert.throws(() => model.hooks.add(name as HookName, () => undefined), UnknownHookError, name);
    assert.throws(() => runWithCache(model, [1, 2, 3], [name as HookName]), UnknownHookError, name);
  }
  assert.deepEqual(scenario(), clean);
});

test('with() given a valid hook and then an unknown one throws UnknownHookError and registers neither', () => {
  assert.throws(
    () => model.hooks.with([{ name: 'blocks.0.hook_resid_post', fn: addSteer }, { name: 'blocks.0.hook_nope' as HookName, fn: addSteer }], () => scenario()),
    UnknownHookError,
  );
  const after = scenario();
  model.hooks.clear(); // keep the other tests independent of the outcome
  const d = Math.max(...after.map((x, s) => maxAbsDiff(x, clean[s])));
  assert.equal(d, 0, `the valid hook registered before the bad name was left in place: logits moved by up to ${d}`);
});

test('runWithCache returns [tokens, width] activations with the documented widths', () => {
  const tokens = seq(9, 7000);
  const names: HookName[] = [
    'hook_embed',
    'blocks.0.hook_resid_pre',
    'blocks.1.attn.hook_q',
    'blocks.1.attn.hook_k',
    'blocks.1.attn.hook_v',
    'blocks.1.attn.hook_z',
    'blocks.2.attn.hook_pattern',
    'blocks.2.hook_attn_out',
    'blocks.2.mlp.hook_pre',
    'blocks.3.mlp.hook_post',
    'blocks.3.hook_mlp_out',
    'blocks.4.hook_resid_post',
    'ln_final.hook_normalized',
  ];
  const widths: Record<string, number> = {
    hook_embed: 64,
    'blocks.0.hook_resid_pre': 64,
    'blocks.1.attn.hook_q': 64,
    'blocks.1.attn.hook_k': 32,
    'blocks.1.attn.hook_v': 32,
    'blocks.1.attn.hook_z': 64,
    'blocks.2.attn.hook_pattern': 8 * 9,
    'blocks.2.hook_attn_out': 64,
    'blocks.2.mlp.hook_pre': 172,
    'blocks.3.mlp.hook_post': 172,
    'blocks.3.hook_mlp_out': 64,
    'blocks.4.hook_resid_post': 64,
    'ln_final.hook_normalized': 64,
  };
  const run = runWithCache(model, tokens, names);
  assert.equal(run.logits.length, tokens.length * V);
  assert.deepEqual(Array.from(run.rowStart), [0, tokens.length]);
  for (const name of names) {
    assert.equal(run.widths.get(name), widths[name], name);
    assert.equal(run.activations.get(name)!.length, tokens.length * widths[name], name);
  }
  // The cached logits are the plain forward's.
  assert.deepEqual(run.logits, alone(tokens).logits);
  // ln_final.hook_normalized is what the classifier reads.
  const xn = run.activations.get('ln_final.hook_normalized')!;
  const t = tokens.length - 1;
  const expected = Array.from({ length: V }, (_, o) => {
    let dot = 0;
    for (let i = 0; i < DIM; i++) dot += (model.weights.classifier as Float32Array)[o * DIM + i] * xn[t * DIM + i];
    return dot;
  });
  assertAllClose(run.logits.subarray(t * V), expected, { atol: 1e-4 }, 'last logits');
});

test('bad forward calls throw UsageError and leave the cache usable', () => {
  const cache = model.newCache(2, 8);
  assert.throws(() => model.forward(cache, [seq(9, 10)]), UsageError, 'beyond capacity in one call');
  model.forward(cache, [seq(5, 10)]);
  assert.throws(() => model.forward(cache, [corpus.slice(20, 24)]), UsageError, '5 cached + 4 new > 8');
  assert.throws(() => model.forward(cache, [[1, V]]), UsageError, 'token id = vocab');
  assert.throws(() => model.forward(cache, [undefined, [1, 100000]]), UsageError, 'token id ≫ vocab');
  assert.throws(() => model.forward(cache, [[-1]]), UsageError, 'negative id');
  assert.throws(() => model.forward(cache, [[1.5]]), UsageError, 'fractional id');
  assert.throws(() => model.forward(cache, [[NaN]]), UsageError, 'NaN id');
  assert.throws(() => model.forward(cache, [[1], [1], [1]]), UsageError, 'more rows than the cache');
  assert.throws(() => model.forward(cache, []), UsageError, 'no tokens');
  assert.throws(() => model.forward(cache, [[], undefined]), UsageError, 'no tokens');
  assert.throws(() => model.newCache(1, c.seqLen + 1), UsageError, 'capacity beyond the context');
  assert.throws(() => model.newCache(0), UsageError, 'batch 0');
  assert.deepEqual(Array.from(cache.lengths), [5, 0], 'failed calls changed the cache');
  // A failing hook (wrong length) is a ShapeError, not a crash.
  assert.throws(
    () => model.hooks.with([{ name: 'blocks.0.hook_resid_pre', fn: () => new Float32Array(3) }], () => model.forward(model.newCache(1), [[1, 2]])),
    ShapeError,
  );
  // The cache still works: the next 3 tokens fill it exactly, matching a fresh full forward.
  const tokens = seq(8, 10);
  const out = model.forward(cache, [tokens.slice(5)]).logits.slice();
  const d = maxAbsDiff(out, alone(tokens).logits.subarray(7 * V));
  assert.ok(d <= TOL, `max |Δlogit| ${d}`);
  assert.throws(() => model.forward(cache, [[1]]), UsageError, 'full cache');
});
