// Issue 9, item 6: the agents one paired origin may have at once. Real claude against the
// mock model API through a real gateway: past the cap a turn waits in the caller's queue
// (its stream says `status queued {position}`), runs when a slot frees, and with the queue
// full the reply is 429 with Retry-After in our error envelope; the local user is not capped.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { NormalizedEvent } from '../../shared/events.js';
import { AGENT_START } from '../auth/policy.js';
import { MAX_QUEUED_PER_CALLER } from '../providers/agent-slots.js';
import { ClaudeProvider } from '../providers/claude.js';
import { claudeTestConfig, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { registeredBugRepo } from '../review/testing/seeded-repo.js';
import { readUntil, startTestGateway, until, type OpenStream, type TestGateway } from './testing.js';

const ORIGIN = 'https://app.example.test';
const CHAT = '/api/gateway/ticket-chat';

let api: MockModelApi;
let dirs: TestDirs;
let gw: TestGateway;
let originAuth: Record<string, string>;
let repo: string;

before(async () => {
  api = await MockModelApi.start();
  dirs = makeTestDirs('agent-cap');
  gw = await startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    configure: async (services) => {
      // The gateway's own Confiner: the cap lives in its prepare step.
      services.providers.register(new ClaudeProvider(services.supervisor, { ...claudeTestConfig(api, dirs.homes), confiner: services.confiner }));
      await services.setWorkspaceRoot(dirs.cwd);
    },
  });
  originAuth = { 'X-Desktop-Session-Token': await gw.pair(ORIGIN), Origin: ORIGIN };
  // The origin's agent starts are allowed here, so the test is about the cap, not the approval.
  gw.services.policy.replaceOverrides((['ticket_chat', 'codex_review'] as const).map((operation) => ({ callerKind: 'origin' as const, operation, access: 'write' as const, action: AGENT_START, decision: 'allow' as const })));
  repo = await registeredBugRepo(gw.services, dirs.cwd);
});

after(async () => {
  await gw.close();
  await api.close();
  dirs.cleanup();
});

const turnBody = (ticketId: string) => ({ ticketId, message: 'hello', ticketContext: 'c' });
const originKey = `origin:${ORIGIN}`;

async function nextEvent(stream: OpenStream): Promise<NormalizedEvent> {
  const next = await stream.lines.next();
  assert.equal(next.done, false, 'the stream ended early');
  return NormalizedEvent.parse(JSON.parse(next.value));
}

/** Chat turns of the origin waiting behind the one queued start until its queue is full (places 2..max). */
async function fillQueue(prefix: string): Promise<OpenStream[]> {
  const waiting: OpenStream[] = [];
  for (let i = 2; i <= MAX_QUEUED_PER_CALLER; i++) {
    const stream = await gw.openStream(CHAT, turnBody(`${prefix}${i}`), originAuth);
    const event = await nextEvent(stream);
    assert.equal(event.type === 'status' && event.position, i);
    waiting.push(stream);
  }
  return waiting;
}

