/**
 * Confining paths to the vault. A path from a request is checked twice: by its spelling (no
 * absolute forms, no `.`/`..`, no hidden segments such as `.trash` or `.tinymorph`, which belong to
 * the app), and on disk (every existing part is resolved through symlinks and must stay inside the
 * vault's real root), so neither `../x` nor a symlink pointing out of the vault reads or writes
 * anything outside it.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { join, sep } from 'node:path';
import { VaultError } from '../errors.js';
import { NOTE_EXTENSION } from './note-names.js';

/** The path's segments, or a VaultError('bad_path') naming what is wrong with its spelling. */
export function pathSegments(rel: string): string[] {
  if (rel.includes('\0')) throw new VaultError('bad_path', rel, 'contains a NUL character');
  if (rel.includes('\\')) throw new VaultError('bad_path', rel, 'use "/" between folders, not "\\"');
  if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel)) throw new VaultError('bad_path', rel, 'absolute paths are refused; name the note relative to the vault');
  const segments = rel.split('/');
  for (const s of segments) {
    if (s === '') throw new VaultError('bad_path', rel, 'empty folder name (a doubled or trailing "/")');
    if (s === '.' || s === '..') throw new VaultError('bad_path', rel, `"${s}" is refused: paths stay inside the vault`);
    if (s.startsWith('.')) throw new VaultError('bad_path', rel, `"${s}": names starting with "." are the app's own folders`);
    if (s.length > 255) throw new VaultError('bad_path', rel, `a name is ${s.length} characters long (at most 255)`);
  }
  return segments;
}

/** A note path: well spelled and ending in `.md`. */
export function checkNotePath(rel: string): string[] {
  const segments = pathSegments(rel);
  if (!rel.toLowerCase().endsWith(NOTE_EXTENSION) || rel.length === NOTE_EXTENSION.length) {
    throw new VaultError('bad_path', rel, `notes are markdown files ending in "${NOTE_EXTENSION}"`);
  }
  return segments;
}

/**
 * The absolute path of `rel` inside the vault whose real (symlink-free) root is `root`. Every part
 * of it that already exists is resolved through symlinks and must land inside `root`; the parts that
 * do not exist yet will be created as plain folders and files, so they cannot point anywhere.
 */
export function resolveInVault(root: string, rel: string, segments = pathSegments(rel)): string {
  let existing = root;
  for (const s of segments) {
    const next = join(existing, s);
    let isLink: boolean;
    try {
      isLink = lstatSync(next).isSymbolicLink();
    } catch {
      break;
    }
    if (isLink) {
      let real: string;
      try {
        real = realpathSync(next);
      } catch {
        throw new VaultError('outside_vault', rel, 'is a symlink whose target does not exist');
      }
      if (!isInside(root, real)) throw new VaultError('outside_vault', rel, 'is a symlink that leads out of the vault');
    }
    existing = next;
  }
  return join(root, ...segments);
}

export function isInside(root: string, abs: string): boolean {
  return abs === root || abs.startsWith(root + sep);
}
