// The Deploy panel in real Chromium against a headless gateway: a ticket's worktree holds a
// tiny Node dev server; Start shows install progress then the URL, the URL answers, Stop
// stops it.
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
  if (uiUnavailable) console.log(`skipped (e2e/previews.spec.ts): ${uiUnavailable}`);
  workspace = realpathSync(mkdtempSync(join(tmpdir(), 'symphony-e2e-previews-')));
});

test.afterAll(async () => {
  await gateway?.stop();
  rmSync(workspace, { recursive: true, force: true });
});

test("the Deploy panel starts a ticket's dev server, shows its URL and log, and stops it", async ({ page }, testInfo) => {
  test.skip(uiUnavailable !== null, uiUnavailable ?? '');
  const repo = join(workspace, 'shop');
  mkdirSync(repo);
  writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'shop', version: '1.0.0', private: true, scripts: { dev: 'node server.js' } }));
  writeFileSync(
    join(repo, 'server.js'),
    "require('node:http').createServer((q, s) => s.end('shop preview')).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('shop is up'));\n",
  );
  const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.test', ...args], { cwd, stdio: 'ignore' });
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'init');
  // The ticket's worktree, on the branch the ticket worktrees look for.
  git(repo, 'worktree', 'add', '-q', '-b', 'feature/SHOP-1', join(workspace, 'shop-SHOP-1'));

  const admin = await gateway.tokenClient();
  await admin.patchConfig({ workspaceRoot: workspace });
  await admin.addRepo(repo);

  const challenge = await gateway.pair(gateway.url);
  await page.goto(challenge.url!);
  // The ticket's page (Runs → Open a ticket) holds its dev server, with or without a run.
  await page.getByTestId('nav-runs').click();
  await page.getByTestId('ticket-id').fill('SHOP-1');
  await page.getByTestId('ticket-open').click();
  const panel = page.getByTestId('deploy-panel');
  await expect(panel).toHaveAttribute('data-status', 'not-started');
  await panel.getByTestId('deploy-start').click();

  const link = panel.getByTestId('deploy-url');
  await expect(link).toBeVisible({ timeout: 60_000 });
  await expect(panel).toHaveAttribute('data-status', 'completed');
  await expect(panel.getByTestId('deploy-log')).toContainText('shop is up');
  const url = (await link.getAttribute('href'))!;
  expect(url).toMatch(/^http:\/\/localhost:41\d\d$/);
  expect(await (await fetch(url)).text()).toBe('shop preview');
  await saveScreenshot(page, 'previews-running', testInfo);

  await panel.getByTestId('deploy-stop').click();
  await expect(panel).toHaveAttribute('data-status', 'not-started', { timeout: 20_000 });
  await expect(panel.getByTestId('deploy-start')).toBeVisible();
  await expect(fetch(url)).rejects.toThrow();
});
