// The Relay screen in real Chromium: a headless gateway whose relay origin is a local
// Socket.IO server playing the cloud relay (main/relay/testing/fake-relay.ts), with the API key
// set through the CLI before `serve` starts. The screen shows the link connected; a command
// that waits for a person shows in flight, then in the recent list with its status; a dropped
// link shows as the last error and comes back; the toggle pauses (presence `paused`, commands
// refused) and resumes; the Activity screen lists the cloud's requests as the relay caller.
import { randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { FakeRelay } from '../main/relay/testing/fake-relay.js';
import { saveScreenshot } from './support/artifacts.js';
import { HeadlessGateway } from './support/gateway.js';

const API_KEY = `sk_test_e2e_${randomUUID()}`;

let relay: FakeRelay;
let gateway: HeadlessGateway;
let uiUnavailable: string | null = null;

test.beforeAll(async () => {
  relay = await FakeRelay.start({ apiKey: API_KEY });
  gateway = await HeadlessGateway.start({
    prepare: async (cli) => {
      await cli(['set-api-key', '--secret-store', 'file'], `${API_KEY}\n`);
      await cli(['config', '--relay-origin', relay.origin]);
    },
  });
  uiUnavailable = await gateway.uiUnavailable();
  if (uiUnavailable) console.log(`skipped (e2e/relay.spec.ts): ${uiUnavailable}`);
});

test.afterAll(async () => {
  await gateway?.stop();
  await relay?.close();
});

test('the Relay screen shows the link, commands in flight and recent, the last error, and pauses and resumes', async ({ page }, testInfo) => {
  test.skip(uiUnavailable !== null, uiUnavailable ?? '');
  await relay.until(() => relay.connected && relay.presence.some((p) => p.state === 'online'), 'the desktop to connect', 30_000);
  const admin = await gateway.tokenClient();

  const challenge = await gateway.pair(gateway.url);
  await page.goto(challenge.url!);
  await page.getByTestId('nav-relay').click();
  const card = page.getByTestId('relay');
  await expect(card).toContainText('connected');
  await expect(card).toContainText(relay.origin);
  await expect(page.getByTestId('relay-last-error')).toHaveText('none');
  const { identity } = await admin.relayStatus();
  expect(identity?.gatewayId).toMatch(/^gw_/);
  await expect(page.getByTestId('relay-identity')).toContainText(identity!.gatewayId);
  await expect(page.getByTestId('relay-identity')).toContainText(identity!.publicKey);

  // A command the cloud marks as needing approval waits for a person: in flight until decided.
  const asked = `e2e-asked-${randomUUID()}`;
  relay.sendCommand({
    commandId: asked,
    operationId: 'repos_config',
    method: 'GET',
    path: '/api/gateway/repos',
    requiresApproval: true,
    approvalReason: 'e2e: the cloud asks',
  });
  const inFlight = page.getByTestId('relay-in-flight').getByTestId('relay-command');
  await expect(inFlight).toHaveCount(1);
  await expect(inFlight).toContainText('repos_config');
  await expect(inFlight).toContainText('GET /api/gateway/repos');
  await expect.poll(async () => (await admin.listApprovals()).approvals.length).toBe(1);
  const [approval] = (await admin.listApprovals()).approvals;
  await admin.decideApproval(approval!.id, 'allow_once');
  await relay.finished(asked);
  await expect(page.getByTestId('relay-in-flight')).toHaveCount(0);

  // And a plain one: both in the recent list with operation, path, status and duration.
  const plain = `e2e-version-${randomUUID()}`;
  relay.sendCommand({ commandId: plain, operationId: 'health_check', method: 'GET', path: '/api/gateway/version' });
  await relay.finished(plain);
  const recent = page.getByTestId('relay-recent').getByTestId('relay-command');
  await expect(recent).toHaveCount(2);
  await expect(recent.first()).toContainText('health_check');
  await expect(recent.first()).toContainText('GET /api/gateway/version');
  await expect(recent.first()).toContainText('ok');
  await expect(recent.first()).toContainText('200');
  await expect(recent.first()).toContainText(/\d+ ms/);
  await expect(recent.nth(1)).toContainText('repos_config');
  await expect(recent.nth(1)).toContainText('200');
  await saveScreenshot(page, 'relay-connected', testInfo);

  // The relay cuts the link: the screen names the error, and the client comes back by itself.
  relay.drop();
  await expect(page.getByTestId('relay-last-error')).toContainText('the relay connection dropped');
  await relay.until(() => relay.connected, 'the desktop to reconnect', 30_000);
  await expect(card).toContainText('connected');

  // Pause: the toggle says so, the cloud sees presence `paused`, a command is refused with the reason.
  const toggle = page.getByTestId('relay-pause-toggle');
  await expect(toggle).toHaveText('Pause cloud commands');
  await toggle.click();
  await expect(toggle).toHaveText('Resume cloud commands');
  await expect(card).toContainText('paused');
  await relay.until(() => relay.presence.at(-1)?.state === 'paused', 'presence paused');
  const refused = `e2e-paused-${randomUUID()}`;
  relay.sendCommand({ commandId: refused, operationId: 'health_check', method: 'GET', path: '/api/gateway/version' });
  await relay.until(() => Boolean(relay.ackOf(refused)), 'the paused ack');
  expect(relay.ackOf(refused)).toMatchObject({ accepted: false, reason: 'cloud commands paused by user' });
  expect(relay.eventsOf(refused)).toEqual([]);
  const refusal = page.getByTestId('relay-refused').getByTestId('relay-refusal').first();
  await expect(refusal).toContainText('GET /api/gateway/version');
  await expect(refusal).toContainText('cloud commands paused by user');
  await saveScreenshot(page, 'relay-paused', testInfo);

  // Resume: presence online again and commands run.
  await toggle.click();
  await expect(toggle).toHaveText('Pause cloud commands');
  await relay.until(() => relay.presence.at(-1)?.state === 'online', 'presence online');
  const again = `e2e-again-${randomUUID()}`;
  relay.sendCommand({ commandId: again, operationId: 'health_check', method: 'GET', path: '/api/gateway/version' });
  await relay.finished(again);
  await expect(recent).toHaveCount(3);

  // The API key never reaches the page.
  expect(await page.locator('body').innerText()).not.toContain(API_KEY);

  // The same commands on the Activity screen, as the cloud relay caller, with the approval decided.
  await page.getByTestId('nav-activity').click();
  await page.getByTestId('activity-caller').selectOption('relay');
  const rows = page.getByTestId('activity-trail').getByTestId('activity-entry');
  await expect(rows).toHaveCount(3);
  await expect(rows.filter({ hasText: 'GET /api/gateway/version' })).toHaveCount(2);
  const askedRow = rows.filter({ hasText: 'GET /api/gateway/repos' });
  await expect(askedRow).toContainText('cloud relay');
  await expect(askedRow).toContainText('says: cloud-socket');
  await expect(askedRow).toContainText('allow once');
  await expect(askedRow).toContainText('by gateway token');
  expect(await page.locator('body').innerText()).not.toContain(API_KEY);
});
