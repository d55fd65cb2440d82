import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';

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
 * the clock is also measured (measureClockGhz): a chain of dependent integer adds retires one add
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
  /** Last-level cache bytes (to size working sets that must come from DRAM). */
  llcBytes: number;
  assumptions: string;
}

export interface PeakOverrides {
  cores?: number;
  ghz?: number;
  lanes?: number;
  fmaUnits?: number;
  /** From measureClockGhz. */
  measuredGhz?: number;
}

function cpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

const field = (info: string, name: string): string | undefined => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim();

/** Physical cores: logical CPUs ÷ SMT threads per core ("siblings" / "cpu cores" per package). */
function physicalCores(info: string): number {
  const logical = availableParallelism();
  const siblings = Number(field(info, 'siblings'));
  const perPackage = Number(field(info, 'cpu cores'));
  if (siblings > 0 && perPackage > 0 && siblings >= perPackage) return Math.max(1, Math.round((logical * perPackage) / siblings));
  return logical;
}

function clock(info: string): { ghz: number; source: string } {
  const model = field(info, 'model name') ?? '';
  const named = /@\s*([0-9.]+)\s*GHz/i.exec(model);
  if (named) return { ghz: Number(named[1]), source: `model name "${model}"` };
  const mhz = Number(field(info, 'cpu MHz'));
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
  const flags = new Set((field(info, 'flags') ?? field(info, 'Features') ?? '').split(/\s+/));
  const isa = flags.has('avx512f') ? 'avx512f' : flags.has('avx2') ? (flags.has('fma') ? 'avx2+fma' : 'avx2') : flags.has('asimd') ? 'neon' : flags.has('sse2') ? 'sse2' : 'unknown';
  const lanes = o.lanes ?? (isa === 'avx512f' ? 16 : isa.startsWith('avx2') ? 8 : 4);
  const fmaUnits = o.fmaUnits ?? (isa === 'avx2+fma' ? 2 : 1);
  const cores = o.cores ?? physicalCores(info);
  const c = o.ghz ? { ghz: o.ghz, source: '--clock-ghz' } : clock(info);
  const perCore = c.ghz * lanes * 2 * fmaUnits;
  const assumptions =
    `${fmaUnits} FMA unit(s) of ${lanes * 32}-bit per core${o.fmaUnits ? ' (--fma-units)' : ` (assumed for ${isa}; override with --fma-units)`}; ` +
    `clock ${c.ghz.toFixed(3)} GHz from ${c.source} (the base clock a VM reports; turbo may be higher); ` +
    'WebAssembly SIMD ceiling: same formula with 4 lanes';
  const m = o.measuredGhz;
  return {
    model: field(info, 'model name') ?? cpus()[0]?.model ?? 'unknown',
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
  };
}

/** One thread per core runs 8 dependent adds per loop iteration (1 cycle each); prints the slowest core's best GHz. */
const CLOCK_C = `#include <stdio.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(void) {
  const long iters = 50000000;
  double slowest = 1e30;
#pragma omp parallel reduction(min : slowest)
  {
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
      long x = 0;
      double t0 = now();
      for (long i = 0; i < iters; i++) {
#if defined(__x86_64__)
        __asm__ volatile("add $1, %0\\n\\tadd $1, %0\\n\\tadd $1, %0\\n\\tadd $1, %0\\n\\tadd $1, %0\\n\\tadd $1, %0\\n\\tadd $1, %0\\n\\tadd $1, %0" : "+r"(x));
#elif defined(__aarch64__)
        __asm__ volatile("add %0, %0, #1\\n\\tadd %0, %0, #1\\n\\tadd %0, %0, #1\\n\\tadd %0, %0, #1\\n\\tadd %0, %0, #1\\n\\tadd %0, %0, #1\\n\\tadd %0, %0, #1\\n\\tadd %0, %0, #1" : "+r"(x));
#else
#error "no add chain for this architecture"
#endif
      }
      double ghz = iters * 8.0 / (now() - t0) / 1e9;
      if (ghz > best) best = ghz;
    }
    slowest = best;
  }
  printf("%.4f\\n", slowest);
  return 0;
}
`;

/**
 * The clock the cores actually run at with all of them busy, from a C add chain compiled with gcc
 * (OpenMP, one thread per logical CPU); undefined with the reason when gcc or the run fails.
 */
export function measureClockGhz(dir: string): { ghz?: number; problem?: string } {
  const src = join(dir, 'clock.c');
  const exe = join(dir, 'clock');
  writeFileSync(src, CLOCK_C);
  const cc = spawnSync('gcc', ['-O2', '-fopenmp', src, '-o', exe], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) return { problem: `gcc: ${cc.error?.message ?? cc.stderr.trim().split('\n')[0]}` };
  const r = spawnSync(exe, [], { encoding: 'utf8' });
  const ghz = Number(r.stdout.trim());
  if (r.status !== 0 || !(ghz > 0)) return { problem: `clock probe failed (exit ${r.status}): ${r.stderr.trim()}` };
  return { ghz };
}
