// The cloud unreachable for a full minute while a loop keeps reporting (the real claude
// against the mock model API, streaming output the whole time), with the outbox's real retry
// schedule (1 s doubling, capped at 30 s): once the cloud is back, every event arrives, in
// the order the loop wrote them, exactly once, and soon (within one capped retry).
// Wall time about 90 s: the outage is the point of the test.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { realpathSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { createGitFixture, type GitFixture } from '../git/testing/fixture.js';
import { claudeTestConfig, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { loopToken, MockCloud } from '../relay/testing/mock-cloud.js';
import { startTestGateway, type TestGateway } from './testing.js';

const OUTAGE_MS = 60_000;
/** The outbox's cap (outbox.ts DEFAULT_BACKOFF): the longest wait between two attempts. */
const RETRY_CAP_MS = 30_000;

let api: MockModelApi;
let cloud: MockCloud;
let fixture: GitFixture;
let dirs: TestDirs;
let gw: TestGateway;

before(async () => {
  [api, cloud, fixture] = await Promise.all([MockModelApi.start(), MockCloud.start(), createGitFixture()]);
  dirs = makeTestDirs('loops-outage');
  gw = await startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    // No retryBackoff: the outbox's own schedule is under test.
    loops: { heartbeatMs: 5_000, outputEveryMs: 1_000, watchMs: 200 },
    configure: async (services) => {
      await services.load('runs', 'loops');
      services.runs.setProviderConfigs({ claude: claudeTestConfig(api, dirs.root) });
      await services.setWorkspaceRoot(fixture.root);
      await services.repos.add({ path: fixture.repo });
      services.config.setApiOrigin(cloud.origin);
    },
  });
});

after(async () => {
  await gw.close();
  await Promise.all([api.close(), cloud.close(), fixture.close()]);
  dirs.cleanup();
});

test('the cloud refuses connections for 60 s while the loop reports: afterwards every event is delivered, in order, once', { timeout: 150_000 }, async () => {
  const loopId = randomUUID();
  const work = path.join(realpathSync(gw.dataDir), 'loops', loopId, 'work');
  const plan = JSON.stringify({ content: '# Plan: edit the README' });
  // The agent writes its plan, then streams for ~55 s: output keeps coming during the whole outage.
  api.script(
    { kind: 'tool', name: 'Bash', input: { command: `printf '%s' '${plan}' > ${work}/plan.json && printf 'none' > ${work}/open-questions.md`, description: 'write plan' } },
    { kind: 'text', text: Array.from({ length: 55 }, (_, i) => `step ${i} `).join(''), chunks: 55, delayMs: 1_000 },
  );
  const token = loopToken(loopId);
  cloud.tokens.set(loopId, token);
  const started = await gw.request('/api/gateway/symphony/loop', {
    method: 'POST', auth: 'token',
    json: {
      loopId, command: 'PLAN', closedLoopAuthToken: token, apiBaseUrl: cloud.origin,
      artifacts: [{ id: 'prd-1', type: 'PRD', title: 'Greeting', content: 'Say hello in the README.' }],
      prompt: null, repo: null, committer: null, artifactSlug: `outage-${loopId.slice(0, 4)}`, parentLoopId: null, parentBranchName: null, parentSessionId: null, localRepoPath: fixture.repo,
    },
  });
  assert.equal(started.status, 200, started.text);
  await cloud.until(() => cloud.eventTypes(loopId).includes('started'), 'started before the outage', 30_000);

  await cloud.down();
  const downAt = Date.now();
  const countOutput = () => gw.services.loopOutbox.items(loopId).filter((i) => i.call === 'events' && (i.body as { type: string }).type === 'output').length;
  const outputBefore = countOutput();
  await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
  const pending = gw.services.loopOutbox.items(loopId).filter((i) => i.state === 'pending');
  assert.ok(countOutput() - outputBefore >= 10, `the loop kept reporting during the outage (${countOutput() - outputBefore} output events)`);
  assert.ok(pending.length >= 10, `its calls wait in the outbox (${pending.length})`);
  assert.ok(pending[0].attempts >= 4, `and the first was retried (${pending[0].attempts} attempts)`);
  assert.equal(cloud.requests.filter((r) => r.at > downAt).length, 0, 'nothing reached the cloud while it was down');

  await cloud.up();
  const upAt = Date.now();
  await cloud.until(() => cloud.eventTypes(loopId).length > cloud.eventTypes(loopId).indexOf('started') + 1, 'the first delivery after the outage', RETRY_CAP_MS + 5_000);
  const firstAfter = cloud.requests.find((r) => r.at >= upAt)!;
  assert.ok(firstAfter.at - upAt <= RETRY_CAP_MS + 1_000, `delivered within one capped retry of the cloud's return (${firstAfter.at - upAt} ms)`);
  await cloud.until(() => cloud.eventTypes(loopId).includes('completed'), 'completed after the outage', 60_000);
  assert.ok(await gw.services.loopOutbox.idle(15_000));

  // Every event the loop wrote, in the outbox's order, accepted once each: same bodies, same order, no replays.
  const written = gw.services.loopOutbox.items(loopId).filter((i) => i.call === 'events');
  assert.ok(written.every((i) => i.state === 'delivered'), 'every event delivered');
  const accepted = cloud.accepted(loopId, 'events');
  assert.deepEqual(accepted.map((r) => r.body), written.map((i) => i.body), 'the cloud got each event, in order');
  assert.equal(cloud.requests.filter((r) => r.path === `/loops/${loopId}/events` && r.status === 409).length, 0, 'none was sent twice');
  const types = accepted.map((r) => (r.body as { type: string }).type);
  assert.deepEqual([types[0], types.at(-1)], ['started', 'completed']);
  const nonces = accepted.map((r) => r.headers['x-loop-event-nonce']);
  assert.equal(new Set(nonces).size, nonces.length, 'one nonce per event');
});
