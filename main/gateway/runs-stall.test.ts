// What a run does when its agent misbehaves, through the real gateway, real git and run
// hosts running the real claude against the mock model API: a stalled stream (killed and
// retried) and a CLI that forgot the run's session (resumed from the stored transcript).
// The kill, max-iterations and backoff cases are in runs-robustness.test.ts.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { groupAlive } from '../providers/testing/cli-env.js';
import { RUN_SETTINGS } from '../symphony/runs.js';
import { DONE_ANSWER, isResting, PLAN_ANSWER, waitForStatus } from '../symphony/testing/run-fixture.js';
import { runSuite } from '../symphony/testing/run-suite.js';

// Short for a test, yet longer than claude takes to start in its sandbox on a loaded machine
// (over 5 s seen at load ~8): a CLI that prints nothing at all for this long counts as stalled.
const STALL_MS = 12_000;
/** Waits for a run's end: generous, as several claude turns on a shared 2-core machine can take a minute. */
const SLOW_MS = 120_000;
const run = runSuite('runs-stall-');

test('a stalled stream: the turn is killed after the stall timeout and retried', async () => {
  const ticket = 'ENG-stall';
  // Fixed at launch: only this run gets the short stall timeout.
  run.gw.services.settings.set(RUN_SETTINGS.stallTimeoutMs, STALL_MS);
  run.api.script({ kind: 'stall', text: 'Let me think about' }, { kind: 'text', text: PLAN_ANSWER }, { kind: 'text', text: DONE_ANSWER });
  const launched = await run.launch({ ticketIdentifier: ticket, repoPath: run.repo, judges: [], autoApprovePlan: true });
  run.gw.services.settings.delete(RUN_SETTINGS.stallTimeoutMs);
  assert.equal(launched.status, 200);
  const done = await waitForStatus(run.gw, ticket, run.repo, isResting, SLOW_MS);
  const log = await run.events(ticket);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(log.map((e) => [e.ts.slice(17), e.type, e.content ?? e.status ?? e.pid ?? ''])));
  const stall = log.find((e) => e.type === 'stall_retry');
  assert.deepEqual([stall?.stalls, stall?.afterMs], [1, STALL_MS]);
  assert.ok(log.findIndex((e) => e.type === 'text' && /Let me th/.test(e.content)) < log.indexOf(stall), 'the stalled turn had started streaming');
  const [first, second] = log.filter((e) => e.type === 'turn_started');
  assert.equal(groupAlive(first.pid), false, 'the stalled CLI was killed');
  assert.ok(Date.parse(second.ts) - Date.parse(first.ts) >= STALL_MS);
});

test('a CLI that no longer knows the session: the next iteration starts a new one seeded with the stored transcript', async () => {
  const ticket = 'ENG-forgot';
  run.api.script({ kind: 'text', text: PLAN_ANSWER });
  assert.equal((await run.launch({ ticketIdentifier: ticket, repoPath: run.repo, judges: [] })).status, 200);
  const waiting = await waitForStatus(run.gw, ticket, run.repo, (s) => s.status === 'AWAITING_USER' && !s.processRunning);
  const detail = await run.gw.request(`/api/gateway/symphony/runs/${waiting.runId}`, { auth: 'token' });
  const sessionId = detail.json.sessionId as string | undefined;
  // The CLI forgets: its session files go (as after a reinstall or a cleaned config folder).
  rmSync(path.join(run.homes, 'home', '.claude', 'projects'), { recursive: true, force: true });

  const calls = run.api.modelRequests().length;
  run.api.script({ kind: 'text', text: DONE_ANSWER });
  assert.equal((await run.launch({ ticketIdentifier: ticket, repoPath: run.repo })).status, 200);
  const done = await waitForStatus(run.gw, ticket, run.repo, isResting, SLOW_MS);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(done));
  const seeded = run.api.modelRequests().slice(calls).map((r) => JSON.stringify(r.body)).find((body) => body.includes('<transcript>'));
  assert.ok(seeded, 'a model call carried the transcript');
  assert.match(seeded, /Create fixed.txt/, "the plan turn's answer is in the transcript");
  if (sessionId) assert.notEqual((await run.gw.request(`/api/gateway/symphony/runs/${waiting.runId}`, { auth: 'token' })).json.sessionId, sessionId);
});
