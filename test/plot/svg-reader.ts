/**
 * Reads a chart back the way a reader does: parses the SVG (a minimal XML parser: elements,
 * attributes, text, entity references — all the charts emit), reads each axis' tick labels as
 * numbers ("0.5M", "−3", "1e−5"), checks that the ticks sit where their labels say (affine in the
 * value, or in log10 of it), and maps mark coordinates back to data values through those ticks.
 * Nothing here calls the chart code's scales.
 */
import assert from 'node:assert/strict';

export interface SvgNode {
  name: string;
  attrs: Record<string, string>;
  children: SvgNode[];
  /** Text directly inside this element. */
  text: string;
}

const decode = (s: string): string =>
  s.replace(/&#(\d+);|&(amp|lt|gt|quot|apos);/g, (_, code: string | undefined, named: string | undefined) =>
    code ? String.fromCharCode(Number(code)) : ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[named!]);

/** Parses one SVG document; fails on anything unbalanced or left over. */
export function parseSvg(svg: string): SvgNode {
  const root: SvgNode = { name: '#document', attrs: {}, children: [], text: '' };
  const stack = [root];
  const tag = /<(\/?)([\w:-]+)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < svg.length && (m = tag.exec(svg))) {
    at = tag.lastIndex;
    const [, close, name, attrText, selfClose, text] = m;
    const top = stack[stack.length - 1];
    if (text !== undefined) {
      top.text += decode(text);
    } else if (close) {
      assert.equal(name, top.name, `</${name}> closes <${top.name}>`);
      stack.pop();
    } else {
      const attrs: Record<string, string> = {};
      for (const a of attrText.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1]] = decode(a[2]);
      const node: SvgNode = { name, attrs, children: [], text: '' };
      top.children.push(node);
      if (!selfClose) stack.push(node);
    }
  }
  assert.equal(at, svg.length, `unparsed from ${at}: ${svg.slice(at, at + 60)}`);
  assert.equal(stack.length, 1, `unclosed <${stack[stack.length - 1].name}>`);
  assert.equal(root.text.trim(), '', 'text outside the root element');
  assert.equal(root.children.length, 1, 'one root element');
  const svgRoot = root.children[0];
  assert.equal(svgRoot.name, 'svg');
  assert.equal(svgRoot.attrs.xmlns, 'http://www.w3.org/2000/svg');
  return svgRoot;
}

/** Every descendant (depth first, document order) that passes `pred`. */
export function findAll(node: SvgNode, pred: (n: SvgNode) => boolean): SvgNode[] {
  const out: SvgNode[] = [];
  const walk = (n: SvgNode): void => {
    for (const c of n.children) {
      if (pred(c)) out.push(c);
      walk(c);
    }
  };
  walk(node);
  return out;
}

export const hasClass = (cls: string) => (n: SvgNode): boolean => (n.attrs.class ?? '').split(/\s+/).includes(cls);

export function findOne(node: SvgNode, pred: (n: SvgNode) => boolean, what: string): SvgNode {
  const found = findAll(node, pred);
  assert.equal(found.length, 1, `exactly one ${what}, found ${found.length}`);
  return found[0];
}

/** All text in the document, in order (for "the title is there" checks). */
export function allText(node: SvgNode): string[] {
  return [node.text, ...node.children.flatMap(allText)].filter((t) => t.trim() !== '');
}

/** A tick label as a reader reads it: true minus sign, k/M/G suffixes, 1e−5 notation. */
export function readLabel(label: string): number {
  const s = label.replace(/\u2212/g, '-');
  const m = /^(-?[\d.]+(?:e-?\d+)?)([kMG]?)$/.exec(s);
  assert.ok(m, `tick label "${label}" is not a number`);
  return Number(m[1]) * ({ '': 1, k: 1e3, M: 1e6, G: 1e9 } as Record<string, number>)[m[2]];
}

function translate(node: SvgNode): [number, number] {
  const m = /translate\(([-\d.e]+),([-\d.e]+)\)/.exec(node.attrs.transform ?? '');
  assert.ok(m, `<${node.name} class="${node.attrs.class}"> has no translate()`);
  return [Number(m[1]), Number(m[2])];
}

