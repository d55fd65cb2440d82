import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { generate } from '../src/model/generate.js';
import { kvDim } from '../src/model/llama-config.js';
import { MATRIX_NAMES } from '../src/model/llama-weights.js';
import { loadModel } from '../src/model/load-model.js';
import { isQ80, weightBytes } from '../src/tensor/weight-matrix.js';
import type { ShapeName } from './bench-utils.js';
import { backendInfo, backendOption, emit, emitMachine, log, positiveInt, printTable, round, runMain, selectShapes, shapeFiles, shapeOption, withTempDir } from './bench-utils.js';

/**
 * Peak resident memory of loading a model and generating at batch 1, each case in a fresh child
 * process (this script re-run with --child) so that nothing else is resident: fp32, and Q8_0
 * quantised at load when loadModel accepts `{ quantize: 'q8_0' }`. Compared with the bound
 * 1.3 × file size + KV cache (2 × layers × seq_len × kvDim × 4 bytes, one row), and with a child
 * that imports the same code and loads nothing (node's own RSS).
 */

const MODES = ['baseline', 'f32', 'q8_0'] as const;
type Mode = (typeof MODES)[number];
const PROMPT = 'Once upon a time';
const BOUND_FACTOR = 1.3;

interface Opts {
  shape: ShapeName | 'all';
  tokens: number;
  seed: number;
  backend?: string;
  child?: Mode;
  model?: string;
  tokenizer?: string;
}

/** What a child reports on its last stdout line. */
interface ChildReport {
  mode: Mode;
  unsupported?: string;
  peakRss: number;
  /** How the peak was read. */
  source: string;
  rssAtEnd: number;
  fileBytes?: number;
  weightBytes?: number;
  kvBoundBytes?: number;
  backend?: string;
  tokens?: number;
}

/** Peak RSS of this process: VmHWM from /proc/self/status, else resourceUsage().maxRSS (KiB). */
function peakRss(): { bytes: number; source: string } {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return { bytes: Number(m[1]) * 1024, source: 'VmHWM' };
  } catch {
    // not Linux: fall through
  }
  return { bytes: process.resourceUsage().maxRSS * 1024, source: 'maxRSS' };
}

function child(opts: Opts): void {
  const mode = opts.child!;
  const report = (r: Omit<ChildReport, 'mode' | 'peakRss' | 'source' | 'rssAtEnd'>): void => {
    const p = peakRss();
    console.log(JSON.stringify({ mode, peakRss: p.bytes, source: p.source, rssAtEnd: process.memoryUsage.rss(), ...r }));
  };
  if (mode === 'baseline') return report({});
  const files = { model: opts.model!, tokenizer: opts.tokenizer! };
  const loaded = loadModel(mode === 'q8_0' ? { ...files, quantize: 'q8_0' } : files);
  const w = loaded.model.weights;
  if (mode === 'q8_0' && !isQ80(w.wq[0])) return report({ unsupported: "loadModel ignored { quantize: 'q8_0' } (weights stayed fp32)" });
  let bytes = w.tokenEmbedding.byteLength + w.rmsFinal.byteLength + w.rmsAtt.concat(w.rmsFfn).reduce((a, v) => a + v.byteLength, 0);
  for (const name of MATRIX_NAMES) bytes += w[name].reduce((a, m) => a + weightBytes(m), 0);
  if (w.classifier !== w.tokenEmbedding) bytes += weightBytes(w.classifier);
  const c = loaded.model.config;
  const [res] = generate(loaded.model, loaded.tokenizer, [{ prompt: PROMPT, maxTokens: opts.tokens, sampling: { temperature: 0 }, seed: 0, stopAtEndOfText: false }]);
  report({ fileBytes: loaded.fileBytes, weightBytes: bytes, kvBoundBytes: 2 * c.nLayers * c.seqLen * kvDim(c) * 4, backend: loaded.model.backend.name, tokens: res.tokens.length });
}

