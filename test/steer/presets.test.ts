import assert from 'node:assert/strict';
import { test } from 'node:test';
import { presetEffect } from '../../src/steer/preset-effect.js';
import { PRESETS } from '../../src/steer/presets.js';
import { ctx } from './steer-test-helpers.js';

/**
 * Every shipped preset moves its own measure the way it claims, at its tuned strength, over 200
 * seeded generations (the README's table comes from the same function, scripts/measure-presets.ts).
 */
for (const preset of PRESETS) {
  test(`preset ${preset.name} moves "${preset.measure.name}" ${preset.measure.direction > 0 ? 'up' : 'down'}`, () => {
    const [clean, steered] = presetEffect(ctx, preset, [0, preset.strength], { generations: 200, maxTokens: 64 });
    const change = (steered.score - clean.score) * preset.measure.direction;
    assert.ok(change > 0.15 * Math.abs(clean.score), `${preset.name}: ${clean.score.toFixed(2)} unsteered → ${steered.score.toFixed(2)} steered`);
  });
}
