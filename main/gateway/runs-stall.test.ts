// What a run does when its agent misbehaves, through the real gateway, real git and run
// hosts running the real claude against the mock model API: a stalled stream (killed and
// retried) and a CLI that forgot the run's session (resumed from the stored transcript).
// The kill, max-iterations and backoff cases are in runs-robustness.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { groupAlive, testHomesDir } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { RUN_SETTINGS } from '../symphony/runs.js';
import { createRunRepo, DONE_ANSWER, isResting, launchRun, PLAN_ANSWER, runEvents, startRunGateway, waitForStatus } from '../symphony/testing/run-fixture.js';
import type { TestGateway } from './testing.js';

// Short for a test, yet longer than claude takes to start in its sandbox on a loaded machine
// (over 5 s seen at load ~8): a CLI that prints nothing at all for this long counts as stalled.
const STALL_MS = 12_000;
/** Waits for a run's end: generous, as several claude turns on a shared 2-core machine can take a minute. */
const SLOW_MS = 120_000;
let api: MockModelApi;
let root: string;
let repo: string;
let homes: string;
let gw: TestGateway;

before(async () => {
  api = await MockModelApi.start();
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'runs-robust-')));
  repo = await createRunRepo(root);
  homes = mkdtempSync(path.join(testHomesDir(), 'runs-robust-'));
  gw = await startRunGateway({ root, api, homes });
});

after(async () => {
  await gw?.close();
  await api.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(homes, { recursive: true, force: true });
});

const launch = (json: Record<string, unknown>) => launchRun(gw, json);
const DONE = DONE_ANSWER;
const resting = isResting;
const events = (ticket: string) => runEvents(gw, ticket, repo);

test('a stalled stream: the turn is killed after the stall timeout and retried', async () => {
  const ticket = 'ENG-stall';
  // Fixed at launch: only this run gets the short stall timeout.
  gw.services.settings.set(RUN_SETTINGS.stallTimeoutMs, STALL_MS);
  api.script({ kind: 'stall', text: 'Let me think about' }, { kind: 'text', text: PLAN_ANSWER }, { kind: 'text', text: DONE });
  const launched = await launch({ ticketIdentifier: ticket, repoPath: repo, judges: [], autoApprovePlan: true });
  gw.services.settings.delete(RUN_SETTINGS.stallTimeoutMs);
  assert.equal(launched.status, 200);
  const done = await waitForStatus(gw, ticket, repo, resting, SLOW_MS);
  const log = await events(ticket);
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
  api.script({ kind: 'text', text: PLAN_ANSWER });
  assert.equal((await launch({ ticketIdentifier: ticket, repoPath: repo, judges: [] })).status, 200);
  const waiting = await waitForStatus(gw, ticket, repo, (s) => s.status === 'AWAITING_USER' && !s.processRunning);
  const detail = await gw.request(`/api/gateway/symphony/runs/${waiting.runId}`, { auth: 'token' });
  const sessionId = detail.json.sessionId as string | undefined;
  // The CLI forgets: its session files go (as after a reinstall or a cleaned config folder).
  rmSync(path.join(homes, 'home', '.claude', 'projects'), { recursive: true, force: true });

  const calls = api.modelRequests().length;
  api.script({ kind: 'text', text: DONE });
  assert.equal((await launch({ ticketIdentifier: ticket, repoPath: repo })).status, 200);
  const done = await waitForStatus(gw, ticket, repo, resting, SLOW_MS);
  assert.equal(done.status, 'COMPLETED', JSON.stringify(done));
  const seeded = api.modelRequests().slice(calls).map((r) => JSON.stringify(r.body)).find((body) => body.includes('<transcript>'));
  assert.ok(seeded, 'a model call carried the transcript');
  assert.match(seeded, /Create fixed.txt/, "the plan turn's answer is in the transcript");
  if (sessionId) assert.notEqual((await gw.request(`/api/gateway/symphony/runs/${waiting.runId}`, { auth: 'token' })).json.sessionId, sessionId);
});
