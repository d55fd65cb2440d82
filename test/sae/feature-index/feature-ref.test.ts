import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../../src/errors.js';
import { autoLabel, wordAt } from '../../../src/sae/feature-index/auto-label.js';
import { parseFeatureRef } from '../../../src/sae/feature-index/feature-ref.js';
import { indexCandidates } from '../../../src/sae/feature-index/index-location.js';
import { assetPath } from '../../../src/util/package-root.js';

test('feature references: hook:index, layer:index, and a bare index with --sae or the default SAE', () => {
  const b2 = assetPath('saes', 'blocks.2.hook_resid_post');
  assert.deepEqual(parseFeatureRef('blocks.2.hook_resid_post:123'), { saeDir: b2, feature: 123, named: true });
  assert.deepEqual(parseFeatureRef('2:123'), { saeDir: b2, feature: 123, named: true });
  assert.deepEqual(parseFeatureRef('3:7'), { saeDir: assetPath('saes', 'blocks.3.hook_resid_post'), feature: 7, named: true });
  assert.deepEqual(parseFeatureRef('123'), { saeDir: b2, feature: 123, named: false });
  assert.deepEqual(parseFeatureRef('123', '/some/sae'), { saeDir: '/some/sae', feature: 123, named: true });
  assert.throws(() => parseFeatureRef('9:1'), (e: unknown) => e instanceof UsageError && /no shipped SAE for "blocks\.9\.hook_resid_post"/.test(e.message));
  assert.throws(() => parseFeatureRef('2:x'), UsageError);
  assert.throws(() => parseFeatureRef('../../etc:1'), UsageError);
  assert.throws(() => parseFeatureRef('2:5', '/some/sae'), /names its SAE/);
});

test('an index lives beside its SAE, or in the XDG cache under a per-folder name', () => {
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = '/tmp/xdg';
  try {
    const [beside, cached] = indexCandidates('/data/my-sae');
    assert.equal(beside, '/data/my-sae/features.sqlite');
    assert.match(cached, /^\/tmp\/xdg\/tinymorph\/features\/my-sae-[0-9a-f]{12}\.sqlite$/);
    assert.notEqual(indexCandidates('/other/my-sae')[1], cached);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
});

test('automatic labels name promoted tokens and the whole words a feature fires on', () => {
  assert.equal(wordAt([' all', ' kinds', ' of', ' th', 'ing', 's', '.'], 4), 'things');
  assert.equal(wordAt([' th', 'ing', 's', '.'], 3), '.');
  assert.equal(wordAt(['<s>', 'Lily'], 1), 'Lily');
  const out = [' Lily', ' she', ' her'].map((token, i) => ({ tokenId: i, token, value: 1 - i / 10 }));
  assert.equal(autoLabel(out, ['Lily', 'her', 'Lily', 'she'], 5, 100), '"Lily" / "she" (fires on: Lily, her, she)');
  assert.equal(autoLabel(out, [], 0, 100), 'dead (never fired on 100 tokens)');
});
