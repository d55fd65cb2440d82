/**
 * Browser tests drive Debian's chromium through playwright-core (never a downloaded browser). Where
 * no chromium is installed the tests skip with a message saying so; CI installs it.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { packageRoot } from '../../src/util/package-root.js';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The chromium executable, or undefined (tests then skip with `NO_CHROMIUM`). */
export const chromiumPath = CANDIDATES.find((p): p is string => !!p && existsSync(p));
export const NO_CHROMIUM = 'no chromium executable found (apt-get install chromium, or set CHROMIUM_PATH)';

export async function launchBrowser(): Promise<Browser> {
  // Chromium's sandbox cannot start as root (containers, CI); the pages here are our own.
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  return chromium.launch({ executablePath: chromiumPath, args });
}

/** Console errors the page logs (CSP violations among them), collected for a final check. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

/** Where the test run leaves screenshots for review (gitignored). */
export function screenshotDir(): string {
  const dir = join(packageRoot(), 'test-output', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Poll `fn` until it returns a truthy value or `timeoutMs` passes; the last value otherwise. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 5000, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await fn();
  while (!v && Date.now() < end) {
    await new Promise((r) => setTimeout(r, stepMs));
    v = await fn();
  }
  return v;
}

const AXE_SOURCE = (): string => readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical violations on the page as it is now (the whole document, or the
 * parts `include` names as CSS selectors), one line each, so a test can assert the list is empty.
 */
export async function seriousAxeViolations(page: Page, include?: string[]): Promise<string[]> {
  await page.evaluate(AXE_SOURCE());
  return page.evaluate(async (parts) => {
    type Violation = { id: string; impact: string; help: string; nodes: { target: string[] }[] };
    const axe = (window as unknown as { axe: { run(c: object, o: object): Promise<{ violations: Violation[] }> } }).axe;
    const r = await axe.run(parts ? { include: parts.map((p) => [p]) } : document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }, include);
}
