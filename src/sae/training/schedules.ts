/**
 * Learning-rate and sparsity-coefficient schedules (SAELens `lr_warm_up_steps`, `lr_scheduler_name`
 * "constant" | "cosineannealing" with `lr_end`, `l1_warm_up_steps`). `step` counts from 0 (the
 * first optimiser step).
 */
import { UsageError } from '../../errors.js';

export const LR_SCHEDULES = ['constant', 'cosine'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

export interface LrScheduleOptions {
  lr: number;
  /** Linear warm-up over this many steps: lr · (step + 1) / warmupSteps. */
  warmupSteps: number;
  schedule: LrSchedule;
  /** Steps in the whole run (cosine decays over totalSteps − warmupSteps). */
  totalSteps: number;
  /** The floor cosine decays to (SAELens lr_end; default lr / 10). */
  minLr?: number;
}

/** The learning rate of optimiser step `step`. */
export function lrAt(step: number, o: LrScheduleOptions): number {
  if (!(LR_SCHEDULES as readonly string[]).includes(o.schedule)) throw new UsageError(`lr schedule must be one of ${LR_SCHEDULES.join(', ')}, got "${o.schedule}"`);
  if (step < o.warmupSteps) return (o.lr * (step + 1)) / o.warmupSteps;
  if (o.schedule === 'constant') return o.lr;
  const minLr = o.minLr ?? o.lr / 10;
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  const progress = Math.min(1, (step - o.warmupSteps) / span);
  return minLr + 0.5 * (o.lr - minLr) * (1 + Math.cos(Math.PI * progress));
}

/** The sparsity coefficient of step `step`: linear from coefficient / warmupSteps up to coefficient. */
export function sparsityCoefficientAt(step: number, coefficient: number, warmupSteps: number): number {
  if (warmupSteps <= 0 || step >= warmupSteps) return coefficient;
  return (coefficient * (step + 1)) / warmupSteps;
}
