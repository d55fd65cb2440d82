import type { ModelKernels } from './model-kernels.js';
import type { SaeKernels } from './sae-kernels.js';

/**
 * A complete kernel backend: what the native and reference backends implement and the registry
 * hands out. Callers take the narrower interface they use: ModelKernels (the forward pass and
 * sampling) or SaeKernels (SAE encoding, decoding and training).
 */
export interface Backend extends ModelKernels, SaeKernels {}
