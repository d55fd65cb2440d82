/**
 * Prints the measured effect of every steering preset as a markdown table (the README's): for each
 * strength, the preset's text measure and the clean model's cross-entropy on 200 seeded generations.
 * Run: npx tsx scripts/measure-presets.ts [strengths, default 0,1,2,4,6,8]
 */
import { loadModel } from '../src/model/load-model.js';
import { presetEffect } from '../src/steer/preset-effect.js';
import { PRESETS } from '../src/steer/presets.js';
import { SteeringContext } from '../src/steer/steering-context.js';

const strengths = (process.argv[2] ?? '0,1,2,4,6,8').split(',').map(Number);
const { model, tokenizer } = loadModel();
const ctx = new SteeringContext(model, tokenizer);
console.log(`| preset | measure | ${strengths.map((s) => (s === 0 ? 'unsteered' : `×${s}`)).join(' | ')} |`);
console.log(`|---|---|${strengths.map(() => '---:').join('|')}|`);
for (const preset of PRESETS) {
  const effects = presetEffect(ctx, preset, strengths);
  const cells = effects.map((e) => `${e.score.toFixed(2)} (${e.cleanModelNats.toFixed(2)})`);
  console.log(`| \`${preset.name}\` | ${preset.measure.name} | ${cells.join(' | ')} |`);
}
console.log('\nEach cell: the measure, mean over 200 seeded generations of 96 tokens from "Once upon a time" (temperature 1, top-p 0.9), and in brackets the clean model\'s cross-entropy on that text in nats/token.');
