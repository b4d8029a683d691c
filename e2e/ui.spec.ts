// The desktop UI served by the headless gateway at /ui/, driven in real Chromium:
// pairing from the URL `symphony-gateway pair` prints, approvals raised by another
// client, policy and rules, revoking sessions, and what a revoked page shows.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page, type Response } from '@playwright/test';
import { BINARY_NAMES, GatewayError } from '../shared/client.js';
import { saveScreenshot } from './support/artifacts.js';
import { HeadlessGateway, OriginClient } from './support/gateway.js';

const OTHER_ORIGIN = 'https://other.example.test';
const FORCE = (reason: string) => ({
  'X-Desktop-Force-Approval': '1',
  'X-Desktop-Approval-Reason': reason,
  'X-Desktop-Source': 'Symphony cloud executor',
});

let gateway: HeadlessGateway;
let uiUnavailable: string | null = null;

test.beforeAll(async () => {
  gateway = await HeadlessGateway.start();
  uiUnavailable = await gateway.uiUnavailable();
  if (uiUnavailable) console.log(`skipped (e2e/ui.spec.ts): ${uiUnavailable}`);
});

test.beforeEach(() => {
  test.skip(uiUnavailable !== null, uiUnavailable ?? '');
});

test.afterAll(async () => {
  await gateway?.stop();
});

/** Opens the URL `pair` prints for the gateway's own origin; resolves once the UI is paired. */
async function openPairedUi(page: Page): Promise<Response | null> {
  const challenge = await gateway.pair(gateway.url);
  expect(challenge.url, 'pair prints a /ui/ URL for the gateway origin').toBe(
    `${gateway.url}/ui/#challenge=${encodeURIComponent(challenge.challengeToken)}`,
  );
  const response = await page.goto(challenge.url!);
  await expect(page.getByTestId('screen-approvals')).toBeVisible();
  return response;
}

test('pairs from the printed URL and keeps the token out of the URL and storage', async ({ page }) => {
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  const response = await openPairedUi(page);
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  expect(page.url(), 'the fragment is removed once used').toBe(`${gateway.url}/ui/`);
  // The session token lives in memory only: no cookie, no localStorage, no sessionStorage.
  const storage = await page.context().storageState({ indexedDB: true });
  expect(storage.cookies).toEqual([]);
  expect(storage.origins).toEqual([]);
  expect(await page.evaluate('sessionStorage.length')).toBe(0);

  // The same URL a second time: the challenge was single use.
  const challenge = await gateway.pair(gateway.url);
  const second = await page.context().newPage();
  await second.goto(challenge.url!);
  await expect(second.getByTestId('screen-approvals')).toBeVisible();
  const reused = await page.context().newPage();
  await reused.goto(challenge.url!);
  await expect(reused.getByTestId('not-paired')).toHaveAttribute('data-phase', 'failed');

  // Every screen renders under the strict CSP (no inline script or style).
  for (const screen of ['pairing', 'activity', 'repos', 'binaries', 'processes', 'approvals']) {
    await page.getByTestId(`nav-${screen}`).click();
    await expect(page.getByTestId(`screen-${screen}`)).toBeVisible();
  }
  expect(cspViolations).toEqual([]);
});

