/**
 * What every chart shares: the SVG document, title and subtitle, grid, axes with their ticks and
 * titles, and the legend. A chart draws its marks in plot coordinates (origin at the plot area's
 * top left, y down) and hands them to chartSvg, which sizes the margins around the plot area from
 * the text that goes there.
 *
 * The markup is plain and labelled so that it can be read back: each axis is a
 * <g class="axis axis-x|axis-y|axis-y2">, each tick a <g class="tick" transform="translate(…)">
 * holding its label, and the marks sit in <g class="plot" transform="translate(left,top)">.
 */
import type { Scale } from './scale.js';

export type Attrs = Record<string, string | number | undefined>;

/** Categorical colours (Tableau 10): distinct, none loud. */
export const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#9d755d'] as const;
export const DASH = '5 3';

const FONT = 'Helvetica, Arial, sans-serif';
const TITLE_SIZE = 14;
const SUBTITLE_SIZE = 11.5;
const LABEL_SIZE = 11;
const AXIS_TITLE_SIZE = 12;
const PAD = 10;
const TICK = 5;
const GAP = 3;
const INK = '#333';
const AXIS_INK = '#888';
const GRID = '#e8e8e8';
const MINOR_GRID = '#f4f4f4';
const LEGEND_ROW = 16;
const SWATCH = 18;

/** A coordinate with at most two decimals (a hundredth of a pixel), never "-0". */
export function num(v: number): string {
  const r = Math.round(v * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One element; numbers go through num(), undefined attributes are left out. */
export function el(name: string, attrs: Attrs, ...children: string[]): string {
  let open = `<${name}`;
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined) open += ` ${k}="${typeof v === 'number' ? num(v) : esc(v)}"`;
  }
  return children.length ? `${open}>${children.join('')}</${name}>` : `${open}/>`;
}

/** A generous estimate of rendered text width (0.6 em a character) for laying out margins. */
const textWidth = (s: string, size: number): number => s.length * size * 0.6;
const widest = (labels: readonly string[], size: number): number => Math.max(0, ...labels.map((l) => textWidth(l, size)));

export interface Axis {
  scale: Scale;
  label: string;
}

export interface LegendEntry {
  name: string;
  color: string;
  dashed?: boolean;
  point?: boolean;
}

export interface Frame {
  title: string;
  subtitle?: string;
  /** Plot area size in pixels; the scales' ranges run over it. */
  width: number;
  height: number;
  x: Axis;
  y: Axis;
  /** A second, independent y axis on the right. */
  y2?: Axis;
  /** Vertical grid lines at the x ticks (default true; a histogram's bars need none). */
  xGrid?: boolean;
  /** Drawn to the right of the plot when given. */
  legend?: readonly LegendEntry[];
  /** The marks, in plot coordinates. */
  marks: string;
}

function grid(f: Frame): string {
  const line = (attrs: Attrs, color: string) => el('line', { ...attrs, stroke: color });
  const parts: string[] = [];
  for (const v of f.y.scale.minor) parts.push(line({ x1: 0, x2: f.width, y1: f.y.scale.at(v), y2: f.y.scale.at(v) }, MINOR_GRID));
  for (const t of f.y.scale.ticks) parts.push(line({ x1: 0, x2: f.width, y1: f.y.scale.at(t.value), y2: f.y.scale.at(t.value) }, GRID));
  if (f.xGrid ?? true) for (const t of f.x.scale.ticks) parts.push(line({ x1: f.x.scale.at(t.value), x2: f.x.scale.at(t.value), y1: 0, y2: f.height }, GRID));
  return el('g', { class: 'grid', 'stroke-width': 1 }, ...parts);
}

function xAxis(f: Frame): string {
  const ticks = f.x.scale.ticks.map((t) =>
    el('g', { class: 'tick', transform: `translate(${num(f.x.scale.at(t.value))},0)` },
      el('line', { y2: TICK, stroke: AXIS_INK }),
      el('text', { y: TICK + GAP + LABEL_SIZE * 0.8, 'text-anchor': 'middle' }, esc(t.label))));
  const title = el('text', { class: 'axis-title', x: f.width / 2, y: TICK + GAP + LABEL_SIZE + 8 + AXIS_TITLE_SIZE * 0.8, 'text-anchor': 'middle', 'font-size': AXIS_TITLE_SIZE }, esc(f.x.label));
  return el('g', { class: 'axis axis-x', transform: `translate(0,${num(f.height)})`, 'font-size': LABEL_SIZE },
    el('line', { x2: f.width, stroke: AXIS_INK }), ...ticks, title);
}

