/**
 * SAE architectures by their SAELens name (the cfg.json `architecture` field), one file each in
 * architectures/. Registering a name twice is refused: two encoders answering to one name would
 * make a file's meaning depend on import order.
 */
import { UsageError } from '../errors.js';
import type { SaeKernels } from '../tensor/sae-kernels.js';
import { gatedArchitecture } from './architectures/gated.js';
import { jumpReluArchitecture } from './architectures/jumprelu.js';
import { standardArchitecture } from './architectures/standard.js';
import { topKArchitecture } from './architectures/topk.js';
import type { SaeConfig } from './sae-config.js';
import type { Sae, SaeTensorName } from './sae.js';

export interface SaeArchitecture {
  readonly name: string;
  /** Weights besides W_enc, W_dec and b_dec, each [d_sae]. */
  readonly tensors: readonly SaeTensorName[];
  /** What is wrong with `config` for this architecture (e.g. topk without k), or undefined. */
  configProblem?(config: SaeConfig): string | undefined;
  /**
   * out [T, d_sae] ← latent activations of saeIn [T, d_in], the input already normalised and with
   * b_dec subtracted (SAELens `process_sae_in`).
   */
  encode(sae: Sae, saeIn: Float32Array, tokens: number, out: Float32Array, backend: SaeKernels): void;
  /**
   * out [T, indices.length] ← the activations encode() would give for just the listed latents, when
   * that is cheaper than a full encode (a column per latent, or one product and no selection);
   * `scratch` holds at least T·d_sae floats. Absent: callers encode fully and pick the columns.
   */
  encodeSelected?(sae: Sae, saeIn: Float32Array, tokens: number, indices: readonly number[], out: Float32Array, backend: SaeKernels, scratch: Float32Array): void;
  /** A per-latent factor applied to the activations before W_dec, or undefined for none. */
  decodeScale?(sae: Sae): Float32Array | undefined;
}

const registry = new Map<string, SaeArchitecture>();

export function registerArchitecture(arch: SaeArchitecture): void {
  if (registry.has(arch.name)) throw new UsageError(`SAE architecture "${arch.name}" is already registered`);
  registry.set(arch.name, arch);
}

export function findArchitecture(name: string): SaeArchitecture | undefined {
  return registry.get(name);
}

/** The architecture named `name`, or a UsageError listing the known ones. */
export function architectureByName(name: string): SaeArchitecture {
  const arch = registry.get(name);
  if (!arch) throw new UsageError(`unknown SAE architecture "${name}" (known: ${architectureNames().join(', ')})`);
  return arch;
}

export function architectureNames(): string[] {
  return [...registry.keys()];
}

for (const arch of [standardArchitecture, gatedArchitecture, jumpReluArchitecture, topKArchitecture]) registerArchitecture(arch);
