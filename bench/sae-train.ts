import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError } from 'commander';
import type { Backend } from '../src/tensor/backend.js';
import { activeBackend } from '../src/tensor/backend-registry.js';
import { trainingArchitectureNames } from '../src/sae/architecture-registry.js';
import { SaeTrainer } from '../src/sae/training/trainer.js';
import { gaussian } from '../src/sae/training/init.js';
import { Prng } from '../src/model/sampling/prng.js';
import { backendInfo, backendLabel, backendOption, emit, emitMachine, log, positiveInt, positiveNumber, printTable, round, runMain, startQuietCheck, useBackend } from './bench-utils.js';
import type { Stats } from './interleaved-repeats.js';
import { fmtStats, interleave, rateStats, statsFields } from './interleaved-repeats.js';

/**
 * SAE training throughput (issue 5, DESIGN.md "Performance"): tokens/s of SaeTrainer.trainStep on
 * random activations at two shapes — d_in 64 × 1024 latents (the embedded model's SAEs) and GPT-2
 * small's residual, d_in 768 × 24,576 latents — beside the GFLOP/s the active backend's dense
 * matmulNN reaches on the encoder's GEMM shape [B, d_in]·[d_in, d_sae], measured in the same run
 * (interleaved with the trainer's steps, so both see the same machine load).
 *
 * FLOPs a step must do (the count behind "effective GFLOP/s"): the encoder GEMM 2·B·d_in·d_sae is
 * dense; every other product touches only the active latents, so a sparse-aware step needs
 * 2·nnz·d_in for each of the decoder forward (acts·W_dec), the W_dec gradient (actsᵀ·δout), the
 * activation gradient (δout·W_decᵀ at the active latents) and the W_enc gradient (sae_inᵀ·δpre),
 * plus 2·d_in·d_sae for b_dec's gradient through the encoder ((Σ_b δpre_b)·W_encᵀ). nnz = L0·B.
 * Element-wise work (biases, ReLU/top-k, Adam over every weight) is not counted.
 *
 * The standard (L1) SAE's b_enc is preset, before every timed step, so that about k latents fire per
 * token, the sparsity of a trained SAE (at initialisation half of them would, which no real run trains
 * at for long). Each step's FLOPs count its own L0.
 */

interface Shape {
  /** --shapes name. */
  key: string;
  name: string;
  dIn: number;
  dSae: number;
  batch: number;
}

const SHAPES: Shape[] = [
  { key: 'small', name: 'embedded (64 × 1024)', dIn: 64, dSae: 1024, batch: 4096 },
  { key: 'gpt2', name: 'GPT-2 small (768 × 24576)', dIn: 768, dSae: 24576, batch: 4096 },
];

interface Opts {
  backend?: string;
  archs: string[];
  k: number;
  batch?: number;
  steps: number;
  minS: number;
  shapes: Shape[];
}

/** "a,b" → the listed items of `known` (by `keyOf`), or an error naming the unknown one. */
function listOf<T>(known: readonly T[], keyOf: (t: T) => string): (v: string) => T[] {
  return (v) =>
    v.split(',').map((name) => {
      const hit = known.find((t) => keyOf(t) === name.trim());
      if (hit === undefined) throw new InvalidArgumentError(`"${name.trim()}" is not one of ${known.map(keyOf).join(', ')}`);
      return hit;
    });
}

/** Standard-normal activations [n, d] from a seeded Prng. */
function randomActivations(n: number, d: number, seed: number): Float32Array {
  const prng = new Prng(seed);
  const x = new Float32Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = gaussian(prng);
  return x;
}

/** b_enc ← −(the (1 − k/d_sae) quantile of x·W_enc over a sample), so that about k latents fire per token. */
function presetSparsity(trainer: SaeTrainer, x: Float32Array, rows: number, k: number, backend: Backend): void {
  const { d_in, d_sae } = trainer.cfg;
  const n = Math.min(rows, 64);
  const pre = new Float32Array(n * d_sae);
  backend.matmulNN(pre, x.subarray(0, n * d_in), trainer.sae.weights.W_enc, n, d_in, d_sae);
  const sorted = pre.sort();
  const cut = sorted[Math.floor(sorted.length * (1 - k / d_sae))];
  (trainer.sae.weights.b_enc as Float32Array).fill(-cut);
}

interface Result {
  shape: Shape;
  arch: string;
  batch: number;
  l0: number;
  flopsPerStep: number;
  tokensPerS: Stats;
  trainGflops: Stats;
  denseGflops: Stats;
}

