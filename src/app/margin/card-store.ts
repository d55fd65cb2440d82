/**
 * The open note's margin-note cards, as its sidecar keeps them (GET/PUT /api/vault/cards). Loaded
 * once per note path (a rename moves the sidecar on the server, so the new path loads it again);
 * saves go one after another, each the whole set, so the last one written is the newest.
 */
import { CardSet, MAX_CARD_SETS, type MarginCard, type NoteCards } from '../../vault/note-cards-api.js';
import { api } from '../api/vault-client.js';

/** How many characters before the cursor identify where a set of cards was asked for. */
export const CARD_KEY_CHARS = 300;

export class CardStore {
  private loaded: { path: string; cards: Promise<NoteCards> } | null = null;
  private saving: Promise<unknown> = Promise.resolve();

  /** `onError` gets a sentence for the writer ("Margin notes were not saved: …"). */
  constructor(private readonly onError: (message: string) => void) {}

  /** The newest cards asked for where the text before the cursor ends in `before`'s key, if any. */
  async find(path: string, before: string): Promise<MarginCard[] | undefined> {
    const key = before.slice(-CARD_KEY_CHARS);
    const sets = (await this.load(path)).sets;
    for (let i = sets.length - 1; i >= 0; i--) if (sets[i].before === key) return sets[i].cards;
    return undefined;
  }

  /** Keep `cards` for this place (replacing older cards for it), oldest places dropped beyond MAX_CARD_SETS. */
  async add(path: string, before: string, cards: MarginCard[]): Promise<void> {
    const set = CardSet.parse({ before: before.slice(-CARD_KEY_CHARS), cards, createdAt: Date.now() });
    const current = await this.load(path);
    const next: NoteCards = { version: 1, sets: [...current.sets.filter((s) => s.before !== set.before), set].slice(-MAX_CARD_SETS) };
    if (this.loaded?.path === path) this.loaded = { path, cards: Promise.resolve(next) };
    const save = this.saving.then(() => api.saveCards(path, next));
    this.saving = save.catch((e: unknown) => this.onError(`Margin notes were not saved: ${e instanceof Error ? e.message : String(e)}`));
    await this.saving;
  }

  private load(path: string): Promise<NoteCards> {
    if (this.loaded?.path !== path) {
      const cards = api.cards(path).then(
        (r) => r.cards,
        (e: unknown) => {
          this.onError(`Saved margin notes could not be read: ${e instanceof Error ? e.message : String(e)}`);
          return { version: 1 as const, sets: [] };
        },
      );
      this.loaded = { path, cards };
    }
    return this.loaded.cards;
  }
}
