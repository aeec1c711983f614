import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's chromium package (`apt-get install -y chromium`); .ci/run installs it when missing. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Whether the browser tests run: always under CI (a missing browser then fails loudly),
 * locally only when the browser is installed.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) return true;
  console.warn(`skipping the console's browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)`);
  return false;
}

/** Builds packages/web/dist when it is missing or older than its sources, as `npm start` does. */
export function buildConsole(): void {
  const script = fileURLToPath(new URL('../scripts/build-if-stale.mjs', import.meta.url));
  const result = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`building the console failed:\n${result.stderr}${result.stdout}`);
}

export async function launch(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}

/**
 * A laptop-sized tab whose uncaught page errors land in `errors` (tests assert there are none),
 * with a step timeout below the test's, so a step that never happens fails with what it waited for.
 */
export async function newPage(browser: Browser, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (err) => errors.push(err.message));
  return page;
}

const IMAGES = fileURLToPath(new URL('../../../docs/images/', import.meta.url));

/**
 * Saves a screenshot to docs/images only when QUIVER_SCREENSHOTS is set (`npm run screenshots`
 * in packages/web), so ordinary test runs leave the working tree alone.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (!process.env.QUIVER_SCREENSHOTS) return;
  mkdirSync(IMAGES, { recursive: true });
  await page.screenshot({ path: `${IMAGES}${name}.png`, fullPage: true });
}
