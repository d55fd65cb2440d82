import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SteeringError } from '../../../src/errors.js';
import type { HookName } from '../../../src/model/hook-points.js';
import { loadModel } from '../../../src/model/load-model.js';
import { runWithCache } from '../../../src/model/run-with-cache.js';
import type { ContrastExample, ContrastSet } from '../../../src/steer/vectors/contrast-examples.js';
import { contrastVectors } from '../../../src/steer/vectors/contrast-vectors.js';
import { exampleActivations } from '../../../src/steer/vectors/example-activations.js';
import { assertAllClose } from '../../helpers/assert-all-close.js';
import { topPrincipalAxis } from './jacobi-eigen.js';

const { model, tokenizer } = loadModel();
const examples = (texts: string[], file: string): ContrastExample[] => texts.map((text, i) => ({ text, where: `${file}:${i + 1}` }));
const POS = ['Lily was so happy and she laughed.', 'The sun was warm and Tom smiled at his mom.', 'They played all day and had a lot of fun!', 'Ben loved his new red ball.'];
const NEG = ['Lily was so sad and she cried.', 'The rain was cold and Tom frowned at his mom.', 'They were lonely all day and had no fun.', 'Ben lost his old red ball.'];
const PAIRED: ContrastSet = { positive: examples(POS, 'pos.txt'), negative: examples(NEG, 'neg.txt'), paired: true };
const HOOKS: HookName[] = ['blocks.1.hook_resid_post', 'blocks.2.hook_resid_post', 'blocks.3.hook_mlp_out'];

/** One text alone through runWithCache (a full forward, no stopAtLayer, no batching): its [tokens, width] activation at `hook`. */
function alone(text: string, hook: HookName): { acts: Float32Array; width: number; len: number } {
  const c = runWithCache(model, tokenizer.encode(text), [hook]);
  const width = c.widths.get(hook)!;
  return { acts: c.activations.get(hook)!, width, len: c.activations.get(hook)!.length / width };
}

/** Reads token t of one text by hand; t = 'mean' averages tokens 1..len−1 (BOS left out). */
function handRead(text: string, hook: HookName, t: number | 'mean'): Float64Array {
  const { acts, width, len } = alone(text, hook);
  const out = new Float64Array(width);
  const from = t === 'mean' ? 1 : t;
  const to = t === 'mean' ? len : t + 1;
  for (let i = from; i < to; i++) for (let j = 0; j < width; j++) out[j] += acts[i * width + j] / (to - from);
  return out;
}

function handMeanDiff(pos: string[], neg: string[], hook: HookName, at: (text: string) => number | 'mean'): Float64Array {
  const width = handRead(pos[0], hook, at(pos[0])).length;
  const v = new Float64Array(width);
  for (const t of pos) handRead(t, hook, at(t)).forEach((a, j) => (v[j] += a / pos.length));
  for (const t of neg) handRead(t, hook, at(t)).forEach((a, j) => (v[j] -= a / neg.length));
  return v;
}

const lastIndex = (text: string): number => tokenizer.encode(text).length - 1;

test('CAA at the last token equals mean(pos) − mean(neg) of runWithCache activations read one text at a time', () => {
  const set = contrastVectors(model, tokenizer, PAIRED, { hooks: HOOKS });
  assert.deepEqual([...set.vectors.keys()], HOOKS);
  for (const hook of HOOKS) assertAllClose(set.vectors.get(hook)!, handMeanDiff(POS, NEG, hook, lastIndex), { atol: 1e-5 }, hook);
  assert.equal(set.metadata.method, 'caa');
  assert.equal(set.metadata.position, 'last');
});

test('CAA positions: mean over the text tokens, and token indices from the start and from the end', () => {
  const hook: HookName = 'blocks.2.hook_resid_post';
  const mean = contrastVectors(model, tokenizer, PAIRED, { hooks: [hook], position: 'mean' });
  assertAllClose(mean.vectors.get(hook)!, handMeanDiff(POS, NEG, hook, () => 'mean'), { atol: 1e-5 }, 'mean');
  const first = contrastVectors(model, tokenizer, PAIRED, { hooks: [hook], position: 0 });
  assertAllClose(first.vectors.get(hook)!, handMeanDiff(POS, NEG, hook, () => 1), { atol: 1e-5 }, 'index 0');
  const secondLast = contrastVectors(model, tokenizer, PAIRED, { hooks: [hook], position: -2 });
  assertAllClose(secondLast.vectors.get(hook)!, handMeanDiff(POS, NEG, hook, (t) => lastIndex(t) - 1), { atol: 1e-5 }, 'index -2');
});

