import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { CliRun } from './run-cli.js';
import { assertOneLineError, runCliWithEnv } from './run-cli.js';
import { validationTextPath } from '../../src/model/embedded.js';
import { assetPath } from '../../src/util/package-root.js';

// `tinymorph features …` as a user runs it: the built CLI in its own process, on an index built
// by the CLI from 20 contexts of validation text. HOME and XDG_CACHE_HOME point into a temp folder
// so no test writes an index beside the shipped SAEs or into the user's cache.
const dir = mkdtempSync(join(tmpdir(), 'tm-features-cli-'));
const db = join(dir, 'b2.sqlite');
const run = (...args: string[]): CliRun => runCliWithEnv({ HOME: dir, XDG_CACHE_HOME: join(dir, 'cache') }, ...args);

before(() => {
  const r = run('features', 'build', '--db', db, '--corpus', validationTextPath(), '--tokens', String(20 * 128));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^indexed 1024 features \(\d+ dead\) over \d+ tokens in 20 contexts in [\d.]+ s → .*b2\.sqlite \([\d.]+ (KiB|MiB)\)\n$/);
  assert.match(r.stderr, /"progress":"indexing features"/); // JSON progress lines when stderr is not a TTY
});

test('features show prints the dashboard, the maximum bracketed when stdout is not a terminal', () => {
  const r = run('features', 'show', '2:117', '--db', db);
  assert.equal(r.code, 0, r.stderr);
  for (const part of [/^feature 117 · blocks\.2\.hook_resid_post/, /label: .+\(auto: top tokens and contexts/, /density [\d.]+%/, /activations when firing\n.*[▁▂▃▄▅▆▇█]/, /promotes +".*" \+[\d.]+/, /suppresses +".*" -[\d.]+/, /top contexts\n +[\d.]+ +.*\[\[.+\]\]/, /nearest features \(decoder cosine\)\n +\d+ +0\.\d{3} /]) {
    assert.match(r.stdout, part);
  }
  assert.doesNotMatch(r.stdout, /\x1b\[/);
  const j = JSON.parse(run('features', 'show', 'blocks.2.hook_resid_post:117', '--db', db, '--json').stdout);
  assert.equal(j.feature, 117);
  assert.equal(j.neighbours.length, 10);
  assert.equal(run('features', 'show', '117', '--db', db, '--json').stdout, JSON.stringify(j, null, 2) + '\n');
});

test('features label sets a label that search finds; search lists matches', () => {
  const l = run('features', 'label', '2:40', 'quokka detector', '--db', db);
  assert.equal(l.code, 0, l.stderr);
  assert.equal(l.stdout, '40: quokka detector\n');
  const s = run('features', 'search', 'quokka', '--db', db);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /^ +40 +[\d.]+% +quokka detector\n$/);
  assert.equal(run('features', 'search', 'nothingmatchesthis', '--db', db).stdout, 'no feature matches "nothingmatchesthis"\n');
});

test('features explain-text and contrast print per-token features and ranked differences', () => {
  const e = run('features', 'explain-text', 'Lily saw many things in the park.', '--db', db, '--json');
  assert.equal(e.code, 0, e.stderr);
  const j = JSON.parse(e.stdout);
  assert.equal(j.tokens.map((t: { token: string }) => t.token).join(''), 'Lily saw many things in the park.');
  assert.ok(j.top.length > 0 && typeof j.labels[j.top[0].feature] === 'string');
  const a = join(dir, 'a.txt');
  const b = join(dir, 'b.txt');
  writeFileSync(a, 'Lily was happy. She smiled and laughed.\n\nBen was glad and smiled.\n');
  writeFileSync(b, 'Lily was sad. She cried.\n\nBen was angry and shouted.\n');
  const c = run('features', 'contrast', '--a', a, '--b', b, '--db', db, '--top', '3');
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /^more active in A \(2 texts\):\n( +\d+ +\+[\d.]+ +d= *-?[\d.]+ .*\n){3}\nmore active in B \(2 texts\):\n( +\d+ +-[\d.]+ +d= *-?[\d.]+ .*\n){3}$/);
});

test('with --db alone, queries read that index whichever SAE it was built from', () => {
  const b1 = join(dir, 'b1.sqlite');
  assert.equal(run('features', 'build', '--sae', assetPath('saes', 'blocks.1.hook_resid_post'), '--db', b1, '--tokens', '256').code, 0);
  const r = run('features', 'show', '5', '--db', b1);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^feature 5 · blocks\.1\.hook_resid_post/);
  assert.equal(run('features', 'show', '1:5', '--db', b1).code, 0);
  assertOneLineError(run('features', 'show', '2:5', '--db', b1), 1, /b1\.sqlite: was built from other SAE weights/);
});

test('features: user mistakes end as one line and a non-zero exit, and nothing is left behind', () => {
  assertOneLineError(run('features', 'show', '2:99999', '--db', db), 1, /^tinymorph: feature 99999 is outside 0\.\.1023/);
  assertOneLineError(run('features', 'show', 'two:five', '--db', db), 1, /^tinymorph: feature "two:five" is not <hook>:<index>/);
  assertOneLineError(run('features', 'show', '7:5', '--db', db), 1, /^tinymorph: no shipped SAE for "blocks\.7\.hook_resid_post"/);
  const garbage = join(dir, 'garbage.sqlite');
  writeFileSync(garbage, 'not a database at all, just text\n'.repeat(10));
  assertOneLineError(run('features', 'search', 'Lily', '--db', garbage), 1, /^tinymorph: .*garbage\.sqlite: not a SQLite database$/);
  assertOneLineError(run('features', 'show', '1:5', '--db', db), 1, /b2\.sqlite: was built from other SAE weights/);
  assertOneLineError(run('features', 'search', '***', '--db', db), 1, /has no words to look for/);
  assertOneLineError(run('features', 'contrast', '--a', join(dir, 'missing.txt'), '--b', db, '--db', db), 1, /^tinymorph: --a .*missing\.txt: no such file$/);
  assertOneLineError(run('features', 'build', '--tokens', 'lots', '--db', join(dir, 'x.sqlite')), 1, /--tokens must be a positive integer, got "lots"/);
  assertOneLineError(run('features', 'build', '--tokens', '128', '--db', join(dir, 'no', 'such', 'dir', 'x.sqlite')), 1, /--db .*x\.sqlite: its folder .*dir does not exist$/);
  assert.equal(run('features', 'show').code, 2); // a missing argument is commander's usage error
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});
