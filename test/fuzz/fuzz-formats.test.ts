import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FormatReport } from '../../fuzz/report.js';
import { DEFAULT_LIMITS, runTarget } from '../../fuzz/runner.js';
import { TARGETS } from '../../fuzz/targets/index.js';

// A short seeded run of `npm run fuzz` (which defaults to ≥ 10,000 inputs): the same inputs every
// time, so a failure here is reproducible with `npm run fuzz -- --seed 18 --only FORMAT:INDEX`.
const SEED = 18;
const INPUTS = 100;

/** Formats with no crash class left at all: every input must be valid or one typed line. */
const CLEAN = ['llama2c-tokenizer', 'gemma-scope-npz', 'feature-index'];

/**
 * Crash classes of issue 18 being fixed in parallel (remove each entry as its fix is merged; the
 * formats it last covers then join CLEAN):
 * - NaN weights or logits end in "token id … got undefined" (the engine's NaN handling);
 * - a steering-vector file's width is never checked against its hook;
 * - deeply nested or huge JSON and values stringified whole into error messages (safetensors
 *   headers, SAE cfg.json, sparsify cfg, steering specs, activation-cache manifests), and batch
 *   rows (`requests[0]`) named in user errors (the request/config validation);
 * - a spec naming /dev/zero as a vector file is read without bound (bounded reads).
 */
const PENDING: { pattern: RegExp; formats?: string[] }[] = [
  { pattern: /^token id undefined in the message: UsageError at TokenCounts\.touch / },
  { pattern: /^accepted: a vector of width ≠ its hook's was used/ },
  {
    pattern:
      /^(stack overflow|(error message over 1024 chars|multi-line error message): \w+) at .*\(src\/(model\/safetensors|sae\/sae-config|sae\/saelens-format|sae\/sparsify-format|steer\/steering-spec|steer\/steering-context|sae\/activation-store\/cache-manifest|sae\/activation-store\/cache-writer)\.ts:\d+\)$/,
  },
  { pattern: /^internal request row in the message: SteeringError/ },
  { pattern: /^memory: resident memory over/, formats: ['steering-spec'] },
];

const pending = (format: string, crashClass: string): boolean =>
  PENDING.some((p) => p.pattern.test(crashClass) && (p.formats === undefined || p.formats.includes(format)));

function listClasses(r: FormatReport): string {
  return [...r.classes].map(([name, c]) => `${c.count} × ${name} (e.g. #${c.examples[0].index} [${c.examples[0].how}] ${c.examples[0].message})`).join('\n');
}

for (const t of TARGETS) {
  test(`fuzz ${t.name}: ${INPUTS} seeded inputs, no crash ${CLEAN.includes(t.name) ? 'at all' : 'outside the classes being fixed elsewhere'}`, async () => {
    // Generous limits: other test files share the machine, and a slow input must not pass for a hang.
    const limits = { ...DEFAULT_LIMITS, hangMs: 30_000 };
    const r = await runTarget({ target: t.name, seed: SEED, indices: Array.from({ length: INPUTS }, (_, i) => i), deadline: Date.now() + 600_000, limits });
    assert.equal(r.harnessError, undefined);
    assert.equal(r.inputs, INPUTS);
    assert.ok(r.valid > 0 && r.rejected > 0, `${t.name}: the mutations should give both valid files and refused ones (valid ${r.valid}, rejected ${r.rejected})`);
    if (CLEAN.includes(t.name)) assert.equal(r.crashes, 0, listClasses(r));
    else {
      const unexpected = [...r.classes.keys()].filter((c) => !pending(t.name, c));
      assert.deepEqual(unexpected, [], listClasses(r));
    }
  });
}
