/**
 * The page's side of GET /api/related (the related-notes index, src/app-server/related/): the
 * response parsed with the schema the server answers with. While the index is being built the
 * answer carries `building` and no notes; `relatedWhenReady` asks again until it is done.
 */
import { RelatedNotes } from '../../vault/related-notes-api.js';
import { ApiError } from './vault-client.js';

export async function fetchRelated(path: string, signal?: AbortSignal): Promise<RelatedNotes> {
  let res: Response;
  try {
    res = await fetch(`/api/related?${new URLSearchParams({ path })}`, { signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError(0, 'the app server is not reachable');
  }
  const json: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const message = (json as { error?: { message?: string } } | undefined)?.error?.message;
    throw new ApiError(res.status, message ?? `related notes: HTTP ${res.status}`);
  }
  return RelatedNotes.parse(json);
}

/** Asks until the index is up to date (or the model has loaded), telling `onProgress` meanwhile. */
export async function relatedWhenReady(path: string, onProgress: (r: RelatedNotes | null) => void, signal?: AbortSignal): Promise<RelatedNotes> {
  for (;;) {
    let r: RelatedNotes | null = null;
    try {
      r = await fetchRelated(path, signal);
    } catch (e) {
      // 503: the model is still loading; anything else is the writer's to see.
      if (!(e instanceof ApiError && e.status === 503)) throw e;
    }
    if (r && r.building === null) return r;
    onProgress(r);
    await new Promise((resolve) => setTimeout(resolve, 700));
    signal?.throwIfAborted();
  }
}
