// The packaged shape of the product: the Electron app opens its window on app://symphony,
// pairs the renderer over IPC (window.symphony.pair) and shows the screens. Electron's
// binary cannot be downloaded on every machine (not on this one): the test then skips
// and says why.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, expect, test } from '@playwright/test';
import { saveScreenshot } from './support/artifacts.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The Electron executable, found the way node_modules/electron/index.js finds it but
 * without its fallback of downloading one.
 */
function electronExecutable(): { path: string } | { reason: string } {
  const dir = join(ROOT, 'node_modules', 'electron');
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return { reason: 'the Electron binary is not installed (node_modules/electron/path.txt is missing; `npm start` fetches it where the network allows)' };
  const executable = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(executable) ? { path: executable } : { reason: `the Electron binary ${executable} is missing` };
}

test('the Electron app pairs its window over IPC and shows the screens', async () => {
  const testInfo = test.info();
  const found = electronExecutable();
  if ('reason' in found) console.log(`skipped (e2e/electron.spec.ts): ${found.reason}`);
  test.skip('reason' in found, 'reason' in found ? found.reason : '');
  if ('reason' in found) return;

  const mainJs = join(ROOT, 'dist', 'main', 'app', 'main.js');
  if (!existsSync(mainJs)) throw new Error('dist/main/app/main.js is missing: run `npm run build` first.');
  const userData = mkdtempSync(join(tmpdir(), 'symphony-e2e-electron-'));
  const app = await electron.launch({
    executablePath: found.path,
    args: [mainJs, `--user-data-dir=${userData}`, '--no-sandbox', '--disable-gpu'],
    cwd: ROOT,
  });
  try {
    const window = await app.firstWindow();
    await expect(window.getByTestId('screen-approvals')).toBeVisible();
    expect(window.url()).toMatch(/^app:\/\/symphony\/ui\//);
    // The renderer's session is listed as the desktop window, bound to its own origin.
    await window.getByTestId('nav-pairing').click();
    await expect(window.locator('[data-testid=session-row][data-origin="app://symphony"]')).toHaveCount(1);
    await saveScreenshot(window, 'electron-pairing', testInfo);
  } finally {
    await app.close();
    rmSync(userData, { recursive: true, force: true });
  }
});
