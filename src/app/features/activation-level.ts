/**
 * How strongly a feature fires on a token, as one of four steps the stylesheet draws (a tint and
 * an underline that both grow with the step, so intensity never rests on colour alone; app.css
 * `.act-1`…`.act-4`). Steps, not a continuous colour: the CSP allows no inline styles.
 */
export const ACTIVATION_LEVELS = 4;

/** 0 for no activation, else 1..4 by `act` as a fraction of `max`. */
export function activationLevel(act: number, max: number): number {
  if (!(act > 0) || !(max > 0)) return 0;
  return Math.min(ACTIVATION_LEVELS, Math.max(1, Math.ceil((act / max) * ACTIVATION_LEVELS)));
}

/** An activation for reading: two decimals, enough to compare tokens. */
export function formatActivation(act: number): string {
  return act.toFixed(2);
}

/** A token as text to show on its own: its spaces and line breaks made visible. */
export function visibleToken(token: string): string {
  return token.replace(/ /g, '·').replace(/\n/g, '↵');
}
