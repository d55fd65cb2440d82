/**
 * Checks on a prompt that only the server can make (it knows the model): token ids in the
 * vocabulary, and prompt + max_tokens within the context. Each failure is a 400 naming the field
 * and the numbers.
 */
import { ApiError } from './api-error.js';

/** A 400 naming the numbers when prompt + max_tokens do not fit the context (vLLM's rule: their sum ≤ the context). */
export function checkFits(promptTokens: number, maxTokens: number, contextLength: number, promptParam: string): void {
  if (promptTokens === 0) throw ApiError.badRequest(`${promptParam} has no tokens`, promptParam);
  if (promptTokens >= contextLength) {
    throw ApiError.badRequest(`${promptParam} has ${promptTokens} tokens; the model's context is ${contextLength} tokens`, promptParam, 'context_length_exceeded');
  }
  if (promptTokens + maxTokens > contextLength) {
    const message = `${promptParam} (${promptTokens} tokens) + max_tokens (${maxTokens}) = ${promptTokens + maxTokens} exceeds the model's context of ${contextLength} tokens`;
    throw ApiError.badRequest(message, 'max_tokens', 'context_length_exceeded');
  }
}

/** A 400 naming the first entry of `ids` that is not a token id of a vocabulary of `vocab`. */
export function checkTokenIds(ids: readonly number[], vocab: number, param: string): void {
  const bad = ids.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= vocab);
  if (bad >= 0) throw ApiError.badRequest(`${param}[${bad}] = ${ids[bad]} is not a token id (0..${vocab - 1})`, `${param}[${bad}]`);
}