test('a request from another client waits for the UI; allow, deny, and revoke', async ({ page }, testInfo) => {
  await openPairedUi(page);
  const other = await OriginClient.pair(gateway, OTHER_ORIGIN);
  expect((await other.request('/api/gateway/version')).status).toBe(200);

  const waiting = other.request('/api/gateway/health-check', {
    headers: FORCE('Check the gateway before launching ticket SYM-7'),
  });
  const card = page.getByTestId('approval');
  await expect(card).toHaveCount(1);
  await expect(card.getByTestId('approval-operation')).toHaveText('health_check');
  await expect(card.getByTestId('approval-caller')).toContainText(OTHER_ORIGIN);
  await expect(card.getByTestId('approval-claims')).toContainText('not verified');
  await expect(card.getByTestId('approval-claims')).toContainText('Check the gateway before launching ticket SYM-7');
  await expect(card.getByTestId('approval-claims')).toContainText('Symphony cloud executor');
  await expect(page.getByTestId('pending-count')).toHaveText('1');
  await saveScreenshot(page, 'approvals', testInfo);
  // The README's picture (docs/screenshot.png is a copy of this one).
  await saveScreenshot(page, 'readme', testInfo, { fullPage: false });

  await card.getByTestId('allow-once').click();
  const allowed = await waiting;
  expect(allowed.status).toBe(200);
  expect(allowed.json).toMatchObject({ allRequiredPassed: expect.any(Boolean), checks: expect.any(Array) });
  await expect(card).toHaveCount(0);

  const denied = other.request('/api/gateway/version', { headers: FORCE('Just checking') });
  await expect(card).toHaveCount(1);
  await card.getByTestId('deny').click();
  const deniedReply = await denied;
  expect(deniedReply.status).toBe(403);

  await page.getByTestId('nav-activity').click();
  await expect(page.locator('[data-testid=activity-row][data-operation=health_check]')).toBeVisible();
  await saveScreenshot(page, 'activity', testInfo);

  await page.getByTestId('nav-pairing').click();
  const row = page.locator(`[data-testid=session-row][data-origin="${OTHER_ORIGIN}"]`);
  await expect(row).toHaveCount(1);
  await expect(page.getByTestId('api-key-status')).toContainText('not set');
  await saveScreenshot(page, 'pairing', testInfo);
  await row.getByTestId('revoke-session').click();
  await expect(row).toHaveCount(0);
  const afterRevoke = await other.request('/api/gateway/version');
  expect(afterRevoke.status).toBe(401);
});

test('a paired origin repointing a binary waits for approval; the change then shows', async ({ page }, testInfo) => {
  await openPairedUi(page);
  const other = await OriginClient.pair(gateway, OTHER_ORIGIN);
  const admin = await gateway.tokenClient();
  const gitPath = (await admin.getBinaryPaths()).binaries.git.path;
  expect(gitPath, 'git is on PATH').toBeTruthy();

  const waiting = other.request('/api/gateway/settings/binary-paths', {
    method: 'PATCH',
    json: { binaryPaths: { git: gitPath } },
  });
  const card = page.getByTestId('approval');
  await expect(card.getByTestId('approval-operation')).toHaveText('binary_paths_settings');
  await expect(card).toContainText('PATCH /api/gateway/settings/binary-paths');
  // One row per value asked for, the raw JSON one click away.
  await expect(card.getByTestId('approval-args').locator('dt')).toHaveText(['binaryPaths.git']);
  await expect(card.getByTestId('approval-args').locator('dd')).toHaveText([gitPath!]);
  await expect(card.getByTestId('approval-raw')).toBeHidden();
  await card.getByTestId('allow-once').click();
  const applied = await waiting;
  expect(applied.status).toBe(200);

  await page.getByTestId('nav-binaries').click();
  const row = page.locator('[data-testid=binary-row][data-binary=git]');
  await expect(row.getByTestId('binary-source')).toHaveText('override');
  await expect(row.getByTestId('binary-path')).toContainText(gitPath!);
  await saveScreenshot(page, 'binaries-override', testInfo);
  // The desktop itself may change it without asking: clear the override from the UI.
  await row.getByRole('button', { name: 'clear' }).click();
  await expect(row.getByTestId('binary-source')).not.toHaveText('override');
  expect((await admin.getBinaryPaths()).binaries.git.override).toBeNull();
});

