import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PALETTES } from '../../src/app/theme/palettes.js';

// WCAG 2.x relative luminance and contrast ratio (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio).
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

test('the WCAG formula gives its known values', () => {
  assert.equal(contrast('#000000', '#ffffff').toFixed(0), '21');
  assert.equal(contrast('#767676', '#ffffff').toFixed(2), '4.54');
});

test('every theme: text, secondary text, ghost text, links and warnings reach 4.5:1 on the page and on panels', () => {
  for (const [name, p] of Object.entries(PALETTES)) {
    for (const fg of ['text', 'muted', 'ghost', 'accent', 'danger'] as const) {
      for (const bg of ['background', 'surface'] as const) {
        const ratio = contrast(p[fg], p[bg]);
        assert.ok(ratio >= 4.5, `${name}: ${fg} ${p[fg]} on ${bg} ${p[bg]} is ${ratio.toFixed(2)}:1`);
      }
    }
    for (const bg of ['selection', 'mark'] as const) {
      assert.ok(contrast(p.text, p[bg]) >= 4.5, `${name}: text on ${bg}`);
    }
    // The primary button: background-coloured text on the accent.
    assert.ok(contrast(p.background, p.accent) >= 4.5, `${name}: button text`);
  }
});
