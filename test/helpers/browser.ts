/** A real browser for playback tests: the system Chromium driven by playwright-core. */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.ECDN_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a quiet, headless Chromium that may autoplay media without a user gesture. */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--autoplay-policy=no-user-gesture-required',
];

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: 30_000,
  });
}
