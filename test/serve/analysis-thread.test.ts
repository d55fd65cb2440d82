import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TinymorphError } from '../../src/errors.js';
import { explainText } from '../../src/sae/feature-index/explain-text.js';
import { readSaeLensFolder } from '../../src/sae/saelens-format.js';
import { AnalysisThread } from '../../src/serve/analysis/analysis-thread.js';
import { ApiError } from '../../src/serve/api-error.js';
import { SteeringContext } from '../../src/steer/steering-context.js';
import { assetPath } from '../../src/util/package-root.js';
import { reference } from './serve-test-helpers.js';

const saeDir = assetPath('saes', 'blocks.2.hook_resid_post');

test('jobs run on the thread as in process; a user mistake comes back as a TinymorphError; past maxPending waiting jobs, 429', async () => {
  const thread = new AnalysisThread(reference.model, reference.tokenizerPath, 2);
  try {
    const job = { kind: 'explain' as const, saeDir, text: 'The dog ran.', perToken: 2, top: 3 };
    const [a, b] = [thread.run(job), thread.run(job)];
    assert.throws(() => thread.run(job), (e: unknown) => e instanceof ApiError && e.status === 429 && e.retryAfter === 1);
    const sae = readSaeLensFolder(saeDir, { model: reference.model.config });
    const expected = explainText(reference.model, reference.tokenizer, sae, job.text, { perToken: 2, top: 3 });
    assert.deepEqual(await a, expected);
    assert.deepEqual(await b, expected);
    await assert.rejects(thread.run({ ...job, text: '' }), (e: unknown) => e instanceof TinymorphError && /no tokens/.test(e.message));
    await assert.rejects(thread.run({ ...job, saeDir: assetPath('saes') }), (e: unknown) => e instanceof TinymorphError && e.code === 'sae_file');
    assert.deepEqual(await thread.run(job), expected, 'the thread goes on after failed jobs');
  } finally {
    await thread.close();
  }
});

test('feature means on the thread == SteeringContext.featureMeans in process (what guidance and MEAN_ABLATE read)', async () => {
  const thread = new AnalysisThread(reference.model, reference.tokenizerPath);
  try {
    const ctx = new SteeringContext(reference.model, reference.tokenizer);
    const expected = ctx.featureMeans(ctx.sae(saeDir));
    assert.deepEqual(await thread.run({ kind: 'feature-means', saeDir }), expected);
  } finally {
    await thread.close();
  }
});
