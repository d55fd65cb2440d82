import { UsageError } from '../errors.js';
import type { LlamaModel } from './llama-model.js';
import type { GenerationRequest, GenerationResult } from './generation-row.js';
import { GenerationRow } from './generation-row.js';
import type { GenerateOptions } from './batch-step.js';
import { BatchStep } from './batch-step.js';
import type { Tokenizer } from './tokenizer.js';

export type { GenerateOptions, LogitsProcessor } from './batch-step.js';
export type { FinishReason, GeneratedToken, GenerationRequest, GenerationResult, TokenEvent } from './generation-row.js';

/**
 * Generates for several requests at once: every prompt is prefilled in one batched forward pass
 * (rows of different lengths), then each step decodes one token for every unfinished row in a
 * single forward over the KV cache. Each request has its own sampling settings, seed and stop
 * sequences, so its text does not depend on what else is in the batch.
 */
export function generate(
  model: LlamaModel,
  tokenizer: Tokenizer,
  requests: readonly GenerationRequest[],
  o: GenerateOptions = {},
): GenerationResult[] {
  if (requests.length === 0) return [];
  const rows = requests.map((r, i) => new GenerationRow(i, r, tokenizer));
  const seqLen = model.config.seqLen;
  for (const row of rows) {
    if (row.promptIds.length === 0) throw new UsageError(`request ${row.request}: the prompt has no tokens`);
    if (row.promptIds.length >= seqLen) {
      throw new UsageError(`request ${row.request}: the prompt has ${row.promptIds.length} tokens; the model's context is ${seqLen}`);
    }
    if (!Number.isInteger(row.maxTokens) || row.maxTokens < 1) throw new UsageError(`request ${row.request}: maxTokens must be a positive integer, got ${row.maxTokens}`);
  }
  const capacity = Math.min(seqLen, Math.max(...rows.map((r) => r.promptIds.length + r.maxTokens)));
  const step = new BatchStep(model, o);
  model.withCache(rows.length, capacity, (cache) => {
    let inputs: (number[] | undefined)[] = rows.map((r) => r.promptIds);
    while (inputs.some((x) => x !== undefined)) {
      step.run(cache, inputs, rows);
      inputs = rows.map((r) => (r.finishReason ? undefined : [r.lastToken]));
    }
  });
  return rows.map((r) => r.result());
}
