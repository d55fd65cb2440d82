/**
 * The three colour themes as data. Quiet on purpose: warm paper and ink for light, a soft
 * charcoal for dark, pure black and white with a yellow accent for high contrast. Every foreground
 * here meets WCAG 2.x contrast ≥ 4.5:1 on both backgrounds (test/app/palettes.test.ts computes it),
 * ghost text included; ghost text is also italic, so it never depends on colour alone.
 */
export type PaletteName = 'light' | 'dark' | 'contrast';

export interface Palette {
  /** The page behind the text, and the slightly different surface of the side panels and dialogs. */
  background: string;
  surface: string;
  text: string;
  /** Secondary text: the note tree, status line, panel labels, markdown markup characters. */
  muted: string;
  /** Suggested (not yet accepted) text. */
  ghost: string;
  /** Links, the focus ring and the selected tree item. */
  accent: string;
  /** Hairlines between regions (decorative: not held to text contrast). */
  border: string;
  selection: string;
  /** Search matches. */
  mark: string;
  danger: string;
}

export const PALETTES: Record<PaletteName, Palette> = {
  light: {
    background: '#fbfaf7',
    surface: '#f3f1ec',
    text: '#26231f',
    muted: '#635e55',
    ghost: '#6a655c',
    accent: '#2a5a7a',
    border: '#e3dfd6',
    selection: '#dfe7ee',
    mark: '#f6e6a8',
    danger: '#9b2c1f',
  },
  dark: {
    background: '#1d1c1a',
    surface: '#252421',
    text: '#e4dfd4',
    muted: '#a59e91',
    ghost: '#a29b8e',
    accent: '#93b8d2',
    border: '#34322e',
    selection: '#34414b',
    mark: '#5b4d1e',
    danger: '#f0a290',
  },
  contrast: {
    background: '#000000',
    surface: '#0d0d0d',
    text: '#ffffff',
    muted: '#e6e6e6',
    ghost: '#d6d6d6',
    accent: '#ffd84a',
    border: '#9a9a9a',
    selection: '#1f4f8a',
    mark: '#6b5600',
    danger: '#ff9d8a',
  },
};

/** CSS custom properties for a palette (`--background`, `--text`, …), which app.css and the editor theme read. */
export function paletteVariables(p: Palette): [string, string][] {
  return Object.entries(p).map(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v]);
}
