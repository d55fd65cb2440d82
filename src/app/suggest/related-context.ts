/**
 * The "related notes as context" option: an excerpt of the open note's most related note (the
 * related-notes index), put before the writer's text in suggestion prompts. The embedded model's
 * context is 512 tokens and a suggestion prompt is at most 1,000 characters (about 400 of its
 * tokens); the excerpt, at most EXCERPT_CHARS, takes its room from the far end of the writer's text
 * (openai-completion-source.ts), so the request still fits and at least 70% of the prompt is the
 * writer's own text, the part nearest the cursor.
 */
import { relatedWhenReady } from '../api/related-client.js';
import { api } from '../api/vault-client.js';

export const EXCERPT_CHARS = 300;

/** The note's text without frontmatter, whitespace runs collapsed, cut at a word boundary to at most `max` characters. */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  const body = text.replace(/^---\r?\n[\s\S]*?\r?\n---\r?\n/, '').replace(/\s+/g, ' ').trim();
  if (body.length <= max) return body;
  const cut = body.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return space > max / 2 ? cut.slice(0, space) : cut;
}

export class RelatedContext {
  private text: string | undefined;
  private abort: AbortController | undefined;

  /** The excerpt for the note followed last, once known. */
  get excerpt(): string | undefined {
    return this.text;
  }

  /** Follows the open note: finds its most related note and keeps an excerpt of it (none until then). */
  async follow(path: string | null): Promise<void> {
    this.abort?.abort();
    this.text = undefined;
    if (!path) return;
    const abort = (this.abort = new AbortController());
    try {
      const r = await relatedWhenReady(path, () => {}, abort.signal);
      const top = r.notes[0];
      if (!top || abort.signal.aborted) return;
      const note = await api.read(top.path);
      if (!abort.signal.aborted) this.text = excerpt(note.text);
    } catch {
      // No related note (or no model yet): suggestions go on with the writer's text alone.
    }
  }

  stop(): void {
    this.abort?.abort();
    this.text = undefined;
  }
}
