/**
 * Adam (Kingma & Ba 2015), as torch.optim.Adam with weight_decay 0 and amsgrad off (what SAELens
 * trains with): per element
 *   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²
 *   p ← p − lr · (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)
 * in place over the parameter buffers; the moments are allocated once, nothing per step.
 */
import { ShapeError } from '../../errors.js';
import type { SaeKernels } from '../../tensor/sae-kernels.js';
import { activeBackend } from '../../tensor/backend-registry.js';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** First and second moments, one buffer per parameter, in the parameters' order. */
  readonly m: Float32Array[];
  readonly v: Float32Array[];
  /** Steps taken. */
  t = 0;

  constructor(readonly params: readonly Float32Array[], o: AdamOptions = {}, readonly backend: SaeKernels = activeBackend()) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.m = params.map((p) => new Float32Array(p.length));
    this.v = params.map((p) => new Float32Array(p.length));
  }

  /** One update of every parameter from its gradient (same order and lengths as the parameters). */
  step(grads: readonly Float32Array[], lr: number): void {
    if (grads.length !== this.params.length) throw new ShapeError(`Adam has ${this.params.length} parameters, got ${grads.length} gradients`);
    this.t++;
    const { beta1: b1, beta2: b2, eps } = this;
    const c1 = 1 - b1 ** this.t;
    const sqrtC2 = Math.sqrt(1 - b2 ** this.t);
    const step = { beta1: b1, beta2: b2, eps, stepSize: lr / c1, sqrtC2 };
    for (let n = 0; n < this.params.length; n++) {
      const p = this.params[n];
      const g = grads[n];
      if (g.length !== p.length) throw new ShapeError(`gradient ${n} has ${g.length} values, parameter has ${p.length}`);
      this.backend.adamUpdate(p, g, this.m[n], this.v[n], step);
    }
  }
}
