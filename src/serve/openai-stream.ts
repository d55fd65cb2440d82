/**
 * Server-sent events as OpenAI streams them: each chunk a `data: <JSON>` event, the stream closed
 * by `data: [DONE]`. An error after the stream has begun is sent as `data: {"error": {...}}`,
 * which the official clients raise as an APIError.
 */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { toApiError } from './api-error.js';

export function openAiStream(c: Context, produce: (send: (chunk: unknown) => Promise<void>) => Promise<void>): Response {
  return streamSSE(c, async (stream) => {
    try {
      await produce((chunk) => stream.writeSSE({ data: JSON.stringify(chunk) }));
      await stream.writeSSE({ data: '[DONE]' });
    } catch (e) {
      await stream.writeSSE({ data: JSON.stringify(toApiError(e).body()) });
    }
  });
}
