// Screenshots of each screen, kept as test artifacts under e2e/artifacts/ (gitignored).
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page, TestInfo } from '@playwright/test';

export const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));

/** Saves `e2e/artifacts/NAME.png` (the whole page unless `fullPage: false`) and attaches it. */
export async function saveScreenshot(page: Page, name: string, testInfo: TestInfo, { fullPage = true } = {}): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = `${ARTIFACTS_DIR}${name}.png`;
  // Relative times ("5 s ago") tick; the caret blinks. Neither should make shots differ.
  await page.screenshot({ path, fullPage, animations: 'disabled', caret: 'hide' });
  await testInfo.attach(name, { path, contentType: 'image/png' });
  return path;
}
