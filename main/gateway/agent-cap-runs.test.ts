// Issue 9, item 6: a paired origin's ticket runs hold its agent cap like its chat turns. Real
// git, a real gateway whose run hosts run the real claude against the mock model API: with a
// cap of 1 the origin's live run makes its second launch 429 and its chat turn wait (`status
// queued`); the gateway token's launch is not capped; the run's end (in its host, another
// process) lets the queued turn run.
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { NormalizedEvent } from '../../shared/events.js';
import { AGENT_START } from '../auth/policy.js';
import { ClaudeProvider } from '../providers/claude.js';
import { claudeTestConfig, testHomesDir } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { createRunRepo, launchRun, startRunGateway, waitForStatus } from '../symphony/testing/run-fixture.js';
import { readUntil, until, type TestGateway } from './testing.js';

const ORIGIN = 'https://app.example.test';
const ORIGIN_KEY = `origin:${ORIGIN}`;
const CHAT = '/api/gateway/ticket-chat';
const LAUNCH = '/api/gateway/symphony/launch';

let api: MockModelApi;
let root: string;
let homes: string;
let repo: string;
let gw: TestGateway;
let session: string;

before(async () => {
  api = await MockModelApi.start();
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'agent-cap-runs-')));
  homes = mkdtempSync(path.join(testHomesDir(), 'agent-cap-runs-'));
  repo = await createRunRepo(root);
  gw = await startRunGateway({
    root, api, homes,
    // Chats run the gateway's own claude (its Confiner holds the cap) against the same mock.
    configure: async (services) => {
      services.providers.register(new ClaudeProvider(services.supervisor, { ...claudeTestConfig(api, homes), confiner: services.confiner }));
    },
  });
  session = await gw.pair(ORIGIN);
  // The origin's launches and chat turns are allowed, so the test is about the cap, not the approval.
  gw.services.policy.replaceOverrides((['symphony_launch', 'ticket_chat'] as const).map((operation) => ({
    callerKind: 'origin' as const, operation, access: 'write' as const, action: AGENT_START, decision: 'allow' as const,
  })));
});

after(async () => {
  await gw?.close();
  await api.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(homes, { recursive: true, force: true });
});

const asOrigin = () => ({ session, origin: ORIGIN });
const launchBody = (ticketIdentifier: string) => ({ ticketIdentifier, repoPath: repo, judges: [], autoApprovePlan: true });

test("cap 1: the origin's live run makes its next launch 429 and its chat turn wait; the token is not capped; the run's end lets the turn run", async () => {
  assert.equal((await gw.request('/api/gateway/desktop/config', { method: 'PATCH', json: { limits: { concurrentAgents: 1 } }, auth: 'token' })).status, 200);
  // The origin's run and the token's run both hang in their first model call (held IN_PROGRESS); then the chat's answer.
  api.script({ kind: 'hang' }, { kind: 'hang' }, { kind: 'text', text: 'chat turn ran' });

  const launched = await gw.request(LAUNCH, { method: 'POST', json: launchBody('ENG-cap1'), auth: asOrigin() });
  assert.equal(launched.status, 200, launched.text);
  await api.waitForModelRequests(1);
  await waitForStatus(gw, 'ENG-cap1', repo, (s) => s.status === 'IN_PROGRESS' && s.processRunning);
  assert.equal(gw.services.runs.store.get(launched.json.runId)?.launchedBy, ORIGIN_KEY, 'the run records who launched it');

  // Its second launch: refused at once (runs are long: no queue), in the cap's one 429, and nothing is left of it.
  const refused = await gw.request(LAUNCH, { method: 'POST', json: launchBody('ENG-cap2'), auth: asOrigin() });
  assert.equal(refused.status, 429, refused.text);
  assert.equal(refused.json.code, 'too_many_agents');
  assert.deepEqual(refused.json.details, { running: 1, limit: 1, queued: 0, maxQueued: 16 });
  assert.ok(Number(refused.headers['retry-after']) > 0);
  assert.equal((await waitForStatus(gw, 'ENG-cap2', repo, () => true)).exists, false, 'the refused launch made no run');

  // The local user's launch is not capped.
  const local = await launchRun(gw, launchBody('ENG-local'));
  assert.equal(local.status, 200, local.text);
  await api.waitForModelRequests(2);
  assert.equal(gw.services.runs.store.get(local.json.runId)?.launchedBy, 'token');

  // The origin's chat turn waits for the slot its run holds.
  const chat = await gw.openStream(CHAT, { ticketId: 'T-chat', message: 'hello', ticketContext: 'c' }, { 'X-Desktop-Session-Token': session, Origin: ORIGIN });
  assert.equal(chat.res.statusCode, 200);
  const first = await chat.lines.next();
  const queued = NormalizedEvent.parse(JSON.parse(first.value as string));
  assert.equal(queued.type === 'status' && queued.status, 'queued');
  assert.equal(queued.type === 'status' && queued.position, 1);
  assert.equal(api.modelRequests().length, 2, 'the queued turn started no agent');

  // The run is killed (its host records the end in the database); the queue sees the slot free and the turn runs.
  const killed = await gw.request('/api/gateway/symphony/kill', { method: 'POST', json: { ticketId: 'ENG-cap1', repoPath: repo }, auth: 'token' });
  assert.equal(killed.status, 200, killed.text);
  const rest = await readUntil(chat.lines, 'done');
  assert.ok(rest.some((e) => e.type === 'status' && e.status === 'started'), JSON.stringify(rest));
  assert.equal(rest.filter((e) => e.type === 'text').map((e) => (e.type === 'text' ? e.content : '')).join(''), 'chat turn ran');
  assert.ok(rest.some((e) => e.type === 'result' && e.success));
  await until(() => gw.services.agentSlots.count(ORIGIN_KEY) === 0, 'the turn to give its slot back');
  assert.equal(gw.services.agentSlots.busy(ORIGIN_KEY), 0);

  assert.equal((await gw.request('/api/gateway/symphony/kill', { method: 'POST', json: { ticketId: 'ENG-local', repoPath: repo }, auth: 'token' })).status, 200);
});