function measureShape(shape: Shape, arch: string, o: Opts, backend: Backend): Result {
  const batch = o.batch ?? shape.batch;
  const { dIn, dSae } = shape;
  const trainer = new SaeTrainer({
    architecture: arch, d_in: dIn, d_sae: dSae, k: o.k, batchSize: batch, totalSteps: 1000, lr: 1e-4, lrSchedule: 'constant', lrWarmupSteps: 0,
    l1Coefficient: 1, deadAfterTokens: Number.MAX_SAFE_INTEGER, normScale: 1, seed: 1, metadata: {},
  }, backend);
  const x = randomActivations(batch, dIn, 2);
  if (arch === 'standard') presetSparsity(trainer, x, batch, o.k, backend);
  const pre = new Float32Array(batch * dSae);
  const dense = (): number => {
    const t0 = performance.now();
    backend.matmulNN(pre, x, trainer.sae.weights.W_enc, batch, dIn, dSae);
    return (performance.now() - t0) / 1000;
  };
  dense(); // warm-up (first touch of `pre`)
  let l0 = trainer.trainStep(x).l0;
  // Each step's FLOPs from its own L0: the standard SAE's L0 drifts as b_enc trains.
  const stepFlops: number[] = [];
  const flopsAt = (stepL0: number): number => 2 * batch * dIn * dSae + 4 * 2 * stepL0 * batch * dIn + 2 * dIn * dSae;
  const step = (): number => {
    // Untimed: on random activations the L1 SAE's b_enc climbs within a few steps (L0 ≈ 180 of 1024
    // by the end of a 2 s run), far from the sparsity it trains at on real activations.
    if (arch === 'standard') presetSparsity(trainer, x, batch, o.k, backend);
    const s = performance.now();
    l0 = trainer.trainStep(x).l0;
    const t = (performance.now() - s) / 1000;
    stepFlops.push(flopsAt(l0));
    return t;
  };
  const [denseTimes, stepTimes] = interleave(
    [
      { label: 'dense matmulNN', run: dense },
      { label: 'train step', run: step },
    ],
    { repeats: o.steps, minS: o.minS },
  );
  const denseFlops = 2 * batch * dIn * dSae;
  return {
    shape, arch, batch, l0, flopsPerStep: flopsAt(l0),
    tokensPerS: rateStats(stepTimes.map((t) => batch / t)),
    trainGflops: rateStats(stepTimes.map((t, i) => stepFlops[i] / t / 1e9)),
    denseGflops: rateStats(denseTimes.map((t) => denseFlops / t / 1e9)),
  };
}

async function main(): Promise<void> {
  const program = new Command('sae-train')
    .description("SAE training tokens/s on random activations (64×1024 and GPT-2 small's 768×24576), and the trainer's effective GFLOP/s as a fraction of the backend's dense matmulNN GFLOP/s on the encoder GEMM, measured in the same run.")
    .addOption(backendOption())
    .option('--archs <list>', 'architectures, comma-separated', listOf(trainingArchitectureNames(), (a) => a), ['topk', 'standard'])
    .option('--k <n>', 'topk: latents per token; standard: latents firing per token after the b_enc preset', positiveInt, 32)
    .option('--batch <n>', 'tokens per step for every shape (default: 4096)', positiveInt)
    .option('--steps <n>', 'timed steps per case at least; the median and the best are reported', positiveInt, 3)
    .option('--min-s <s>', 'keep stepping a case until this many seconds have passed', positiveNumber, 2)
    .option('--shapes <list>', 'which shapes: small, gpt2 (comma-separated)', listOf(SHAPES, (sh) => sh.key), SHAPES)
    .parse();
  const o = program.opts<Opts>();
  useBackend(o.backend);
  const backend = activeBackend();
  emitMachine('sae-train');
  const load = await startQuietCheck();
  const results: Result[] = [];
  for (const shape of o.shapes) {
    for (const arch of o.archs) {
      log(`${backend.name}: ${arch} ${shape.name}…`);
      const r = measureShape(shape, arch, o, backend);
      results.push(r);
      emit({
        bench: 'sae-train', ...backendInfo(backend.name), architecture: arch, d_in: shape.dIn, d_sae: shape.dSae, batch: r.batch, k: o.k, l0: round(r.l0, 2),
        gflop_per_step: round(r.flopsPerStep / 1e9, 3), ...statsFields('tokens_per_s', r.tokensPerS, 1), ...statsFields('train_gflops', r.trainGflops),
        ...statsFields('dense_matmul_gflops', r.denseGflops), ratio: round(r.trainGflops.median / r.denseGflops.median, 3), best_ratio: round(r.trainGflops.best / r.denseGflops.best, 3), steps: r.tokensPerS.runs,
      });
    }
  }
  emit({ bench: 'sae-train', other_load_cores: round(load.finish(), 2) });
  printTable(
    `SAE training on random activations, ${backendLabel(backend.name)}: median (best) of interleaved steps; trainer GFLOP/s count the FLOPs a sparse-aware step needs (see bench/sae-train.ts); dense = matmulNN [B, d_in]·[d_in, d_sae] in the same run`,
    ['shape', 'arch', 'batch', 'L0 (last step)', 'GFLOP/step (last)', 'tokens/s', 'trainer GFLOP/s', 'dense GFLOP/s', 'ratio'],
    results.map((r) => [
      r.shape.name, r.arch, String(r.batch), r.l0.toFixed(1), (r.flopsPerStep / 1e9).toFixed(2),
      fmtStats(r.tokensPerS, 0),
      fmtStats(r.trainGflops),
      fmtStats(r.denseGflops),
      `${((100 * r.trainGflops.median) / r.denseGflops.median).toFixed(0)}% (best ${((100 * r.trainGflops.best) / r.denseGflops.best).toFixed(0)}%)`,
    ]),
  );
}

await runMain(main);