function runChild(mode: Mode, opts: Opts, files?: { model: string; tokenizer: string }): ChildReport {
  const args = [...process.execArgv, fileURLToPath(import.meta.url), '--child', mode, '--tokens', String(opts.tokens)];
  if (files) args.push('--model', files.model, '--tokenizer', files.tokenizer);
  const env = { ...process.env, ...(opts.backend ? { TINYMORPH_BACKEND: opts.backend } : {}) };
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  const last = r.stdout?.trim().split('\n').at(-1);
  if (r.status !== 0 || !last) throw new Error(`memory child (${mode}) failed (exit ${r.status ?? r.error?.message}): ${r.stderr?.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(last) as ChildReport;
}

const mb = (b: number): string => (b / 1e6).toFixed(1);

async function main(): Promise<void> {
  const program = new Command('memory')
    .description('Peak RSS of a child process that loads a model (fp32, and Q8_0 when loadModel supports it) and generates at batch 1, vs 1.3 × file size + KV cache.')
    .addOption(shapeOption('110m'))
    .option('--tokens <n>', 'tokens to generate at batch 1', positiveInt, 32)
    .option('--seed <n>', 'seed of the random weights', positiveInt, 1)
    .addOption(backendOption())
    .addOption(new Option('--child <mode>').choices([...MODES]).hideHelp())
    .addOption(new Option('--model <path>').hideHelp())
    .addOption(new Option('--tokenizer <path>').hideHelp())
    .parse();
  const opts = program.opts<Opts>();
  if (opts.child) return child(opts);
  emitMachine('memory');

  const base = runChild('baseline', opts);
  emit({ bench: 'memory', case: 'node baseline (code imported, nothing loaded)', peak_rss_bytes: base.peakRss, source: base.source });
  const rows: string[][] = [['-', 'node + tinymorph code, nothing loaded', mb(base.peakRss), '-', '-', '-', '-', '-', '-', '-']];
  await withTempDir('memory', (dir) => {
    for (const shape of selectShapes(opts.shape)) {
      const files = shapeFiles(shape, dir, opts.seed);
      if (!files) continue;
      for (const mode of ['f32', 'q8_0'] as const) {
        log(`${shape} ${mode}: loading and generating ${opts.tokens} tokens in a child process…`);
        const r = runChild(mode, opts, files);
        if (r.unsupported) {
          log(`skipping ${shape} ${mode}: ${r.unsupported}`);
          emit({ bench: 'memory', shape, weights: mode, skipped: r.unsupported });
          continue;
        }
        const bound = BOUND_FACTOR * r.fileBytes! + r.kvBoundBytes!;
        const within = r.peakRss <= bound;
        // The bound is about what the model costs; node itself takes tens of MB before loading anything.
        const withinAboveBaseline = r.peakRss - base.peakRss <= bound;
        emit({
          bench: 'memory',
          shape,
          weights: mode,
          ...backendInfo(r.backend!),
          peak_rss_bytes: r.peakRss,
          source: r.source,
          file_bytes: r.fileBytes,
          weight_bytes: r.weightBytes,
          kv_cache_bound_bytes: r.kvBoundBytes,
          bound_bytes: Math.round(bound),
          within_bound: within,
          within_bound_above_baseline: withinAboveBaseline,
          peak_over_file: round(r.peakRss / r.fileBytes!, 3),
          above_baseline_bytes: r.peakRss - base.peakRss,
          tokens: r.tokens,
        });
        rows.push([shape, mode, mb(r.peakRss), mb(r.peakRss - base.peakRss), mb(r.fileBytes!), mb(r.weightBytes!), mb(r.kvBoundBytes!), mb(bound), within ? 'yes' : 'NO', withinAboveBaseline ? 'yes' : 'NO']);
      }
    }
  });
  printTable(
    `peak RSS (MB = 10⁶ bytes) of load + ${opts.tokens} tokens at batch 1; bound = ${BOUND_FACTOR} × file + KV cache (2 × layers × seq_len × kvDim × 4)`,
    ['shape', 'weights', 'peak RSS', 'above baseline', 'file', 'weights in memory', 'KV cache', 'bound', 'within', 'within (above baseline)'],
    rows,
  );
}

await runMain(main);
