/**
 * Redraws an SAE folder's plots from the data saved beside them, without retraining: loss.svg and
 * l0.svg from training_log.jsonl (the trainer's history, which `sae train` plots), and
 * feature_density.svg from eval.json's histogram (as `sae eval` draws it). For a change to the
 * charts' code; a folder without one of those files keeps the plots that came from it.
 *
 *   npx tsx scripts/redraw-sae-plots.ts [folder …]   (default: every folder under assets/saes with a cfg.json)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TRAINING_LOG_FILE, type TrainingLogEntry } from '../src/sae/training/trainer.js';
import { DENSITY_PLOT_FILE, heldOutDensityPlotSvg, L0_PLOT_FILE, l0PlotSvg, LOSS_PLOT_FILE, lossPlotSvg } from '../src/sae/training/training-plots.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';

function saeFolders(root: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(root, entry.name);
    if (existsSync(join(dir, 'cfg.json'))) found.push(dir);
    else found.push(...saeFolders(dir));
  }
  return found.sort();
}

const folders = process.argv.length > 2 ? process.argv.slice(2) : saeFolders('assets/saes');
for (const dir of folders) {
  const written: string[] = [];
  const log = join(dir, TRAINING_LOG_FILE);
  if (existsSync(log)) {
    const history: TrainingLogEntry[] = readFileSync(log, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    writeFileAtomic(join(dir, LOSS_PLOT_FILE), lossPlotSvg(history));
    writeFileAtomic(join(dir, L0_PLOT_FILE), l0PlotSvg(history));
    written.push(LOSS_PLOT_FILE, L0_PLOT_FILE);
  }
  const evalFile = join(dir, 'eval.json');
  if (existsSync(evalFile)) {
    const e = JSON.parse(readFileSync(evalFile, 'utf8'));
    writeFileAtomic(join(dir, DENSITY_PLOT_FILE), heldOutDensityPlotSvg(e.feature_metrics.feature_density_histogram, e.token_stats.contexts));
    written.push(DENSITY_PLOT_FILE);
  }
  process.stdout.write(`${dir}: ${written.length ? written.join(', ') : 'nothing to redraw from'}\n`);
}
