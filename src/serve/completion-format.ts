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

/** With echo, the first prompt token has no logprob (nothing precedes it): null, as OpenAI and vLLM answer. */
export interface LegacyLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
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
    offset += addedLength(tokenizer, prevId, t.token, text);
    prevId = t.token;
  }
  return { logprobs: out, offset };
}

/**
 * The prompt `ids` in the legacy shape (echo with logprobs): `scored` holds tokens 1.. as the
 * prefill scored them (Job.promptLogprobs); token 0 gets null. Offsets count from 0, the start of
 * the echoed prompt; returns the offset after it, where the completion's tokens start.
 */
export function promptLegacyLogprobs(tokenizer: Tokenizer, ids: readonly number[], scored: readonly GeneratedToken[]): { logprobs: LegacyLogprobs; offset: number } {
  const first = tokenText(tokenizer, -1, ids[0]).token;
  const rest = legacyLogprobs(tokenizer, ids[0], scored, addedLength(tokenizer, -1, ids[0], first));
  const l = rest.logprobs;
  const logprobs = { tokens: [first, ...l.tokens], token_logprobs: [null, ...l.token_logprobs], top_logprobs: [null, ...l.top_logprobs], text_offset: [0, ...l.text_offset] };
  return { logprobs, offset: rest.offset };
}

/** Prompt and completion logprobs of one choice as one list, as the choice's text is echo + completion. */
export function concatLegacyLogprobs(a: LegacyLogprobs, b: LegacyLogprobs): LegacyLogprobs {
  return {
    tokens: [...a.tokens, ...b.tokens],
    token_logprobs: [...a.token_logprobs, ...b.token_logprobs],
    top_logprobs: [...a.top_logprobs, ...b.top_logprobs],
    text_offset: [...a.text_offset, ...b.text_offset],
  };
}

/** How far a token moves the text offset: a token that adds no text (BOS, EOS, <unk>) is named by its piece but occupies no characters. */
function addedLength(tokenizer: Tokenizer, prevId: number, id: number, text: string): number {
  return tokenizer.textBytes(prevId, id).length === 0 ? 0 : text.length;
}