export interface ReadAxis {
  /** [pixel, value] of each labelled tick, in document order. */
  ticks: [number, number][];
  /** The data value at a pixel position along this axis. */
  valueAt(pixel: number): number;
  /** Data units per pixel at a value (for tolerances: the value of a hundredth of a pixel). */
  unitsPerPixel(value: number): number;
}

/**
 * Reads the axis <g class="axis {cls}">: its ticks' positions (x for axis-x, y otherwise) and
 * labels, and checks that they lie on one affine map from value (log: log10 value) to pixel.
 */
export function readAxis(svg: SvgNode, cls: 'axis-x' | 'axis-y' | 'axis-y2', kind: 'linear' | 'log' = 'linear'): ReadAxis {
  const axis = findOne(svg, hasClass(cls), cls);
  const ticks = findAll(axis, hasClass('tick')).map((t): [number, number] => {
    const [x, y] = translate(t);
    return [cls === 'axis-x' ? x : y, readLabel(findOne(t, (n) => n.name === 'text', 'tick label').text)];
  });
  assert.ok(ticks.length >= 2, `${cls}: ${ticks.length} ticks`);
  const f = kind === 'log' ? Math.log10 : (v: number) => v;
  const [p0, v0] = ticks[0];
  const [p1, v1] = ticks[ticks.length - 1];
  const pxPerUnit = (p1 - p0) / (f(v1) - f(v0));
  for (const [p, v] of ticks) {
    const expected = p0 + (f(v) - f(v0)) * pxPerUnit;
    assert.ok(Math.abs(p - expected) < 0.02, `${cls}: tick "${v}" at ${p}, but the other ticks put it at ${expected}`);
  }
  const valueAt = (p: number): number => {
    const u = f(v0) + (p - p0) / pxPerUnit;
    return kind === 'log' ? 10 ** u : u;
  };
  return {
    ticks,
    valueAt,
    unitsPerPixel: (v) => (kind === 'log' ? Math.abs(v * Math.LN10 / pxPerUnit) : Math.abs(1 / pxPerUnit)),
  };
}

/** A series' drawn runs: each <path class="line"> as its points, and each dot on its own. */
export interface ReadSeries {
  lines: [number, number][][];
  dots: [number, number][];
  path: SvgNode[];
}

/** Reads <g class="series" data-series="name"> in pixel coordinates. */
export function readSeries(svg: SvgNode, name: string): ReadSeries {
  const g = findOne(svg, (n) => hasClass('series')(n) && n.attrs['data-series'] === name, `series "${name}"`);
  const path = findAll(g, hasClass('line'));
  const lines = path.map((p) => {
    const d = p.attrs.d;
    assert.match(d, /^(?:[ML]-?[\d.]+ -?[\d.]+)+$/, `path d of "${name}"`);
    assert.equal(d.match(/M/g)?.length, 1, 'one move per path, the rest lines');
    return [...d.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m): [number, number] => [Number(m[1]), Number(m[2])]);
  });
  const dots = findAll(g, hasClass('point')).map((c): [number, number] => [Number(c.attrs.cx), Number(c.attrs.cy)]);
  return { lines, dots, path };
}

/** Maps pixel points to data through an x and a y axis. */
export const toData = (points: readonly [number, number][], x: ReadAxis, y: ReadAxis): [number, number][] =>
  points.map(([px, py]) => [x.valueAt(px), y.valueAt(py)]);

/** Asserts read-back points equal the data to within the rounding of two coordinates (a hundredth of a pixel each). */
export function assertPointsClose(actual: readonly [number, number][], expected: readonly (readonly [number, number])[], x: ReadAxis, y: ReadAxis, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} points drawn, ${expected.length} in the data`);
  expected.forEach(([ex, ey], i) => {
    const [ax, ay] = actual[i];
    assert.ok(Math.abs(ax - ex) <= 0.012 * x.unitsPerPixel(ex), `${what}[${i}].x = ${ax}, data ${ex}`);
    assert.ok(Math.abs(ay - ey) <= 0.012 * y.unitsPerPixel(ey), `${what}[${i}].y = ${ay}, data ${ey}`);
  });
}
