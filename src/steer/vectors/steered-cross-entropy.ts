/**
 * Teacher-forced mean cross-entropy (model/perplexity.ts) with a steering spec applied to every
 * token of every document, through the same compiled steering and SteeringSession the scheduler and
 * generateSteered use — so "CE with the vector" is the model a steered request actually runs.
 */
import type { CrossEntropyOptions, CrossEntropyResult } from '../../model/perplexity.js';
import { meanCrossEntropy } from '../../model/perplexity.js';
import { compileIfAny } from '../compile-steering.js';
import type { SteeringContext } from '../steering-context.js';
import { SteeringSession } from '../steering-session.js';
import type { SteeringSpec } from '../steering-spec.js';

export function steeredCrossEntropy(ctx: SteeringContext, docs: readonly (readonly number[])[], spec: SteeringSpec, opts: CrossEntropyOptions = {}): CrossEntropyResult {
  const compiled = compileIfAny(spec, ctx);
  if (!compiled || compiled.hooks.length === 0) return meanCrossEntropy(ctx.model, docs, opts);
  const session = new SteeringSession(ctx.model, ctx.tokenizer);
  try {
    // meanCrossEntropy packs documents into batches whose rows are numbered from 0; every row gets
    // the same steering (the scope "all" it defaults to does not depend on the row's prompt).
    for (let row = 0; row < docs.length; row++) session.setRow(row, compiled, docs[row]);
    return meanCrossEntropy(ctx.model, docs, opts);
  } finally {
    session.dispose();
  }
}
