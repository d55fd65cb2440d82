/**
 * "Write like these notes" over the model server's public API: POST /v1/vectors/style with
 * `stream: true` (src/serve/routes/vectors.ts), read as server-sent events — progress while the
 * analysis thread builds the vector and measures its effect, then the vector's entry. A script can
 * do the same with any HTTP client.
 */
import * as z from 'zod';
import { sseData } from '../suggest/sse-reader.js';

export const StyleProgress = z.object({ object: z.literal('vector.progress'), phase: z.string(), done: z.number(), total: z.number() });
export type StyleProgress = z.infer<typeof StyleProgress>;

export const BuiltVector = z.object({
  name: z.string(),
  strength: z.number(),
  /** The clean model's CE on the notes without and with the vector at `strength` (nats/token). */
  effect: z.object({ strength: z.number(), clean_nats: z.number(), steered_nats: z.number(), tokens: z.number() }).nullable(),
});
export type BuiltVector = z.infer<typeof BuiltVector>;

const StreamError = z.object({ error: z.object({ message: z.string() }) });

export class StyleVectorError extends Error {}

export async function buildStyleVector(name: string, texts: string[], onProgress: (p: StyleProgress) => void, url = '/v1/vectors/style'): Promise<BuiltVector> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' }, body: JSON.stringify({ name, texts, stream: true }) });
  if (!res.ok || !res.body) {
    const err = StreamError.safeParse(await res.json().catch(() => undefined));
    throw new StyleVectorError(err.success ? err.data.error.message : `${url} answered ${res.status} ${res.statusText}`);
  }
  let built: BuiltVector | undefined;
  for await (const data of sseData(res.body)) {
    if (data === '[DONE]') break;
    const json: unknown = JSON.parse(data);
    const progress = StyleProgress.safeParse(json);
    if (progress.success) {
      onProgress(progress.data);
      continue;
    }
    const err = StreamError.safeParse(json);
    if (err.success) throw new StyleVectorError(err.data.error.message);
    built = BuiltVector.parse(json);
  }
  if (!built) throw new StyleVectorError('the server ended the stream without the vector');
  return built;
}
