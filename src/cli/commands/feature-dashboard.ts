/**
 * A feature dashboard for the terminal, the layout of Anthropic's and Neuronpedia's feature pages
 * (Bricken et al. 2023) in text: label and statistics, the activation histogram as a unicode bar
 * chart, top output tokens, top contexts with the maximum token marked, nearest features. With
 * colour (a TTY without NO_COLOR) the maximum is highlighted and other active tokens tinted;
 * without it the maximum is [[bracketed]].
 */
import type { ActivationHistogram } from '../../sae/feature-index/activation-histogram.js';
import type { FeatureDashboard } from '../../sae/feature-index/feature-index.js';
import type { OutputToken } from '../../sae/feature-index/output-tokens.js';

const BLOCKS = ' ▁▂▃▄▅▆▇█';
const CHART_ROWS = 4;
const ANSI = { max: '\x1b[1;30;43m', active: '\x1b[33m', dim: '\x1b[2m', bold: '\x1b[1m', reset: '\x1b[0m' };

/** Whether stdout takes ANSI colour (https://no-color.org). */
export const useColour = (): boolean => process.stdout.isTTY === true && !process.env.NO_COLOR;

export function formatDashboard(d: FeatureDashboard, source: string, colour: boolean): string {
  const b = (s: string): string => (colour ? `${ANSI.bold}${s}${ANSI.reset}` : s);
  const dim = (s: string): string => (colour ? `${ANSI.dim}${s}${ANSI.reset}` : s);
  const lines = [
    b(`feature ${d.feature}`) + dim(` · ${source}`),
    `label: ${d.label}` + dim(` (${d.labelSource})`),
    `density ${pct(d.density)} (${d.fireCount} tokens) · mean ${fmt(d.meanAct)} · mean when firing ${fmt(d.meanNonZeroAct)} · max ${fmt(d.maxAct)}`,
    '',
    b('activations when firing'),
    ...histogramChart(d.histogram),
    '',
    b('promotes   ') + outputList(d.positive),
    b('suppresses ') + outputList(d.negative),
    '',
    b('top contexts'),
    ...d.contexts.map((c) => `${fmt(c.maxAct).padStart(7)}  ${contextLine(c.tokens, c.acts, c.maxPos, colour)}`),
    '',
    b('nearest features (decoder cosine)'),
    ...d.neighbours.map((n) => `${String(n.feature).padStart(7)}  ${n.cosine.toFixed(3)}  ${n.label}`),
  ];
  return lines.join('\n') + '\n';
}

/** A bar per bin, CHART_ROWS lines tall in eighth-blocks, with the range under it. */
export function histogramChart(h: ActivationHistogram): string[] {
  const peak = Math.max(...h.counts);
  if (!(peak > 0)) return ['  (never fired)'];
  const eighths = h.counts.map((c) => Math.round((c / peak) * CHART_ROWS * 8));
  const rows: string[] = [];
  for (let r = CHART_ROWS - 1; r >= 0; r--) rows.push('  ' + eighths.map((e) => BLOCKS[Math.max(0, Math.min(8, e - r * 8))]).join(''));
  const axis = `0${' '.repeat(Math.max(1, h.counts.length - 1 - fmt(h.max).length))}${fmt(h.max)}`;
  return [...rows, `  ${axis}   (peak bin ${peak} tokens)`];
}

function outputList(tokens: readonly OutputToken[]): string {
  return tokens.map((t) => `${JSON.stringify(t.token)} ${t.value >= 0 ? '+' : ''}${t.value.toFixed(2)}`).join('  ');
}

/** Window tokens with the maximum marked; newlines shown as ↵ so each context stays on one line. */
export function contextLine(tokens: readonly string[], acts: readonly number[], maxPos: number, colour: boolean): string {
  return tokens
    .map((raw, i) => {
      const t = raw.replace(/\n/g, '↵');
      if (i === maxPos) return colour ? `${ANSI.max}${t}${ANSI.reset}` : `[[${t}]]`;
      return colour && acts[i] > 0 ? `${ANSI.active}${t}${ANSI.reset}` : t;
    })
    .join('');
}

const fmt = (x: number): string => (x === 0 ? '0' : Math.abs(x) >= 0.01 ? x.toFixed(3).replace(/\.?0+$/, '') : x.toExponential(2));
const pct = (x: number): string => `${(x * 100).toFixed(x < 0.001 ? 3 : 2)}%`;
