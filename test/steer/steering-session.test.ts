import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HookActivation } from '../../src/model/hook-registry.js';
import { encode } from '../../src/sae/sae-forward.js';
import { writeControlVectorGguf } from '../../src/steer/control-vector-gguf.js';
import { writeSteeringVectors } from '../../src/steer/steering-vector-set.js';
import { maxAbsDiff } from '../helpers/assert-all-close.js';
import { ctx, featureFor, forcedLogits, HOOK, klDivergence, model, STORY } from './steer-test-helpers.js';

/**
 * Laws of the steering engine, checked against hand-applied edits on teacher-forced token
 * sequences: prefill + cached decode steps, so that steering on decode steps is covered.
 */
const sae = ctx.sae(HOOK).sae;
const D = model.config.dim;
const P = 12; // prompt tokens; the rest of STORY is fed one decode step at a time
const clean = forcedLogits([{ tokens: STORY, promptLength: P }])[0];
const FEATURE = featureFor(' happy');

/** The activation at HOOK after every earlier hook (the steering) ran, for every forward call. */
function recordAt(hook: string): { hooks: { name: typeof HOOK; fn: (a: HookActivation) => void }[]; seen: Float32Array[] } {
  const seen: Float32Array[] = [];
  return { seen, hooks: [{ name: hook as typeof HOOK, fn: (a) => void seen.push(a.data.slice()) }] };
}

const bitEqual = (a: Float32Array[], b: Float32Array[]): boolean => a.length === b.length && a.every((x, i) => Buffer.from(x.buffer).equals(Buffer.from(b[i].buffer)));

test('an empty spec, a zero-strength spec and an identity latent edit leave every logit bit-identical', () => {
  for (const spec of [
    {},
    { features: [{ source: HOOK, index: FEATURE, strength: 0 }], vectors: [{ hook: HOOK, vector: new Array(D).fill(1), strength: 0 }] },
    { features: [{ source: HOOK, index: FEATURE, strength: 5 }], strength_multiplier: 0 },
    { features: [{ source: HOOK, index: FEATURE, strength: 1, method: 'MULTIPLY' }] },
  ]) {
    assert.ok(bitEqual(forcedLogits([{ spec, tokens: STORY, promptLength: P }])[0], clean), JSON.stringify(spec));
  }
});

test('feature addition equals adding strength × W_dec[j] by hand, at the prompt and at every decode step', () => {
  const s = 6;
  const steered = forcedLogits([{ spec: { features: [{ source: HOOK, index: FEATURE, strength: s }] }, tokens: STORY, promptLength: P }])[0];
  const dir = sae.weights.W_dec.subarray(FEATURE * D, (FEATURE + 1) * D);
  const byHand = forcedLogits([{ tokens: STORY, promptLength: P }], [
    { name: HOOK, fn: (a) => { for (let t = 0; t < a.data.length / D; t++) for (let k = 0; k < D; k++) a.data[t * D + k] += s * dir[k]; } },
  ])[0];
  assert.equal(steered.length, STORY.length - P + 1);
  assert.ok(maxAbsDiff(steered.flatMap((x) => [...x]), byHand.flatMap((x) => [...x])) === 0);
  // It changes the decode steps, not only the prompt.
  for (let i = 1; i < steered.length; i++) assert.ok(maxAbsDiff(steered[i], clean[i]) > 1e-3, `decode step ${i} unchanged`);
});

