import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { engineRelatedNotes } from '../src/app-server/related/engine-related-notes.js';
import { splitDocuments } from '../src/model/documents.js';
import { trainSampleTextPath } from '../src/model/embedded.js';
import { loadModel } from '../src/model/load-model.js';
import { createApp } from '../src/serve/app.js';
import { EngineRef } from '../src/serve/serve-engine.js';
import { buildEngine, closeEngine } from '../src/serve/server.js';
import { Vault } from '../src/vault/vault.js';
import { emit, emitMachine, positiveInt, printTable, runMain } from './bench-utils.js';

/**
 * "Write like these notes" and "related notes" on the embedded model, through the same code the app
 * runs: POST /v1/vectors/style (stream: true) with `--kb` KB of TinyStories training documents as
 * the notes (target ≤ 30 s for 20 KB on 2 cores: the vector, then the effect's CE at each candidate
 * strength), time to its first progress event; and building the related-notes index of a new vault
 * of `--notes` such documents on the analysis thread.
 */

interface Opts {
  kb: number;
  notes: number;
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--kb <n>', 'kilobytes of notes to build the style vector from', positiveInt, 20)
    .option('--notes <n>', 'notes in the vault whose related-notes index is built', positiveInt, 200)
    .parse()
    .opts<Opts>();
  emitMachine('style-related');
  const docs = splitDocuments(readFileSync(trainSampleTextPath(), 'utf8'));
  const texts: string[] = [];
  for (let bytes = 0, i = 0; bytes < o.kb * 1000 && i < docs.length; i++) {
    texts.push(docs[i]);
    bytes += Buffer.byteLength(docs[i]);
  }
  const engines = new EngineRef();
  const engine = (engines.current = buildEngine(loadModel()));
  const app = createApp({ engines });
  const dir = mkdtempSync(join(tmpdir(), 'tinymorph-bench-related-'));
  try {
    const t0 = performance.now();
    let firstProgress = NaN;
    const res = await app.request('/v1/vectors/style', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'bench', texts, stream: true }) });
    const reader = res.body!.getReader();
    let body = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (Number.isNaN(firstProgress)) firstProgress = performance.now() - t0;
      body += new TextDecoder().decode(value);
    }
    const styleS = (performance.now() - t0) / 1000;
    const built = JSON.parse(body.split('\n').filter((l) => l.startsWith('data: {"name"'))[0].slice(6)) as { strength: number; effect: { clean_nats: number; steered_nats: number; tokens: number } };
    emit({ bench: 'style-vector', kb: o.kb, notes: texts.length, tokens: built.effect.tokens, seconds: styleS, first_progress_ms: firstProgress, strength: built.strength, clean_nats: built.effect.clean_nats, steered_nats: built.effect.steered_nats });

    for (let i = 0; i < o.notes; i++) {
      mkdirSync(join(dir, `F${i % 10}`), { recursive: true });
      writeFileSync(join(dir, `F${i % 10}`, `N${i}.md`), docs[(texts.length + i) % docs.length]);
    }
    const vault = new Vault(dir);
    const related = engineRelatedNotes(vault, engines);
    const t1 = performance.now();
    await related.index().update();
    const indexS = (performance.now() - t1) / 1000;
    related.index().related('F0/N0.md', 8); // weighs the profiles once
    const t2 = performance.now();
    for (let i = 0; i < 20; i++) related.index().related(`F${i % 10}/N${i}.md`, 8);
    const rankMs = (performance.now() - t2) / 20;
    vault.close();
    emit({ bench: 'related-index', notes: o.notes, build_seconds: indexS, rank_ms: rankMs });
    printTable('style vector and related notes (embedded model)', ['what', 'measured'], [
      [`style vector from ${o.kb} KB (${texts.length} notes, ${built.effect.tokens} tokens)`, `${styleS.toFixed(1)} s (first progress ${firstProgress.toFixed(0)} ms)`],
      ['  its effect: CE on the notes', `${built.effect.clean_nats.toFixed(3)} → ${built.effect.steered_nats.toFixed(3)} nats/token at strength ${built.strength}`],
      [`related-notes index of ${o.notes} new notes`, `${indexS.toFixed(1)} s`],
      ['  ranking one note against them (mean of 20)', `${rankMs.toFixed(1)} ms`],
    ]);
  } finally {
    await closeEngine(engine, 0);
    rmSync(dir, { recursive: true, force: true });
  }
}

await runMain(main);
