/** The writer's settings in `.tinymorph/settings.json`: validated on read, written atomically. */
import { existsSync, readFileSync } from 'node:fs';
import { VaultError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { Settings } from './vault-api.js';

/** The settings in `file`, the defaults when it does not exist, or a VaultError naming the bad field. */
export function readSettings(file: string): Settings {
  if (!existsSync(file)) return Settings.parse({});
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new VaultError('bad_file', file, `is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const r = Settings.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new VaultError('bad_file', file, `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return r.data;
}

export function writeSettings(file: string, settings: Settings): void {
  writeFileAtomic(file, `${JSON.stringify(settings, null, 2)}\n`);
}
