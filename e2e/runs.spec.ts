// The Runs screen in real Chromium against a real gateway whose run hosts drive the real
// claude CLI against the mock model API (as main/gateway/runs.test.ts does): one run is
// followed from launch through the plan checkpoint (a notice, Accept plan) to COMPLETED
// with its task ticked, its judge passed and its log followed live; another is stopped
// mid-turn from its page. Then the same screen lists a cloud loop with its events, changes the
// worktree retention, and prunes the discarded run's worktree after a dry-run preview.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { GatewayClient } from '../shared/client.js';
import type { TestGateway } from '../main/gateway/testing.js';
import { MockModelApi } from '../main/providers/testing/mock-model-api.js';
import { LoopStore } from '../main/relay/loops/loop-store.js';
import { createRunRepo, PLAN_ANSWER, startRunGateway } from '../main/symphony/testing/run-fixture.js';
import { saveScreenshot } from './support/artifacts.js';
import { uiUnavailable } from './support/gateway.js';

let api: MockModelApi;
let root: string;
let repo: string;
let gw: TestGateway;
let admin: GatewayClient;
let unavailable: string | null = null;

test.beforeAll(async () => {
  api = await MockModelApi.start();
  root = realpathSync(mkdtempSync(join(tmpdir(), 'symphony-e2e-runs-')));
  repo = await createRunRepo(root, 'shop');
  gw = await startRunGateway({ root, api });
  admin = new GatewayClient({ baseUrl: gw.url, credential: { gatewayToken: gw.token } });
  await admin.addRepo(repo);
  unavailable = await uiUnavailable(gw.url);
  if (unavailable) console.log(`skipped (e2e/runs.spec.ts): ${unavailable}`);
});

