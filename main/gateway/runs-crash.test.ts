// A gateway SIGKILLed mid-run: the run host lives on, the next gateway reattaches it
// (status and kill work); and when the host died too, the run is INTERRUPTED and a
// launch resumes it to COMPLETED. The real claude against the mock model API.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { testHomesDir } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { isSameProcessAlive } from '../supervisor/detached.js';
import { createRunRepo, PLAN_ANSWER, startRunGateway, waitForStatus } from '../symphony/testing/run-fixture.js';
import { sendRequest } from './testing.js';

const CHILD = fileURLToPath(new URL('../symphony/testing/run-gateway-child.ts', import.meta.url));
let api: MockModelApi;
let root: string;
let repo: string;
let homes: string;
const children: ChildProcess[] = [];

before(async () => {
  api = await MockModelApi.start();
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'runs-crash-')));
  repo = await createRunRepo(root);
  homes = mkdtempSync(path.join(testHomesDir(), 'runs-crash-'));
});

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await api.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(homes, { recursive: true, force: true });
});

/** A run gateway in a child process (so it can be SIGKILLed), with a `request` like the test gateway's. */
async function gatewayProcess(dataDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ root, dataDir, homes, apiUrl: api.url })], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the gateway process exited (${code}) before listening`)));
  });
  const { port, token } = JSON.parse(line) as { port: number; token: string };
  return {
    request: (url: string, options: Parameters<typeof sendRequest>[3] = {}) => sendRequest(port, token, url, options),
    async sigkill() {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

const alive = (pid: number) => isSameProcessAlive({ pid, procStartTime: null, bootId: null });

test('the gateway SIGKILLed mid-turn: the run host lives on and the next gateway reattaches it (status and kill work)', async () => {
  const dataDir = path.join(root, 'data-a');
  const crashed = await gatewayProcess(dataDir);
  const ticket = 'ENG-sigkill';
  api.script({ kind: 'hang' });
  const started = await crashed.request('/api/gateway/symphony/launch', { method: 'POST', auth: 'token', json: { ticketIdentifier: ticket, repoPath: repo, judges: [], autoApprovePlan: true } });
  assert.equal(started.status, 200, started.text);
  const live = await waitForStatus(crashed, ticket, repo, (s) => s.status === 'IN_PROGRESS' && s.processRunning);
  await api.waitForModelRequests(api.modelRequests().length + 1);
  await crashed.sigkill();
  assert.ok(await alive(live.pid), 'the host lives on without its gateway');

  const gw = await startRunGateway({ root, api, dataDir, homes });
  try {
    const again = await waitForStatus(gw, ticket, repo, (s) => s.processRunning);
    assert.deepEqual([again.status, again.pid, again.runId, again.phase], ['IN_PROGRESS', live.pid, live.runId, 'Planning']);
    const killed = await gw.request('/api/gateway/symphony/kill', { method: 'POST', auth: 'token', json: { pid: live.pid } });
    assert.equal(killed.status, 200, killed.text);
    const stopped = await waitForStatus(gw, ticket, repo, (s) => s.status === 'STOPPED' && !s.processRunning);
    assert.equal(stopped.phase, 'Process stopped by user');
    assert.equal(await alive(live.pid), false);
  } finally {
    await gw.close();
  }
});

test('the gateway and the run host both SIGKILLed: the next gateway marks the run INTERRUPTED and a launch resumes it to COMPLETED', async () => {
  const dataDir = path.join(root, 'data-b');
  const crashed = await gatewayProcess(dataDir);
  const ticket = 'ENG-hostdied';
  api.script({ kind: 'hang' });
  const before = api.modelRequests().length;
  const started = await crashed.request('/api/gateway/symphony/launch', { method: 'POST', auth: 'token', json: { ticketIdentifier: ticket, repoPath: repo, judges: [], autoApprovePlan: true } });
  assert.equal(started.status, 200, started.text);
  const live = await waitForStatus(crashed, ticket, repo, (s) => s.status === 'IN_PROGRESS' && s.processRunning);
  await api.waitForModelRequests(before + 1);
  await crashed.sigkill();
  process.kill(live.pid, 'SIGKILL');
  while (await alive(live.pid)) await new Promise((resolve) => setTimeout(resolve, 20));

  const gw = await startRunGateway({ root, api, dataDir, homes });
  try {
    const interrupted = await waitForStatus(gw, ticket, repo, (s) => s.status === 'INTERRUPTED');
    assert.equal(interrupted.processRunning, false);
    assert.match(interrupted.lastError, /run host was not running/);
    api.script({ kind: 'text', text: PLAN_ANSWER }, { kind: 'text', text: '<task-done id="T1"/>\n<promise>COMPLETE</promise>' });
    const resumed = await gw.request('/api/gateway/symphony/launch', { method: 'POST', auth: 'token', json: { ticketIdentifier: ticket, repoPath: repo } });
    assert.equal(resumed.status, 200, resumed.text);
    assert.equal(resumed.json.resumed, true);
    const done = await waitForStatus(gw, ticket, repo, (s) => ['COMPLETED', 'FAILED'].includes(s.status) && !s.processRunning, 60_000);
    assert.equal(done.status, 'COMPLETED', JSON.stringify(done));
    assert.deepEqual([done.runId, done.reason, done.iteration], [live.runId, 'completed', 1]);
  } finally {
    await gw.close();
  }
});
