import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { alignedFloat32Array } from '../src/tensor/aligned-array.js';
import type { Backend } from '../src/tensor/backend.js';
import { availableBackends, backendByName } from '../src/tensor/backend-registry.js';
import { quantizeQ80 } from '../src/tensor/q80.js';
import type { WeightMatrix } from '../src/tensor/weight-matrix.js';
import { isQ80, weightBytes } from '../src/tensor/weight-matrix.js';
import { backendInfo, backendLabel, backendOption, emit, emitMachine, log, positiveInt, positiveNumber, printTable, round, runMain, startQuietCheck, withTempDir } from './bench-utils.js';
import type { Stats } from './interleaved-repeats.js';
import { fmtStats, interleave, rateStats, statsFields } from './interleaved-repeats.js';
import type { CpuPeak } from './cpu-peak.js';
import { cpuPeak, measureCpu } from './cpu-peak.js';

/**
 * GFLOP/s of the backends' matrix kernels at the shapes the runtime uses — prefill projections,
 * SAE training GEMMs in all three layouts, batched decode and the batch-1 decode matvecs (with
 * the GB/s of weights they read) — beside the machine's theoretical fp32 peak (cpu-peak.ts).
 */

type Kernel = 'matmul' | 'matmulNN' | 'matmulTN';

/**
 * One measured shape. matmul: out[m,n] = x[m,k]·w[n,k]ᵀ (w as in the model files, out × in);
 * matmulNN: out[m,n] = a[m,k]·b[k,n]; matmulTN: out[m,n] = a[k,m]ᵀ·b[k,n]. `tokens` names the
 * dimension that counts tokens, which may be cut down for a slow backend (--max-call-ms).
 */
interface Case {
  group: string;
  what: string;
  kernel: Kernel;
  m: number;
  k: number;
  n: number;
  q8?: boolean;
  tokens?: 'm' | 'k';
}

const SAE_IN = 768; // 110m's residual stream
const SAE_WIDTH = 32 * SAE_IN; // 24576 features
const SAE_BATCH = 4096; // tokens per training step

const CASES: Case[] = [
  { group: 'prefill', what: '15m w1/w3, 256-token prompt', kernel: 'matmul', m: 256, k: 288, n: 768, tokens: 'm' },
  { group: 'prefill', what: '110m wq/wk/wv/wo', kernel: 'matmul', m: 256, k: 768, n: 768, tokens: 'm' },
  { group: 'prefill', what: '110m w1/w3', kernel: 'matmul', m: 256, k: 768, n: 2048, tokens: 'm' },
  { group: 'prefill', what: '110m w2', kernel: 'matmul', m: 256, k: 2048, n: 768, tokens: 'm' },
  { group: 'square', what: '512³', kernel: 'matmul', m: 512, k: 512, n: 512, tokens: 'm' },
  { group: 'square', what: '512³', kernel: 'matmulNN', m: 512, k: 512, n: 512, tokens: 'm' },
  { group: 'square', what: '512³', kernel: 'matmulTN', m: 512, k: 512, n: 512, tokens: 'k' },
  { group: 'sae', what: 'encode x·W_encᵀ (W_enc [width, d_in])', kernel: 'matmul', m: SAE_BATCH, k: SAE_IN, n: SAE_WIDTH, tokens: 'm' },
  { group: 'sae', what: 'encode x·W_enc (W_enc [d_in, width])', kernel: 'matmulNN', m: SAE_BATCH, k: SAE_IN, n: SAE_WIDTH, tokens: 'm' },
  { group: 'sae', what: 'decode acts·W_dec (dense acts)', kernel: 'matmulNN', m: SAE_BATCH, k: SAE_WIDTH, n: SAE_IN, tokens: 'm' },
  { group: 'sae', what: 'grad W_enc = xᵀ·δ_pre', kernel: 'matmulTN', m: SAE_IN, k: SAE_BATCH, n: SAE_WIDTH, tokens: 'k' },
  { group: 'sae', what: 'grad W_dec = actsᵀ·δ_out', kernel: 'matmulTN', m: SAE_WIDTH, k: SAE_BATCH, n: SAE_IN, tokens: 'k' },
  { group: 'batched decode', what: '15m w1/w3, 16 rows', kernel: 'matmul', m: 16, k: 288, n: 768 },
  { group: 'batched decode', what: '110m w1/w3, 16 rows', kernel: 'matmul', m: 16, k: 768, n: 2048 },
  ...[false, true].flatMap((q8) => [
    { group: 'decode', what: '15m w1/w3', kernel: 'matmul' as const, m: 1, k: 288, n: 768, q8 },
    { group: 'decode', what: '15m w2', kernel: 'matmul' as const, m: 1, k: 768, n: 288, q8 },
    { group: 'decode', what: '15m classifier', kernel: 'matmul' as const, m: 1, k: 288, n: 32000, q8 },
    { group: 'decode', what: '110m wq/wk/wv/wo', kernel: 'matmul' as const, m: 1, k: 768, n: 768, q8 },
    { group: 'decode', what: '110m w1/w3', kernel: 'matmul' as const, m: 1, k: 768, n: 2048, q8 },
    { group: 'decode', what: '110m w2', kernel: 'matmul' as const, m: 1, k: 2048, n: 768, q8 },
    { group: 'decode', what: '110m classifier', kernel: 'matmul' as const, m: 1, k: 768, n: 32000, q8 },
  ]),
];

