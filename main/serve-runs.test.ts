// `serve` and ticket runs on exit, as real processes: by default a run's host outlives the
// gateway (and the next serve reattaches it); with --stop-runs-on-exit a clean stop ends
// the run STOPPED with no process left. The run's planning turn is the real claude CLI
// waiting on the mock model API (a turn that never answers).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCli, setUpServe, startServe, type ServeProcess, type ServeSetup } from './cli/testing/serve.js';
import { sendRequest } from './gateway/testing.js';
import { groupAlive } from './providers/testing/cli-env.js';
import type { MockModelApi } from './providers/testing/mock-model-api.js';
import { createRunRepo, waitForStatus } from './symphony/testing/run-fixture.js';

let setup: ServeSetup;
let api: MockModelApi;
let dataDir: string;
let repo: string;
let env: NodeJS.ProcessEnv;
let token: string;

before(async () => {
  setup = await setUpServe('serve-runs');
  ({ api, dataDir, env, token } = setup);
  repo = await createRunRepo(setup.root);
});

after(() => setup.cleanup());

/** The host leads its own process group; a zombie (PID 1 here may never reap it) does not count. */
const alive = (pid: number) => groupAlive(pid);

/** A serve, a run of `ticket` whose planning turn hangs, then SIGTERM: the run's state and host pid after. */
async function launchThenStop(ticket: string, serveArgs: string[]): Promise<{ serve: ServeProcess; pid: number }> {
  const serve = await startServe(dataDir, serveArgs, env);
  const gw = { request: (path: string, req: Parameters<typeof sendRequest>[3] = {}) => sendRequest(serve.port, token, path, { auth: 'token', ...req }) };
  const requestsBefore = api.modelRequests().length;
  api.script({ kind: 'hang' });
  const launched = await gw.request('/api/gateway/symphony/launch', { method: 'POST', json: { ticketIdentifier: ticket, repoPath: repo, provider: 'claude' } });
  assert.equal(launched.status, 200, launched.text);
  const working = await waitForStatus(gw, ticket, repo, (s) => s.status === 'IN_PROGRESS' && s.processRunning, 60_000);
  await api.waitForModelRequests(requestsBefore + 1);
  serve.child.kill('SIGTERM');
  assert.equal(await serve.exited, 0, serve.stderr());
  return { serve, pid: working.pid as number };
}

test('serve keeps runs going on exit by default (the next serve reattaches them); --stop-runs-on-exit stops them', { timeout: 240_000 }, async () => {
  const kept = await launchThenStop('KEEP-1', []);
  assert.ok(alive(kept.pid), 'the run host outlived serve');

  // The next serve finds the run still live and can stop it.
  const again = await startServe(dataDir, [], env);
  const gw = { request: (path: string, req: Parameters<typeof sendRequest>[3] = {}) => sendRequest(again.port, token, path, { auth: 'token', ...req }) };
  const reattached = await waitForStatus(gw, 'KEEP-1', repo, (s) => s.status === 'IN_PROGRESS');
  assert.equal(reattached.pid, kept.pid);
  const killed = await gw.request('/api/gateway/symphony/kill', { method: 'POST', json: { ticketId: 'KEEP-1', repoPath: repo } });
  assert.equal(killed.status, 200, killed.text);
  assert.equal(killed.json.status, 'STOPPED');
  again.child.kill('SIGTERM');
  assert.equal(await again.exited, 0);

  const stopped = await launchThenStop('STOP-1', ['--stop-runs-on-exit']);
  assert.ok(!alive(stopped.pid), 'the run host was stopped with serve');
  const listed = await runCli(['runs', '--json', '--data-dir', dataDir, '--secret-store', 'file'], undefined, env);
  assert.equal(listed.code, 0, listed.stderr);
  const runs = JSON.parse(listed.stdout).runs as Array<{ ticketId: string; status: string; processRunning: boolean }>;
  assert.deepEqual(runs.find((r) => r.ticketId === 'STOP-1'), { ...runs.find((r) => r.ticketId === 'STOP-1'), status: 'STOPPED', processRunning: false });
});
