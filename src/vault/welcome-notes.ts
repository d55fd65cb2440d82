/**
 * The notes a new vault starts with: what the app does, its keys, and how suggestions behave.
 * They are ordinary notes, to be edited or deleted; test/app/shortcuts.test.ts checks that the
 * shortcuts note names every key the app binds.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

export const WELCOME_NOTES: { path: string; text: string }[] = [
  {
    path: 'Welcome.md',
    text: `# Welcome

This is your vault: a folder of plain markdown files on your own computer. Nothing you write leaves it.

Write here as you would anywhere. Notes save themselves a moment after you stop typing, and the status line below says when they are saved.

## What you can do

- **Write with suggestions.** Pause for a moment at the end of a line and the model offers a continuation in grey italics. Press Tab to take it, or keep typing. See [[Writing with suggestions]].
- **Keep notes in folders.** Press Alt+N for a new note; type a name like \`Ideas/Chapter one\` to put it in a folder. F2 renames or moves a note, and every [[link]] to it follows.
- **Link notes.** Write [[Keyboard shortcuts]] to link to another note; Ctrl+Enter on a link opens it.
- **Find anything.** Ctrl+Shift+F searches every note; Ctrl+F searches this one.
- **Go back in time.** Ctrl+Shift+H lists the saved versions of a note; any of them can be restored.
- **Make it yours.** Ctrl+, opens the settings: light, dark or high-contrast theme, text size, vim keys.

If another program changes a note while you are writing in it, you see both versions and choose which to keep, or merge them. Deleted notes go to the vault's \`.trash\` folder.
`,
  },
  {
    path: 'Keyboard shortcuts.md',
    text: `# Keyboard shortcuts

Everything in the app can be done from the keyboard. On a Mac, Cmd takes the place of Ctrl.

## Anywhere

- Alt+N: new note
- Alt+Shift+N: new folder
- F2: rename or move the note
- Ctrl+Shift+E: go to the note list (arrow keys move, Enter opens, F2 renames, Delete moves to the trash)
- Ctrl+\\: show or hide the note list
- Ctrl+Shift+F: search all notes
- Ctrl+Shift+O: outline of the note
- Ctrl+Shift+H: saved versions of the note
- Ctrl+,: settings
- Ctrl+Shift+S: steering (features, tone, temperature and seed)
- Alt+T: the trash (restore deleted notes and folders, or delete them for good)
- Alt+R: notes related to this one (they share the features the model sees)
- Alt+W: write like these notes (a style from notes you pick, used by the suggestions)
- Ctrl+Shift+L: feature browser (search the model's features, open one's dashboard, steer with it)
- Alt+I: what fires here (mark where features fire in the paragraph; hover a word for its features)
- Esc: close the panel and go back to the text

## In the text

- Ctrl+S: save now (notes also save themselves)
- Ctrl+F: find and replace in the note
- Ctrl+Enter: open the [[link]] at the cursor
- Ctrl+Z: undo
- Alt+Shift+I: with "what fires here" on, list the features of the word at the cursor (Enter opens one)

## Suggestions

- Tab: accept the suggestion
- Ctrl+→ or Alt+→: accept its next word
- Esc: dismiss it

## Margin notes

- Alt+M: cards beside the paragraph with other ways to continue it, each labelled with its seed and steering
- Tab from the text reaches the cards; ↑ and ↓ move between them, Enter (or a click) inserts one at the cursor, and a card can be dragged into the text
- Alt+M again while they are shown: others, from the next seeds
- Esc: dismiss them (so does typing or moving the cursor); the cards stay with the note, and Alt+M at the same place shows them again

With vim keys on (in the settings), \`:w\` saves, and Esc in insert mode also dismisses a suggestion.
`,
  },
  {
    path: 'Writing with suggestions.md',
    text: `# Writing with suggestions

When you pause at the end of a line, the model that runs inside tinymorph continues your sentence in grey italics. It is only a suggestion: it is not in your note until you accept it.

- Tab accepts all of it; Ctrl+→ takes one word at a time.
- Typing the same letters it suggests keeps the rest on screen.
- Moving the cursor, Esc, or clicking elsewhere makes it go away.

Suggestions also come just before closing punctuation (a bracket, a quotation mark, a full stop) and between two sentences, where they offer one new sentence. Never in the middle of a sentence: the model cannot see the words after the cursor.

There are no suggestions inside code blocks or in a note's frontmatter. To turn them off for one note, start it with:

\`\`\`
---
suggestions: off
---
\`\`\`

The pause before a suggestion, its length and the seed (the same seed and the same text give the same suggestion) are in the settings.
`,
  },
];

/** Create `dir` as a new vault holding the welcome notes. */
export function createWelcomeVault(dir: string): void {
  for (const note of WELCOME_NOTES) {
    const file = join(dir, note.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, note.text);
  }
}