const GRAIN = 16; // a cut-down token dimension stays a multiple of this
const MAX_SAMPLES = 2000;

interface Opts {
  backend?: string;
  repeats: number;
  minMs: number;
  maxCallMs: number;
  filter?: string;
  cores?: number;
  clockGhz?: number;
  simdLanes?: number;
  fmaUnits?: number;
  measureClock: boolean;
}

interface Result {
  backend: string;
  c: Case;
  m: number;
  k: number;
  copies: number;
  gflops: Stats;
  gbps?: Stats;
}

/**
 * Uniform values in [-1, 1) from xorshift32: dense operands (no zeros for the reference's sparse
 * skips), on cache lines as the runtime's weights and activations are.
 */
function randomArray(len: number, seed: number): Float32Array {
  const a = alignedFloat32Array(len);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = (s >>> 0) / 2 ** 31 - 1;
  }
  return a;
}

function copyAligned(a: Float32Array): Float32Array {
  const c = alignedFloat32Array(a.length);
  c.set(a);
  return c;
}

/** A ready-to-call kernel at a (possibly cut-down) shape: `copies` weight copies cycled per sample. */
function prepare(b: Backend, c: Case, m: number, k: number, copies: number): { run: () => void; weightBytesPerRun: number } {
  const n = c.n;
  if (c.kernel === 'matmul') {
    const x = randomArray(m * k, 1);
    const out = alignedFloat32Array(m * n);
    const w0 = randomArray(n * k, 2);
    const first: WeightMatrix = c.q8 ? quantizeQ80(w0, n, k) : w0;
    const ws: WeightMatrix[] = [first];
    for (let i = 1; i < copies; i++) ws.push(isQ80(first) ? { ...first, q: first.q.slice(), scales: first.scales.slice() } : copyAligned(first));
    return { run: () => ws.forEach((w) => b.matmul(out, x, w, m, k, n)), weightBytesPerRun: copies * weightBytes(first) };
  }
  const aLen = m * k;
  const a = randomArray(aLen, 3);
  const bm = randomArray(k * n, 4);
  const out = alignedFloat32Array(m * n);
  const f = c.kernel === 'matmulNN' ? b.matmulNN : b.matmulTN;
  return { run: () => f.call(b, out, a, bm, m, k, n), weightBytesPerRun: bm.byteLength };
}

/**
 * The token dimension (m or k) small enough that one call stays under maxCallMs, judged from
 * probes at 16, 64, 256… tokens (growing while a probe is cheap, since tiny probes run slower per flop).
 */
function fitTokens(b: Backend, c: Case, maxCallMs: number): number {
  const full = c.tokens === 'k' ? c.k : c.m;
  if (!c.tokens || full <= GRAIN) return full;
  for (let probe = GRAIN; ; probe *= 4) {
    const p = prepare(b, c, c.tokens === 'm' ? probe : c.m, c.tokens === 'k' ? probe : c.k, 1);
    p.run(); // JIT / first-touch
    const t0 = performance.now();
    p.run();
    const ms = Math.max(performance.now() - t0, 1e-3);
    if ((ms * full) / probe <= maxCallMs) return full;
    if (probe * 4 >= full || ms * 4 > maxCallMs / 4) return Math.min(full, Math.max(GRAIN, Math.floor((probe * maxCallMs) / ms / GRAIN) * GRAIN));
  }
}

