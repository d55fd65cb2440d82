import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { cpuinfo, cpuinfoField, cpuIsa } from './machine.js';

/**
 * The machine's theoretical fp32 peak, read from the machine itself: cores × clock × SIMD lanes ×
 * 2 (an FMA is two flops) × FMA units per core. Linux /proc/cpuinfo gives the clock ("@ x.xxGHz" in
 * the model name, else "cpu MHz") and the SIMD width (flags avx512f → 16 fp32 lanes, avx2 → 8,
 * else 128-bit SSE/NEON → 4). The number of FMA units of that width per core cannot be read
 * anywhere, so it is an assumption printed beside the result and overridable:
 *  - AVX-512: 1 (a 512-bit FMA per cycle: AMD Zen 4 runs it as two 256-bit halves on its two FMA
 *    pipes; Intel client and most Xeon Silver cores have one 512-bit port; Xeon Gold/Platinum with
 *    two 512-bit FMA ports need --fma-units 2);
 *  - AVX2 with FMA: 2 (Haswell and later, Zen 2 and later issue two 256-bit FMAs per cycle);
 *  - otherwise: 1.
 * The WebAssembly SIMD ceiling uses the same formula with 4 lanes (128-bit vectors), as the issue does.
 *
 * A VM's /proc/cpuinfo reports the nominal (base) clock, while cores boost above it under load, so
 * the clock is also measured (measureCpu): a chain of dependent register adds retires one add
 * per cycle, so adds per second on every core at once is the all-core clock. Kernels are then
 * judged against the peak at both clocks.
 */

export interface CpuPeak {
  model: string;
  cores: number;
  ghz: number;
  /** Where the clock came from. */
  clockSource: string;
  isa: string;
  lanes: number;
  fmaUnits: number;
  /** GFLOP/s of all cores, one core, and all cores with 128-bit (WebAssembly SIMD) vectors. */
  peak: number;
  perCore: number;
  simd128: number;
  /** The clock measured with all cores busy, and the peaks at that clock (undefined: not measured). */
  measuredGhz?: number;
  peakMeasured?: number;
  simd128Measured?: number;
  /** GFLOP/s the FMA probe reached on all cores (undefined: not measured). */
  measuredFmaGflops?: number;
  /** Last-level cache bytes (to size working sets that must come from DRAM). */
  llcBytes: number;
  assumptions: string;
}

export interface PeakOverrides {
  cores?: number;
  ghz?: number;
  lanes?: number;
  fmaUnits?: number;
  /** From measureCpu. */
  measuredGhz?: number;
  measuredFmaGflops?: number;
}

/** Physical cores: logical CPUs ÷ SMT threads per core ("siblings" / "cpu cores" per package). */
function physicalCores(info: string): number {
  const logical = availableParallelism();
  const siblings = Number(cpuinfoField(info, 'siblings'));
  const perPackage = Number(cpuinfoField(info, 'cpu cores'));
  if (siblings > 0 && perPackage > 0 && siblings >= perPackage) return Math.max(1, Math.round((logical * perPackage) / siblings));
  return logical;
}

function clock(info: string): { ghz: number; source: string } {
  const model = cpuinfoField(info, 'model name') ?? '';
  const named = /@\s*([0-9.]+)\s*GHz/i.exec(model);
  if (named) return { ghz: Number(named[1]), source: `model name "${model}"` };
  const mhz = Number(cpuinfoField(info, 'cpu MHz'));
  if (mhz > 0) return { ghz: mhz / 1000, source: '/proc/cpuinfo "cpu MHz"' };
  const speed = cpus()[0]?.speed ?? 0;
  return { ghz: speed / 1000, source: 'os.cpus() speed' };
}

