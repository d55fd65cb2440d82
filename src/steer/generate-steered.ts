/**
 * Batched generation where every request carries its own steering spec: the specs are compiled,
 * installed as one SteeringSession (activation edits) and one SaeGuidance (logits processor), and
 * the batch runs through the ordinary generate() — one forward per step for all rows.
 */
import type { GenerateOptions, GenerationRequest, GenerationResult } from '../model/generate.js';
import { generate } from '../model/generate.js';
import { compileIfAny } from './compile-steering.js';
import { SaeGuidance } from './sae-guided-decoding.js';
import type { SteeringContext } from './steering-context.js';
import { SteeringSession } from './steering-session.js';
import type { SteeringSpec } from './steering-spec.js';

export interface SteeredRequest extends GenerationRequest {
  /** Validated spec (parseSteeringSpec); none or an empty one generates exactly as unsteered. */
  steering?: SteeringSpec;
}

export function generateSteered(ctx: SteeringContext, requests: readonly SteeredRequest[], opts: GenerateOptions = {}): GenerationResult[] {
  const { model, tokenizer } = ctx;
  const compiled = requests.map((r) => (r.steering ? compileIfAny(r.steering, ctx) : undefined));
  const prompts = requests.map((r) => (typeof r.prompt === 'string' ? tokenizer.encode(r.prompt) : [...r.prompt]));
  const session = new SteeringSession(model, tokenizer);
  const guidance = new SaeGuidance(model);
  try {
    compiled.forEach((c, row) => {
      if (!c) return;
      if (c.hooks.length > 0) session.setRow(row, c, prompts[row]);
      if (c.guide) guidance.setRow(row, c.guide);
    });
    const steered = compiled.some((c) => c !== undefined);
    return generate(model, tokenizer, requests.map((r, i) => ({ ...r, prompt: prompts[i] })), {
      onToken: (e) => {
        session.observe(e.request, e.token.token);
        opts.onToken?.(e);
      },
      logitsProcessors: steered ? [guidance, ...(opts.logitsProcessors ?? [])] : opts.logitsProcessors,
    });
  } finally {
    session.dispose();
    guidance.dispose();
  }
}
