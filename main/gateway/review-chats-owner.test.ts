// Issue 9, items 3 and 6: the review chats (a finding's chat, the review chat, the debate) belong
// to the caller that opened them, like every chat. A paired origin never sees, resumes, marks or
// ends another caller's (the desktop's or another origin's) conversation: it is the same reply as
// none, and its own turn starts a fresh agent session told nothing of the other's; and every agent
// such a chat starts for a paired origin takes one of its agent slots. Real claude against the
// mock model API through a real gateway, two paired origins and the gateway token.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MockModelApi } from '../providers/testing/mock-model-api.js';
import { ORIGIN, startReviewGateway, type Auth, type PairedOrigin, type ReviewGateway } from '../review/testing/review-gateway.js';
import { readUntil, until, type TestGateway } from './testing.js';

const CODEX = '/api/gateway/codex';

let setup: ReviewGateway;
let api: MockModelApi;
let gw: TestGateway;
let repo: string;
let origin: PairedOrigin;
let other: PairedOrigin;

before(async () => {
  setup = await startReviewGateway('review-chats-owner', ['codex_review', 'codex_argue']);
  ({ api, gw, repo, origin, other } = setup);
});

after(() => setup.close());

const headers = (auth: Auth): Record<string, string> =>
  auth === 'token' ? { 'X-Desktop-Gateway-Token': gw.token } : { 'X-Desktop-Session-Token': auth.session, Origin: auth.origin };

const findingPath = (findingId: string) => `${CODEX}/finding-chat/${findingId}?ticketId=T-C&repo=${encodeURIComponent(repo)}`;
const readFindingChat = (findingId: string, auth: Auth) => gw.request(findingPath(findingId), { auth });

/** One claude turn on `path` as `auth`, answered `answer`; returns the text of the model request it made. */
async function turn(path: string, json: unknown, auth: Auth, answer: string): Promise<string> {
  api.script({ kind: 'text', text: answer });
  const before = api.modelRequests().length;
  const res = await gw.request(path, { method: 'POST', json, auth });
  assert.equal(res.status, 200, res.text);
  assert.match(res.text, /"type":"result","success":true/, res.text);
  return JSON.stringify(api.modelRequests().slice(before));
}

test("a finding's chat: another caller's is none to a paired origin (read, mark, end), and the origin's own turn is told nothing of it", async () => {
  const desktopAsked = await turn(findingPath('F-1'), { message: 'desktop question about F-1', provider: 'claude' }, 'token', 'desktop answer about F-1');
  assert.equal(/desktop question about F-1/.test(desktopAsked), true);
  const desktop = (await readFindingChat('F-1', 'token')).json;
  assert.deepEqual(desktop.messages.map((m: { content: string }) => m.content), ['desktop question about F-1', 'desktop answer about F-1']);
  assert.ok(desktop.sessionId);

  // To the origin the desktop's conversation is exactly a conversation nobody started.
  const theirs = await readFindingChat('F-1', origin);
  const none = await readFindingChat('F-none', origin);
  assert.equal(theirs.status, 200);
  assert.deepEqual({ ...theirs.json, findingId: '<id>' }, { ...none.json, findingId: '<id>' });
  assert.deepEqual([theirs.json.sessionId, theirs.json.messages], [null, []]);
  assert.doesNotMatch(theirs.text, /desktop/);

  // It cannot mark the desktop's reply answered, nor end the desktop's conversation.
  const marked = await gw.request(findingPath('F-1'), { method: 'PATCH', json: { responded: true }, auth: origin });
  assert.deepEqual([marked.status, marked.json.code], [404, 'message_not_found']);
  assert.equal((await gw.request(findingPath('F-1'), { method: 'DELETE', auth: origin })).status, 200);
  const still = (await readFindingChat('F-1', 'token')).json;
  assert.equal(still.messages.length, 2, "the desktop's conversation outlived the origin's DELETE");
  assert.equal(still.messages[1].responded, false);

  // The origin's own turn about the same finding is a new conversation: nothing of the desktop's reaches the model.
  const originAsked = await turn(findingPath('F-1'), { message: 'origin question about F-1', provider: 'claude' }, origin, 'origin answer');
  assert.equal(/desktop (question|answer) about F-1/.test(originAsked), false, "the desktop's conversation reached the origin's model request");
  const mine = (await readFindingChat('F-1', origin)).json;
  assert.deepEqual(mine.messages.map((m: { content: string }) => m.content), ['origin question about F-1', 'origin answer']);
  assert.notEqual(mine.sessionId, desktop.sessionId);
  assert.deepEqual((await readFindingChat('F-1', other)).json.messages, [], 'one origin sees none of another origin');
  assert.deepEqual((await readFindingChat('F-1', 'token')).json.messages.length, 2, 'the desktop still has only its own');
});

