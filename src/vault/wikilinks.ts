/**
 * `[[wikilinks]]` as Obsidian writes them: `[[target]]`, `[[target#heading]]`, `[[target#^block]]`,
 * `[[target|shown text]]` and embeds `![[target]]`, where the target is a note's path without `.md`
 * or, when the name is unique in the vault, just its name; matching ignores case. Renaming a note
 * rewrites the links that point to it and keeps their heading, block and alias parts.
 */
import { codeRanges, inRanges } from './markdown-code.js';
import { NOTE_EXTENSION, noteTitle } from './note-names.js';

// [[ target (#heading | #^block)? (|alias)? ]]; a target holds no brackets, pipes, hashes or carets.
const WIKILINK = /(!?)\[\[([^[\]|#^\n]+)(#[^[\]|\n]*)?(\|[^[\]\n]*)?\]\]/g;

/** Resolves link targets against the notes of one vault, as Obsidian does for unambiguous links. */
export class LinkResolver {
  private readonly byPath = new Map<string, string>();
  private readonly byName = new Map<string, string[]>();

  constructor(notePaths: Iterable<string>) {
    for (const p of notePaths) {
      this.byPath.set(withoutExtension(p).toLowerCase(), p);
      const name = noteTitle(p).toLowerCase();
      this.byName.set(name, [...(this.byName.get(name) ?? []), p]);
    }
  }

  /** The note a link target names, or undefined when none does or a bare name is ambiguous. */
  resolve(target: string): string | undefined {
    const t = withoutExtension(target.trim()).toLowerCase();
    if (t.includes('/')) return this.byPath.get(t);
    const candidates = this.byName.get(t);
    return candidates?.length === 1 ? candidates[0] : undefined;
  }

  /** The note at exactly this vault path (with or without `.md`; case ignored), if there is one. */
  resolvePath(path: string): string | undefined {
    return this.byPath.get(withoutExtension(path).toLowerCase());
  }

  /** The shortest target that names `path` unambiguously: its bare name when unique, else its path. */
  targetFor(path: string): string {
    const name = noteTitle(path);
    return this.byName.get(name.toLowerCase())?.length === 1 ? name : withoutExtension(path);
  }
}

/**
 * `text` with every link that (under `before`) pointed to a moved note rewritten to its new place
 * (named as `after` names it most briefly; a link written as a path stays a path). Links inside
 * code spans and code blocks are code, not links, and stay as they are.
 */
export function rewriteWikilinks(text: string, moves: ReadonlyMap<string, string>, before: LinkResolver, after: LinkResolver): string {
  if (!text.includes('[[')) return text;
  const code = codeRanges(text);
  return text.replace(WIKILINK, (link: string, bang: string, target: string, fragment: string | undefined, alias: string | undefined, offset: number) => {
    if (inRanges(code, offset)) return link;
    const from = before.resolve(target);
    const to = from === undefined ? undefined : moves.get(from);
    if (to === undefined) return link;
    const keepsExtension = target.trim().toLowerCase().endsWith(NOTE_EXTENSION);
    let newTarget = target.includes('/') ? withoutExtension(to) : after.targetFor(to);
    if (keepsExtension) newTarget += NOTE_EXTENSION;
    return `${bang}[[${newTarget}${fragment ?? ''}${alias ?? ''}]]`;
  });
}

function withoutExtension(p: string): string {
  return p.toLowerCase().endsWith(NOTE_EXTENSION) ? p.slice(0, -NOTE_EXTENSION.length) : p;
}
