import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { createAppServer, listenAppServer } from '../src/app-server/app-server.js';
import { packageRoot } from '../src/util/package-root.js';
import { Vault } from '../src/vault/vault.js';
import { emit, positiveInt, printTable, runMain } from './bench-utils.js';
import { median } from './interleaved-repeats.js';
import { percentile } from './serve-client.js';

/**
 * The vault at the size issue 20 names: N notes (default 5,000) of a few hundred words each in 50
 * folders. Measures opening the vault (the first time, when the search index is built, and again,
 * when it is only checked), listing its tree, full-text search latency (p50/p95 over many queries;
 * target ≤ 100 ms), and, where Debian's chromium is installed, the time from loading the page to a
 * usable editor (the note's text shown, the tree listed; target ≤ 2 s).
 */

interface Opts {
  notes: number;
  queries: number;
  loads: number;
}

const WORDS = `garden river lantern morning harbour winter letter window orchard meadow silver candle thunder
pebble forest island ribbon violin marble shadow feather compass kettle blossom anchor canyon glacier
velvet saddle thistle walnut juniper falcon lagoon prairie quarry sparrow tundra willow yarrow zephyr
almond bramble cinder dapple ember fathom gossamer hollow inkwell jasmine kindle linen mosaic nectar`.split(/\s+/);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function writeVault(dir: string, n: number): void {
  const rand = rng(20);
  const word = (): string => WORDS[Math.floor(rand() * WORDS.length)];
  for (let i = 0; i < n; i++) {
    const folder = `Folder ${i % 50}`;
    mkdirSync(join(dir, folder), { recursive: true });
    const paragraphs = Array.from({ length: 4 }, () => Array.from({ length: 60 }, word).join(' ') + '.');
    writeFileSync(join(dir, folder, `Note ${i}.md`), `# Note ${i}\n\n${paragraphs.join('\n\n')}\n\nSee [[Note ${(i * 31) % n}]].\n`);
  }
}

async function pageLoadMs(dir: string, loads: number): Promise<number[] | undefined> {
  const { chromiumPath, launchBrowser } = await import('../test/app/browser.js');
  if (!chromiumPath) return undefined;
  const vault = new Vault(dir);
  const server = await listenAppServer(createAppServer({ vault, pageDir: join(packageRoot(), 'dist', 'app') }), '127.0.0.1', 0);
  const browser = await launchBrowser();
  const times: number[] = [];
  try {
    for (let i = 0; i < loads; i++) {
      const page = await browser.newPage();
      const t0 = performance.now();
      await page.goto(`${server.url}/?note=${encodeURIComponent('Folder 7/Note 7.md')}`);
      await page.waitForFunction(() => document.querySelector('.cm-content')?.textContent?.includes('Note 7') && document.querySelectorAll('[role=treeitem]').length > 0);
      times.push(performance.now() - t0);
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
    vault.close();
  }
  return times;
}

async function main(): Promise<void> {
  const o = new Command('bench-vault')
    .option('--notes <n>', 'notes in the vault', positiveInt, 5000)
    .option('--queries <n>', 'search queries to time', positiveInt, 300)
    .option('--loads <n>', 'page loads to time in chromium', positiveInt, 5)
    .parse()
    .opts<Opts>();
  const dir = join(mkdtempSync(join(tmpdir(), 'tinymorph-bench-vault-')), 'vault');
  try {
    let t = performance.now();
    writeVault(dir, o.notes);
    const writeMs = performance.now() - t;
    t = performance.now();
    new Vault(dir).close();
    const coldOpenMs = performance.now() - t;
    t = performance.now();
    const vault = new Vault(dir);
    const warmOpenMs = performance.now() - t;
    t = performance.now();
    const treeBytes = JSON.stringify(vault.tree()).length;
    const treeMs = performance.now() - t;
    const rand = rng(7);
    const searchMs: number[] = [];
    let hits = 0;
    for (let q = 0; q < o.queries; q++) {
      const a = WORDS[Math.floor(rand() * WORDS.length)];
      const b = WORDS[Math.floor(rand() * WORDS.length)];
      // Whole words, two-word queries and a prefix as it is being typed.
      const query = q % 3 === 0 ? a : q % 3 === 1 ? `${a} ${b}` : a.slice(0, 3);
      const s = performance.now();
      hits += vault.search(query).length;
      searchMs.push(performance.now() - s);
    }
    vault.close();
    const loads = await pageLoadMs(dir, o.loads);
    const rows: [string, string, string][] = [
      ['open vault, index built', `${coldOpenMs.toFixed(0)} ms`, ''],
      ['open vault, index current', `${warmOpenMs.toFixed(0)} ms`, ''],
      ['tree', `${treeMs.toFixed(1)} ms`, `${(treeBytes / 1024).toFixed(0)} KiB JSON`],
      ['search p50', `${median(searchMs).toFixed(2)} ms`, '≤ 100 ms'],
      ['search p95', `${percentile(searchMs, 95).toFixed(2)} ms`, '≤ 100 ms'],
      ['page → usable editor p50', loads ? `${median(loads).toFixed(0)} ms` : 'no chromium', '≤ 2000 ms'],
    ];
    emit({ bench: 'vault', notes: o.notes, write_ms: writeMs, open_cold_ms: coldOpenMs, open_warm_ms: warmOpenMs, tree_ms: treeMs, tree_bytes: treeBytes, search_queries: o.queries, search_hits: hits, search_p50_ms: median(searchMs), search_p95_ms: percentile(searchMs, 95), page_load_ms: loads ?? null });
    printTable(`vault of ${o.notes} notes`, ['measure', 'value', 'target'], rows);
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}

await runMain(main);