test('the Agents screen: the sandbox switch says what off means, and a secret agent variable is never shown', async ({ page }, testInfo) => {
  await openPairedUi(page);
  const admin = await gateway.tokenClient();
  await page.getByTestId('nav-agents').click();
  const state = page.getByTestId('agent-sandbox-state');
  await expect(state).toHaveAttribute('data-enabled', 'true');
  // What the sandbox does not cover is said beside it (gone with the sandbox off: then nothing holds).
  await expect(state.getByTestId('agent-sandbox-limitation')).toContainText("a command you approve runs outside codex's own sandbox");
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByTestId('agent-sandbox-toggle').click();
  await expect(state).toHaveAttribute('data-enabled', 'false');
  await expect(state).toContainText('whole home folder');
  await expect(state.getByTestId('agent-sandbox-limitation')).toHaveCount(0);
  expect((await admin.getConfig()).agentConfinement.enabled).toBe(false);
  await saveScreenshot(page, 'agents-sandbox-off', testInfo);
  await page.getByTestId('agent-sandbox-toggle').click();
  await expect(state).toHaveAttribute('data-enabled', 'true');

  const form = page.getByTestId('agent-env-form');
  await form.getByLabel('Variable name').fill('CORP_API_KEY');
  await form.getByLabel('Value').fill('sk-e2e-secret-42');
  await form.getByRole('button', { name: 'Set' }).click();
  const row = page.locator('[data-testid=agent-env-row][data-name=CORP_API_KEY]');
  await expect(row).toContainText('secret, set');
  expect(await page.content()).not.toContain('sk-e2e-secret-42');
  await row.getByRole('button', { name: 'Remove' }).click();
  await expect(row).toHaveCount(0);
  expect((await admin.getConfig()).agentEnv.entries.some((entry) => entry.name === 'CORP_API_KEY')).toBe(false);

  // The caps on a paired web app: agents at once is stored and shown.
  const limits = page.getByTestId('agent-limits');
  await expect(limits.getByLabel('Agents at once')).toHaveValue('4');
  await limits.getByLabel('Agents at once').fill('2');
  await page.getByTestId('limits-save').click();
  await expect.poll(async () => (await admin.getConfig()).limits.concurrentAgents).toBe(2);
  await admin.patchConfig({ limits: { concurrentAgents: 4 } });
});

test('policy edits and "allow always" rules take effect', async ({ page }, testInfo) => {
  await openPairedUi(page);
  const other = await OriginClient.pair(gateway, OTHER_ORIGIN);

  // A paired origin may read health_check freely; make it ask.
  await page.getByTestId('policy-caller').selectOption('origin');
  const policyRow = page.locator('[data-testid=policy-row][data-key="origin|health_check|"]');
  await policyRow.locator('[data-testid=policy-decision][data-access=read]').selectOption('ask');
  await page.getByTestId('save-policies').click();
  await expect(page.getByTestId('save-policies')).toBeDisabled();
  await expect(policyRow).toContainText('yours');

  const waiting = other.request('/api/gateway/version');
  const card = page.getByTestId('approval');
  await expect(card).toHaveCount(1);
  await expect(card.getByTestId('approval-claims')).toHaveCount(0);
  await card.getByTestId('rule-expiry').selectOption(String(3600));
  await card.getByTestId('allow-always').click();
  expect((await waiting).status).toBe(200);

  const rule = page.getByTestId('rule-row');
  await expect(rule).toHaveCount(1);
  await expect(rule).toContainText('/api/gateway/version');
  await expect(rule).toContainText(OTHER_ORIGIN);
  // The rule lets the same request through without asking.
  expect((await other.request('/api/gateway/version')).status).toBe(200);
  await saveScreenshot(page, 'approvals-policy', testInfo);

  await rule.getByTestId('delete-rule').click();
  await expect(rule).toHaveCount(0);
  const asksAgain = other.request('/api/gateway/version');
  await expect(card).toHaveCount(1);
  await card.getByTestId('deny').click();
  expect((await asksAgain).status).toBe(403);
});

