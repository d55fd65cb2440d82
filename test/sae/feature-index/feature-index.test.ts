import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import Database from 'better-sqlite3';
import { FeatureIndexError } from '../../../src/errors.js';
import type { HookName } from '../../../src/model/hook-points.js';
import { validationTextPath } from '../../../src/model/embedded.js';
import { loadModel } from '../../../src/model/load-model.js';
import { runWithCache } from '../../../src/model/run-with-cache.js';
import { corpusDocuments } from '../../../src/sae/activation-store/activation-store.js';
import { contextSettings, tokenContexts } from '../../../src/sae/activation-store/token-contexts.js';
import { AUTO_LABEL_SOURCE } from '../../../src/sae/feature-index/auto-label.js';
import { buildFeatureIndex } from '../../../src/sae/feature-index/build-feature-index.js';
import { contrastTexts } from '../../../src/sae/feature-index/contrast-texts.js';
import { explainText } from '../../../src/sae/feature-index/explain-text.js';
import { FeatureIndex } from '../../../src/sae/feature-index/feature-index.js';
import { encode } from '../../../src/sae/sae-forward.js';
import { readSaeLensFolder } from '../../../src/sae/saelens-format.js';
import { assetPath } from '../../../src/util/package-root.js';
import { assertAllClose } from '../../helpers/assert-all-close.js';
import { randomSae, v6Config } from '../sae-test-helpers.js';

// The real pipeline on real data: the embedded model, the shipped blocks.2 SAE, 40 contexts of
// validation text; every statistic the index stores is recomputed here by a separate path (a full
// forward with runWithCache, then encode).
const HOOK: HookName = 'blocks.2.hook_resid_post';
const CONTEXTS = 40;
const { model, tokenizer } = loadModel();
const sae = readSaeLensFolder(assetPath('saes', HOOK), { model: model.config });
const d = sae.config.d_sae;
const dir = mkdtempSync(join(tmpdir(), 'tm-features-'));
const dbPath = join(dir, 'features.sqlite');

/** Every corpus context the build saw, and its SAE activations [128, d_sae] from a full forward. */
let contexts: Int32Array[];
let acts: Float32Array[];

before(() => {
  buildFeatureIndex(model, tokenizer, sae, validationTextPath(), { db: dbPath, tokens: CONTEXTS * 128, batchContexts: 8 });
  contexts = [...tokenContexts(tokenizer, corpusDocuments(validationTextPath()), contextSettings({}, model.config.seqLen))].slice(0, CONTEXTS);
  acts = contexts.map((ids) => {
    const { activations } = runWithCache(model, Array.from(ids), [HOOK]);
    return encode(sae, activations.get(HOOK)!, ids.length);
  });
});

const special = (id: number): boolean => id === tokenizer.bosId || id === tokenizer.eosId;

test('the build leaves only the index in its folder (temp file renamed into place)', () => {
  assert.deepEqual(readdirSync(dir), ['features.sqlite']);
});

test('firing counts, density, mean and max equal an independent recount over the same contexts', () => {
  const index = FeatureIndex.open(dbPath);
  try {
    const count = new Float64Array(d);
    const sum = new Float64Array(d);
    const max = new Float32Array(d);
    let scored = 0;
    contexts.forEach((ids, c) => {
      ids.forEach((id, t) => {
        if (special(id)) return;
        scored++;
        for (let j = 0; j < d; j++) {
          const a = acts[c][t * d + j];
          if (a > 0) {
            count[j]++;
            sum[j] += a;
            max[j] = Math.max(max[j], a);
          }
        }
      });
    });
    assert.equal(Number(index.meta.scored_tokens), scored);
    assert.equal(index.meta.tinymorph_version, (JSON.parse(readFileSync(assetPath('..', 'package.json'), 'utf8')) as { version: string }).version);
    for (let j = 0; j < d; j++) {
      const s = index.summary(j);
      assert.equal(s.fireCount, count[j], `feature ${j} fire count`);
      assert.ok(Math.abs(s.density - count[j] / scored) < 1e-12, `feature ${j} density`);
      assertAllClose([s.meanAct, s.maxAct], [sum[j] / scored, max[j]], { atol: 1e-5, rtol: 1e-4 }, `feature ${j} mean, max`);
    }
    // The histogram holds every firing, no more.
    for (const j of [0, 17, 117, 500]) assert.equal(index.show(j).histogram.counts.reduce((a, b) => a + b, 0), count[j]);
  } finally {
    index.close();
  }
});

