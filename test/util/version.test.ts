import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../src/util/package-root.js';
import { runCli } from '../cli/run-cli.js';

test('tinymorph --version prints the version in package.json', () => {
  const { version } = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  assert.match(version, /^\d+\.\d+\.\d+/);
  const r = runCli('--version');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), version);
});
