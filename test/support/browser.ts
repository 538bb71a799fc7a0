/**
 * Headless Chromium for the console tests: Debian's `chromium` (installed by
 * .ci/run), driven by playwright-core, which never downloads a browser. No
 * Chromium on the machine: the tests skip, except under CI=true, where that
 * is a failure.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the console tests write their screenshots (git-ignored). */
export const SCREENSHOTS = join(new URL('../../..', import.meta.url).pathname, 'test-results', 'console');

export async function launchOrSkip(): Promise<{ browser: Browser } | { skip: string }> {
  if (!existsSync(CHROMIUM)) {
    const reason = `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
    if (process.env.CI === 'true') throw new Error(`${reason}: under CI=true the console tests must run`);
    return { skip: reason };
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  return { browser };
}