test('the other screens show what the gateway reports', async ({ page }, testInfo) => {
  await openPairedUi(page);
  const admin = await gateway.tokenClient();
  const screens = [
    { id: 'repos', row: 'repo-row', count: () => admin.listRepos().then((r) => r.repos.length) },
    // The screen lists every tool the gateway resolves, found or not.
    { id: 'binaries', row: 'binary-row', count: () => admin.getBinaryPaths().then(() => BINARY_NAMES.length) },
    { id: 'processes', row: 'process-row', count: () => admin.listProcesses().then((r) => r.processes.length) },
  ] as const;
  for (const screen of screens) {
    const expected = await screen.count().catch((error: unknown) => error);
    await page.getByTestId(`nav-${screen.id}`).click();
    const section = page.getByTestId(screen.id);
    await expect(section).toBeVisible();
    if (expected instanceof GatewayError) {
      // A route that is not there (or fails) shows the gateway's error, not an endless spinner.
      await expect(section.getByRole('alert')).toContainText(expected.code);
    } else if (expected === 0) {
      await expect(section.locator('.empty')).toBeVisible();
    } else {
      await expect(page.getByTestId(screen.row)).toHaveCount(expected as number);
    }
    await expect(section.getByText('Loading…')).toHaveCount(0);
    await saveScreenshot(page, screen.id, testInfo);
  }
  // The page's icon is inline: the browser asked the gateway for no favicon (no 404 in Activity).
  const { entries } = await admin.activity({ limit: 500 });
  expect(entries.length).toBeGreaterThan(0);
  expect(entries.filter((e) => e.path.includes('favicon'))).toEqual([]);
});

test('a repository added on the Repositories screen is managed, then forgotten', async ({ page }, testInfo) => {
  const workspace = mkdtempSync(join(tmpdir(), 'symphony-e2e-workspace-'));
  try {
    const repoDir = join(workspace, 'demo-app');
    mkdirSync(repoDir);
    writeFileSync(join(repoDir, 'package.json'), '{"name":"demo-app"}\n');
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.test', ...args], { cwd: repoDir, stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-q', '-m', 'init');

    await openPairedUi(page);
    await page.getByTestId('nav-pairing').click();
    await page.getByTestId('workspace-root').fill(workspace);
    await page.getByTestId('save-config').click();
    await expect(page.getByTestId('config-form').getByRole('status')).toHaveText('Saved.');

    await page.getByTestId('nav-repos').click();
    await page.getByTestId('repo-path').fill(repoDir);
    await page.getByTestId('add-repo-submit').click();
    const row = page.getByTestId('repo-row').filter({ hasText: 'demo-app' });
    await expect(row).toHaveCount(1);
    await expect(row).toContainText('node');
    await expect(row).toContainText('main');
    const admin = await gateway.tokenClient();
    expect((await admin.listRepos()).repos.map((repo) => repo.name)).toContain('demo-app');
    await saveScreenshot(page, 'repos-added', testInfo);

    await row.getByTestId('forget-repo').click();
    await expect(row).toHaveCount(0);
    expect((await admin.listRepos()).repos).toEqual([]);
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});

test('a revoked UI session says so and how to pair again', async ({ page }, testInfo) => {
  await openPairedUi(page);
  const admin = await gateway.tokenClient();
  const { sessions } = await admin.listSessions();
  const own = sessions.filter((s) => s.kind === 'renderer');
  expect(own.length).toBeGreaterThan(0);
  for (const session of own) await admin.revokeSession(session.id);

  // The approvals poll (every second) hits 401.
  await expect(page.getByTestId('not-paired')).toHaveAttribute('data-phase', 'ended');
  await expect(page.getByRole('heading', { name: 'Paired session ended' })).toBeVisible();
  await expect(page.getByTestId('pair-command')).toHaveText(`symphony-gateway pair --origin ${gateway.url}`);
  await saveScreenshot(page, 'session-ended', testInfo);
});

test('a page opened without a challenge explains how to pair', async ({ page }) => {
  await page.goto(`${gateway.url}/ui/`);
  await expect(page.getByTestId('not-paired')).toHaveAttribute('data-phase', 'unpaired');
  await expect(page.getByTestId('pair-command')).toHaveText(`symphony-gateway pair --origin ${gateway.url}`);
});
