// Cloud loops outlive their gateway: a headless gateway (`symphony-gateway serve`) is
// SIGKILLed while two loops run in their hosts (real claude against the mock model API).
// One host lives on and finishes while no gateway is there; the other host dies too. The
// gateway started next on the data dir reattaches the first (its outbox still delivers, in
// order, nothing lost or repeated) and finalises the second to the cloud with `error`.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startServe, type ServeProcess } from '../cli/testing/serve.js';
import { createGitFixture, type GitFixture } from '../git/testing/fixture.js';
import { claudeTestConfig, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { loopToken, MockCloud } from '../relay/testing/mock-cloud.js';
import { isSameProcessAlive } from '../supervisor/detached.js';
import { sendRequest, startTestGateway, until, type TestGateway } from './testing.js';

let api: MockModelApi;
let cloud: MockCloud;
let fixture: GitFixture;
let dirs: TestDirs;
let serve: ServeProcess | undefined;
let restarted: TestGateway | undefined;
const hosts: number[] = [];

before(async () => {
  [api, cloud, fixture] = await Promise.all([MockModelApi.start(), MockCloud.start(), createGitFixture()]);
  dirs = makeTestDirs('loops-restart');
});

after(async () => {
  serve?.kill();
  await restarted?.close();
  // A failed assertion must not leave a loop host working.
  for (const pid of hosts) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await Promise.all([api.close(), cloud.close(), fixture.close()]);
  dirs.cleanup();
});

function planBody(loopId: string, slug: string) {
  const token = loopToken(loopId);
  cloud.tokens.set(loopId, token);
  return {
    loopId, command: 'PLAN', closedLoopAuthToken: token, apiBaseUrl: 'http://127.0.0.1:9', prompt: null, repo: null, committer: null,
    artifacts: [{ id: 'prd-1', type: 'PRD', title: 'Greeting', content: 'Say hello in the README.' }],
    artifactSlug: slug, parentLoopId: null, parentBranchName: null, parentSessionId: null, localRepoPath: fixture.repo,
  };
}

test('a SIGKILLed gateway: the next one reattaches the live loop (its events arrive in order, none lost or repeated) and reports the dead one', { timeout: 150_000 }, async () => {
  const dataDir = path.join(dirs.root, 'data');
  const claude = claudeTestConfig(api, dirs.root);
  // A first gateway on the data dir: the token, the workspace, the repository and the API origin the headless one uses.
  const first = await startTestGateway({
    dataDir,
    configure: async (services) => {
      await services.setWorkspaceRoot(fixture.root);
      await services.repos.add({ path: fixture.repo });
      services.config.setApiOrigin(cloud.origin);
    },
  });
  const token = first.token;
  await first.close();
  const work = (loopId: string) => path.join(realpathSync(dataDir), 'loops', loopId, 'work');

  serve = await startServe(dataDir, [], { ...process.env, ...claude.env, PATH: `${NODE_MODULES_BIN}:${process.env.PATH}`, SYMPHONY_LOG_LEVEL: 'warn' });
  const post = (json: unknown) => sendRequest(serve!.port, token, '/api/gateway/symphony/loop', { method: 'POST', json, auth: 'token' });

  // The loop whose host dies with the gateway: its agent waits for the model forever.
  const dying = randomUUID();
  api.script({ kind: 'hang' });
  const requests = api.modelRequests().length;
  const died = await post(planBody(dying, 'dies'));
  assert.equal(died.status, 200, died.text);
  hosts.push(died.json.pid);
  await api.waitForModelRequests(requests + 1);

  // The loop that lives on: it writes its plan, then talks for a while, past the crash.
  const living = randomUUID();
  const plan = JSON.stringify({ content: '# Plan: greet' });
  api.script(
    { kind: 'tool', name: 'Bash', input: { command: `printf '%s' '${plan}' > ${work(living)}/plan.json`, description: 'write plan' } },
    { kind: 'text', text: 'Working on the greeting plan while the desktop restarts.', chunks: 30, delayMs: 200 },
  );
  const lives = await post(planBody(living, 'lives'));
  assert.equal(lives.status, 200, lives.text);
  hosts.push(lives.json.pid);
  assert.notEqual(lives.json.pid, serve.child.pid, 'the loop runs in its own host');
  await cloud.until(() => cloud.eventTypes(dying).includes('started') && cloud.eventTypes(living).includes('started'), 'both started', 60_000);
  await api.waitForModelRequests(requests + 2);

  serve.child.kill('SIGKILL');
  await serve.exited;
  process.kill(-died.json.pid, 'SIGKILL');
  await until(async () => !(await isSameProcessAlive({ pid: died.json.pid, procStartTime: null, bootId: null })), 'the dying host to be gone');
  assert.ok(await isSameProcessAlive({ pid: lives.json.pid, procStartTime: null, bootId: null }), 'the living host outlived its gateway');

  restarted = await startTestGateway({ dataDir, reapOrphans: true, binarySearchDirs: [NODE_MODULES_BIN], loops: { watchMs: 100, retryBackoff: { baseMs: 100, capMs: 400 } } });
  // Reattached: still running under the new gateway (not finalised), while the dead host's loop is.
  const reattached = restarted.services.loops.get(living);
  assert.ok(reattached && ['running', 'completed'].includes(reattached.status), `the living loop: ${reattached?.status}`);
  assert.equal(restarted.services.loops.get(dying)?.status, 'interrupted');

  await cloud.until(() => cloud.eventTypes(dying).includes('error'), 'the dead loop reported', 30_000);
  const error = cloud.accepted(dying, 'events').at(-1)!.body as { code: string; message: string };
  assert.equal(error.code, 'PROCESS_STOPPED');
  assert.deepEqual(cloud.eventTypes(dying), ['started', 'error']);

  await cloud.until(() => cloud.eventTypes(living).includes('completed'), 'the living loop completed', 90_000);
  assert.equal(restarted.services.loops.get(living)?.status, 'completed');
  assert.ok(await restarted.services.loopOutbox.idle());
  const types = cloud.eventTypes(living);
  assert.equal(types[0], 'started');
  assert.equal(types.at(-1), 'completed');
  assert.equal(types.filter((t) => t === 'started').length, 1, `started once: ${types.join(',')}`);
  assert.equal(types.filter((t) => t === 'completed').length, 1);
  const outbox = restarted.services.loopOutbox.items(living);
  assert.ok(outbox.every((item) => item.state === 'delivered'), 'every callback delivered');
  // Exactly what the loop queued reached the cloud, in the order it was queued: none lost, none doubled.
  assert.deepEqual(types, outbox.filter((i) => i.call === 'events').map((i) => (i.body as { type: string }).type));
  const calls = cloud.accepted(living).map((r) => r.path.split('/').at(-1));
  assert.ok(calls.lastIndexOf('upload-artifacts') < calls.lastIndexOf('events'), 'artifacts before completed');
  const upload = cloud.accepted(living, 'upload-artifacts')[0].body as { artifacts: { plan: { content: string } } };
  assert.equal(upload.artifacts.plan.content, '# Plan: greet');
});