test('top contexts are the strongest contexts, and their activations equal encode() on the recomputed context', () => {
  const index = FeatureIndex.open(dbPath);
  try {
    for (const j of [3, 117, 296, 700, 1017]) {
      const dash = index.show(j);
      // Per-context maxima over the whole corpus, strongest first: the stored ones must be its head.
      const maxima = contexts
        .map((ids, c) => Math.max(0, ...Array.from(ids, (id, t) => (special(id) ? 0 : acts[c][t * d + j]))))
        .filter((m) => m > 0)
        .sort((a, b) => b - a);
      assertAllClose(dash.contexts.map((c) => c.maxAct), maxima.slice(0, 20), { atol: 1e-5, rtol: 1e-5 }, `feature ${j} top maxima`);
      for (const c of dash.contexts) {
        const ids = contexts[c.contextIndex];
        const expected = c.tokens.map((_, i) => (special(ids[c.contextStart + i]) ? 0 : acts[c.contextIndex][(c.contextStart + i) * d + j]));
        assertAllClose(c.acts, expected, { atol: 1e-5, rtol: 1e-3 }, `feature ${j} context ${c.contextIndex} acts`);
        assert.ok(Math.abs(expected[c.maxPos] - c.maxAct) < 1e-5);
        const windowIds = Array.from(ids.subarray(c.contextStart, c.contextStart + c.tokens.length));
        assert.equal(c.tokens.filter((t) => t !== '<s>').join(''), tokenizer.decode(windowIds, c.contextStart > 0 ? ids[c.contextStart - 1] : -1));
      }
    }
  } finally {
    index.close();
  }
});

test('nearest features are the brute-force decoder cosine neighbours', () => {
  const index = FeatureIndex.open(dbPath);
  try {
    const n = sae.config.d_in;
    const W = sae.weights.W_dec;
    const norm = (j: number): number => Math.hypot(...W.subarray(j * n, (j + 1) * n));
    for (const j of [0, 117, 1023]) {
      const cos: { feature: number; cosine: number }[] = [];
      for (let o = 0; o < d; o++) {
        if (o === j) continue;
        let dot = 0;
        for (let i = 0; i < n; i++) dot += W[j * n + i] * W[o * n + i];
        cos.push({ feature: o, cosine: dot / (norm(j) * norm(o)) });
      }
      cos.sort((a, b) => b.cosine - a.cosine);
      const got = index.show(j).neighbours;
      assert.deepEqual(got.map((g) => g.feature), cos.slice(0, 10).map((c) => c.feature));
      assertAllClose(got.map((g) => g.cosine), cos.slice(0, 10).map((c) => c.cosine), { atol: 1e-5 });
    }
  } finally {
    index.close();
  }
});

test('search finds a feature by a word of its label; a user label is searchable and survives reopening', () => {
  const copy = join(dir, 'labels.sqlite');
  copyFileSync(dbPath, copy);
  let index = FeatureIndex.open(copy, { writable: true });
  const auto = index.summary(117).label;
  const word = auto.match(/\p{L}{3,}/u)![0];
  assert.ok(index.search(word, 50).some((h) => h.feature === 117), `"${word}" (from "${auto}") finds 117`);
  assert.deepEqual(index.search('zebroid'), []);
  index.setLabel(117, 'zebroid crossings');
  index.close();

  index = FeatureIndex.open(copy, { writable: true });
  assert.equal(index.summary(117).label, 'zebroid crossings');
  assert.equal(index.summary(117).labelSource, 'user');
  assert.equal(index.search('zebro')[0].feature, 117); // prefix match, user label ranks first
  index.setLabel(117, ''); // restores the automatic label
  assert.equal(index.summary(117).label, auto);
  assert.equal(index.summary(117).labelSource, AUTO_LABEL_SOURCE);
  assert.deepEqual(index.search('zebroid'), []);
  index.close();
});

test('a read-only index refuses labels with a typed error', () => {
  const index = FeatureIndex.open(dbPath);
  try {
    assert.throws(() => index.setLabel(1, 'x'), (e: unknown) => e instanceof FeatureIndexError && /read-only/.test(e.message));
  } finally {
    index.close();
  }
});

