import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trainOnEmbedded } from './embedded-training.js';

// The L1 / L0-penalised SAEs on real activations, as the shipped sweep trains them (issue 5's known
// problems): a standard SAE with default init reaches an L0 in the useful range with a reconstruction
// a TopK SAE would not be ashamed of, and the jumprelu coefficient sets L0 (larger → sparser).

test('standard SAE on the embedded model: L1 3 gives L0 ≤ 40 and explained variance > 0.55 within 100k tokens', () => {
  const { trainer, last, ev } = trainOnEmbedded('standard', 0, { l1Coefficient: 3, sparsityWarmupSteps: 20 });
  console.log(`embedded standard (L1 3): ${trainer.tokens} tokens, explained variance ${ev.toFixed(4)}, L0 ${last.l0.toFixed(1)}`);
  assert.ok(last.l0 <= 40, `L0 ${last.l0}`);
  assert.ok(ev > 0.55, `explained variance ${ev}`);
});

test('jumprelu SAE on the embedded model: a larger L0 coefficient gives a smaller L0 (0.3 → 1)', () => {
  const l0s = [0.3, 1].map((l0Coefficient) => {
    const { last, ev } = trainOnEmbedded('jumprelu', 0, { l0Coefficient, sparsityWarmupSteps: 20 });
    console.log(`embedded jumprelu (L0 coefficient ${l0Coefficient}): L0 ${last.l0.toFixed(1)}, explained variance ${ev.toFixed(4)}`);
    return last.l0;
  });
  assert.ok(l0s[0] > 2 * l0s[1] && l0s[1] > 2, `L0 ${l0s.join(', ')}`);
});
