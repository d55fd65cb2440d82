import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '../../../src/sae/sae-forward.js';
import { trainOnEmbedded } from './embedded-training.js';

for (const architecture of ['batchtopk', 'matryoshka'] as const) {
  test(`${architecture} SAE on the embedded model's blocks.2.hook_resid_post: 100k tokens, and the saved jumprelu form on held-out tokens`, () => {
    const { trainer, last, ev, sample, d } = trainOnEmbedded(architecture, 200);
    // Held-out tokens (the first 200 documents, not trained on) through the exported jumprelu SAE.
    const sae = trainer.exportSae();
    assert.equal(sae.config.architecture, 'jumprelu');
    const x = new Float32Array(sample.reduce((n, b) => n + b.length, 0));
    let off = 0;
    for (const b of sample) { x.set(b, off); off += b.length; }
    const T = x.length / d;
    const f = encode(sae, x, T);
    let nz = 0;
    for (const v of f) if (v !== 0) nz++;
    const l0 = nz / T;
    const W = sae.weights.W_dec;
    let err = 0, tot = 0;
    const mean = new Float64Array(d);
    for (let t = 0; t < T; t++) for (let i = 0; i < d; i++) mean[i] += x[t * d + i] / T;
    const xhat = new Float64Array(d);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < d; i++) xhat[i] = sae.weights.b_dec[i];
      for (let j = 0; j < 512; j++) { const a = f[t * 512 + j]; if (a !== 0) for (let i = 0; i < d; i++) xhat[i] += a * W[j * d + i]; }
      for (let i = 0; i < d; i++) { err += (xhat[i] - x[t * d + i]) ** 2; tot += (x[t * d + i] - mean[i]) ** 2; }
    }
    const heldEv = 1 - err / tot;
    console.log(`embedded ${architecture}: ${trainer.tokens} tokens, training EV (last 10 batches) ${ev.toFixed(4)}, batch L0 ${last.l0.toFixed(2)}, dead ${last.deadFraction}; θ ${trainer.threshold.toPrecision(4)}; saved jumprelu on ${T} held-out tokens: EV ${heldEv.toFixed(4)}, L0 ${l0.toFixed(2)}`);
    assert.ok(ev > 0.7, `training explained variance ${ev}`);
    assert.ok(Math.abs(last.l0 - 16) < 1e-9, `batch L0 ${last.l0}`);
    assert.ok(heldEv > 0.6, `held-out explained variance of the jumprelu form ${heldEv}`);
    assert.ok(l0 > 4 && l0 < 64, `held-out L0 of the jumprelu form ${l0}`);
  });
}
