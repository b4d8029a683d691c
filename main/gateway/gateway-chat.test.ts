// POST /api/gateway/chat (spec §7) through the real gateway: the web client's body from a
// paired origin, the real claude CLI against the mock model API, NDJSON lines the client's
// parser keeps (no SSE framing) ending in result then done. The turn is recorded at the
// configured API origin (a mock cloud that checks what it is sent); the body's apiBaseUrl
// (a local listener) never hears a thing; without origin or token the turn stays local.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GitRunner } from '../git/runner.js';
import { initTestRepo } from '../git/testing/fixture.js';
import { ClaudeProvider } from '../providers/claude.js';
import { claudeTestConfig, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { MockCloud } from '../relay/testing/mock-cloud.js';
import { startTestGateway, type TestGateway, type TestResponse } from './testing.js';

const APP = 'https://app.example.test';
const CHAT_TOKEN = 'runner-token-for-chat';
let api: MockModelApi;
let cloud: MockCloud;
let dirs: TestDirs;
let gw: TestGateway;
let repo: string;
let session: string;
let trap: Server;
const trapped: string[] = [];

before(async () => {
  [api, cloud] = await Promise.all([MockModelApi.start(), MockCloud.start()]);
  cloud.chatTokens.add(CHAT_TOKEN);
  dirs = makeTestDirs('gateway-chat');
  trap = createServer((req, res) => {
    trapped.push(`${req.method} ${req.url}`);
    res.end('{"success":true,"data":{}}');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  gw = await startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    configure: async (services) => {
      services.providers.register(new ClaudeProvider(services.supervisor, claudeTestConfig(api, dirs.homes)));
      await services.setWorkspaceRoot(dirs.root);
      services.config.setApiOrigin(cloud.origin);
    },
  });
  repo = join(dirs.root, 'repo');
  await initTestRepo(new GitRunner(gw.services.supervisor), repo);
  // The user allowed this web app to chat (by default a paired origin is asked).
  gw.services.policy.replaceOverrides([{ callerKind: 'origin', operation: 'chat', access: 'write', action: 'agent_start', decision: 'allow' }]);
  session = await gw.pair(APP);
});

after(async () => {
  await gw.close();
  await Promise.all([api.close(), cloud.close()]);
  trap.closeAllConnections();
  await new Promise<void>((resolve) => trap.close(() => resolve()));
  dirs.cleanup();
});

/** The body exactly as the web client builds it (use-chat-session.ts). */
function clientBody(chatKey: string, content: string, extra: Record<string, unknown> = {}) {
  return {
    chatKey,
    userMessage: { id: `user-${randomUUID()}`, role: 'user', content, timestamp: new Date().toISOString() },
    provider: 'claude',
    model: 'claude-sonnet-4-5',
    context: 'Branch view of acme/widgets',
    cwd: repo,
    expectedMcpUrl: 'https://mcp.example.test/mcp',
    apiBaseUrl: `http://127.0.0.1:${(trap.address() as AddressInfo).port}`,
    apiAuthToken: CHAT_TOKEN,
    ...extra,
  };
}

type Event = { type: string } & Record<string, unknown>;

/** The client's parser: split on \n, trim, JSON.parse, drop what does not parse. Here nothing may be dropped. */
function clientEvents(res: TestResponse): Event[] {
  assert.equal(res.status, 200, res.text);
  const lines = res.text.split('\n').map((line) => line.trim()).filter(Boolean);
  for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), `not JSON (the client would drop it): ${line}`);
  const events = lines.map((line) => JSON.parse(line) as Event);
  assert.deepEqual(events.slice(-2).map((e) => e.type), ['result', 'done'], 'the stream ends in result, then done');
  return events;
}
const textOf = (events: Event[]) => events.filter((e) => e.type === 'text').map((e) => e.content).join('');
const asOrigin = (json: unknown) => ({ method: 'POST', json, auth: { session, origin: APP } }) as const;
const chatCalls = () => cloud.requests.filter((r) => r.path.startsWith('/chat-sessions/'));

