/**
 * A note's margin-note cards live in a hidden sidecar beside it: `Folder/Note.md` keeps them in
 * `Folder/.Note.md.cards.json`. Hidden (a leading dot), so the app's tree, Obsidian and the search
 * index skip it; beside the note, so a folder moved or copied by any program carries its notes'
 * cards along, and a note renamed or trashed by the app takes its sidecar with it (Vault.rename,
 * Vault.trash). Writes are atomic; the sidecar is validated on read and refused beyond MAX_CARDS_BYTES.
 */
import { existsSync, lstatSync, readFileSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { VaultError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { MAX_CARDS_BYTES, NoteCards } from './note-cards-api.js';

/** The sidecar of the note at absolute path `noteAbs`. */
export function cardsPathOf(noteAbs: string): string {
  return join(dirname(noteAbs), `.${basename(noteAbs)}.cards.json`);
}

/** The note's cards (none when it has no sidecar); a VaultError naming the note when the sidecar is unusable. */
export function readCards(notePath: string, noteAbs: string): NoteCards {
  const file = cardsPathOf(noteAbs);
  let st;
  try {
    st = lstatSync(file);
  } catch {
    return NoteCards.parse({});
  }
  // Only a regular file: a symlink could lead out of the vault, a FIFO would block.
  if (!st.isFile()) throw new VaultError('bad_file', notePath, 'its cards sidecar is not a regular file');
  if (st.size > MAX_CARDS_BYTES) throw new VaultError('too_large', notePath, `its cards sidecar is ${st.size} bytes; at most ${MAX_CARDS_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new VaultError('bad_file', notePath, `its cards sidecar is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const r = NoteCards.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new VaultError('bad_file', notePath, `its cards sidecar: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return r.data;
}

export function writeCards(notePath: string, noteAbs: string, cards: NoteCards): void {
  const file = cardsPathOf(noteAbs);
  const text = `${JSON.stringify(cards)}\n`;
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_CARDS_BYTES) throw new VaultError('too_large', notePath, `its cards would take ${bytes} bytes; at most ${MAX_CARDS_BYTES}`);
  if (existsSync(file) && !lstatSync(file).isFile()) throw new VaultError('bad_file', notePath, 'its cards sidecar is not a regular file');
  writeFileAtomic(file, text);
}

/** After the note moved from `fromAbs` to `toAbs`: move its sidecar too, when it has one. */
export function moveCards(fromAbs: string, toAbs: string): void {
  const from = cardsPathOf(fromAbs);
  if (existsSync(from) && lstatSync(from).isFile()) renameSync(from, cardsPathOf(toAbs));
}