test('explainText per-token activations equal encode() on the same tokens', () => {
  const text = 'Lily and Ben went to the park. They saw many things there, and Lily laughed.';
  const r = explainText(model, tokenizer, sae, text, { perToken: 4, top: 8 });
  const ids = tokenizer.encode(text, { bos: true });
  const { activations } = runWithCache(model, ids, [HOOK]);
  const ref = encode(sae, activations.get(HOOK)!, ids.length);
  assert.deepEqual(r.tokens.map((t) => t.tokenId), ids.slice(1));
  const sum = new Float64Array(d);
  r.tokens.forEach((tok, i) => {
    const row = Array.from(ref.subarray((i + 1) * d, (i + 2) * d), (act, feature) => ({ feature, act })).filter((f) => f.act > 0);
    row.forEach((f) => (sum[f.feature] += f.act));
    row.sort((a, b) => b.act - a.act);
    assert.deepEqual(tok.features.map((f) => f.feature), row.slice(0, 4).map((f) => f.feature), `token ${i}`);
    assertAllClose(tok.features.map((f) => f.act), row.slice(0, 4).map((f) => f.act), { atol: 1e-5, rtol: 1e-5 });
  });
  for (const f of r.top) assert.ok(Math.abs(f.sum - sum[f.feature]) < 1e-4);
  assert.equal(r.top[0].sum, Math.max(...sum));
});

test('explainText runs a text longer than the model context in BOS-led pieces', () => {
  const text = readFileSync(validationTextPath(), 'utf8').slice(0, 4000);
  const ids = tokenizer.encode(text, { bos: false });
  const body = model.config.seqLen - 1;
  assert.ok(ids.length > body);
  const r = explainText(model, tokenizer, sae, text, { perToken: 3 });
  assert.equal(r.tokens.length, ids.length);
  // The second piece's first token is the first token after a fresh BOS.
  const piece = [tokenizer.bosId, ...ids.slice(body, 2 * body)];
  const z = encode(sae, runWithCache(model, piece, [HOOK]).activations.get(HOOK)!, piece.length);
  const row = Array.from(z.subarray(d, 2 * d), (act, feature) => ({ feature, act })).sort((a, b) => b.act - a.act);
  assert.deepEqual(r.tokens[body].features.map((f) => f.feature), row.slice(0, 3).map((f) => f.feature));
});

test('contrast ranks first the feature that fires on the one token set A has and set B lacks', () => {
  // For features across the dictionary: A = top contexts cut just after the feature's maximum, B =
  // the same texts without that last token, kept where the feature is the strongest one on that
  // token. The model is causal, so A and B share every activation but the last token's: the
  // feature clearly differs between the sets and must come out on top.
  const index = FeatureIndex.open(dbPath);
  let tried = 0;
  try {
    for (let f = 5; f < d && tried < 10; f += 41) {
      const text = (c: { tokens: string[] }, end: number): string => c.tokens.slice(0, end).filter((t) => t !== '<s>').join('');
      const cs = index
        .show(f)
        .contexts.filter((c) => c.maxPos >= 4 && explainText(model, tokenizer, sae, text(c, c.maxPos + 1), { perToken: 1 }).tokens.at(-1)!.features[0].feature === f)
        .slice(0, 8);
      if (cs.length < 3) continue;
      tried++;
      const a = cs.map((c) => text(c, c.maxPos + 1));
      const b = cs.map((c) => text(c, c.maxPos));
      const r = contrastTexts(model, tokenizer, sae, a, b, { top: 5 });
      assert.equal(r.towardA[0].feature, f, `feature ${f}: ${JSON.stringify(r.towardA.slice(0, 2))}`);
      assert.ok(r.towardA.every((x, i) => x.diff > 0 && (i === 0 || x.diff <= r.towardA[i - 1].diff)));
      assert.ok(r.towardB.every((x) => x.diff < 0));
      if (tried === 1) {
        // The set means are means of per-text token means, recomputed here by a full forward.
        const mean = (texts: string[]): number =>
          texts.reduce((acc, t) => {
            const ids = tokenizer.encode(t, { bos: true });
            const z = encode(sae, runWithCache(model, ids, [HOOK]).activations.get(HOOK)!, ids.length);
            let sum = 0;
            for (let i = 1; i < ids.length; i++) sum += z[i * d + f];
            return acc + sum / (ids.length - 1);
          }, 0) / texts.length;
        assertAllClose([r.towardA[0].meanA, r.towardA[0].meanB], [mean(a), mean(b)], { atol: 1e-6, rtol: 1e-5 });
      }
    }
  } finally {
    index.close();
  }
  assert.ok(tried >= 5, `only ${tried} features had such contexts`);
});

