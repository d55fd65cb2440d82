/**
 * A steering vector set from contrast examples: every example's activation at each hook (one
 * batched pass over positives and negatives together), then a direction per hook by the chosen
 * method (contrast-directions.ts). Hooks default to every block's residual stream output
 * (`blocks.N.hook_resid_post`), the layers CAA and repeng steer.
 */
import { SteeringError, UsageError } from '../../errors.js';
import type { HookName } from '../../model/hook-points.js';
import { hookIndex } from '../../model/hook-points.js';
import type { LlamaModel } from '../../model/llama-model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import type { SteeringVectorSet } from '../steering-vector-set.js';
import type { ContrastSet } from './contrast-examples.js';
import type { VectorMethod } from './contrast-directions.js';
import { meanDifference, pcaDirection, VECTOR_METHODS } from './contrast-directions.js';
import type { TokenPosition } from './example-activations.js';
import { exampleActivations } from './example-activations.js';

export interface ContrastVectorOptions {
  method?: VectorMethod;
  position?: TokenPosition;
  hooks?: readonly HookName[];
  /** Examples done so far (positives and negatives together). */
  onProgress?: (done: number) => void;
}

export function residPostHooks(nLayers: number): HookName[] {
  return Array.from({ length: nLayers }, (_, l): HookName => `blocks.${l}.hook_resid_post`);
}

/** A comma-separated hook list, each name checked against the model. */
export function parseHookList(s: string, nLayers: number): HookName[] {
  const hooks = s.split(',').map((h) => h.trim()).filter((h) => h !== '');
  if (hooks.length === 0) throw new UsageError('--hooks names no hook points');
  for (const h of hooks) hookIndex(nLayers, h);
  if (new Set(hooks).size !== hooks.length) throw new UsageError(`--hooks names a hook twice: ${s}`);
  return hooks as HookName[];
}

export function contrastVectors(model: LlamaModel, tokenizer: Tokenizer, set: ContrastSet, o: ContrastVectorOptions = {}): SteeringVectorSet {
  const method = o.method ?? 'caa';
  if (!VECTOR_METHODS.includes(method)) throw new UsageError(`unknown method "${String(method)}" (available: ${VECTOR_METHODS.join(', ')})`);
  if (method !== 'caa' && !set.paired) {
    throw new SteeringError(`${method} needs paired examples, but there are ${set.positive.length} positive and ${set.negative.length} negative; use caa or give as many of each`);
  }
  const position = o.position ?? 'last';
  const hooks = o.hooks ?? residPostHooks(model.config.nLayers);
  const acts = exampleActivations(model, tokenizer, [...set.positive, ...set.negative], hooks, position, { onProgress: o.onProgress });
  const vectors = new Map<HookName, Float32Array>();
  for (const hook of hooks) {
    const all = acts.get(hook)!;
    const width = all.length / (set.positive.length + set.negative.length);
    const pos = all.subarray(0, set.positive.length * width);
    const neg = all.subarray(set.positive.length * width);
    vectors.set(hook, method === 'caa' ? meanDifference(pos, neg, width) : pcaDirection(pos, neg, width, method));
  }
  return {
    vectors,
    metadata: {
      method,
      position: String(position),
      positive_examples: String(set.positive.length),
      negative_examples: String(set.negative.length),
      paired: String(set.paired),
    },
  };
}
