/**
 * A note's margin-note sidecar (`.Note.md.cards.json`, src/vault/note-cards.ts): sets of cards with
 * labels, texts, seeds and steering specs, mutated as JSON, then read as the vault API reads it and
 * written again (as the next save does); what was read must survive the round trip unchanged.
 */
import { join } from 'node:path';
import { cardsPathOf, readCards, writeCards } from '../../src/vault/note-cards.js';
import { mutateJson } from '../json-mutators.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { AcceptedBadInput } from '../outcome.js';
import { writeFile } from './seed-files.js';

const SIDECARS: unknown[] = [
  { version: 1, sets: [] },
  {
    version: 1,
    sets: [
      {
        before: 'Once upon a time, there was a little girl named Lily. She',
        cards: [
          { label: 'seed 1 · happy +4', text: ' loved to play outside.', seed: 1, steering: { vectors: [{ vector: 'happy', strength: 4 }] } },
          { label: 'seed 2 · happy +4', text: ' loved her toys.', seed: 2, steering: { vectors: [{ vector: 'happy', strength: 4 }] } },
          { label: 'seed 1 · unsteered', text: ' found a rock.\n', seed: 1 },
        ],
        createdAt: 1765148400000,
      },
    ],
  },
];
const STRINGS = ['version', 'sets', 'before', 'cards', 'label', 'text', 'seed', 'steering', 'createdAt', 'happy', ''];

export const noteCardsTarget: FuzzTarget = {
  name: 'note-cards',
  prepare() {
    const seeds = SIDECARS.map((s) => JSON.stringify(s));
    const sidecar = (dir: string): string => cardsPathOf(join(dir, 'Note.md'));
    return {
      write(rng, dir) {
        const m = mutateJson(rng.pick(seeds), rng, { strings: STRINGS });
        writeFile(dir, 'Note.md', 'Once upon a time');
        writeFile(dir, '.Note.md.cards.json', m.text);
        return m.how;
      },
      writeSeed(dir) {
        writeFile(dir, 'Note.md', 'Once upon a time');
        writeFile(dir, '.Note.md.cards.json', seeds[1]);
      },
      read(dir) {
        const cards = readCards('Note.md', join(dir, 'Note.md'));
        // Written beside another note, so the input stays as it was for --save.
        const copy = join(dir, 'Copy.md');
        writeCards('Copy.md', copy, cards);
        const again = readCards('Copy.md', copy);
        if (JSON.stringify(again) !== JSON.stringify(cards)) throw new AcceptedBadInput(`${sidecar(dir)}: cards changed in a write/read round trip`);
      },
    };
  },
};