test('default hooks are every block output; unpaired sets work for CAA and are refused by PCA', () => {
  const unpaired: ContrastSet = { positive: PAIRED.positive, negative: PAIRED.negative.slice(0, 3), paired: false };
  const set = contrastVectors(model, tokenizer, unpaired);
  assert.deepEqual([...set.vectors.keys()], [0, 1, 2, 3, 4].map((l) => `blocks.${l}.hook_resid_post`));
  assertAllClose(set.vectors.get('blocks.4.hook_resid_post')!, handMeanDiff(POS, NEG.slice(0, 3), 'blocks.4.hook_resid_post', lastIndex), { atol: 1e-5 });
  assert.throws(() => contrastVectors(model, tokenizer, unpaired, { method: 'pca_diff' }), (e) => e instanceof SteeringError && /4 positive and 3 negative/.test(e.message));
});

test('pca_diff and pca_center agree with a Jacobi eigen-decomposition of the same activations; sign and scale as documented', () => {
  const hook: HookName = 'blocks.2.hook_resid_post';
  const pos = POS.map((t) => handRead(t, hook, lastIndex(t)));
  const neg = NEG.map((t) => handRead(t, hook, lastIndex(t)));
  const d = pos[0].length;
  const n = POS.length;
  const diffs = pos.map((p, i) => p.map((a, j) => a - neg[i][j]));
  const centred = diffs.flatMap((df) => [df.map((a) => a / 2), df.map((a) => -a / 2)]);
  for (const [method, rows] of [['pca_diff', diffs], ['pca_center', centred]] as const) {
    const v = contrastVectors(model, tokenizer, PAIRED, { hooks: [hook], method }).vectors.get(hook)!;
    const axis = topPrincipalAxis(Float64Array.from(rows.flatMap((r) => [...r])), rows.length, d);
    const norm = Math.hypot(...v);
    const cos = v.reduce((s, a, j) => s + a * axis[j], 0) / norm;
    assert.ok(Math.abs(Math.abs(cos) - 1) < 1e-4, `${method}: |cos| with the Jacobi axis is ${cos}`);
    // Scale: |mean projection of the pair differences| on the unit direction.
    const u = Array.from(v, (a) => a / norm);
    const proj = diffs.map((df) => df.reduce((s, a, j) => s + a * u[j], 0));
    assert.ok(Math.abs(norm - Math.abs(proj.reduce((a, b) => a + b) / n)) < 1e-5, `${method}: norm ${norm}`);
    // Sign (repeng): in most pairs the positive example projects higher.
    assert.ok(proj.filter((p) => p > 0).length >= proj.filter((p) => p < 0).length, `${method}: projections ${proj}`);
  }
});

test('batching does not change activations: many texts per forward call == one per call', () => {
  const hooks: HookName[] = ['blocks.0.hook_resid_post', 'blocks.4.hook_resid_post'];
  const all = [...PAIRED.positive, ...PAIRED.negative];
  const batched = exampleActivations(model, tokenizer, all, hooks, 'mean');
  const single = exampleActivations(model, tokenizer, all, hooks, 'mean', { batchTokens: 1 });
  for (const h of hooks) assertAllClose(batched.get(h)!, single.get(h)!, { atol: 1e-5 }, h);
});

test('bad examples name the file and line: position outside the example, example longer than the context', () => {
  assert.throws(() => contrastVectors(model, tokenizer, PAIRED, { position: 40 }), (e) => e instanceof SteeringError && /pos\.txt:1: position 40 is outside/.test(e.message));
  const long: ContrastSet = { ...PAIRED, positive: [{ text: 'the dog ran. '.repeat(300), where: 'pos.txt:9' }, ...PAIRED.positive.slice(1)] };
  assert.throws(() => contrastVectors(model, tokenizer, long), (e) => e instanceof SteeringError && /pos\.txt:9: example is \d+ tokens, longer than the model's context of 512/.test(e.message));
  assert.throws(() => contrastVectors(model, tokenizer, PAIRED, { hooks: ['blocks.1.attn.hook_pattern'] }), (e) => e instanceof SteeringError && /no fixed per-token width/.test(e.message));
});
