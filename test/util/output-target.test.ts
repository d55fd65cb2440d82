import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkOutputDir, checkOutputFile } from '../../src/util/output-target.js';
import { writeFileAtomic } from '../../src/util/atomic-write.js';

const dir = mkdtempSync(join(tmpdir(), 'tinymorph-output-target-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const aFile = join(dir, 'a.json');
writeFileSync(aFile, '{}');
const aFolder = join(dir, 'folder');
mkdirSync(aFolder);

test('a file target passes exactly when writeFileAtomic can then write it', () => {
  for (const path of [aFile, join(dir, 'new.json'), join(aFolder, 'x.json')]) {
    checkOutputFile(path, '--out');
    writeFileAtomic(path, 'ok');
  }
  for (const [path, message] of [
    [aFolder, /^--out .*folder: is a folder; give the file to write$/],
    [join(dir, 'missing', 'x.json'), /^--out .*x\.json: its folder .*missing does not exist$/],
    [join(aFile, 'x.json'), /^--out .*x\.json: a folder on the path is a file$/],
  ] as const) {
    assert.throws(() => checkOutputFile(path, '--out'), { name: 'UsageError', message });
    assert.throws(() => writeFileAtomic(path, 'no')); // what the check spares the user at the end of a run
  }
});

test('a folder target passes when it is a folder or can be made, and names the file in the way otherwise', () => {
  checkOutputDir(aFolder, '--out');
  const deep = join(dir, 'new', 'deeper');
  checkOutputDir(deep, '--out');
  assert.equal(existsSync(deep), false); // checking makes nothing
  assert.throws(() => checkOutputDir(aFile, '--out'), { name: 'UsageError', message: /^--out .*a\.json: is a file; give a folder to write into$/ });
  assert.throws(() => checkOutputDir(join(aFile, 'sub'), '--out'), { name: 'UsageError', message: /^--out .*sub: a folder on the path is a file$/ });
});
