import { byId } from './dom.js';

/** Say `message` to screen readers through the page's polite live region (and nowhere else). */
export function announce(message: string): void {
  const region = byId('announcer');
  // Clearing first makes a repeated message be announced again.
  region.textContent = '';
  setTimeout(() => (region.textContent = message), 50);
}
