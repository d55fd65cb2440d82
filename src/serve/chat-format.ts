/**
 * Pieces of POST /v1/chat/completions responses that differ from the legacy ones: the assistant
 * message, and logprobs as `{content: [{token, logprob, bytes, top_logprobs: [...]}], refusal}`
 * where top_logprobs lists the `top_logprobs` most likely alternatives (OpenAI's chat shape).
 */
import type { GeneratedToken } from '../model/generation-row.js';
import type { Tokenizer } from '../model/tokenizer.js';
import { tokenText } from './token-text.js';

export interface ChatTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

export interface ChatLogprobs {
  content: ChatTokenLogprob[];
  refusal: null;
}

/** Logprobs of `tokens`, which follow token `prevId`. */
export function chatLogprobs(tokenizer: Tokenizer, prevId: number, tokens: readonly GeneratedToken[]): ChatLogprobs {
  const content = tokens.map((t) => {
    const prev = prevId;
    prevId = t.token;
    const top_logprobs = t.top.map((alt) => ({ ...tokenText(tokenizer, prev, alt.token), logprob: alt.logprob }));
    return { ...tokenText(tokenizer, prev, t.token), logprob: t.logprob, top_logprobs };
  });
  return { content, refusal: null };
}