function llcBytes(): number {
  for (const idx of [3, 2]) {
    const p = `/sys/devices/system/cpu/cpu0/cache/index${idx}/size`;
    if (!existsSync(p)) continue;
    const m = /^(\d+)([KMG]?)/.exec(readFileSync(p, 'utf8').trim());
    if (m) return Number(m[1]) * ({ '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as Record<string, number>)[m[2]];
  }
  return 32 * 1024 ** 2;
}

export function cpuPeak(o: PeakOverrides = {}): CpuPeak {
  const info = cpuinfo();
  const isa = cpuIsa(info);
  const lanes = o.lanes ?? (isa === 'avx512f' ? 16 : isa.startsWith('avx2') ? 8 : 4);
  const cores = o.cores ?? physicalCores(info);
  const m = o.measuredGhz;
  const probed = m && o.measuredFmaGflops ? Math.max(1, Math.round(o.measuredFmaGflops / (cores * m * lanes * 2))) : undefined;
  const fmaUnits = o.fmaUnits ?? probed ?? (isa === 'avx2+fma' ? 2 : 1);
  const unitsSource = o.fmaUnits ? '--fma-units' : probed ? `measured: ${o.measuredFmaGflops!.toFixed(1)} GFLOP/s of independent FMAs on all cores` : `assumed for ${isa}; override with --fma-units`;
  const c = o.ghz ? { ghz: o.ghz, source: '--clock-ghz' } : clock(info);
  const perCore = c.ghz * lanes * 2 * fmaUnits;
  const assumptions =
    `${fmaUnits} FMA unit(s) of ${lanes * 32}-bit per core (${unitsSource}); ` +
    `clock ${c.ghz.toFixed(3)} GHz from ${c.source} (the base clock a VM reports; turbo may be higher); ` +
    'WebAssembly SIMD ceiling: same formula with 4 lanes';
  return {
    model: cpuinfoField(info, 'model name') ?? cpus()[0]?.model ?? 'unknown',
    cores,
    ghz: c.ghz,
    clockSource: c.source,
    isa,
    lanes,
    fmaUnits,
    peak: cores * perCore,
    perCore,
    simd128: cores * c.ghz * 4 * 2 * fmaUnits,
    measuredGhz: m,
    peakMeasured: m && cores * m * lanes * 2 * fmaUnits,
    simd128Measured: m && cores * m * 4 * 2 * fmaUnits,
    llcBytes: llcBytes(),
    assumptions,
    measuredFmaGflops: o.measuredFmaGflops,
  };
}

/**
 * Two probes, one thread per logical CPU (OpenMP), each printing the slowest thread's best of 5:
 *  - the clock: 8 dependent register-to-register adds per loop iteration retire one per cycle. Not
 *    `add $imm`: Intel Golden Cove (Sapphire Rapids) folds immediate adds at rename, which read as
 *    a 16–19 GHz "clock";
 *  - FMA throughput: 12 independent accumulators (more than FMA latency × units, 4 × 2 on current
 *    cores, and few enough to stay in registers with AVX2's 16) of the widest vector -march=native
 *    gives, summed over all threads. This is what says whether a Xeon has one or two 512-bit FMA
 *    ports, which nothing in /proc/cpuinfo does.
 * Prints "GHz GFLOP/s" (GFLOP/s 0 where no FMA vector type is known).
 */
const PROBE_C = `#include <stdio.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
#if defined(__AVX512F__)
#include <immintrin.h>
typedef __m512 vec;
#define LANES 16
#define SET1(x) _mm512_set1_ps(x)
#define FMA(acc) acc = _mm512_fmadd_ps(acc, m, a)
static float first(vec v) { return _mm512_cvtss_f32(v); }
#elif defined(__FMA__)
#include <immintrin.h>
typedef __m256 vec;
#define LANES 8
#define SET1(x) _mm256_set1_ps(x)
#define FMA(acc) acc = _mm256_fmadd_ps(acc, m, a)
static float first(vec v) { return _mm256_cvtss_f32(v); }
#elif defined(__aarch64__)
#include <arm_neon.h>
typedef float32x4_t vec;
#define LANES 4
#define SET1(x) vdupq_n_f32(x)
#define FMA(acc) acc = vfmaq_f32(a, acc, m)
static float first(vec v) { return vgetq_lane_f32(v, 0); }
#endif
static double clock_ghz(void) {
  const long iters = 50000000;
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    long x = 0, one = 1;
    double t0 = now();
    for (long i = 0; i < iters; i++) {
#if defined(__x86_64__)
      __asm__ volatile("add %1, %0\\n\\tadd %1, %0\\n\\tadd %1, %0\\n\\tadd %1, %0\\n\\tadd %1, %0\\n\\tadd %1, %0\\n\\tadd %1, %0\\n\\tadd %1, %0" : "+r"(x) : "r"(one));
#elif defined(__aarch64__)
      __asm__ volatile("add %0, %0, %1\\n\\tadd %0, %0, %1\\n\\tadd %0, %0, %1\\n\\tadd %0, %0, %1\\n\\tadd %0, %0, %1\\n\\tadd %0, %0, %1\\n\\tadd %0, %0, %1\\n\\tadd %0, %0, %1" : "+r"(x) : "r"(one));
#else
#error "no add chain for this architecture"
#endif
    }
    double ghz = iters * 8.0 / (now() - t0) / 1e9;
    if (ghz > best) best = ghz;
  }
  return best;
}
static double fma_gflops(double *sink) {
#ifdef LANES
  const long iters = 20000000;
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    vec m = SET1(0.999999f), a = SET1(1e-6f);
    vec a0 = SET1(0), a1 = SET1(1), a2 = SET1(2), a3 = SET1(3), a4 = SET1(4), a5 = SET1(5);
    vec a6 = SET1(6), a7 = SET1(7), a8 = SET1(8), a9 = SET1(9), a10 = SET1(10), a11 = SET1(11);
    double t0 = now();
    for (long i = 0; i < iters; i++) {
      FMA(a0); FMA(a1); FMA(a2); FMA(a3); FMA(a4); FMA(a5); FMA(a6); FMA(a7); FMA(a8); FMA(a9); FMA(a10); FMA(a11);
    }
    double g = iters * 12.0 * LANES * 2 / (now() - t0) / 1e9;
    if (g > best) best = g;
    *sink += first(a0) + first(a1) + first(a2) + first(a3) + first(a4) + first(a5) + first(a6) + first(a7) + first(a8) + first(a9) + first(a10) + first(a11);
  }
  return best;
#else
  (void)sink;
  return 0;
#endif
}
int main(void) {
  double ghz = 1e30, slowest_fma = 1e30, sink = 0;
  int threads = 1;
#pragma omp parallel reduction(min : ghz, slowest_fma) reduction(+ : sink)
  {
    ghz = clock_ghz();
#pragma omp barrier
    slowest_fma = fma_gflops(&sink);
#ifdef _OPENMP
#pragma omp single
    threads = omp_get_num_threads();
#endif
  }
  printf("%.4f %.3f\\n", ghz, slowest_fma * threads);
  volatile double keep = sink; /* the accumulators are used, so the FMAs are not dead code */
  (void)keep;
  return 0;
}
`;

/**
 * The clock the cores actually run at with all of them busy, and the fp32 FMA GFLOP/s they reach
 * together, from PROBE_C compiled with gcc -march=native; undefined with the reason when gcc or
 * the run fails.
 */
export function measureCpu(dir: string): { ghz?: number; fmaGflops?: number; problem?: string } {
  const src = join(dir, 'probe.c');
  const exe = join(dir, 'probe');
  writeFileSync(src, PROBE_C);
  const cc = spawnSync('gcc', ['-O2', '-march=native', '-fopenmp', src, '-o', exe], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) return { problem: `gcc: ${cc.error?.message ?? cc.stderr.trim().split('\n')[0]}` };
  const r = spawnSync(exe, [], { encoding: 'utf8' });
  const [ghz, fma] = r.stdout.trim().split(/\s+/).map(Number);
  if (r.status !== 0 || !(ghz > 0)) return { problem: `clock probe failed (exit ${r.status}): ${r.stderr.trim()}` };
  return { ghz, fmaGflops: fma > 0 ? fma : undefined };
}