test.afterAll(async () => {
  await gw?.close();
  await api?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function openUi(page: import('@playwright/test').Page): Promise<void> {
  const challenge = await gw.request('/gateway-auth/challenge', { method: 'POST', json: { origin: gw.url }, auth: 'token' });
  expect(challenge.status).toBe(200);
  await page.goto(`${gw.url}/ui/#challenge=${encodeURIComponent(challenge.json.challengeToken as string)}`);
  await expect(page.getByTestId('screen-approvals')).toBeVisible();
  await page.getByTestId('nav-runs').click();
  await expect(page.getByTestId('runs')).toBeVisible();
}

test('the Runs screen follows a run through its plan checkpoint to completion, and stops another', async ({ page }, testInfo) => {
  test.skip(unavailable !== null, unavailable ?? '');
  await openUi(page);

  // A run launched (as the web app does) while the screen is open: it plans, then waits for the user.
  api.script({ kind: 'text', text: PLAN_ANSWER });
  const launched = await admin.launchRun({
    ticketIdentifier: 'SHOP-1', repoPath: repo, provider: 'claude', judges: [{ name: 'test', command: 'node check.js' }],
    ticket: { title: 'Add fixed.txt', description: 'The check wants fixed.txt.' },
  });
  const row = page.locator('[data-testid=run-row][data-ticket=SHOP-1]');
  await expect(row).toBeVisible();
  await expect(row).toHaveAttribute('data-status', 'AWAITING_USER', { timeout: 60_000 });
  const notice = page.locator('[data-testid=run-notice][data-ticket=SHOP-1]');
  await expect(notice).toHaveAttribute('data-kind', 'plan_review');
  await notice.getByTestId('run-notice-open').click();

  const pageOf = page.locator('[data-testid=ticket-page][data-ticket=SHOP-1]');
  await expect(pageOf).toBeVisible();
  const task = pageOf.locator('[data-testid=plan-task][data-task=T1]');
  await expect(task).toHaveAttribute('data-done', 'false');
  await expect(pageOf.getByTestId('run-plan')).toContainText('Which content?');
  // The log was read to its end (the run rests, no process holds it).
  await expect(pageOf.locator('[data-testid=log-line][data-type=plan]')).toHaveCount(1);
  await expect(pageOf.getByTestId('run-log')).toHaveAttribute('data-following', 'false');
  // The page mounts the ticket's reviews and its dev server.
  await expect(pageOf.getByTestId('reviews-panel')).toBeVisible();
  await expect(pageOf.getByTestId('deploy-panel')).toBeVisible();
  await saveScreenshot(page, 'run-plan-review', testInfo);

  // Accept: one iteration writes the file and says it is done; the judge passes.
  const worktree = launched.worktreePath;
  api.script(
    { kind: 'tool', name: 'Write', input: { file_path: join(worktree, 'fixed.txt'), content: 'fixed\n' } },
    { kind: 'text', text: 'Created it.\n<task-done id="T1"/>\n<promise>COMPLETE</promise>', chunks: 4, delayMs: 150 },
  );
  await pageOf.getByTestId('run-accept').click();
  // Followed live: events of the iteration arrive while the run works.
  await expect(pageOf.getByTestId('run-log')).toHaveAttribute('data-following', 'true');
  await expect(pageOf.locator('[data-testid=log-line][data-type=iteration_started]')).toHaveCount(1, { timeout: 60_000 });
  await expect(pageOf.locator('[data-testid=run-status]').first()).toHaveAttribute('data-status', 'COMPLETED', { timeout: 60_000 });
  await expect(task).toHaveAttribute('data-done', 'true');
  await expect(pageOf.getByTestId('run-summary').getByTestId('run-iteration')).toHaveText('1/20');
  const judge = pageOf.locator('[data-testid=judges-report][data-iteration="1"] [data-testid=judge-case][data-case=test]');
  await expect(judge).toHaveAttribute('data-status', 'PASSED');
  await expect(judge.getByTestId('judge-output')).toContainText('ok: fixed.txt is there');
  await expect(pageOf.locator('[data-testid=log-line][data-type=judge_result]')).toHaveCount(1);
  await expect(pageOf.getByTestId('run-progress')).toHaveCount(0);
  await expect(pageOf.getByTestId('run-stop')).toHaveCount(0);
  await saveScreenshot(page, 'run-completed', testInfo);

  // Another run: its planning turn hangs; Stop from its page ends it STOPPED.
  api.script({ kind: 'hang' });
  await admin.launchRun({ ticketIdentifier: 'SHOP-2', repoPath: repo, provider: 'claude', judges: [{ name: 'test', command: 'node check.js' }] });
  await page.getByTestId('ticket-back').click();
  const second = page.locator('[data-testid=run-row][data-ticket=SHOP-2]');
  await expect(second).toHaveAttribute('data-status', 'IN_PROGRESS', { timeout: 60_000 });
  await expect(page.locator('[data-testid=run-row][data-ticket=SHOP-1]')).toHaveAttribute('data-status', 'COMPLETED');
  await second.getByTestId('run-open').click();
  const secondPage = page.locator('[data-testid=ticket-page][data-ticket=SHOP-2]');
  await expect(secondPage.getByTestId('run-progress')).toContainText('plan');
  await expect(secondPage.getByTestId('run-log')).toHaveAttribute('data-following', 'true');
  await secondPage.getByTestId('run-stop').click();
  await expect(secondPage.locator('[data-testid=run-status]').first()).toHaveAttribute('data-status', 'STOPPED', { timeout: 30_000 });
  await expect(secondPage.getByTestId('run-resume')).toBeVisible();
  await expect(secondPage.getByTestId('run-log')).toHaveAttribute('data-following', 'false', { timeout: 10_000 });
  const status = await admin.ticketRun('SHOP-2', repo);
  expect(status).toMatchObject({ status: 'STOPPED', processRunning: false });
});

test('the Runs screen lists cloud loops with their events, and changes the worktree retention and prunes after a dry run', async ({ page }, testInfo) => {
  test.skip(unavailable !== null, unavailable ?? '');
  // A cloud loop that ran here (its own table; the web app starts them through the cloud).
  await gw.services.load('loops');
  const loops = new LoopStore(gw.services.db);
  const loopId = randomUUID();
  loops.create({ loopId, command: 'EXECUTE', repoPath: repo, worktreePath: repo, workDir: join(root, 'loop-work') });
  gw.services.loopOutbox.enqueue(loopId, 'events', { type: 'started', timestamp: new Date().toISOString() });
  loops.finish(loopId, 'completed', null, [{ call: 'events', body: { type: 'completed', branchName: 'feature/loop-e2e', timestamp: new Date().toISOString() }, final: true }]);
  // The stopped run of the first test, discarded: with 0 days kept its worktree is due.
  const stopped = await admin.ticketRun('SHOP-2', repo);
  expect(stopped).toMatchObject({ status: 'STOPPED' });
  await admin.discardRun((stopped as { runId: string }).runId);

  await openUi(page);
  const loopRow = page.locator(`[data-testid=loop-row][data-loop="${loopId}"]`);
  await expect(loopRow).toHaveAttribute('data-status', 'completed');
  await expect(loopRow).toContainText('cloud loop');
  await expect(loopRow.getByTestId('loop-command')).toHaveText('EXECUTE');
  await loopRow.getByTestId('loop-events').locator('summary').click();
  await expect(loopRow.locator('[data-testid=loop-event]')).toHaveCount(2);
  await expect(loopRow.locator('[data-testid=loop-event][data-type=completed]')).toContainText('feature/loop-e2e');
  // Loops are not ticket runs: no run row for it.
  await expect(page.locator('[data-testid=run-row]')).toHaveCount(2);

  // The retention setting, shown and changed.
  const retention = page.getByTestId('retention');
  await expect(retention.getByTestId('retention-current')).toContainText('7 day(s), removed by the gateway');
  await retention.getByTestId('retention-days').fill('0');
  await retention.getByTestId('retention-auto').uncheck();
  await retention.getByTestId('retention-save').click();
  await expect(retention.getByTestId('retention-current')).toContainText('0 day(s), removed only by a prune');
  expect(await admin.runRetention()).toEqual({ days: 0, auto: false });

  // Prune: a dry run first lists what would go and what stays; nothing is removed.
  const worktree = (stopped as { worktreeDir: string }).worktreeDir;
  await expect(retention.getByTestId('prune-now')).toBeDisabled();
  await retention.getByTestId('prune-preview').click();
  await expect(retention.getByTestId('prune-result')).toHaveAttribute('data-dry-run', 'true');
  await expect(retention.locator('[data-testid=prune-row][data-ticket=SHOP-2]')).toHaveAttribute('data-action', 'would_remove');
  await expect(retention.locator('[data-testid=prune-row][data-ticket=SHOP-1]')).toHaveAttribute('data-action', 'kept');
  expect(existsSync(worktree)).toBe(true);
  await saveScreenshot(page, 'runs-retention-preview', testInfo);
  await retention.getByTestId('prune-now').click();
  await expect(retention.getByTestId('prune-result')).toHaveAttribute('data-dry-run', 'false');
  await expect(retention.locator('[data-testid=prune-row][data-ticket=SHOP-2]')).toHaveAttribute('data-action', 'removed');
  expect(existsSync(worktree)).toBe(false);
  await expect(page.locator('[data-testid=run-row][data-ticket=SHOP-2]')).toContainText('removed');
});