test('ablation, clamping and mean ablation move x by exactly (a′_j − a_j)·W_dec[j] (error term kept)', () => {
  const means = ctx.featureMeans(ctx.sae(HOOK));
  // A feature that fires somewhere in the story, so the edits have something to remove.
  const cleanRec = recordAt(HOOK);
  forcedLogits([{ tokens: STORY, promptLength: STORY.length }], cleanRec.hooks);
  const x = cleanRec.seen[0];
  const T = x.length / D;
  const acts = encode(sae, x, T);
  const j = [...Array(sae.config.d_sae).keys()].find((f) => acts.filter((_, i) => i % sae.config.d_sae === f).some((a) => a > 0)) as number;
  for (const [method, target] of [['ABLATE', () => 0], ['CLAMP', () => 3.5], ['MEAN_ABLATE', () => means.mean[j]]] as const) {
    const rec = recordAt(HOOK);
    forcedLogits([{ spec: { features: [{ source: HOOK, index: j, strength: 3.5, method }] }, tokens: STORY, promptLength: STORY.length }], rec.hooks);
    const got = rec.seen[0];
    for (let t = 0; t < T; t++) {
      const da = target() - acts[t * sae.config.d_sae + j];
      for (let k = 0; k < D; k++) {
        const want = x[t * D + k] + da * sae.weights.W_dec[j * D + k];
        assert.ok(Math.abs(got[t * D + k] - want) <= 1e-5 * (1 + Math.abs(want)), `${method} token ${t} dim ${k}: ${got[t * D + k]} vs ${want}`);
      }
    }
  }
});

test('ORTHOGONAL_DECOMP sets, PROJECTION_CAP caps the component along the direction; the orthogonal part is untouched', () => {
  const dir = sae.weights.W_dec.subarray(FEATURE * D, (FEATURE + 1) * D);
  const norm = Math.hypot(...dir);
  const unit = dir.map((v) => v / norm);
  const cleanRec = recordAt(HOOK);
  forcedLogits([{ tokens: STORY, promptLength: STORY.length }], cleanRec.hooks);
  const x = cleanRec.seen[0];
  const T = x.length / D;
  const along = (a: Float32Array, t: number): number => unit.reduce((s, u, k) => s + u * a[t * D + k], 0);
  for (const [method, s] of [['ORTHOGONAL_DECOMP', 2], ['PROJECTION_CAP', 0.1]] as const) {
    const rec = recordAt(HOOK);
    forcedLogits([{ spec: { features: [{ source: HOOK, index: FEATURE, strength: s, method }] }, tokens: STORY, promptLength: STORY.length }], rec.hooks);
    const y = rec.seen[0];
    for (let t = 0; t < T; t++) {
      const want = method === 'ORTHOGONAL_DECOMP' ? s * norm : Math.min(along(x, t), s * norm);
      assert.ok(Math.abs(along(y, t) - want) < 1e-4, `${method} token ${t}: component ${along(y, t)} vs ${want}`);
      for (let k = 0; k < D; k++) {
        const orthX = x[t * D + k] - along(x, t) * unit[k];
        const orthY = y[t * D + k] - along(y, t) * unit[k];
        assert.ok(Math.abs(orthX - orthY) < 1e-4);
      }
    }
  }
});

test('normalize_steering keeps each steered activation at its original norm', () => {
  const cleanRec = recordAt(HOOK);
  forcedLogits([{ tokens: STORY, promptLength: STORY.length }], cleanRec.hooks);
  const rec = recordAt(HOOK);
  forcedLogits([{ spec: { features: [{ source: HOOK, index: FEATURE, strength: 20 }], normalize_steering: true }, tokens: STORY, promptLength: STORY.length }], rec.hooks);
  const x = cleanRec.seen[0];
  const y = rec.seen[0];
  for (let t = 0; t < x.length / D; t++) {
    const nx = Math.hypot(...x.subarray(t * D, (t + 1) * D));
    const ny = Math.hypot(...y.subarray(t * D, (t + 1) * D));
    assert.ok(Math.abs(nx - ny) < 1e-4 * nx);
    assert.ok(maxAbsDiff(x.subarray(t * D, (t + 1) * D), y.subarray(t * D, (t + 1) * D)) > 1e-3);
  }
});

