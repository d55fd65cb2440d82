/**
 * Browser tests drive Debian's chromium through playwright-core (never a downloaded browser). Where
 * no chromium is installed the tests skip with a message saying so; CI installs it.
 */
import { existsSync, mkdirSync } from 'node:fs';
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