describe('POST /api/gateway/chat', { timeout: 120_000 }, () => {
  test('a paired origin\'s turn: NDJSON the client parses, recorded at the configured API origin, apiBaseUrl never contacted', async () => {
    api.script({ kind: 'text', text: 'Hello from the chat panel', chunks: 3 });
    const res = await gw.request('/api/gateway/chat', asOrigin(clientBody('chat-1', 'What does this repo do?')));
    assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
    assert.ok(!/^data:/m.test(res.text), 'no SSE framing');
    const events = clientEvents(res);
    assert.deepEqual(events[0], { type: 'status', status: 'starting', pid: null, mode: 'read' });
    assert.ok(events.some((e) => e.type === 'status' && typeof e.pid === 'number'), 'a status with the numeric pid');
    assert.equal(textOf(events), 'Hello from the chat panel');
    const result = events.at(-2)!;
    assert.equal(result.success, true);
    assert.equal(typeof result.sessionId, 'string');
    assert.ok(!events.some((e) => e.type === 'error'), JSON.stringify(events));

    const [turn, complete] = chatCalls();
    assert.deepEqual([turn.path, complete.path], ['/chat-sessions/turn', '/chat-sessions/turn/complete']);
    assert.equal(turn.headers.authorization, `Bearer ${CHAT_TOKEN}`);
    const turnBody = turn.body as Record<string, unknown>;
    assert.deepEqual([turnBody.chatKey, turnBody.provider, turnBody.model, turnBody.context], ['chat-1', 'claude', 'claude-sonnet-4-5', 'Branch view of acme/widgets']);
    assert.equal((turnBody.userMessage as { content: string }).content, 'What does this repo do?');
    assert.equal(typeof turnBody.sourceGatewayId, 'string');
    const completeBody = complete.body as { messages: Array<{ role: string; content: string }>; sessionId: string; sessionSourceId: string };
    assert.deepEqual(completeBody.messages.map((m) => [m.role, m.content]), [['assistant', 'Hello from the chat panel']]);
    assert.deepEqual([completeBody.sessionId, completeBody.sessionSourceId], [result.sessionId, turnBody.sourceGatewayId]);
    assert.ok(complete.status < 300 && turn.status < 300);
    assert.deepEqual(trapped, [], 'apiBaseUrl from the body is never contacted');

    const prompt = JSON.stringify(api.modelRequests().at(-1)?.body);
    assert.match(prompt, /What does this repo do\?/);
    assert.match(prompt, /Branch view of acme\/widgets/, 'the context reaches the model');
    const stored = gw.services.chats.get({ caller: `origin:${APP}`, kind: 'web', scope: 'chat-1', provider: 'claude' });
    assert.equal(stored?.cwd, repo);
    assert.deepEqual(stored?.messages.map((m) => [m.role, m.content]), [['user', 'What does this repo do?'], ['assistant', 'Hello from the chat panel']]);
  });

  test('the conversation resumes per chatKey and caller: the same origin continues it, the token caller gets its own', async () => {
    api.script({ kind: 'text', text: 'Second answer' });
    const again = clientEvents(await gw.request('/api/gateway/chat', asOrigin(clientBody('chat-1', 'And the tests?'))));
    assert.ok(again.some((e) => e.type === 'status' && e.status === 'resumed'), 'the CLI session is resumed');
    assert.match(JSON.stringify(api.modelRequests().at(-1)?.body), /Hello from the chat panel/, 'the model sees the earlier exchange');

    api.script({ kind: 'text', text: 'A fresh conversation' });
    const theirs = clientEvents(await gw.request('/api/gateway/chat', { method: 'POST', json: clientBody('chat-1', 'Who am I?'), auth: 'token' }));
    assert.equal(textOf(theirs), 'A fresh conversation');
    assert.ok(!theirs.some((e) => e.type === 'status' && e.status === 'resumed'));
    assert.doesNotMatch(JSON.stringify(api.modelRequests().at(-1)?.body), /Hello from the chat panel/, "another caller never sees this origin's conversation");
    assert.equal(gw.services.chats.get({ caller: 'token', kind: 'web', scope: 'chat-1', provider: 'claude' })?.messages.length, 2);
    assert.equal(gw.services.chats.get({ caller: `origin:${APP}`, kind: 'web', scope: 'chat-1', provider: 'claude' })?.messages.length, 4);
  });

  test('without a token, or without an API origin, the turn runs, stays local, and an event says so', async () => {
    const before = chatCalls().length;
    api.script({ kind: 'text', text: 'kept locally' });
    const { apiAuthToken: _dropped, ...noToken } = clientBody('chat-local', 'hi');
    const local = clientEvents(await gw.request('/api/gateway/chat', asOrigin(noToken)));
    assert.match(String(local.find((e) => e.status === 'local_only')?.message), /apiAuthToken/);
    assert.equal(textOf(local), 'kept locally');

    gw.services.config.setApiOrigin(null);
    try {
      api.script({ kind: 'text', text: 'still local' });
      const noOrigin = clientEvents(await gw.request('/api/gateway/chat', asOrigin(clientBody('chat-local-2', 'hi'))));
      assert.match(String(noOrigin.find((e) => e.status === 'local_only')?.message), /no cloud API origin/);
      assert.equal(noOrigin.at(-2)?.success, true);
    } finally {
      gw.services.config.setApiOrigin(cloud.origin);
    }
    assert.equal(chatCalls().length, before, 'the cloud heard nothing');
    assert.deepEqual(trapped, []);
  });

  test('the cloud refusing the turn: PROVIDER_MISMATCH (with boundProvider) or AUTH_EXPIRED at phase upsert, and no agent starts', async () => {
    const modelCalls = api.modelRequests().length;
    const mismatch = clientEvents(await gw.request('/api/gateway/chat', asOrigin(clientBody('chat-1', 'switch', { provider: 'codex', model: 'gpt-5.3-codex' }))));
    assert.deepEqual(
      mismatch.map((e) => e.type),
      ['status', 'error', 'result', 'done'],
    );
    assert.deepEqual([mismatch[1].phase, mismatch[1].code, mismatch[1].boundProvider], ['upsert', 'PROVIDER_MISMATCH', 'claude']);
    assert.equal(mismatch[2].success, false);
    const expired = clientEvents(await gw.request('/api/gateway/chat', asOrigin(clientBody('chat-9', 'hi', { apiAuthToken: 'expired' }))));
    assert.deepEqual([expired[1].phase, expired[1].code], ['upsert', 'AUTH_EXPIRED']);
    assert.equal(api.modelRequests().length, modelCalls, 'no model call');
  });

  test('turn/complete failing twice (once retried) is an error at phase complete; the reply is still kept locally', async () => {
    cloud.failingCompletes = 2;
    api.script({ kind: 'text', text: 'not saved remotely' });
    const events = clientEvents(await gw.request('/api/gateway/chat', asOrigin(clientBody('chat-5', 'hi'))));
    const failure = events.find((e) => e.type === 'error');
    assert.deepEqual([failure?.phase, failure?.code], ['complete', 'PERSISTENCE_FAILED']);
    assert.equal(chatCalls().filter((r) => r.path === '/chat-sessions/turn/complete' && (r.body as { chatKey: string }).chatKey === 'chat-5').length, 2);
    assert.equal(gw.services.chats.get({ caller: `origin:${APP}`, kind: 'web', scope: 'chat-5', provider: 'claude' })?.messages.at(-1)?.content, 'not saved remotely');
  });

  test('bad input is a 400 naming the field, a folder outside the workspace a 403, before anything reaches the cloud', async () => {
    const before = chatCalls().length;
    const bad = await gw.request('/api/gateway/chat', asOrigin({ ...clientBody('chat-x', 'hi'), userMessage: { id: 'user-1', role: 'assistant', content: 'hi', timestamp: 'now' } }));
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.details.issues.map((i: { field: string }) => i.field).sort(), ['userMessage.role', 'userMessage.timestamp']);
    const provider = await gw.request('/api/gateway/chat', asOrigin(clientBody('chat-x', 'hi', { provider: '../x' })));
    assert.deepEqual([provider.status, provider.json.details.issues[0].field], [400, 'provider']);
    const outside = await gw.request('/api/gateway/chat', asOrigin(clientBody('chat-x', 'hi', { cwd: '/etc' })));
    assert.deepEqual([outside.status, outside.json.code], [403, 'path_not_allowed']);
    assert.equal(chatCalls().length, before);
    assert.deepEqual(trapped, []);
  });
});