test('scopes: prompt, generated, a position range and after a marker steer exactly those positions', () => {
  const marker = 'named Lily';
  const markerEnd = STORY.findIndex((_, i) => ctx.tokenizer.decode(STORY.slice(0, i + 1)).includes(marker)) + 1;
  const cases: [unknown, (pos: number) => boolean][] = [
    ['prompt', (p) => p < P],
    ['generated', (p) => p >= P],
    [{ start: 5, end: 20 }, (p) => p >= 5 && p < 20],
    [{ after: marker }, (p) => p >= markerEnd],
  ];
  const cleanRec = recordAt(HOOK);
  forcedLogits([{ tokens: STORY, promptLength: P }], cleanRec.hooks);
  const cleanActs = concat(cleanRec.seen);
  for (const [scope, inScope] of cases) {
    const rec = recordAt(HOOK);
    forcedLogits([{ spec: { features: [{ source: HOOK, index: FEATURE, strength: 4 }], scope }, tokens: STORY, promptLength: P }], rec.hooks);
    const acts = concat(rec.seen);
    for (let p = 0; p < STORY.length; p++) {
      const moved = maxAbsDiff(acts.subarray(p * D, (p + 1) * D), cleanActs.subarray(p * D, (p + 1) * D)) > 0;
      assert.equal(moved, inScope(p), `scope ${JSON.stringify(scope)} position ${p}`);
    }
  }
});

test('KL(clean ‖ steered) at the next token rises monotonically with strength', () => {
  let last = 0;
  for (const s of [1, 2, 4, 8, 16]) {
    const steered = forcedLogits([{ spec: { features: [{ source: HOOK, index: FEATURE, strength: s }] }, tokens: STORY, promptLength: STORY.length }])[0][0];
    const kl = klDivergence(clean[clean.length - 1], steered);
    assert.ok(kl > last, `strength ${s}: KL ${kl} ≤ ${last}`);
    last = kl;
  }
});

test('a batch of 16 rows with 16 different specs equals each row run alone', () => {
  const methods = ['SIMPLE_ADDITIVE', 'ORTHOGONAL_DECOMP', 'PROJECTION_CAP', 'CLAMP', 'MULTIPLY', 'ABLATE', 'MEAN_ABLATE'];
  const scopes = ['all', 'prompt', 'generated', { start: 3, end: 9 }, { after: 'girl' }];
  const rows = Array.from({ length: 16 }, (_, i) => ({
    spec: i === 15 ? undefined : {
      features: [{ source: `${1 + (i % 3)}`, index: (37 * i) % 1024, strength: 1 + (i % 5), method: methods[i % methods.length] }],
      vectors: i % 2 ? [{ hook: `blocks.${i % 4}.hook_resid_mid`, vector: Array.from({ length: D }, (_, k) => Math.sin(k + i)), strength: 0.5 }] : [],
      scope: scopes[i % scopes.length],
      normalize_steering: i % 4 === 0,
    },
    tokens: STORY.slice(0, 20 + i),
    promptLength: 4 + (i % 7),
  }));
  const batched = forcedLogits(rows);
  const cleanRows = forcedLogits(rows.map((r) => ({ ...r, spec: undefined })));
  const changed = rows.filter((_, i) => batched[i].some((l, step) => maxAbsDiff(l, cleanRows[i][step]) > 1e-3)).length;
  assert.ok(changed >= 12, `only ${changed} of 15 specs changed their row`);
  rows.forEach((r, i) => {
    const alone = forcedLogits([r])[0];
    assert.equal(batched[i].length, alone.length);
    alone.forEach((l, step) => assert.ok(maxAbsDiff(batched[i][step], l) <= 1e-4, `row ${i} step ${step}`));
  });
});

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test('a vector from a .safetensors or llama.cpp .gguf file steers exactly as the same vector inline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinymorph-vectors-'));
  try {
    const v = Float32Array.from({ length: D }, (_, k) => Math.cos(3 * k) / 2);
    const set = { vectors: new Map([[HOOK as typeof HOOK, v]]), metadata: { method: 'test' } };
    writeSteeringVectors(join(dir, 'v.safetensors'), set);
    writeControlVectorGguf(join(dir, 'v.gguf'), set);
    const inline = forcedLogits([{ spec: { vectors: [{ hook: HOOK, vector: [...v], strength: 3 }] }, tokens: STORY, promptLength: P }])[0];
    assert.ok(maxAbsDiff(inline[inline.length - 1], clean[clean.length - 1]) > 1e-3);
    for (const file of ['v.safetensors', 'v.gguf']) {
      const fromFile = forcedLogits([{ spec: { vectors: [{ vector: join(dir, file), strength: 3 }] }, tokens: STORY, promptLength: P }])[0];
      assert.ok(bitEqual(fromFile, inline), file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
