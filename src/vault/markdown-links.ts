/**
 * Plain markdown links to notes — `[text](Note.md)`, `[text](Folder/Note%20name.md)`,
 * `[text](<Note name.md>)`, `![embed](../Other.md#Heading)`, `[label]: Note.md` — follow a rename the
 * way `[[wikilinks]]` do (src/vault/wikilinks.ts). The text is parsed with @lezer/markdown (the
 * CommonMark parser CodeMirror's markdown mode uses), so code spans, fenced and indented code,
 * autolinks and backslash-escaped brackets are exactly what CommonMark says they are; only the
 * destination of a link, image or link reference definition is rewritten, keeping its `#fragment`,
 * its title and its spelling (pointy brackets or percent-encoding, CommonMark 0.31.2 §6.6 "link
 * destination"). Destinations with a URL scheme, absolute paths and bare `#fragments` are left alone.
 *
 * A destination is resolved as Obsidian resolves one: relative to the linking note's folder first,
 * then as a vault path or a unique note name. The linking note may have moved too (a folder rename
 * moves both ends), so a relative link is recomputed from the note's new folder. Links to other
 * files (`![](Ideas/sketch.png)`) follow when a folder rename moves them, and relative ones from a
 * moved note to a file that stayed are recomputed the same way.
 */
import { posix } from 'node:path';
import { parser } from '@lezer/markdown';
import { NOTE_EXTENSION } from './note-names.js';
import type { LinkResolver } from './wikilinks.js';

// The nodes whose URL child is a link destination (an Autolink's URL is a full URL, never a note).
const LINK_NODES = new Set(['Link', 'Image', 'LinkReference']);
// CommonMark's backslash escapes: any ASCII punctuation character.
const ESCAPED = /\\([!-/:-@[-`{-~])/g;
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

export interface LinkRename {
  /** Where the linking note was and is now (the same unless it moved in this rename). */
  oldPath: string;
  newPath: string;
  /** Old path → new path of every note that moved. */
  moves: ReadonlyMap<string, string>;
  before: LinkResolver;
  after: LinkResolver;
  /** Other files (images, PDFs) that moved with a folder: old path → new path. */
  movedFiles?: ReadonlyMap<string, string>;
  /** Whether a file other than a note is at this vault path now (a relative link from a moved note to one that stayed). */
  fileExists?: (path: string) => boolean;
}

/** `text` with every markdown link to a moved note (or from a moved note, when relative) pointing to the new place. */
export function rewriteMarkdownLinks(text: string, r: LinkRename): string {
  // Most notes hold no inline link or definition at all: skip the parse.
  if (!text.includes('](') && !text.includes(']:')) return text;
  const edits: { from: number; to: number; insert: string }[] = [];
  parser.parse(text).iterate({
    enter(node) {
      if (node.name !== 'URL' || !LINK_NODES.has(node.node.parent?.name ?? '')) return;
      const raw = text.slice(node.from, node.to);
      const next = rewriteDestination(raw, r);
      if (next !== raw) edits.push({ from: node.from, to: node.to, insert: next });
    },
  });
  let out = text;
  for (const e of edits.reverse()) out = out.slice(0, e.from) + e.insert + out.slice(e.to);
  return out;
}

/** One destination as written (`Note.md#h`, `<Note name.md>`), rewritten or returned as it was. */
export function rewriteDestination(raw: string, r: LinkRename): string {
  const angled = raw.startsWith('<') && raw.endsWith('>');
  const body = angled ? raw.slice(1, -1) : raw;
  const cut = unescapedIndex(body);
  const written = body.slice(0, cut);
  const fragment = body.slice(cut);
  if (written === '' || written.startsWith('/') || HAS_SCHEME.test(written)) return raw;
  const target = decode(written);
  const found = resolve(target, r);
  if (!found) return raw;
  const moved = r.moves.get(found.path) ?? r.movedFiles?.get(found.path) ?? found.path;
  // Nothing moved at either end that this link depends on: leave its spelling alone.
  if (moved === found.path && (!found.relative || r.oldPath === r.newPath)) return raw;
  const keepsExtension = target.toLowerCase().endsWith(NOTE_EXTENSION);
  let next: string;
  if (found.relative) {
    next = posix.relative(posix.dirname(r.newPath), moved);
    if (target.startsWith('./') && !next.startsWith('../')) next = `./${next}`;
  } else {
    next = target.includes('/') ? moved : `${r.after.targetFor(moved)}${NOTE_EXTENSION}`;
  }
  if (!keepsExtension) next = withoutExtension(next);
  if (next === target) return raw;
  return angled ? `<${next.replace(/[<>\\]/g, '\\$&')}${fragment}>` : `${encodeBare(next)}${fragment}`;
}

/**
 * The note (or other file) a destination names: relative to the linking note's (old) folder, else a
 * vault path or unique note name.
 */
function resolve(target: string, r: LinkRename): { path: string; relative: boolean } | undefined {
  const joined = posix.normalize(posix.join(posix.dirname(r.oldPath), target));
  if (!joined.startsWith('../') && joined !== '..') {
    const path = r.before.resolvePath(joined) ?? (r.movedFiles?.has(joined) || r.fileExists?.(joined) ? joined : undefined);
    if (path) return { path, relative: true };
  }
  if (target.includes('/') && r.movedFiles?.has(target)) return { path: target, relative: false };
  const path = r.before.resolve(target);
  return path ? { path, relative: false } : undefined;
}

/** Where the path part ends: at the first `#` or `?` that no backslash escapes. */
function unescapedIndex(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '#' || s[i] === '?') return i;
  }
  return s.length;
}

/** Backslash escapes removed, then percent-decoding (a lone "%", as in "<100% done.md>", stays as written). */
function decode(written: string): string {
  const unescaped = written.replace(ESCAPED, '$1');
  try {
    return decodeURIComponent(unescaped);
  } catch {
    return unescaped;
  }
}

/** A bare destination may hold no spaces, controls or unbalanced parentheses: percent-encode those (and what would start a fragment). */
function encodeBare(path: string): string {
  return path.replace(/[\s\p{Cc}<>()%#?\\]/gu, (c) => encodeURIComponent(c).replace(/[()]/g, (p) => `%${p.charCodeAt(0).toString(16).toUpperCase()}`));
}

function withoutExtension(p: string): string {
  return p.toLowerCase().endsWith(NOTE_EXTENSION) ? p.slice(0, -NOTE_EXTENSION.length) : p;
}
