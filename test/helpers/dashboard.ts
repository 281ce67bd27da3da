/**
 * The dashboard in a real browser: builds renderer/dist when it is missing or older than its sources (Vite's
 * JS API, so `npm test` alone works on a fresh clone), and opens pages whose console, page errors and failed
 * requests are kept for failure messages.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { ROOT, waitFor } from './appliance.js';

const RENDERER = path.join(ROOT, 'renderer');
const BUILT = path.join(RENDERER, 'dist', 'index.html');
/** What the bundle is made of: the renderer and the contract it imports. */
const SOURCES = [
  path.join(RENDERER, 'src'),
  path.join(RENDERER, 'index.html'),
  path.join(RENDERER, 'vite.config.ts'),
  path.join(ROOT, 'main', 'contract', 'contract.ts'),
  path.join(ROOT, 'package-lock.json'),
];

function newestMtime(p: string): number {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

/** Whether renderer/dist is missing or older than any of its sources. */
export function dashboardStale(): boolean {
  const built = fs.statSync(BUILT, { throwIfNoEntry: false });
  return !built || Math.max(...SOURCES.map(newestMtime)) > built.mtimeMs;
}

/** Builds the dashboard with Vite when it is stale. The admin listener must start after this. */
export async function ensureDashboardBuilt(): Promise<'built' | 'fresh'> {
  if (!dashboardStale()) return 'fresh';
  const { build } = await import('vite');
  // Vitest sets NODE_ENV=test, and Vite would then build for development (React's development JSX runtime,
  // which the production react package does not have): build as `npm run build` does.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: path.join(RENDERER, 'vite.config.ts'), root: RENDERER, logLevel: 'warn' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  if (!fs.existsSync(BUILT)) throw new Error(`vite build did not write ${BUILT}`);
  return 'built';
}

export interface DashboardPage {
  page: Page;
  /** Console messages, page errors, failed requests and HTTP errors, in order. */
  log: string[];
  describe(): string;
}

export async function openDashboard(
  browser: Browser,
  url: string,
  viewport = { width: 1280, height: 800 },
): Promise<DashboardPage> {
  const page = await browser.newPage({ viewport });
  const log: string[] = [];
  page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (err) => log.push(`pageerror: ${err.message}`));
  page.on('requestfailed', (r) =>
    log.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`),
  );
  page.on('response', (r) => {
    if (r.status() >= 400) log.push(`http ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  await page.goto(url);
  return { page, log, describe: () => log.slice(-60).join('\n') };
}

/** `waitFor` in the test (not the page), with the page log in the error on timeout. */
export async function until<T>(
  d: DashboardPage,
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
): Promise<T> {
  try {
    return await waitFor(what, fn, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}\npage log:\n${d.describe()}`);
  }
}

/**
 * Waits for `l` to be visible; if it is not, a screenshot of the page goes to `dir` and the error carries the page
 * log.
 */
export async function visibleOrShot(
  d: DashboardPage,
  l: Locator,
  what: string,
  dir: string,
  timeoutMs = 15_000,
): Promise<void> {
  try {
    await l.first().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch {
    const shot = path.join(dir, `failed-${what.replace(/\W+/g, '-')}.png`);
    await d.page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
    throw new Error(`${what} did not appear (screenshot ${shot})\npage log:\n${d.describe()}`);
  }
}
