// e2e in real Chromium (Debian's /usr/bin/chromium; `playwright install` is never run).
// Each spec starts its own headless gateway (node main/cli.ts serve --port 0), so the
// specs run one at a time: the machine is small and every gateway is a real process.
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/browser.js';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: '../test-results',
  timeout: 180_000,
  expect: { timeout: 10_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: true,
  reporter: 'list',
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    viewport: { width: 1200, height: 800 },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
});