/** A vertical axis at x = 0 (left, labels to its left) or x = width (right, labels to its right). */
function yAxis(f: Frame, a: Axis, side: 'left' | 'right'): string {
  const dir = side === 'left' ? -1 : 1;
  const ticks = a.scale.ticks.map((t) =>
    el('g', { class: 'tick', transform: `translate(0,${num(a.scale.at(t.value))})` },
      el('line', { x2: dir * TICK, stroke: AXIS_INK }),
      el('text', { x: dir * (TICK + GAP), y: LABEL_SIZE * 0.35, 'text-anchor': side === 'left' ? 'end' : 'start' }, esc(t.label))));
  const away = TICK + GAP + widest(a.scale.ticks.map((t) => t.label), LABEL_SIZE) + 8;
  // Rotated so that the glyphs lie on the side away from the plot: -90 on the left, 90 on the right.
  const title = el('text', { class: 'axis-title', transform: `translate(${num(dir * away)},${num(f.height / 2)}) rotate(${dir * 90})`, 'text-anchor': 'middle', 'font-size': AXIS_TITLE_SIZE }, esc(a.label));
  return el('g', { class: `axis ${side === 'left' ? 'axis-y' : 'axis-y2'}`, transform: side === 'left' ? undefined : `translate(${num(f.width)},0)`, 'font-size': LABEL_SIZE },
    el('line', { y2: f.height, stroke: AXIS_INK }), ...ticks, title);
}

/** Width taken by a y axis beside the plot: ticks, labels and its rotated title. */
const yAxisWidth = (a: Axis): number => TICK + GAP + widest(a.scale.ticks.map((t) => t.label), LABEL_SIZE) + 8 + AXIS_TITLE_SIZE;

function legend(entries: readonly LegendEntry[]): string {
  const rows = entries.map((e, i) => {
    const mid = i * LEGEND_ROW + LEGEND_ROW / 2;
    return el('g', { class: 'legend-entry' },
      el('line', { x1: 0, x2: SWATCH, y1: mid, y2: mid, stroke: e.color, 'stroke-width': 2, 'stroke-dasharray': e.dashed ? DASH : undefined }),
      e.point ? el('circle', { cx: SWATCH / 2, cy: mid, r: 3, fill: e.color }) : '',
      el('text', { x: SWATCH + 6, y: mid + LABEL_SIZE * 0.35 }, esc(e.name)));
  });
  return el('g', { class: 'legend', 'font-size': LABEL_SIZE }, ...rows);
}

const legendWidth = (entries: readonly LegendEntry[]): number => SWATCH + 6 + widest(entries.map((e) => e.name), LABEL_SIZE);

/** The whole SVG document around a plot area of f.width × f.height. */
export function chartSvg(f: Frame): string {
  const xLabels = f.x.scale.ticks.map((t) => t.label);
  const halfFirst = textWidth(xLabels[0] ?? '', LABEL_SIZE) / 2;
  const halfLast = textWidth(xLabels[xLabels.length - 1] ?? '', LABEL_SIZE) / 2;
  const y2Width = f.y2 ? yAxisWidth(f.y2) : 0;
  const legendAt = f.width + y2Width + (f.y2 ? 16 : 12);
  const left = PAD + Math.max(yAxisWidth(f.y), halfFirst);
  const right = PAD + Math.max(halfLast, y2Width, f.legend?.length ? legendAt - f.width + legendWidth(f.legend) : 0);
  const titleWidth = Math.max(textWidth(f.title, TITLE_SIZE), textWidth(f.subtitle ?? '', SUBTITLE_SIZE));
  const top = PAD + TITLE_SIZE + (f.subtitle ? 4 + SUBTITLE_SIZE : 0) + 14;
  const bottom = TICK + GAP + LABEL_SIZE + 8 + AXIS_TITLE_SIZE + PAD;
  const width = Math.ceil(Math.max(left + f.width + right, PAD + titleWidth + PAD));
  const height = Math.ceil(top + f.height + bottom);
  const heading = [
    el('text', { class: 'title', x: PAD, y: PAD + TITLE_SIZE * 0.8, 'font-size': TITLE_SIZE, 'font-weight': 'bold' }, esc(f.title)),
    f.subtitle ? el('text', { class: 'subtitle', x: PAD, y: PAD + TITLE_SIZE + 4 + SUBTITLE_SIZE * 0.8, 'font-size': SUBTITLE_SIZE, fill: '#666' }, esc(f.subtitle)) : '',
  ];
  const plot = el('g', { class: 'plot', transform: `translate(${num(left)},${num(top)})` },
    grid(f),
    f.marks,
    xAxis(f),
    yAxis(f, f.y, 'left'),
    f.y2 ? yAxis(f, f.y2, 'right') : '',
    f.legend?.length ? el('g', { transform: `translate(${num(legendAt)},0)` }, legend(f.legend)) : '');
  return el('svg', { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'font-family': FONT, fill: INK },
    el('title', {}, esc(f.title)),
    el('rect', { width, height, fill: 'white' }),
    ...heading,
    plot) + '\n';
}
