/**
 * Suggestions from the app's own model server: `POST /v1/completions` with `stream: true`, read as
 * OpenAI streams it (server-sent events, each `data:` a completion chunk, then `data: [DONE]`).
 * Aborting the signal aborts the fetch, which closes the connection; the server then cancels the
 * generation and frees its slot.
 */
import * as z from 'zod';
import { sseData } from './sse-reader.js';
import type { SuggestionSource } from './suggestion-source.js';

const CompletionChunk = z.object({ choices: z.array(z.object({ text: z.string() })) });

export interface CompletionSourceOptions {
  url?: string;
  maxTokens: number;
  seed: number;
  temperature?: number;
  /** The request's `steering` field (the vault's steering spec); omitted when it steers nothing. */
  steering?: Record<string, unknown>;
  /** Characters of text before the cursor sent as the prompt (the embedded model's context is short). */
  contextChars?: number;
  /**
   * Text put before the prompt, a blank line between (an excerpt of a related note); none when it
   * returns undefined. It takes its room from the far end of the text before the cursor, so the
   * prompt stays within `contextChars` and the request within the model's context.
   */
  preamble?: () => string | undefined;
}

/** Why no suggestion came: the server answered with an error status or not as an event stream. */
export class SuggestionUnavailableError extends Error {}

export function openAiCompletionSource(o: CompletionSourceOptions): SuggestionSource {
  const url = o.url ?? '/v1/completions';
  return {
    async *suggest(textBefore, signal) {
      const preamble = o.preamble?.();
      const room = (o.contextChars ?? 2000) - (preamble ? preamble.length + 2 : 0);
      const before = textBefore.slice(-room);
      const prompt = preamble ? `${preamble}\n\n${before}` : before;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: JSON.stringify({ prompt, max_tokens: o.maxTokens, temperature: o.temperature ?? 0.8, top_p: 0.9, seed: o.seed, stream: true, stop: ['\n\n'], ...(o.steering ? { steering: o.steering } : {}) }),
        signal,
      });
      if (!res.ok || !res.body) throw new SuggestionUnavailableError(`${url} answered ${res.status} ${res.statusText}`);
      for await (const data of sseData(res.body)) {
        if (data === '[DONE]') return;
        const text = CompletionChunk.parse(JSON.parse(data)).choices[0]?.text;
        if (text) yield text;
      }
    },
  };
}