function measure(b: Backend, c: Case, opts: Opts, peak: CpuPeak): Result {
  const tokens = fitTokens(b, c, opts.maxCallMs);
  const m = c.tokens === 'm' ? tokens : c.m;
  const k = c.tokens === 'k' ? tokens : c.k;
  // Matvec weights that fit in cache would be read from cache; a decode step reads them from DRAM.
  // Cycle through enough copies to fill twice the last-level cache, as a model's layers do.
  const bytes = c.n * k * (c.q8 ? 1 + 4 / 32 : 4);
  const copies = c.kernel === 'matmul' && m <= 16 ? Math.max(1, Math.ceil((2 * peak.llcBytes) / bytes)) : 1;
  const p = prepare(b, c, m, k, copies);
  p.run(); // warm-up
  const flops = 2 * m * k * c.n * copies;
  const call = (): number => {
    const s = performance.now();
    p.run();
    return (performance.now() - s) / 1000;
  };
  // One side: a kernel is judged against the machine's peak, not against another side.
  const [times] = interleave([{ label: c.what, run: call }], { repeats: opts.repeats, minS: opts.minMs / 1000, maxRounds: MAX_SAMPLES });
  const weightRead = c.kernel === 'matmul' && m <= 16;
  return {
    backend: b.name,
    c,
    m,
    k,
    copies,
    gflops: rateStats(times.map((t) => flops / t / 1e9)),
    gbps: weightRead ? rateStats(times.map((t) => p.weightBytesPerRun / t / 1e9)) : undefined,
  };
}

const shapeText = (c: Case, m: number, k: number): string => {
  const cut = (v: number, full: number): string => (v === full ? String(v) : `${v}(of ${full})`);
  return c.kernel === 'matmulTN' ? `${c.m}×${cut(k, c.k)}→${c.n} (m×k→n)` : `${cut(m, c.m)}×${c.k}→${c.n}`;
};

