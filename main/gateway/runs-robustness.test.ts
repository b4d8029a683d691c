// What a run does when things go wrong, through the real gateway, real git and run hosts
// running the real claude against the mock model API: a kill mid-turn, max iterations, an
// API error (backoff, then success). Stalls and forgotten sessions: runs-stall.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupAlive } from '../providers/testing/cli-env.js';
import { isSameProcessAlive } from '../supervisor/detached.js';
import { RUN_SETTINGS } from '../symphony/runs.js';
import { DONE_ANSWER, isResting, PLAN_ANSWER, waitForStatus } from '../symphony/testing/run-fixture.js';
import { runSuite } from '../symphony/testing/run-suite.js';

const BACKOFF_BASE_MS = 200;
/** Waits for a run's end: generous, as several claude turns on a shared 2-core machine can take a minute. */
const SLOW_MS = 120_000;
const run = runSuite('runs-robust-', { [RUN_SETTINGS.backoffBaseMs]: BACKOFF_BASE_MS });

test('kill mid-turn: STOPPED, neither the host nor the CLI is left, and a launch resumes the run to COMPLETED', async () => {
  const ticket = 'ENG-kill';
  const calls = run.api.modelRequests().length;
  run.api.script({ kind: 'hang' });
  assert.equal((await run.launch({ ticketIdentifier: ticket, repoPath: run.repo, judges: [], autoApprovePlan: true })).status, 200);
  const live = await waitForStatus(run.gw, ticket, run.repo, (s) => s.status === 'IN_PROGRESS' && s.processRunning);
  await run.api.waitForModelRequests(calls + 1);
  const cliPid = (await run.events(ticket)).find((e) => e.type === 'turn_started').pid as number;
  assert.ok(groupAlive(cliPid), 'the CLI is mid-turn');

  const killed = await run.gw.request('/api/gateway/symphony/kill', { method: 'POST', auth: 'token', json: { ticketId: ticket, repoPath: run.repo } });
  assert.equal(killed.status, 200, killed.text);
  const stopped = await waitForStatus(run.gw, ticket, run.repo, isResting, SLOW_MS);
  assert.deepEqual([stopped.status, stopped.reason], ['STOPPED', 'stopped']);
  assert.equal(await isSameProcessAlive({ pid: live.pid, procStartTime: null, bootId: null }), false, 'the host is gone');
  assert.equal(groupAlive(cliPid), false, 'the CLI is gone');

  run.api.script({ kind: 'text', text: PLAN_ANSWER }, { kind: 'text', text: DONE_ANSWER });
  const resumed = await run.launch({ ticketIdentifier: ticket, repoPath: run.repo });
  assert.equal(resumed.json.resumed, true);
  const done = await waitForStatus(run.gw, ticket, run.repo, isResting, SLOW_MS);
  assert.deepEqual([done.status, done.runId, done.iteration], ['COMPLETED', live.runId, 1]);
});

test('max iterations reached: COMPLETED with the reason, after exactly that many iterations', async () => {
  const ticket = 'ENG-max';
  run.api.script({ kind: 'text', text: PLAN_ANSWER }, { kind: 'text', text: 'Still on it.' }, { kind: 'text', text: 'Still on it.' });
  assert.equal((await run.launch({ ticketIdentifier: ticket, repoPath: run.repo, judges: [], autoApprovePlan: true, maxIterations: 2 })).status, 200);
  const done = await waitForStatus(run.gw, ticket, run.repo, isResting, SLOW_MS);
  assert.deepEqual([done.status, done.reason, done.phase, done.iteration], ['COMPLETED', 'max_iterations_reached', 'Stopped after 2 iterations', 2]);
  const detail = await run.gw.request(`/api/gateway/symphony/runs/${done.runId}`, { auth: 'token' });
  assert.deepEqual(detail.json.iterations.map((it: { iteration: number }) => it.iteration), [0, 1, 2]);
});

test('API errors back off min(base x 2^(n-1), max) and the turn then succeeds', async () => {
  const ticket = 'ENG-backoff';
  run.api.script({ kind: 'error', status: 500, message: 'overloaded, try later' }, { kind: 'error', status: 500 }, { kind: 'text', text: PLAN_ANSWER }, { kind: 'text', text: DONE_ANSWER });
  assert.equal((await run.launch({ ticketIdentifier: ticket, repoPath: run.repo, judges: [], autoApprovePlan: true })).status, 200);
  const done = await waitForStatus(run.gw, ticket, run.repo, isResting, SLOW_MS);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(done));
  const log = await run.events(ticket);
  const backoffs = log.filter((e) => e.type === 'backoff');
  assert.deepEqual(backoffs.map((e) => [e.attempt, e.delayMs]), [[1, BACKOFF_BASE_MS], [2, 2 * BACKOFF_BASE_MS]]);
  assert.match(backoffs[0].error + backoffs[0].reason, /overloaded|500|error/i);
  // The retry waited at least the backoff: the next turn started after it.
  const starts = log.filter((e) => e.type === 'turn_started' && e.iteration === 0).map((e) => Date.parse(e.ts));
  assert.equal(starts.length, 3);
  assert.ok(starts[2] - starts[1] >= 2 * BACKOFF_BASE_MS - 5, `${starts[2] - starts[1]} ms between the 2nd and 3rd attempt`);
});