test('a garbage, truncated or foreign index file gives a typed error naming the file', () => {
  const garbage = join(dir, 'garbage.sqlite');
  writeFileSync(garbage, 'this is not a database\n'.repeat(100));
  assert.throws(() => FeatureIndex.open(garbage), (e: unknown) => e instanceof FeatureIndexError && e.message.startsWith(garbage) && /not a SQLite database/.test(e.message));
  const truncated = join(dir, 'truncated.sqlite');
  const bytes = readFileSync(dbPath);
  writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
  assert.throws(() => FeatureIndex.open(truncated), (e: unknown) => e instanceof FeatureIndexError && /truncated/.test(e.message));
  const corrupt = join(dir, 'corrupt.sqlite');
  const flipped = Buffer.from(bytes);
  flipped.fill(0xa5, 8192, 40960);
  writeFileSync(corrupt, flipped);
  // quick_check reports every damaged page on its own line; the error stays one line.
  assert.throws(() => FeatureIndex.open(corrupt), (e: unknown) => e instanceof FeatureIndexError && /corrupt database/.test(e.message) && !e.message.includes('\n'));
  assert.throws(() => FeatureIndex.open(join(dir, 'missing.sqlite')), (e: unknown) => e instanceof FeatureIndexError && /no such feature index/.test(e.message));
  assert.throws(() => FeatureIndex.open(dir), (e: unknown) => e instanceof FeatureIndexError && e.message === `${dir}: is a directory, expected a file`);
  // A FIFO with no writer: refused at once instead of an open that never returns.
  const fifo = join(dir, 'fifo.sqlite');
  execFileSync('mkfifo', [fifo]);
  assert.throws(() => FeatureIndex.open(fifo), (e: unknown) => e instanceof FeatureIndexError && e.message === `${fifo}: is a pipe; a feature index must be a regular file`);
  const other = randomSae(v6Config('topk', 64, d, { k: 16 }));
  assert.throws(() => FeatureIndex.open(dbPath, { sae: other }), (e: unknown) => e instanceof FeatureIndexError && /other SAE weights/.test(e.message));
});

test('damage quick_check does not see (a stored JSON column, the schema) is a typed error when the feature is read', () => {
  const damaged = (name: string, sql: string): string => {
    const path = join(dir, name);
    copyFileSync(dbPath, path);
    const db = new Database(path);
    db.unsafeMode(true);
    db.pragma('writable_schema = ON');
    db.exec(sql);
    db.close();
    return path;
  };
  const corruptOn = (path: string, read: (index: FeatureIndex) => unknown, pattern: RegExp) => {
    const index = FeatureIndex.open(path, { writable: true });
    try {
      assert.throws(() => read(index), (e: unknown) => e instanceof FeatureIndexError && e.message.startsWith(path) && pattern.test(e.message));
    } finally {
      index.close();
    }
  };
  const column = damaged('column.sqlite', "UPDATE contexts SET tokens = '[\"a\",' WHERE feature = 3");
  corruptOn(column, (i) => i.show(3), /is corrupt \(a stored JSON column does not parse/);
  corruptOn(column, (i) => i.setLabel(3, 'x'), /is corrupt/);
  const intact = FeatureIndex.open(column);
  assert.equal(intact.show(4).feature, 4, 'the other features still read');
  intact.close();
  const counts = damaged('counts.sqlite', "UPDATE histograms SET counts = '7' WHERE feature = 3");
  corruptOn(counts, (i) => i.show(3), /is not an array/);
  const schema = damaged('schema.sqlite', "UPDATE sqlite_master SET sql = replace(sql, 'max_act REAL NOT NULL, counts', 'max_axx REAL NOT NULL, counts') WHERE name = 'histograms'");
  corruptOn(schema, (i) => i.show(3), /is corrupt \(no such column: max_act\)/);
});
