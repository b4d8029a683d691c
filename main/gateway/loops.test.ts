// Cloud loops end to end: the fake relay sends `symphony/loop`, the gateway runs the real
// claude (against the mock model API) in the loop worktree, and the mock cloud receives
// started, output, heartbeats, artifacts and completed, in order, with the loop token;
// an unreachable cloud loses nothing; apiBaseUrl in the body is never contacted; at the
// relay's agent cap a loop start is the 429 the cloud sees, with nothing started.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createGitFixture, type GitFixture } from '../git/testing/fixture.js';
import { claudeTestConfig, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { FakeRelay } from '../relay/testing/fake-relay.js';
import { loopToken, MockCloud } from '../relay/testing/mock-cloud.js';
import { bodyHash, stableStringify } from '../relay/signatures.js';
import { loopTokenName } from '../secrets/secret-store.js';
import { startTestGateway, type TestGateway } from './testing.js';

const API_KEY = 'sk_live_loop_test_key';
let api: MockModelApi;
let cloud: MockCloud;
let relay: FakeRelay;
let fixture: GitFixture;
let dirs: TestDirs;
let gw: TestGateway;
let trap: Server;
const trapped: string[] = [];

before(async () => {
  [api, cloud, relay, fixture] = await Promise.all([MockModelApi.start(), MockCloud.start(), FakeRelay.start({ apiKey: API_KEY }), createGitFixture()]);
  dirs = makeTestDirs('loops-gw');
  trap = createServer((req, res) => {
    trapped.push(`${req.method} ${req.url}`);
    res.end('{}');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  gw = await startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    relay: { backoff: { baseMs: 50, capMs: 300 }, recheckMs: 200 },
    loops: { heartbeatMs: 250, outputEveryMs: 100, retryBackoff: { baseMs: 100, capMs: 400 }, watchMs: 100 },
    configure: async (services) => {
      // The loop's agent runs in a run host: it takes the CLIs' settings from the run engine.
      await services.load('runs', 'loops');
      services.runs.setProviderConfigs({ claude: claudeTestConfig(api, dirs.root) });
      await services.setWorkspaceRoot(fixture.root);
      await services.repos.add({ path: fixture.repo });
      await services.secrets.set('desktop-api-key', API_KEY);
      services.config.setApiOrigin(cloud.origin);
      services.relaySettings.setRelayOrigin(relay.origin);
    },
  });
  await gw.services.load('relay');
  gw.services.relay.start();
  await relay.until(() => gw.services.relay.status().state === 'connected', 'the relay link');
});

after(async () => {
  await gw.close();
  await Promise.all([api.close(), cloud.close(), relay.close(), fixture.close()]);
  trap.closeAllConnections();
  await new Promise<void>((resolve) => trap.close(() => resolve()));
  dirs.cleanup();
});

function loopBody(loopId: string, extra: Record<string, unknown> = {}) {
  const token = loopToken(loopId);
  cloud.tokens.set(loopId, token);
  return {
    loopId,
    command: 'PLAN',
    closedLoopAuthToken: token,
    apiBaseUrl: `http://127.0.0.1:${(trap.address() as AddressInfo).port}`,
    artifacts: [{ id: 'prd-1', type: 'PRD', title: 'Greeting', content: 'Say hello in the README.' }],
    prompt: null,
    repo: null,
    committer: null,
    artifactSlug: `greet-${loopId.slice(0, 4)}`,
    parentLoopId: null,
    parentBranchName: null,
    parentSessionId: null,
    localRepoPath: fixture.repo,
    ...extra,
  };
}

/** The loop's work folder: under the data dir, never inside the worktree. */
function workFolder(loopId: string): string {
  return path.join(realpathSync(gw.dataDir), 'loops', loopId, 'work');
}

/** The agent's turns for a PLAN: write the plan files, then talk for a while (heartbeats and output happen). */
function scriptPlan(loopId: string, delayMs = 60): void {
  const plan = JSON.stringify({ content: '# Plan: edit the README' });
  const work = workFolder(loopId);
  api.script(
    { kind: 'tool', name: 'Bash', input: { command: `printf '%s' '${plan}' > ${work}/plan.json && printf 'none' > ${work}/open-questions.md`, description: 'write plan' } },
    { kind: 'text', text: 'Planning the greeting change step by step now.', chunks: 20, delayMs },
  );
}

function sendLoop(body: Record<string, unknown>): string {
  const commandId = randomUUID();
  relay.sendCommand({ commandId, operationId: 'symphony_loop', method: 'POST', path: '/api/gateway/symphony/loop', headers: {}, body, timeoutMs: null, lockKey: null });
  return commandId;
}

describe('cloud loops', () => {
  test('a PLAN loop from the relay: the cloud gets started, output, heartbeats, artifacts, completed, in order, with the loop token', async () => {
    const loopId = randomUUID();
    scriptPlan(loopId);
    const commandId = sendLoop(loopBody(loopId));
    const events = await relay.finished(commandId, 60_000);
    assert.deepEqual(events.map((e) => e.eventType), ['status', 'result', 'done']);
    const reply = events[1].data.data as { success: boolean; loopId: string; pid: number; worktreePath: string };
    assert.equal(events[1].data.statusCode, 200);
    assert.equal(reply.success, true);
    assert.equal(reply.loopId, loopId);
    assert.ok(reply.pid > 0);
    assert.match(reply.worktreePath, new RegExp(`repo-loop-greet-${loopId.slice(0, 4)}$`));

    await cloud.until(() => cloud.eventTypes(loopId).includes('completed'), 'completed', 60_000);
    const types = cloud.eventTypes(loopId);
    assert.equal(types[0], 'started');
    assert.equal(types.at(-1), 'completed');
    assert.ok(types.includes('output'), `output events: ${types.join(',')}`);
    const calls = cloud.accepted(loopId).map((r) => r.path.split('/').at(-1));
    assert.ok(calls.includes('heartbeat'), `a heartbeat: ${calls.join(',')}`);
    assert.ok(calls.lastIndexOf('upload-artifacts') < calls.lastIndexOf('events'), 'artifacts before completed');
    for (const request of cloud.accepted(loopId)) assert.equal(request.headers.authorization, `Bearer ${cloud.tokens.get(loopId)}`);
    const nonces = cloud.accepted(loopId, 'events').map((r) => r.headers['x-loop-event-nonce']);
    assert.equal(new Set(nonces).size, nonces.length, 'a fresh nonce per event');

    const upload = cloud.accepted(loopId, 'upload-artifacts')[0].body as { artifacts: Record<string, unknown>; metadata: Record<string, unknown> };
    assert.deepEqual((upload.artifacts.plan as { content: string }).content, '# Plan: edit the README');
    assert.equal(upload.artifacts.openQuestions, 'none');
    assert.equal(upload.metadata.command, 'PLAN');
    const completed = cloud.accepted(loopId, 'events').at(-1)!.body as { result: Record<string, unknown>; tokensUsed: { input: number; output: number } };
    assert.equal(completed.result.exitCode, 0);
    assert.equal(completed.result.branchName, `symphony/greet-${loopId.slice(0, 4)}`);
    assert.ok(completed.tokensUsed.output > 0);
    const output = cloud.accepted(loopId, 'events').find((r) => (r.body as { type: string }).type === 'output')!.body as { data: { chunk: string; tokenUsage: Record<string, number> } };
    assert.equal(typeof output.data.chunk, 'string');
    assert.ok('inputTokens' in output.data.tokenUsage);

    assert.deepEqual(trapped, [], 'apiBaseUrl from the body is never contacted');
    await gw.services.loopOutbox.idle();
    assert.equal(await gw.services.secrets.get(loopTokenName(loopId)), null, 'the loop token is deleted when the loop ends');
    assert.equal(gw.services.loops.get(loopId)?.status, 'completed');
    assert.ok(existsSync(`${workFolder(loopId)}/prd.md`), 'the PRD was written for the agent');
    assert.ok(!existsSync(`${reply.worktreePath}/.closedloop-ai`), 'nothing of the loop inside the worktree');
    assert.notEqual(reply.pid, process.pid, 'the agent ran in its own host');
  });

  test('the cloud unreachable while the loop runs: everything arrives after, in order, nothing lost or doubled', async () => {
    const loopId = randomUUID();
    await cloud.down();
    scriptPlan(loopId, 20);
    const commandId = sendLoop(loopBody(loopId));
    await relay.finished(commandId, 60_000);
    // The loop finishes while the cloud is away; its callbacks wait in the outbox.
    const deadline = Date.now() + 30_000;
    while (gw.services.loops.get(loopId)?.status !== 'completed' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(gw.services.loops.get(loopId)?.status, 'completed');
    const waiting = gw.services.loopOutbox.items(loopId).filter((i) => i.state === 'pending');
    assert.ok(waiting.length >= 3, `callbacks wait: ${waiting.length}`);
    assert.ok(waiting.some((i) => i.attempts > 0), 'and were retried');
    await new Promise((r) => setTimeout(r, 1_000));
    await cloud.up();
    await cloud.until(() => cloud.eventTypes(loopId).includes('completed'), 'completed after the outage', 30_000);
    const types = cloud.eventTypes(loopId);
    assert.equal(types[0], 'started');
    assert.equal(types.filter((t) => t === 'started').length, 1);
    assert.equal(types.filter((t) => t === 'completed').length, 1);
    assert.equal(types.at(-1), 'completed');
    assert.ok(await gw.services.loopOutbox.idle());
    const outbox = gw.services.loopOutbox.items(loopId);
    assert.ok(outbox.every((i) => i.state === 'delivered'), 'every callback delivered');
    assert.equal(cloud.accepted(loopId, 'events').length, outbox.filter((i) => i.call === 'events').length);
  });

  test('a 401 refreshes the token once (read from data.token) and the call goes through', async () => {
    const loopId = randomUUID();
    scriptPlan(loopId, 10);
    cloud.unauthorizedEvents = 1;
    const body = loopBody(loopId);
    const first = cloud.tokens.get(loopId);
    sendLoop(body);
    await cloud.until(() => cloud.eventTypes(loopId).includes('completed'), 'completed', 60_000);
    assert.ok(cloud.requests.some((r) => r.path === `/loops/${loopId}/refresh-token` && r.headers['idempotency-key']));
    assert.notEqual(cloud.tokens.get(loopId), first, 'rotated');
    assert.equal(cloud.accepted(loopId, 'events').at(-1)?.headers.authorization, `Bearer ${cloud.tokens.get(loopId)}`);
  });

  test('loop/kill stops a running loop (error CANCELLED to the cloud); an unknown loop is 404; a second start while running is 409', async () => {
    const loopId = randomUUID();
    api.script({ kind: 'hang' });
    const body = loopBody(loopId, { artifactSlug: null });
    const started = await gw.request('/api/gateway/symphony/loop', { method: 'POST', json: body, auth: 'token' });
    assert.equal(started.status, 200, started.text);
    const again = await gw.request('/api/gateway/symphony/loop', { method: 'POST', json: body, auth: 'token' });
    assert.equal(again.status, 409);
    assert.equal(again.json.error, 'Loop is already running on this machine');
    const unknown = await gw.request('/api/gateway/symphony/loop/kill', { method: 'POST', json: { loopId: randomUUID() }, auth: 'token' });
    assert.equal(unknown.status, 404);
    const commandId = randomUUID();
    relay.sendCommand({ commandId, operationId: 'symphony_loop_kill', method: 'POST', path: '/api/gateway/symphony/loop/kill', body: { loopId } });
    const events = await relay.finished(commandId, 30_000);
    assert.deepEqual((events[1].data.data as { message: string }).message, 'Loop process terminated');
    await cloud.until(() => cloud.eventTypes(loopId).includes('error'), 'the error event');
    const error = cloud.accepted(loopId, 'events').at(-1)!.body as { code: string };
    assert.equal(error.code, 'CANCELLED');
  });

  test('a signed launch: the loop body is fetched from execution-credentials at the API origin and must be what was signed', async () => {
    cloud.apiKey = API_KEY;
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const key = gw.services.trustedKeys.add(publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'loops test');
    const launch = (loopId: string, intent: Record<string, unknown>) => {
      const commandId = randomUUID();
      const payload = stableStringify({ commandId, method: 'POST', path: '/api/gateway/symphony/loop', query: [], bodyHash: bodyHash(intent), timestamp: Math.floor(Date.now() / 1000), nonce: randomUUID() });
      relay.sendCommand({
        commandId, operationId: 'symphony_loop', method: 'POST', path: '/api/gateway/symphony/loop', body: { loopId, userIntent: intent },
        signature: sign(null, Buffer.from(payload), privateKey).toString('base64'), signaturePayload: payload, publicKeyFingerprint: key.fingerprint,
      });
      return commandId;
    };
    const intent = { documentId: 'doc-1', command: 'PLAN', prompt: null, repo: null };

    // The cloud hands out a body that is not what the user signed: nothing runs.
    const tampered = randomUUID();
    cloud.executionBodies.set(tampered, { ...loopBody(tampered), command: 'EVALUATE_PLAN' });
    const refused = await relay.finished(launch(tampered, intent), 30_000);
    assert.equal(refused.at(-1)?.eventType, 'error');
    assert.equal(refused.at(-1)?.data.error, 'unauthorized: payload_mismatch: the loop command is not the signed one');
    assert.equal(gw.services.loops.get(tampered), undefined, 'no loop was started');
    assert.equal(cloud.eventTypes(tampered).length, 0);

    // The signed body: fetched once, with the desktop API key and the command id, from the configured origin only.
    const loopId = randomUUID();
    cloud.executionBodies.set(loopId, loopBody(loopId, { artifactSlug: null }));
    api.script({ kind: 'hang' });
    const commandId = launch(loopId, intent);
    const events = await relay.finished(commandId, 60_000);
    assert.equal(events.at(-2)?.data.statusCode, 200, JSON.stringify(events.at(-1)?.data));
    const fetches = cloud.requests.filter((r) => r.path === `/compute-targets/ct-test/loops/${loopId}/execution-credentials`);
    assert.equal(fetches.length, 1);
    assert.equal(fetches[0].headers.authorization, `Bearer ${API_KEY}`);
    assert.deepEqual(fetches[0].body, { commandId });
    assert.deepEqual(trapped, [], 'apiBaseUrl of the fetched body is never contacted');
    await cloud.until(() => cloud.eventTypes(loopId).includes('started'), 'started with the fetched loop token');
    const killed = await gw.request('/api/gateway/symphony/loop/kill', { method: 'POST', json: { loopId }, auth: 'token' });
    assert.equal(killed.status, 200, killed.text);
    gw.services.trustedKeys.remove(key.fingerprint);
  });

  test("at the relay's agent cap a loop start through the relay is the 429 too_many_agents the cloud sees, and nothing of it starts", async () => {
    const limit = (concurrentAgents: number) => gw.request('/api/gateway/desktop/config', { method: 'PATCH', json: { limits: { concurrentAgents } }, auth: 'token' });
    assert.equal((await limit(1)).status, 200);
    const live = randomUUID();
    try {
      // The relay's first loop runs (its agent hangs in its first model call): the relay's one agent.
      api.script({ kind: 'hang' });
      const requests = api.modelRequests().length;
      const first = await relay.finished(sendLoop(loopBody(live, { artifactSlug: null })), 60_000);
      assert.equal(first.at(-2)?.data.statusCode, 200, JSON.stringify(first.at(-1)?.data));
      await api.waitForModelRequests(requests + 1);
      assert.equal(gw.services.loops.get(live)?.launchedBy, 'relay');

      // The second is refused at once: the relay's caller gets the cap's 429 in the spec's error event.
      const refusedId = randomUUID();
      const body = loopBody(refusedId);
      const events = await relay.finished(sendLoop(body), 30_000);
      const error = events.at(-1)!;
      assert.deepEqual([error.eventType, error.data.statusCode, error.data.terminal], ['error', 429, true]);
      const reply = JSON.parse(String(error.data.error).replace(/^gateway returned 429: /, '')) as { code: string; details: unknown };
      assert.equal(reply.code, 'too_many_agents');
      assert.deepEqual(reply.details, { running: 1, limit: 1, queued: 0, maxQueued: 16 });

      // Nothing of it was started: no loop, no worktree, no work folder, no token kept, no agent, nothing told to the cloud.
      assert.equal(gw.services.loops.get(refusedId), undefined);
      assert.equal(existsSync(`${fixture.repo}-loop-${body.artifactSlug}`), false);
      assert.equal(existsSync(workFolder(refusedId)), false);
      assert.equal(await gw.services.secrets.get(loopTokenName(refusedId)), null);
      assert.equal(api.modelRequests().length, requests + 1);
      assert.deepEqual(cloud.eventTypes(refusedId), []);
    } finally {
      await gw.request('/api/gateway/symphony/loop/kill', { method: 'POST', json: { loopId: live }, auth: 'token' });
      assert.equal((await limit(4)).status, 200);
    }
  });

  test('bad loop bodies: a non-UUID loop id, an unknown command, a repository that is not here (404 naming it); nothing started', async () => {
    const post = (json: unknown) => gw.request('/api/gateway/symphony/loop', { method: 'POST', json, auth: 'token' });
    const badId = await post(loopBody('not-a-uuid'));
    assert.equal(badId.status, 400);
    assert.match(badId.json.error, /loopId/);
    const badCommand = await post({ ...loopBody(randomUUID()), command: 'DESTROY' });
    assert.equal(badCommand.status, 400);
    assert.match(badCommand.json.error, /command/);
    const missing = await post({ ...loopBody(randomUUID()), localRepoPath: null, repo: { fullName: 'someone/elsewhere', branch: null } });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error, 'Repository not found locally: someone/elsewhere');
    const execute = await post({ ...loopBody(randomUUID()), command: 'EXECUTE' });
    assert.equal(execute.status, 400);
    assert.match(execute.json.error, /parentLoopId/);
  });

  test('plan-loop: prepare and confirm (old client names too), cancel validates the loop id before any cloud call and signs its DELETE', async () => {
    const prepare = await gw.request('/api/gateway/symphony/plan-loop/T-7/prepare', { method: 'POST', json: { repoPath: fixture.repo }, auth: 'token' });
    assert.equal(prepare.status, 200, prepare.text);
    assert.equal(prepare.json.repo.branch, 'main');
    assert.match(prepare.json.worktreeDir, /repo-T-7$/);
    const confirm = await gw.request('/api/gateway/symphony/plan-loop/T-7/confirm', {
      method: 'POST', json: { repoPath: fixture.repo, loopId: randomUUID(), documentId: 'doc-1', documentSlug: 'My-Doc', featureId: 'f-1', outcome: 'launched' }, auth: 'token',
    });
    assert.equal(confirm.status, 200, confirm.text);
    assert.match(confirm.json.worktreeDir, /repo-loop-my-doc$/);
    const before = cloud.requests.length;
    const cancel = await gw.request('/api/gateway/symphony/plan-loop/T-7/cancel', { method: 'POST', json: { repoPath: fixture.repo, loopId: '../../compute-targets/x' }, auth: 'token' });
    assert.equal(cancel.status, 400);
    assert.equal(cloud.requests.length, before, 'nothing reached the cloud');
    // Registered with the cloud, the gateway's managed key must carry a valid PoP, on the DELETE too.
    const identity = await gw.services.deviceIdentity.describe();
    cloud.gatewayKeys.set(identity.gatewayId, identity.publicKey);
    try {
      const ok = await gw.request('/api/gateway/symphony/plan-loop/T-7/cancel', { method: 'POST', json: { repoPath: fixture.repo, loopId: randomUUID() }, auth: 'token' });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.json, { cancelled: true, warning: 'process-unknown' });
      const sent = cloud.requests.at(-1)!;
      assert.deepEqual([sent.method, sent.headers.authorization, sent.pop], ['DELETE', `Bearer ${API_KEY}`, null], 'the cloud verified the DELETE\'s PoP');
    } finally {
      cloud.gatewayKeys.clear();
    }
  });
});
