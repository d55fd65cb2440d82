import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { loadModel } from '../src/model/load-model.js';
import { activeBackend } from '../src/tensor/backend-registry.js';
import { generateSteered } from '../src/steer/generate-steered.js';
import type { SteeredRequest } from '../src/steer/generate-steered.js';
import { SteeringContext } from '../src/steer/steering-context.js';
import type { SteeringSpec } from '../src/steer/steering-spec.js';
import { parseSteeringSpec } from '../src/steer/steering-spec.js';
import { backendInfo, backendLabel, backendOption, emit, emitMachine, firstSentences, LoadMonitor, positiveInt, printTable, round, runMain, useBackend, warnIfBusy } from './bench-utils.js';
import type { Stats } from './interleaved-repeats.js';
import { fmtStats, interleave, rateStats, statsFields } from './interleaved-repeats.js';

/**
 * The cost of steering, as ratios of greedy decode throughput measured side by side in one run on
 * the embedded model (the SAEs are trained for it; being tiny, it is where fixed per-step costs
 * weigh most). Variants of a batch are run interleaved, repeat after repeat, and compared by their
 * medians, so drift in the machine's speed hits every variant alike. Issue 6's targets:
 *   one SAE-feature addition vs unsteered, batch 1 and 16:          ≥ 0.95
 *   16 rows with 16 different specs vs 16 rows sharing one spec:   ≥ 0.9
 *   SAE-guided decoding vs plain decoding, batch 16:                ≥ 0.8
 */

const HOOK = 'blocks.2.hook_resid_post';

interface Opts {
  maxTokens: number;
  repeats: number;
  backend?: string;
}

type Variant = { name: string; batch: number; spec: (row: number) => SteeringSpec | undefined };

const feature = (index: number, strength: number): SteeringSpec =>
  parseSteeringSpec({ features: [{ source: HOOK, index, strength }] });

const VARIANTS: Variant[] = [
  { name: 'unsteered', batch: 1, spec: () => undefined },
  { name: 'one feature add', batch: 1, spec: () => feature(248, 2) },
  { name: 'unsteered', batch: 16, spec: () => undefined },
  { name: 'one feature add', batch: 16, spec: () => feature(248, 2) },
  { name: '16 different specs', batch: 16, spec: (r) => parseSteeringSpec({ features: [{ source: `${1 + (r % 3)}`, index: 17 * r + 3, strength: 1 + (r % 4) }] }) },
  { name: 'SAE-guided', batch: 16, spec: () => parseSteeringSpec({ guide: [{ source: HOOK, index: 248, strength: 2 }] }) },
];

/** The comparisons the issue sets targets for: [variant, baseline, target]. */
const RATIOS: [string, string, number, number][] = [
  ['one feature add', 'unsteered', 1, 0.95],
  ['one feature add', 'unsteered', 16, 0.95],
  ['16 different specs', 'one feature add', 16, 0.9],
  ['SAE-guided', 'unsteered', 16, 0.8],
];

async function main(): Promise<void> {
  const opts = new Command('steering')
    .description('Decode throughput with steering ÷ without, on the embedded model (side by side, interleaved repeats).')
    .option('--max-tokens <n>', 'tokens generated per row (the first comes from the untimed prefill)', positiveInt, 64)
    .option('--repeats <n>', 'interleaved runs of every variant; medians are compared', positiveInt, 7)
    .addOption(backendOption())
    .parse()
    .opts<Opts>();
  useBackend(opts.backend);
  emitMachine('steering');
  await warnIfBusy();
  const { model, tokenizer } = loadModel();
  const ctx = new SteeringContext(model, tokenizer);
  const prompts = firstSentences(16);

  const run = (v: Variant): number => {
    const requests: SteeredRequest[] = prompts.slice(0, v.batch).map((prompt, r) => ({ prompt, maxTokens: opts.maxTokens, sampling: { temperature: 0 }, seed: 0, stopAtEndOfText: false, steering: v.spec(r) }));
    let events = 0;
    let start = 0;
    let last = 0;
    generateSteered(ctx, requests, {
      onToken: () => {
        last = performance.now();
        if (++events === v.batch) start = last; // the prefill's tokens: the clock starts after them
      },
    });
    return ((events - v.batch) * 1000) / (last - start);
  };

  for (const v of VARIANTS) run(v); // compile specs, load SAEs and feature means, warm the JIT: untimed
  const load = new LoadMonitor();
  const samples = interleave(
    VARIANTS.map((v) => ({ label: `${v.name} b=${v.batch}`, run: () => run(v) })),
    { repeats: opts.repeats, progress: 'steering' },
  );
  const stats = samples.map(rateStats);
  const of = (name: string, batch: number): Stats => stats[VARIANTS.findIndex((v) => v.name === name && v.batch === batch)];
  VARIANTS.forEach((v, i) => emit({ bench: 'steering', variant: v.name, batch: v.batch, ...backendInfo(model.backend.name), ...statsFields('tokens_per_s', stats[i], 1) }));
  const rows = RATIOS.map(([name, base, batch, target]) => {
    const [a, b] = [of(name, batch), of(base, batch)];
    const ratio = a.median / b.median;
    emit({ bench: 'steering', variant: name, baseline: base, batch, ratio: round(ratio, 4), best_ratio: round(a.best / b.best, 4), target });
    return [name, base, String(batch), fmtStats(a, 0), fmtStats(b, 0), `${ratio.toFixed(3)} (best ${(a.best / b.best).toFixed(3)})`, `≥ ${target}`, ratio >= target ? 'met' : 'NOT met'];
  });
  emit({ bench: 'steering', other_load_cores: round(load.finish(), 2) });
  printTable(
    `steered vs unsteered greedy decode on the embedded model, ${opts.maxTokens} tokens per row, tokens/s: median (best) of ${opts.repeats} interleaved runs; targets judged on medians; tinymorph ${backendLabel(activeBackend().name)}`,
    ['variant', 'baseline', 'batch', 'variant tok/s', 'baseline tok/s', 'ratio', 'target', ''],
    rows,
  );
}

await runMain(main);
