// Runs outlive the gateway: a run host keeps working while its gateway is gone, the next
// gateway reattaches it (status and kill work), and a launch resumes it after the kill.
// Also: kill {pid} of a stranger, bad input, concurrent launches.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { testHomesDir } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { createRunRepo, PLAN_ANSWER, startRunGateway, waitForStatus } from '../symphony/testing/run-fixture.js';
import { isSameProcessAlive } from '../supervisor/detached.js';
import type { TestGateway } from './testing.js';

let api: MockModelApi;
let root: string;
let repo: string;
let dataDir: string;
let homes: string;

before(async () => {
  api = await MockModelApi.start();
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'runs-restart-')));
  repo = await createRunRepo(root);
  dataDir = path.join(root, 'data');
  homes = mkdtempSync(path.join(testHomesDir(), 'runs-restart-'));
});

after(async () => {
  await api.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(homes, { recursive: true, force: true });
});

const gateway = () => startRunGateway({ root, api, dataDir, homes });
const launch = (gw: TestGateway, json: Record<string, unknown>) => gw.request('/api/gateway/symphony/launch', { method: 'POST', json, auth: 'token' });
const kill = (gw: TestGateway, json: Record<string, unknown>) => gw.request('/api/gateway/symphony/kill', { method: 'POST', json, auth: 'token' });

test('a run survives its gateway, is reattached by the next one and killed there; then resumes', async () => {
  let gw = await gateway();
  const ticket = 'ENG-live';
  api.script({ kind: 'hang' });
  const started = await launch(gw, { ticketIdentifier: ticket, repoPath: repo, judges: [], autoApprovePlan: true });
  assert.equal(started.status, 200, started.text);
  await api.waitForModelRequests(1);
  const live = await waitForStatus(gw, ticket, repo, (s) => s.status === 'IN_PROGRESS' && s.processRunning);
  await gw.close();
  assert.ok(await isSameProcessAlive({ pid: live.pid, procStartTime: null, bootId: null }), 'the host lives on without its gateway');

  gw = await gateway();
  try {
    const again = await waitForStatus(gw, ticket, repo, (s) => s.processRunning);
    assert.deepEqual([again.status, again.pid, again.runId], ['IN_PROGRESS', live.pid, live.runId]);
    const dup = await launch(gw, { ticketIdentifier: ticket, repoPath: repo });
    assert.equal(dup.json.alreadyRunning, true);
    const killed = await kill(gw, { ticketId: ticket, repoPath: repo });
    assert.equal(killed.status, 200, killed.text);
    const stopped = await waitForStatus(gw, ticket, repo, (s) => s.status === 'STOPPED' && !s.processRunning);
    assert.equal(stopped.phase, 'Process stopped by user');
    assert.equal(await isSameProcessAlive({ pid: live.pid, procStartTime: null, bootId: null }), false);

    // Resume: the plan turn runs again in the same session, then iteration 1 completes.
    api.script({ kind: 'text', text: PLAN_ANSWER }, { kind: 'text', text: '<task-done id="T1"/>\n<promise>COMPLETE</promise>' });
    const resumed = await launch(gw, { ticketIdentifier: ticket, repoPath: repo });
    assert.equal(resumed.json.resumed, true);
    const done = await waitForStatus(gw, ticket, repo, (s) => ['COMPLETED', 'FAILED'].includes(s.status) && !s.processRunning);
    assert.equal(done.status, 'COMPLETED', JSON.stringify(done));
    assert.equal(done.runId, live.runId);
  } finally {
    await gw.close();
  }
});

test('kill {pid} of a process that is not a run is 404 and it lives; bad input creates nothing; two launches make one run', async () => {
  const gw = await gateway();
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const res = await kill(gw, { pid: other.pid });
    assert.equal(res.status, 404, res.text);
    assert.equal(other.exitCode, null);
    assert.ok(await isSameProcessAlive({ pid: other.pid!, procStartTime: null, bootId: null }));

    const climb = await launch(gw, { ticketIdentifier: '../x', repoPath: repo });
    assert.equal(climb.status, 400, climb.text);
    const dash = await launch(gw, { ticketIdentifier: 'ENG-x', repoPath: repo, baseBranch: '--upload-pack=x' });
    assert.equal(dash.status, 400, dash.text);
    assert.match(dash.text, /baseBranch/);
    const outside = await launch(gw, { ticketIdentifier: 'ENG-x', repoPath: '/etc' });
    assert.equal(outside.status, 403, outside.text);
    assert.equal(existsSync(path.join(dataDir, 'worktrees', 'repo', 'repo-ENG-x')), false);
    assert.equal((await gw.request('/api/gateway/symphony/status', { auth: 'token' })).json.runs.some((r: { ticketId: string }) => r.ticketId === 'ENG-x'), false);

    api.script({ kind: 'text', text: PLAN_ANSWER });
    const both = await Promise.all([launch(gw, { ticketIdentifier: 'ENG-twice', repoPath: repo }), launch(gw, { ticketIdentifier: 'ENG-twice', repoPath: repo })]);
    const statuses = both.map((r) => r.status).sort();
    assert.ok(statuses[0] === 200 && (statuses[1] === 409 || both[1].json.alreadyRunning || both[0].json.alreadyRunning), JSON.stringify(both.map((r) => r.json)));
    await waitForStatus(gw, 'ENG-twice', repo, (s) => s.status === 'AWAITING_USER');
    const runs = (await gw.request('/api/gateway/symphony/status', { auth: 'token' })).json.runs.filter((r: { ticketId: string }) => r.ticketId === 'ENG-twice');
    assert.equal(runs.length, 1);
  } finally {
    other.kill();
    await gw.close();
  }
});
