/**
 * Sparsity–fidelity frontier of the shipped SAE sweep (issue 5, "Ship").
 *
 *   npx tsx scripts/sae-frontier.ts [sweep dir]   (default assets/saes/sweep)
 *
 * Reads <sweep dir>/<arch>-<param>/eval.json (written by `tinymorph sae eval`), writes
 * <sweep dir>/frontier.svg (explained_variance vs L0 and ce_loss_score vs L0, one series per
 * architecture) and prints a markdown table.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChartSvg, type LineSeries } from '../src/plot/line-chart.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';

interface Row {
  name: string;
  arch: string;
  param: string;
  l0: number;
  ev: number;
  ce: number;
  kl: number;
  dead: number;
}

const dir = process.argv[2] ?? 'assets/saes/sweep';
const rows: Row[] = [];
for (const name of readdirSync(dir).sort()) {
  const file = join(dir, name, 'eval.json');
  if (!existsSync(file)) continue;
  const e = JSON.parse(readFileSync(file, 'utf8'));
  const cut = name.indexOf('-');
  rows.push({
    name,
    arch: cut < 0 ? name : name.slice(0, cut),
    param: cut < 0 ? '' : name.slice(cut + 1).replace('_', ' = ').replace(/^k(\d)/, 'k = $1'),
    l0: e.sparsity.l0,
    ev: e.reconstruction_quality.explained_variance,
    ce: e.model_performance_preservation.ce_loss_score,
    kl: e.model_behavior_preservation.kl_div_score,
    dead: e.sparsity.dead_features_fraction,
  });
}
if (rows.length === 0) throw new Error(`no <arch>-<param>/eval.json under ${dir}`);
rows.sort((a, b) => a.arch.localeCompare(b.arch) || a.l0 - b.l0);

const archs = [...new Set(rows.map((r) => r.arch))];
const seriesOf = (metric: (r: Row) => number): LineSeries[] =>
  archs.map((a) => ({
    name: a,
    points: rows.filter((r) => r.arch === a).map((r) => [r.l0, metric(r)] as const),
  }));

const ev = lineChartSvg({
  title: 'explained_variance vs L0',
  subtitle: 'blocks.2.hook_resid_post, stories260K, held-out TinyStories validation text',
  x: { label: 'L0 (active latents per token)' },
  y: { label: 'explained_variance' },
  series: seriesOf((r) => r.ev),
  points: true,
  width: 520,
  height: 260,
});
const ce = lineChartSvg({
  title: 'ce_loss_score vs L0',
  subtitle: 'same SAEs; 1 = clean model, 0 = zero-ablation',
  x: { label: 'L0 (active latents per token)' },
  y: { label: 'ce_loss_score' },
  series: seriesOf((r) => r.ce),
  points: true,
  width: 520,
  height: 260,
});

/** Stacks standalone SVG documents vertically into one, each kept whole as a nested <svg> at its offset. */
function stack(svgs: string[]): string {
  let y = 0;
  let width = 0;
  const parts: string[] = [];
  for (const s of svgs) {
    const size = (name: string): number => Number(new RegExp(`^<svg[^>]*\\s${name}="([\\d.]+)"`).exec(s)?.[1] ?? 0);
    parts.push(s.trim().replace(/^<svg/, `<svg y="${y}"`));
    y += size('height');
    width = Math.max(width, size('width'));
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}">${parts.join('')}</svg>\n`;
}

writeFileAtomic(join(dir, 'frontier.svg'), stack([ev, ce]));

const f = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const lines = [
  '| arch | param | L0 | explained_variance | ce_loss_score | kl_div_score | dead fraction |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.arch} | ${r.param} | ${f(r.l0, 1)} | ${f(r.ev)} | ${f(r.ce)} | ${f(r.kl)} | ${f(r.dead)} |`),
];
process.stdout.write(lines.join('\n') + `\n\nwrote ${join(dir, 'frontier.svg')}\n`);
