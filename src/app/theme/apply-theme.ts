/**
 * Puts a theme on the page: its palette as CSS custom properties on <html> (set through the CSSOM,
 * which the Content-Security-Policy allows, unlike inline style attributes), `color-scheme` for
 * native controls and scrollbars, and the text size. "system" follows the OS setting, live.
 */
import type { ThemeName } from '../../vault/vault-api.js';
import { PALETTES, paletteVariables, type PaletteName } from './palettes.js';

const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');
const contrastQuery = window.matchMedia('(prefers-contrast: more)');
let current: ThemeName = 'system';

export function applyTheme(theme: ThemeName, textSizePx: number): void {
  current = theme;
  const root = document.documentElement;
  const palette = resolvePalette(theme);
  for (const [name, value] of paletteVariables(PALETTES[palette])) root.style.setProperty(name, value);
  root.style.setProperty('--text-size', `${textSizePx}px`);
  root.style.colorScheme = palette === 'light' ? 'light' : 'dark';
  root.dataset.theme = palette;
}

function resolvePalette(theme: ThemeName): PaletteName {
  if (theme !== 'system') return theme;
  if (contrastQuery.matches) return 'contrast';
  return darkQuery.matches ? 'dark' : 'light';
}

for (const q of [darkQuery, contrastQuery]) {
  q.addEventListener('change', () => {
    if (current === 'system') applyTheme('system', parseFloat(document.documentElement.style.getPropertyValue('--text-size')) || 19);
  });
}
