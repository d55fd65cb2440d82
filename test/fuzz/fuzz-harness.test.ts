import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { classifyExit } from '../../fuzz/cli/cli-fuzz.js';
import { runTarget } from '../../fuzz/runner.js';
import { TARGETS } from '../../fuzz/targets/index.js';

// The harness must tell each kind of failure apart before its silence about real formats means anything.
const broken = fileURLToPath(new URL('./broken-targets.js', import.meta.url));
const limits = { hangMs: 1500, heapMb: 64, rssBytes: 2 ** 30 };
const classesOf = async (target: string) => {
  const r = await runTarget({ target, seed: 1, indices: [0], deadline: Date.now() + 60_000, limits, registry: broken });
  return { r, classes: [...r.classes.keys()] };
};

test('the runner tells valid, rejected, thrown, hung, over-allocating, out-of-heap and dead readers apart', async () => {
  const valid = await classesOf('valid');
  assert.deepEqual([valid.r.valid, valid.r.crashes], [1, 0]);
  const typed = await classesOf('typed');
  assert.deepEqual([typed.r.rejected, typed.r.crashes], [1, 0]);
  assert.match((await classesOf('type-error')).classes[0], /^TypeError at .*broken-targets\.ts:\d+\)$/);
  assert.match((await classesOf('long-message')).classes[0], /^error message over 1024 chars: UsageError at /);
  assert.deepEqual((await classesOf('hang')).classes, ['hang: no result in 1.5 s']);
  assert.deepEqual((await classesOf('allocates')).classes, ['memory: allocates allocated more than 16× its input']);
  assert.deepEqual((await classesOf('heap')).classes, ['memory: JavaScript heap out of memory']);
  assert.deepEqual((await classesOf('exits')).classes, ['process died (exit code 3)']);
});

test('a CLI exit is fine only as exit 0, one "tinymorph:" line with exit 1, or commander\'s usage error with exit 2', () => {
  assert.equal(classifyExit('generate', 0, null, '').kind, 'valid');
  assert.equal(classifyExit('generate', 1, null, '{"progress":1}\ntinymorph: model.bin: truncated\n').kind, 'rejected');
  assert.equal(classifyExit('generate', 2, null, "error: unknown option '--x'\n(Did you mean --n?)\n").kind, 'rejected');
  const trace = 'file:///x/dist/src/cli/main.js:9\n  throw e;\n\nTypeError: boom\n    at f (file:///x/dist/src/y.js:3:9)\n';
  const crash = classifyExit('generate', 1, null, trace);
  assert.ok(crash.kind === 'crash' && /^stack trace: TypeError at f /.test(crash.crashClass));
  assert.equal(classifyExit('generate', null, 'SIGSEGV', '').kind, 'crash');
  assert.equal(classifyExit('generate', 1, null, `tinymorph: ${'x'.repeat(2000)}\n`).kind, 'crash');
  assert.equal(classifyExit('generate', 1, null, 'something else\n').kind, 'crash');
});

test('every format\'s valid seed reads as valid: mutations start from files the readers accept', () => {
  const work = mkdtempSync(join(tmpdir(), 'tm-fuzz-seeds-'));
  try {
    for (const t of TARGETS) {
      const seeds = join(work, 'seeds', t.name);
      const dir = join(work, t.name);
      mkdirSync(seeds, { recursive: true });
      mkdirSync(dir);
      const p = t.prepare(seeds);
      p.writeSeed(dir);
      assert.doesNotThrow(() => p.read(dir), `${t.name}: its seed does not read`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
