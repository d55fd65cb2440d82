/**
 * Response bodies of POST /v1/completions (OpenAI's legacy completions API): the `text_completion`
 * object, its stream chunks (the same object with each choice's new text), and the legacy logprobs
 * shape — parallel lists `tokens`, `token_logprobs`, `top_logprobs` (a {token: logprob} map per
 * position holding the sampled token and up to `logprobs` alternatives, as OpenAI documents) and
 * `text_offset` (each token's character offset in the choice's text, echoed prompt included).
 */
import type { GeneratedToken } from '../model/generation-row.js';
import type { Tokenizer } from '../model/tokenizer.js';
import { tokenText } from './token-text.js';

export interface LegacyLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

export interface CompletionChoice {
  text: string;
  index: number;
  logprobs: LegacyLogprobs | null;
  finish_reason: 'stop' | 'length' | null;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

/**
 * Logprobs of `tokens`, which follow token `prevId`; offsets count from `offset`. Returns the
 * offset after the last token, for the next chunk of a stream.
 */
export function legacyLogprobs(tokenizer: Tokenizer, prevId: number, tokens: readonly GeneratedToken[], offset: number): { logprobs: LegacyLogprobs; offset: number } {
  const out: LegacyLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  for (const t of tokens) {
    const text = tokenText(tokenizer, prevId, t.token).token;
    const top: Record<string, number> = { [text]: t.logprob };
    for (const alt of t.top) top[tokenText(tokenizer, prevId, alt.token).token] ??= alt.logprob;
    out.tokens.push(text);
    out.token_logprobs.push(t.logprob);
    out.top_logprobs.push(top);
    out.text_offset.push(offset);
    offset += text.length;
    prevId = t.token;
  }
  return { logprobs: out, offset };
}
