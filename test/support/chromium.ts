import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BrowserContext, chromium } from 'playwright-core';

/** Debian's package, driven by playwright-core. CI installs it; only a developer machine without it skips. */
const CHROMIUM = '/usr/bin/chromium';
const available = fs.existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package`);

/** `describe` where Chromium is installed, `describe.skip` (with a warning) where it is not. */
export const describeBrowser = (name: string, fn: () => void): void => {
  if (available) return describe(name, fn);
  console.warn(`Skipping "${name}": ${CHROMIUM} not found (apt-get install chromium)`);
  describe.skip(name, fn);
};

export interface HeadlessChromium {
  browser: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Headless Chromium on a fresh, empty profile of its own. */
export async function launchChromium(): Promise<HeadlessChromium> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-chromium-'));
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