describe('concurrent agents of a paired origin', () => {
  test('past the cap a turn is queued with its position, runs when a slot frees; a full queue is 429 with Retry-After', async () => {
    const patched = await gw.request('/api/gateway/desktop/config', { method: 'PATCH', json: { limits: { concurrentAgents: 1 } }, auth: 'token' });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.limits.concurrentAgents, 1);
    const outOfRange = await gw.request('/api/gateway/desktop/config', { method: 'PATCH', json: { limits: { concurrentAgents: 0, runViewerMaxAgeDays: 3 } }, auth: 'token' });
    assert.equal(outOfRange.status, 400);
    assert.match(outOfRange.text, /limits\.concurrentAgents/);
    assert.equal((await gw.request('/api/gateway/desktop/config', { auth: 'token' })).json.limits.runViewerMaxAgeDays, 7, 'a refused patch changed nothing');

    api.script({ kind: 'hang' }, { kind: 'text', text: 'local turn ran' }, { kind: 'text', text: 'second turn ran' });
    const first = await gw.openStream(CHAT, turnBody('T-1'), originAuth);
    assert.equal(first.res.statusCode, 200);
    assert.deepEqual((await readUntil(first.lines, 'status')).map((e) => e.type === 'status' && e.status), ['started']);
    await api.waitForModelRequests(1);
    assert.equal(gw.services.agentSlots.count(originKey), 1);

    const second = await gw.openStream(CHAT, turnBody('T-2'), originAuth);
    assert.equal(second.res.statusCode, 200);
    const queued = await nextEvent(second);
    assert.equal(queued.type === 'status' && queued.status, 'queued');
    assert.equal(queued.type === 'status' && queued.position, 1);
    assert.equal(gw.services.chats.list('ticket', 'T-2', originKey)[0].state, 'running');

    // The queue fills up (waiting starts hold no process), then the next one is refused.
    const waiting = await fillQueue('T-w');
    const refused = await gw.request(CHAT, { method: 'POST', json: turnBody('T-full'), auth: { session: originAuth['X-Desktop-Session-Token'], origin: ORIGIN } });
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.json.code, 'too_many_agents');
    assert.equal(typeof refused.json.error, 'string');
    assert.deepEqual(refused.json.details, { running: 1, limit: 1, queued: MAX_QUEUED_PER_CALLER, maxQueued: MAX_QUEUED_PER_CALLER });
    assert.ok(Number(refused.headers['retry-after']) > 0);
    assert.deepEqual(gw.services.chats.list('ticket', 'T-full', originKey), [], 'the refused turn left nothing in the history');

    // The local user is not capped: its turn runs at once beside the origin's.
    const local = await gw.request(CHAT, { method: 'POST', json: turnBody('T-local'), auth: 'token' });
    assert.equal(local.status, 200, local.text);
    assert.match(local.text, /"result","success":true/);

    // Waiting clients that leave give up their places.
    for (const stream of waiting) stream.close();
    await until(() => gw.services.agentSlots.queued(originKey) === 1, 'the left clients to leave the queue');
    await until(() => gw.services.chats.list('ticket', 'T-w2', originKey)[0]?.state === 'killed', 'a left queued turn to be recorded killed');

    // The first turn ends (its conversation is ended), and the queued one gets the slot and runs.
    const ended = await gw.request(`${CHAT}?ticketId=T-1`, { method: 'DELETE', auth: { session: originAuth['X-Desktop-Session-Token'], origin: ORIGIN } });
    assert.equal(ended.status, 200, ended.text);
    const rest = await readUntil(second.lines, 'done');
    assert.ok(rest.some((e) => e.type === 'status' && e.status === 'started'), 'the queued turn started');
    assert.equal(rest.filter((e) => e.type === 'text').map((e) => (e.type === 'text' ? e.content : '')).join(''), 'second turn ran');
    assert.ok(rest.some((e) => e.type === 'result' && e.success));
    await until(() => gw.services.agentSlots.count(originKey) === 0, 'every slot to be given back');
    assert.equal(gw.services.chats.list('ticket', 'T-2', originKey)[0].state, 'idle');
  });

  test('a review and its verdict take a slot like a chat turn: queued while the chat holds it, 429 with the queue full; the local user is never capped', async () => {
    assert.equal((await gw.request('/api/gateway/desktop/config', { method: 'PATCH', json: { limits: { concurrentAgents: 1 } }, auth: 'token' })).status, 200);
    const originRequest = { session: originAuth['X-Desktop-Session-Token'], origin: ORIGIN };
    const review = (_ticketId: string) => ({ repoPath: repo, provider: 'claude', useBaseRepo: true });
    const before = api.modelRequests().length;
    api.script({ kind: 'hang' }, { kind: 'text', text: 'local review: nothing found' }, { kind: 'text', text: 'origin review: nothing found' });
    const chat = await gw.openStream(CHAT, turnBody('T-10'), originAuth);
    await readUntil(chat.lines, 'status');
    await api.waitForModelRequests(before + 1);
    assert.equal(gw.services.agentSlots.count(originKey), 1);

    // The origin's review waits for the slot and says so in its stream.
    const queuedReview = await gw.openStream('/api/gateway/codex/review/T-R1', review('T-R1'), originAuth);
    assert.equal(queuedReview.res.statusCode, 200);
    const queued = await nextEvent(queuedReview);
    assert.equal(queued.type === 'status' && queued.status, 'queued');
    assert.equal(queued.type === 'status' && queued.position, 1);

    // The local user's review runs at once beside them.
    const local = await gw.request('/api/gateway/codex/review/T-L1', { method: 'POST', json: review('T-L1'), auth: 'token' });
    assert.equal(local.status, 200, local.text);
    assert.match(local.text, /"result","success":true/);

    // With the queue full a review start is refused at once, and leaves no review running behind it.
    const waiting = await fillQueue('T-rw');
    const refused = await gw.request('/api/gateway/codex/review/T-R2', { method: 'POST', json: review('T-R2'), auth: originRequest });
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.json.code, 'too_many_agents');
    assert.deepEqual(refused.json.details, { running: 1, limit: 1, queued: MAX_QUEUED_PER_CALLER, maxQueued: MAX_QUEUED_PER_CALLER });
    assert.ok(Number(refused.headers['retry-after']) > 0);
    const refusedRun = await gw.request(`/api/gateway/codex/status/T-R2?${new URLSearchParams({ repo, provider: 'claude' })}`, { auth: 'token' });
    assert.notEqual(refusedRun.json.status, 'running', refusedRun.text);

    for (const stream of waiting) stream.close();
    await until(() => gw.services.agentSlots.queued(originKey) === 1, 'the left clients to leave the queue');

    // The chat ends; the queued review gets the slot and runs to its findings.
    assert.equal((await gw.request(`${CHAT}?ticketId=T-10`, { method: 'DELETE', auth: originRequest })).status, 200);
    const rest: Array<{ type: string; [key: string]: unknown }> = [];
    for (let next = await queuedReview.lines.next(); !next.done; next = await queuedReview.lines.next()) rest.push(JSON.parse(next.value));
    assert.ok(rest.some((e) => e.type === 'status' && e.status === 'running'), JSON.stringify(rest));
    assert.ok(rest.some((e) => e.type === 'findings'));
    assert.ok(rest.some((e) => e.type === 'result' && e.success === true));
    await until(() => gw.services.agentSlots.count(originKey) === 0, 'the review to give its slot back');

    // A verdict (not streamed) waits for the slot while another turn of the origin holds it, then answers.
    const session = rest.find((e) => e.type === 'sessionId')?.sessionId as string;
    assert.ok(session, 'the review named its session');
    api.script({ kind: 'hang' }, { kind: 'text', text: '<pr_verdict>{"verdict":"approve","reason":"fine"}</pr_verdict>' });
    const sent = api.modelRequests().length;
    const holder = await gw.openStream(CHAT, turnBody('T-11'), originAuth);
    await readUntil(holder.lines, 'status');
    // The holder has taken the hanging answer, so the verdict gets the one after it.
    await api.waitForModelRequests(sent + 1);
    const verdict = gw.request('/api/gateway/codex/review-verdict/T-R1', { method: 'POST', json: { repoPath: repo, sessionId: session, provider: 'claude' }, auth: originRequest });
    await until(() => gw.services.agentSlots.queued(originKey) === 1, 'the verdict to wait for a slot');
    assert.equal((await gw.request(`${CHAT}?ticketId=T-11`, { method: 'DELETE', auth: originRequest })).status, 200);
    const answered = await verdict;
    assert.equal(answered.status, 200, answered.text);
    assert.equal(answered.json.verdict?.verdict, 'approve', answered.text);
    await until(() => gw.services.agentSlots.count(originKey) === 0, 'every slot to be given back');
  });
});