async function main(): Promise<void> {
  const program = new Command('matmul')
    .description("GFLOP/s of each backend's matmul (x·wᵀ), matmulNN and matmulTN at prefill, SAE and decode shapes, beside the machine's theoretical fp32 peak.")
    .addOption(backendOption('measure only this backend (default: every available one)'))
    .option('--repeats <n>', 'timed calls per shape at least; the median and the best are reported', positiveInt, 3)
    .option('--min-ms <ms>', 'keep calling a shape until this much time has passed', positiveNumber, 200)
    .option('--max-call-ms <ms>', 'cut the token dimension of big shapes so one call takes about this long at most (slow backends)', positiveNumber, 3000)
    .option('--filter <text>', 'only shapes whose group, kernel or description contains this')
    .option('--cores <n>', 'cores for the peak (default: physical cores from /proc/cpuinfo)', positiveInt)
    .option('--clock-ghz <ghz>', 'clock for the peak (default: /proc/cpuinfo)', positiveNumber)
    .option('--simd-lanes <n>', 'fp32 SIMD lanes for the peak (default: from the CPU flags)', positiveInt)
    .option('--fma-units <n>', 'FMA units of that width per core (default: measured by an FMA probe; without it 1 with AVX-512, 2 with AVX2+FMA)', positiveInt)
    .option('--no-measure-clock', 'do not measure the all-core clock and FMA throughput (gcc-compiled probes); use only the reported clock and assumed FMA units')
    .parse();
  const opts = program.opts<Opts>();
  const clock = opts.measureClock ? await withTempDir('clock', measureCpu) : {};
  if (clock.problem) log(`clock not measured: ${clock.problem}`);
  const peak = cpuPeak({ cores: opts.cores, ghz: opts.clockGhz, lanes: opts.simdLanes, fmaUnits: opts.fmaUnits, measuredGhz: clock.ghz, measuredFmaGflops: clock.fmaGflops });
  emitMachine('matmul');
  emit({
    bench: 'matmul',
    cores: peak.cores,
    ghz: round(peak.ghz, 3),
    isa: peak.isa,
    lanes: peak.lanes,
    fma_units: peak.fmaUnits,
    peak_gflops: round(peak.peak, 1),
    per_core_gflops: round(peak.perCore, 1),
    simd128_gflops: round(peak.simd128, 1),
    ...(peak.measuredGhz ? { measured_ghz: round(peak.measuredGhz, 3), peak_gflops_measured_clock: round(peak.peakMeasured!, 1), simd128_gflops_measured_clock: round(peak.simd128Measured!, 1) } : {}),
    ...(peak.measuredFmaGflops ? { fma_probe_gflops: round(peak.measuredFmaGflops, 1) } : {}),
    assumptions: peak.assumptions,
  });
  const load = await startQuietCheck();
  const cases = CASES.filter((c) => !opts.filter || `${c.group} ${c.kernel} ${c.what}${c.q8 ? ' q8_0' : ''}`.includes(opts.filter));
  const results: Result[] = [];
  for (const name of opts.backend ? [opts.backend] : availableBackends()) {
    const b = backendByName(name);
    for (const c of cases) {
      log(`${name}: ${c.kernel} ${c.group} ${c.what}${c.q8 ? ' q8_0' : ''}…`);
      const r = measure(b, c, opts, peak);
      results.push(r);
      emit({
        bench: 'matmul',
        ...backendInfo(name),
        kernel: c.kernel,
        group: c.group,
        what: c.what,
        weights: c.q8 ? 'q8_0' : 'f32',
        m: r.m,
        k: r.k,
        n: c.n,
        full_m: c.m,
        full_k: c.k,
        ...statsFields('gflops', r.gflops, 3),
        fraction_of_peak: round(r.gflops.median / peak.peak, 4),
        best_fraction_of_peak: round(r.gflops.best / peak.peak, 4),
        ...(peak.peakMeasured ? { fraction_of_peak_measured_clock: round(r.gflops.median / peak.peakMeasured, 4), best_fraction_of_peak_measured_clock: round(r.gflops.best / peak.peakMeasured, 4) } : {}),
        ...(r.gbps ? { ...statsFields('weight_gb_per_s', r.gbps), weight_copies: r.copies } : {}),
      });
    }
  }
  emit({ bench: 'matmul', other_load_cores: round(load.finish(), 2) });
  console.log('');
  console.log(`${peak.model}: ${peak.cores} cores × ${peak.ghz.toFixed(3)} GHz × ${peak.lanes} lanes (${peak.isa}) × 2 (FMA) × ${peak.fmaUnits} FMA unit(s)`);
  console.log(`theoretical fp32 peak: ${peak.peak.toFixed(1)} GFLOP/s (${peak.perCore.toFixed(1)} per core); WebAssembly SIMD (4 lanes) ceiling: ${peak.simd128.toFixed(1)} GFLOP/s`);
  if (peak.measuredGhz) {
    console.log(`measured all-core clock ${peak.measuredGhz.toFixed(2)} GHz (dependent add chain): peak ${peak.peakMeasured!.toFixed(1)} GFLOP/s; WebAssembly SIMD ceiling ${peak.simd128Measured!.toFixed(1)} GFLOP/s`);
  }
  console.log(`assumptions: ${peak.assumptions}`);
  printTable(
    'GFLOP/s median (best) of the calls; % of the all-core peak (median) at the reported (and measured) clock; decode rows also give GB/s of weights read (cycled through copies filling 2× the last-level cache)',
    ['backend', 'group', 'kernel', 'shape', 'weights', 'GFLOP/s', '% peak', '% peak (measured clock)', 'weights GB/s', 'what'],
    results.map((r) => [
      backendLabel(r.backend),
      r.c.group,
      r.c.kernel,
      shapeText(r.c, r.m, r.k),
      r.c.q8 ? 'q8_0' : 'f32',
      fmtStats(r.gflops, 2),
      `${((100 * r.gflops.median) / peak.peak).toFixed(1)}%`,
      peak.peakMeasured ? `${((100 * r.gflops.median) / peak.peakMeasured).toFixed(1)}%` : '-',
      r.gbps ? fmtStats(r.gbps, 2) : '',
      r.c.what,
    ]),
  );
}

await runMain(main);
