import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';

/**
 * What machine a bench ran on, recorded in its output: results only compare within one machine
 * type, and a VM's model string can be as bare as "AMD EPYC", so the CPU family/model numbers
 * (AMD family 25 model 0x01 is Zen 3 Milan, 0x11 Zen 4 Genoa; Intel family 6 model 143 Sapphire
 * Rapids) and the widest SIMD the kernels may use are recorded beside it.
 */

export function cpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/** The first "name : value" of /proc/cpuinfo. */
export const cpuinfoField = (info: string, name: string): string | undefined => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim();

/** The widest fp32 SIMD in the CPU flags: avx512f, avx2+fma, avx2, neon, sse2 or unknown. */
export function cpuIsa(info: string): string {
  const flags = new Set((cpuinfoField(info, 'flags') ?? cpuinfoField(info, 'Features') ?? '').split(/\s+/));
  if (flags.has('avx512f')) return 'avx512f';
  if (flags.has('avx2')) return flags.has('fma') ? 'avx2+fma' : 'avx2';
  return flags.has('asimd') ? 'neon' : flags.has('sse2') ? 'sse2' : 'unknown';
}

export interface Machine {
  /** os.cpus()[0].model (Linux: /proc/cpuinfo "model name"). */
  cpu_model: string;
  /** /proc/cpuinfo "cpu family" and "model" (x86), when there. */
  cpu_family?: number;
  cpu_model_number?: number;
  isa: string;
  logical_cpus: number;
  node: string;
}

export function machine(): Machine {
  const info = cpuinfo();
  const num = (name: string): number | undefined => {
    const v = Number(cpuinfoField(info, name));
    return Number.isFinite(v) && cpuinfoField(info, name) !== undefined ? v : undefined;
  };
  return {
    cpu_model: cpus()[0]?.model ?? cpuinfoField(info, 'model name') ?? 'unknown',
    cpu_family: num('cpu family'),
    cpu_model_number: num('model'),
    isa: cpuIsa(info),
    logical_cpus: availableParallelism(),
    node: process.version,
  };
}

/** "AMD EPYC (family 25, model 1; avx2+fma), 2 logical CPUs, Node v20.20.2". */
export function describeMachine(m: Machine = machine()): string {
  const fm = m.cpu_family !== undefined ? `family ${m.cpu_family}, model ${m.cpu_model_number}; ` : '';
  return `${m.cpu_model} (${fm}${m.isa}), ${m.logical_cpus} logical CPUs, Node ${m.node}`;
}
