import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A fresh vault folder holding `notes` (path → text), plus an empty sibling folder "outside" it. */
export function tempVault(notes: Record<string, string> = {}): { dir: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), 'tinymorph-vault-'));
  const dir = join(base, 'vault');
  const outside = join(base, 'outside');
  mkdirSync(dir);
  mkdirSync(outside);
  for (const [p, text] of Object.entries(notes)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return { dir, outside };
}
