import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FormatReport } from '../../fuzz/report.js';
import { DEFAULT_LIMITS, runTarget } from '../../fuzz/runner.js';
import { TARGETS } from '../../fuzz/targets/index.js';

// A short seeded run of `npm run fuzz` (which defaults to ≥ 10,000 inputs): the same inputs every
// time, so a failure here is reproducible with `npm run fuzz -- --seed 18 --only FORMAT:INDEX`.
const SEED = 18;
const INPUTS = 100;

function listClasses(r: FormatReport): string {
  return [...r.classes].map(([name, c]) => `${c.count} × ${name} (e.g. #${c.examples[0].index} [${c.examples[0].how}] ${c.examples[0].message})`).join('\n');
}

for (const t of TARGETS) {
  test(`fuzz ${t.name}: ${INPUTS} seeded inputs, every one a valid result or one typed line`, async () => {
    // Generous limits: other test files share the machine, and a slow input must not pass for a hang.
    const limits = { ...DEFAULT_LIMITS, hangMs: 30_000 };
    const r = await runTarget({ target: t.name, seed: SEED, indices: Array.from({ length: INPUTS }, (_, i) => i), deadline: Date.now() + 600_000, limits });
    assert.equal(r.harnessError, undefined);
    assert.equal(r.inputs, INPUTS);
    assert.ok(r.valid > 0 && r.rejected > 0, `${t.name}: the mutations should give both valid files and refused ones (valid ${r.valid}, rejected ${r.rejected})`);
    assert.equal(r.crashes, 0, listClasses(r));
  });
}
