// The Activity screen in real Chromium against a headless gateway: requests made by the
// gateway token and by a paired web origin (one of them asked and decided) show up live with
// caller, operation, method and path, status and who decided; the caller filter narrows the
// list; the screen's own polling and the /ui/ files never show up; no token is on the page.
import { expect, test } from '@playwright/test';
import { saveScreenshot } from './support/artifacts.js';
import { HeadlessGateway, OriginClient } from './support/gateway.js';

const WEB_ORIGIN = 'https://web.example.test';

let gateway: HeadlessGateway;
let uiUnavailable: string | null = null;

test.beforeAll(async () => {
  gateway = await HeadlessGateway.start();
  uiUnavailable = await gateway.uiUnavailable();
  if (uiUnavailable) console.log(`skipped (e2e/activity.spec.ts): ${uiUnavailable}`);
});

test.afterAll(async () => {
  await gateway?.stop();
});

test('recent requests appear live with caller, operation, status and decision, and filter by caller', async ({ page }, testInfo) => {
  test.skip(uiUnavailable !== null, uiUnavailable ?? '');
  const token = await gateway.token();
  const admin = await gateway.tokenClient();
  const web = await OriginClient.pair(gateway, WEB_ORIGIN);

  const challenge = await gateway.pair(gateway.url);
  await page.goto(challenge.url!);
  await page.getByTestId('nav-activity').click();
  const trail = page.getByTestId('activity-trail');
  await expect(trail).toBeVisible();

  // Made while the screen is open: they must arrive by the live poll, not a reload.
  await admin.version();
  expect((await web.request('/api/gateway/repos')).status).toBe(200);
  expect((await web.request('/api/gateway/no-such-route')).status).toBe(404);
  // An ask: the web origin forces one, the token holder allows it.
  const asked = web.request('/api/gateway/health-check', {
    headers: { 'X-Desktop-Force-Approval': '1', 'X-Desktop-Approval-Reason': 'e2e audit' },
  });
  await expect.poll(async () => (await admin.listApprovals()).approvals.length).toBe(1);
  const [pending] = (await admin.listApprovals()).approvals;
  await admin.decideApproval(pending!.id, 'allow_once');
  expect((await asked).status).toBe(200);

  const rows = trail.getByTestId('activity-entry');
  const tokenRow = rows.filter({ hasText: 'GET /api/gateway/version' });
  await expect(tokenRow).toHaveCount(1);
  await expect(tokenRow).toContainText('gateway token');
  await expect(tokenRow).toContainText('health_check');
  await expect(tokenRow).toContainText('200');

  const reposRow = rows.filter({ hasText: 'GET /api/gateway/repos' });
  await expect(reposRow).toHaveCount(1);
  await expect(reposRow).toContainText(WEB_ORIGIN);
  await expect(reposRow).toContainText('repos_config');

  await expect(rows.filter({ hasText: '/api/gateway/no-such-route' })).toContainText('404');

  const askedRow = rows.filter({ hasText: 'GET /api/gateway/health-check' });
  await expect(askedRow).toHaveCount(1);
  await expect(askedRow).toContainText('allow once');
  await expect(askedRow).toContainText('by gateway token');
  await saveScreenshot(page, 'activity-trail', testInfo);

  // The screen's own reads (activity, telemetry) and the /ui/ files are not in the trail.
  await expect(rows.filter({ hasText: '/api/gateway/desktop/activity' })).toHaveCount(0);
  await expect(rows.filter({ hasText: '/api/gateway/desktop/telemetry' })).toHaveCount(0);
  await expect(rows.filter({ hasText: '/ui/' })).toHaveCount(0);
  await expect(page.locator('[data-testid=activity-row][data-operation=static_ui]')).toHaveCount(0);

  // Filter by caller: the gateway token only, then the one paired origin.
  const caller = page.getByTestId('activity-caller');
  await caller.selectOption('token');
  await expect(rows.filter({ hasText: 'GET /api/gateway/repos' })).toHaveCount(0);
  await expect(tokenRow).toHaveCount(1);
  expect(new Set(await rows.evaluateAll((list) => list.map((row) => row.getAttribute('data-caller'))))).toEqual(new Set(['token']));
  // Still live under a filter: a new token request arrives, a new origin request does not.
  await admin.healthCheck();
  expect((await web.request('/api/gateway/version')).status).toBe(200);
  await expect(rows.filter({ hasText: 'GET /api/gateway/health-check' })).toHaveCount(1);
  await page.waitForTimeout(2_000);
  expect(new Set(await rows.evaluateAll((list) => list.map((row) => row.getAttribute('data-caller'))))).toEqual(new Set(['token']));

  await caller.selectOption(WEB_ORIGIN);
  await expect(reposRow).toHaveCount(1);
  await expect(rows.filter({ hasText: 'GET /api/gateway/version' })).toHaveCount(1);
  expect(new Set(await rows.evaluateAll((list) => list.map((row) => row.getAttribute('data-caller'))))).toEqual(new Set(['origin']));

  // Filter by operation on top: only repos_config from that origin.
  await page.getByTestId('activity-operation').selectOption('repos_config');
  await expect(rows).toHaveCount(1);
  await expect(rows).toContainText('GET /api/gateway/repos');

  // Never a credential on the screen.
  const text = await page.locator('body').innerText();
  expect(text).not.toContain(token);
});