test("the review chat and the debate: a paired origin's turn never resumes another caller's conversation", async () => {
  const chatBody = (prompt: string) => ({ prompt, repoPath: repo, provider: 'claude', chatContextId: 'review' });
  await turn(`${CODEX}/chat/T-C`, chatBody('desktop review-chat opener'), 'token', 'desktop review-chat reply');
  const originChat = await turn(`${CODEX}/chat/T-C`, chatBody('origin review-chat opener'), origin, 'origin review-chat reply');
  assert.equal(/desktop review-chat/.test(originChat), false, "the origin's turn resumed the desktop's review chat");
  // The desktop's next turn still resumes its own conversation, which knows nothing of the origin's.
  const desktopAgain = await turn(`${CODEX}/chat/T-C`, chatBody('desktop second'), 'token', 'desktop second reply');
  assert.equal(/desktop review-chat reply/.test(desktopAgain), true, 'the desktop resumes its own review chat');
  assert.equal(/origin review-chat/.test(desktopAgain), false, "the origin's turn reached the desktop's conversation");

  const argue = { repoPath: repo, findingSummary: 'add() subtracts', claudeArgument: 'It is a bug.', provider: 'claude' };
  api.script({ kind: 'text', text: 'desktop debate answer' });
  const desktopRound = await gw.request(`${CODEX}/argue/T-C`, { method: 'POST', json: argue, auth: 'token' });
  assert.equal(desktopRound.status, 200, desktopRound.text);
  api.script({ kind: 'text', text: 'origin debate answer' });
  const before = api.modelRequests().length;
  const originRound = await gw.request(`${CODEX}/argue/T-C`, { method: 'POST', json: argue, auth: origin });
  assert.equal(originRound.status, 200, originRound.text);
  assert.equal(/desktop debate answer/.test(JSON.stringify(api.modelRequests().slice(before))), false, "the origin's round resumed the desktop's debate");
  const debate = originRound.text.trim().split('\n').map((line) => JSON.parse(line) as { type: string; rounds?: Array<{ side: string; content: string }> })
    .find((event) => event.type === 'debate');
  assert.deepEqual(debate?.rounds?.map((round) => [round.side, round.content]), [['challenge', 'It is a bug.'], ['response', 'origin debate answer']],
    "the origin's debate holds only its own round");
});

test("a review chat's agent takes one of the paired origin's agent slots: at the cap its next one waits", async () => {
  const originKey = `origin:${ORIGIN}`;
  const patched = await gw.request('/api/gateway/desktop/config', { method: 'PATCH', json: { limits: { concurrentAgents: 1 } }, auth: 'token' });
  assert.equal(patched.status, 200, patched.text);
  api.script({ kind: 'hang' }, { kind: 'text', text: 'queued review chat ran' });
  const requests = api.modelRequests().length;
  const held = await gw.openStream(findingPath('F-cap'), { message: 'hold on', provider: 'claude' }, headers(origin));
  assert.equal(held.res.statusCode, 200);
  await api.waitForModelRequests(requests + 1);
  assert.equal(gw.services.agentSlots.count(originKey), 1, "the finding chat's agent counts for the origin");

  const waiting = await gw.openStream(`${CODEX}/chat/T-C`, { prompt: 'after the cap', repoPath: repo, provider: 'claude' }, headers(origin));
  assert.equal(waiting.res.statusCode, 200);
  const [queued] = await readUntil(waiting.lines, 'status');
  assert.deepEqual(queued.type === 'status' && [queued.status, queued.position], ['queued', 1]);
  assert.equal(api.modelRequests().length, requests + 1, 'the queued chat started no agent');

  // Ending the held chat frees the slot, and the queued one runs.
  assert.equal((await gw.request(findingPath('F-cap'), { method: 'DELETE', auth: origin })).status, 200);
  await readUntil(held.lines, 'done');
  const rest = await readUntil(waiting.lines, 'done');
  assert.ok(rest.some((event) => event.type === 'result' && event.success), JSON.stringify(rest));
  await until(() => gw.services.agentSlots.count(originKey) === 0, 'the slots to be given back');
});
