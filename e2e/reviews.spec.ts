// The Reviews panel in real Chromium: a ticket's findings from two reviewers (stored
// through the gateway's own findings route), shown by severity with file:line, the pair
// the dedup rule finds, and a status the user changes, which the gateway then keeps.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { saveScreenshot } from './support/artifacts.js';
import { HeadlessGateway } from './support/gateway.js';

let gateway: HeadlessGateway;
let uiUnavailable: string | null = null;
let workspace: string;

test.beforeAll(async () => {
  gateway = await HeadlessGateway.start();
  uiUnavailable = await gateway.uiUnavailable();
  if (uiUnavailable) console.log(`skipped (e2e/reviews.spec.ts): ${uiUnavailable}`);
  workspace = realpathSync(mkdtempSync(join(tmpdir(), 'symphony-e2e-reviews-')));
});

test.beforeEach(() => {
  test.skip(uiUnavailable !== null, uiUnavailable ?? '');
});

test.afterAll(async () => {
  await gateway?.stop();
  rmSync(workspace, { recursive: true, force: true });
});

test("a ticket's findings by severity with file:line, the dedup pair, and a status change that sticks", async ({ page }, testInfo) => {
  const repo = join(workspace, 'shop');
  mkdirSync(repo);
  writeFileSync(join(repo, 'cart.js'), 'export const total = (items) => items.length;\n');
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.test', ...args], { cwd: repo, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'init');
  const admin = await gateway.tokenClient();
  await admin.patchConfig({ workspaceRoot: workspace });
  await admin.addRepo(repo);
  const token = await gateway.token();
  const save = async (provider: string, findings: unknown[]) => {
    const reply = await fetch(`${gateway.url}/api/gateway/codex/review-findings/SHOP-1?${new URLSearchParams({ repo, provider })}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Desktop-Gateway-Token': token },
      body: JSON.stringify({ findings, provider, model: 'e2e' }),
    });
    expect(reply.status).toBe(200);
  };
  await save('codex', [
    { severity: 'low', priority: 'P3', message: 'Unclear name\ntotal counts items, it does not sum prices.', file: 'cart.js', line: 1 },
    { severity: 'high', priority: 'P1', message: 'Total ignores prices\nThe total is the number of items, not the sum of their prices.', file: 'cart.js', line: 1 },
  ]);
  await save('claude', [{ severity: 'critical', message: 'Total ignores prices\nThe total is the number of items, not the sum of their prices.', file: 'cart.js', line: 1 }]);

  const challenge = await gateway.pair(gateway.url);
  await page.goto(challenge.url!);
  await page.getByTestId('nav-runs').click();
  await page.getByTestId('ticket-repo').selectOption(repo);
  await page.getByTestId('ticket-id').fill('SHOP-1');
  await page.getByTestId('ticket-open').click();

  const codex = page.getByTestId('findings-codex').getByTestId('finding');
  await expect(codex).toHaveCount(2);
  // Most severe first, whatever order the reviewer gave.
  await expect(codex.nth(0)).toHaveAttribute('data-severity', 'high');
  await expect(codex.nth(1)).toHaveAttribute('data-severity', 'low');
  await expect(codex.nth(0).getByTestId('finding-where')).toHaveText('cart.js:1');
  // The dedup rule pairs codex's second finding with claude's first, both ways.
  await expect(codex.nth(0).getByTestId('finding-duplicate')).toContainText('Same as claude finding #1');
  await expect(codex.nth(1).getByTestId('finding-duplicate')).toHaveCount(0);
  const claude = page.getByTestId('findings-claude').getByTestId('finding');
  await expect(claude.getByTestId('finding-duplicate')).toContainText('Same as codex finding #2');

  await codex.nth(1).getByTestId('finding-status').selectOption('dismissed');
  await expect(codex.nth(1)).toHaveAttribute('data-status', 'dismissed');
  const stored = await admin.reviewFindings('SHOP-1', repo, 'codex');
  expect(stored.findings.map((f) => f.status)).toEqual(['dismissed', 'open']);
  await saveScreenshot(page, 'reviews', testInfo);
});
