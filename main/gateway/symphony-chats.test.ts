// Ticket conversations through a real gateway: sessions, the worktree chat (real claude
// and codex against the loopback mock model API, in a real git worktree), comment chats,
// stored histories and the commit message, with the original's request shapes.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NormalizedEvent } from '../../shared/events.js';
import { GitRunner } from '../git/runner.js';
import { initTestRepo } from '../git/testing/fixture.js';
import { ClaudeProvider } from '../providers/claude.js';
import { CodexProvider } from '../providers/codex.js';
import { claudeTestConfig, codexTestConfig, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { readUntil, startTestGateway, type TestGateway } from './testing.js';

let api: MockModelApi;
let dirs: TestDirs;
let gw: TestGateway;
let repo: string;
let worktree: string;
const TICKET = 'ENG-42';
const S = '/api/gateway/symphony';

before(async () => {
  api = await MockModelApi.start();
  dirs = makeTestDirs('symphony-chats');
  gw = await startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    configure: async (services) => {
      services.providers.register(new ClaudeProvider(services.supervisor, claudeTestConfig(api, dirs.homes)));
      services.providers.register(new CodexProvider(services.supervisor, codexTestConfig(api, dirs.homes)));
      await services.setWorkspaceRoot(dirs.root);
    },
  });
  repo = join(dirs.root, 'repo');
  await initTestRepo(new GitRunner(gw.services.supervisor), repo);
  worktree = (await gw.services.ticketWorktrees.ensure({ repoPath: repo, ticketId: TICKET })).path;
});

after(async () => {
  await gw.close();
  await api.close();
  dirs.cleanup();
});

const q = (path: string) => encodeURIComponent(path);
function events(text: string): NormalizedEvent[] {
  return text.trim().split('\n').map((line) => NormalizedEvent.parse(JSON.parse(line)));
}
const textOf = (all: NormalizedEvent[]) => all.flatMap((e) => (e.type === 'text' ? [e.content] : [])).join('');
const lastModelBody = () => JSON.stringify(api.modelRequests().at(-1)?.body);

describe('symphony/sessions', () => {
  test('POST upserts by ticketId (documentId kept), GET lists per caller and drops sessions whose worktree is gone, DELETE forgets', async () => {
    const body = { ticketId: TICKET, repoPath: repo, worktreePath: worktree, documentId: 'doc-7', baseBranch: 'main' };
    const created = await gw.request(`${S}/sessions`, { method: 'POST', json: body, auth: 'token' });
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(created.json, { success: true });
    const again = await gw.request(`${S}/sessions`, { method: 'POST', json: { ...body, loopId: 'loop-1' }, auth: 'token' });
    assert.equal(again.status, 200);

    const gone = join(dirs.root, 'gone-worktree');
    mkdirSync(gone);
    await gw.request(`${S}/sessions`, { method: 'POST', json: { ticketId: 'ENG-0', repoPath: repo, worktreePath: gone }, auth: 'token' });
    rmSync(gone, { recursive: true });

    const listed = await gw.request(`${S}/sessions`, { auth: 'token' });
    assert.equal(listed.status, 200);
    assert.equal(listed.json.sessions.length, 1, 'the session whose worktree is gone is dropped');
    const [session] = listed.json.sessions;
    assert.deepEqual([session.ticketId, session.documentId, session.loopId, session.worktreePath], [TICKET, 'doc-7', 'loop-1', worktree]);
    assert.ok(Date.parse(session.startedAt) && Date.parse(session.lastAccessedAt));

    const origin = 'https://app.example.test';
    const token = await gw.pair(origin);
    const theirs = await gw.request(`${S}/sessions`, { auth: { session: token, origin } });
    assert.deepEqual(theirs.json, { sessions: [] }, "a paired origin does not see the token caller's sessions");

    const outside = await gw.request(`${S}/sessions`, { method: 'POST', json: { ...body, worktreePath: '/etc' }, auth: 'token' });
    assert.equal(outside.status, 403);
    const missing = await gw.request(`${S}/sessions`, { method: 'POST', json: { ticketId: TICKET, repoPath: repo }, auth: 'token' });
    assert.equal(missing.status, 400);
    assert.match(missing.text, /worktreePath/);

    assert.deepEqual((await gw.request(`${S}/sessions?ticketId=${TICKET}`, { method: 'DELETE', auth: 'token' })).json, { success: true });
    assert.deepEqual((await gw.request(`${S}/sessions`, { auth: 'token' })).json, { sessions: [] });
  });
});

describe('symphony/chat and chat-history', () => {
  test('a claude turn runs in the ticket worktree with the write profile and can edit it; the history and unread count follow', async () => {
    api.script(
      { kind: 'tool', name: 'Write', input: { file_path: join(worktree, 'notes.txt'), content: 'written by the agent\n' } },
      { kind: 'text', text: 'I wrote notes.txt' },
    );
    const reply = await gw.request(`${S}/chat/${TICKET}`, {
      method: 'POST', json: { message: 'please write notes', repoPath: repo, displayContent: 'ignored', activeTab: 'chat' }, auth: 'token',
    });
    assert.equal(reply.status, 200, reply.text);
    assert.match(String(reply.headers['content-type']), /^application\/x-ndjson/);
    const all = events(reply.text);
    assert.equal(textOf(all), 'I wrote notes.txt');
    assert.equal(all.find((e) => e.type === 'tool_result')?.isError, false);
    assert.equal(readFileSync(join(worktree, 'notes.txt'), 'utf8'), 'written by the agent\n');
    assert.equal(gw.services.chats.get({ caller: 'token', kind: 'symphony', scope: TICKET, provider: 'claude' })?.cwd, worktree);

    assert.deepEqual((await gw.request(`${S}/sessions/unread-count`, { auth: 'token' })).json, { count: 1 });
    const history = await gw.request(`${S}/chat-history/${TICKET}?repo=${q(repo)}`, { auth: 'token' });
    assert.equal(history.status, 200, history.text);
    assert.deepEqual(history.json.messages.map((m: { role: string; content: string }) => [m.role, m.content]), [
      ['user', 'please write notes'], ['assistant', 'I wrote notes.txt'],
    ]);
    assert.equal(history.json.ticketId, TICKET);
    assert.ok(history.json.sessionId);
    assert.equal(history.json.codexSessionExists, false);
    assert.deepEqual((await gw.request(`${S}/sessions/unread-count`, { auth: 'token' })).json, { count: 0 }, 'reading marks it read');
  });

  test('provider: codex runs codex (not claude) in a history of its own', async () => {
    api.script({ kind: 'text', text: 'codex answering' });
    const reply = await gw.request(`${S}/chat/${TICKET}?repo=${q(repo)}`, { method: 'POST', json: { message: 'hi codex', provider: 'codex' }, auth: 'token' });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(textOf(events(reply.text)), 'codex answering');
    assert.match(api.modelRequests().at(-1)!.path, /^\/v1\/responses/, 'the model call came from codex');
    const codex = await gw.request(`${S}/chat-history/${TICKET}?repo=${q(repo)}&provider=codex`, { auth: 'token' });
    assert.deepEqual(codex.json.messages.map((m: { content: string }) => m.content), ['hi codex', 'codex answering']);
    assert.equal(codex.json.codexSessionExists, true);
    const claude = await gw.request(`${S}/chat-history/${TICKET}?repo=${q(repo)}`, { auth: 'token' });
    assert.equal(claude.json.messages.length, 2);
    assert.equal(claude.json.codexSessionExists, true);
  });

  test("conversations are per caller: a paired origin sees none of the token caller's history, thread or unread replies", async () => {
    const origin = 'https://app.example.test';
    const auth = { session: await gw.pair(origin), origin };
    const theirs = await gw.request(`${S}/chat-history/${TICKET}?repo=${q(repo)}`, { auth });
    assert.equal(theirs.status, 200, theirs.text);
    assert.deepEqual(theirs.json.messages, []);
    assert.equal(theirs.json.codexSessionExists, false);
    const stored = await gw.request(`${S}/chat-history/${TICKET}?repo=${q(repo)}`, {
      method: 'POST', auth, json: { message: { id: 'o-1', role: 'assistant', content: 'for the origin', timestamp: Date.now() } },
    });
    assert.equal(stored.status, 200, stored.text);
    assert.deepEqual((await gw.request(`${S}/sessions/unread-count`, { auth })).json, { count: 1 });
    assert.deepEqual((await gw.request(`${S}/sessions/unread-count`, { auth: 'token' })).json, { count: 0 }, "the origin's reply is not the token caller's");
    const mine = await gw.request(`${S}/chat-history/${TICKET}?repo=${q(repo)}`, { auth: 'token' });
    assert.equal(mine.json.messages.some((m: { id: string }) => m.id === 'o-1'), false);
    assert.equal(mine.json.messages.length, 2);
  });

  test("chat-history POST links only the caller's own CLI sessions: another caller's or one the gateway never started for a paired origin is 404", async () => {
    const origin = 'https://app.example.test';
    const auth = { session: await gw.pair(origin), origin };
    const path = `${S}/chat-history/${TICKET}?repo=${q(repo)}`;
    const tokenSession = (await gw.request(path, { auth: 'token' })).json.sessionId as string;
    assert.ok(tokenSession, 'the token caller has a CLI session from the first test');
    const theirs = await gw.request(path, { method: 'POST', auth, json: { sessionId: tokenSession } });
    assert.equal(theirs.status, 404, theirs.text);
    assert.equal(theirs.json.code, 'cli_session_not_found');
    const unknown = await gw.request(path, { method: 'POST', auth, json: { sessionId: 'a-terminal-session-of-the-user' } });
    assert.equal(unknown.status, 404, 'a CLI session the gateway never started for this origin (e.g. the user\'s own terminal) is not linkable');
    assert.equal((await gw.request(path, { auth })).json.sessionId, undefined, 'nothing was linked');
    // The gateway's record of the origin's own CLI session (as a turn of its own would leave it) is linkable from another of its conversations.
    gw.services.chats.linkCliSession({ caller: `origin:${origin}`, kind: 'symphony', scope: 'ENG-90', provider: 'claude' }, worktree, 'origin-own-session');
    const own = await gw.request(path, { method: 'POST', auth, json: { sessionId: 'origin-own-session' } });
    assert.equal(own.status, 200, own.text);
    const local = await gw.request(`${S}/chat-history/ENG-91?repo=${q(repo)}`, { method: 'POST', auth: 'token', json: { sessionId: 'origin-own-session' } });
    assert.equal(local.status, 404, "the token caller cannot link the origin's session either");
  });

  test('contextRepoPaths are guarded (403 outside the workspace) and given to the agent as read-only context', async () => {
    const outside = await gw.request(`${S}/chat/ENG-43`, {
      method: 'POST', json: { message: 'x', repoPath: repo, contextRepoPaths: ['/etc'] }, auth: 'token',
    });
    assert.equal(outside.status, 403);
    assert.equal(gw.services.chats.get({ caller: 'token', kind: 'symphony', scope: 'ENG-43', provider: 'claude' }), null, 'no conversation started');

    const other = join(dirs.root, 'other-repo');
    mkdirSync(other, { recursive: true });
    api.script({ kind: 'text', text: 'seen' });
    const reply = await gw.request(`${S}/chat/ENG-43`, {
      method: 'POST', json: { message: 'look at both', repoPath: repo, contextRepoPaths: [other] }, auth: 'token',
    });
    assert.equal(reply.status, 200, reply.text);
    assert.match(lastModelBody(), /never edit them/);
    assert.ok(lastModelBody().includes(other));
    const session = gw.services.chats.get({ caller: 'token', kind: 'symphony', scope: 'ENG-43', provider: 'claude' });
    assert.equal(session?.cwd, repo, 'no worktree for this ticket: the repository');
    assert.deepEqual(session?.details?.contextRepoPaths, [other]);
  });

  test('one turn at a time per conversation: a second POST is 409', async () => {
    api.script({ kind: 'hang' });
    const requests = api.modelRequests().length;
    const stream = await gw.openStream(`${S}/chat/ENG-44`, { message: 'slow', repoPath: repo });
    assert.equal(stream.res.statusCode, 200);
    await readUntil(stream.lines, 'status');
    await api.waitForModelRequests(requests + 1);
    const second = await gw.request(`${S}/chat/ENG-44`, { method: 'POST', json: { message: 'again', repoPath: repo }, auth: 'token' });
    assert.equal(second.status, 409);
    assert.match(second.text, /turn_in_progress/);
    const ended = await gw.request(`${S}/chat-history/ENG-44?repo=${q(repo)}`, { method: 'DELETE', auth: 'token' });
    assert.equal(ended.status, 200);
    const rest = await readUntil(stream.lines, 'done');
    assert.ok(rest.some((e) => e.type === 'result' && e.reason === 'killed'));
  });

  test('missing message or repoPath is a 400 naming the field', async () => {
    const noRepo = await gw.request(`${S}/chat/${TICKET}`, { method: 'POST', json: { message: 'x' }, auth: 'token' });
    assert.equal(noRepo.status, 400);
    assert.match(noRepo.text, /repoPath/);
    const noMessage = await gw.request(`${S}/chat/${TICKET}`, { method: 'POST', json: { repoPath: repo }, auth: 'token' });
    assert.equal(noMessage.status, 400);
    assert.match(noMessage.text, /message/);
    const badTicket = await gw.request(`${S}/chat/..%2Fx`, { method: 'POST', json: { message: 'x', repoPath: repo }, auth: 'token' });
    assert.equal(badTicket.status, 400);
  });

  test('chat-history POST stores a session id or a message; DELETE removes one by index (bad index 400/404) or all', async () => {
    const path = `${S}/chat-history/ENG-45?repo=${q(repo)}`;
    const linked = await gw.request(path, { method: 'POST', json: { sessionId: 'cli-session-1' }, auth: 'token' });
    assert.deepEqual(linked.json, { success: true, sessionId: 'cli-session-1' });
    const message = { id: 'msg-1', role: 'user', content: 'kept by the client', timestamp: '2026-01-02T03:04:05.000Z', sender: 'ana' };
    const stored = await gw.request(path, { method: 'POST', json: { message }, auth: 'token' });
    assert.equal(stored.status, 200, stored.text);
    assert.deepEqual(stored.json.history.messages.map((m: { id: string; sender: string; timestamp: string }) => [m.id, m.sender, m.timestamp]), [
      ['msg-1', 'ana', '2026-01-02T03:04:05.000Z'],
    ]);
    assert.equal(stored.json.history.sessionId, 'cli-session-1');
    await gw.request(path, { method: 'POST', json: { message: { ...message, id: 'msg-2', role: 'assistant', content: 'second' } }, auth: 'token' });

    assert.equal((await gw.request(path, { method: 'POST', json: { other: 1 }, auth: 'token' })).status, 400);
    assert.equal((await gw.request(`${S}/chat-history/ENG-45?repo=%2Fetc`, { auth: 'token' })).status, 403);
    assert.equal((await gw.request(`${path}&index=abc`, { method: 'DELETE', auth: 'token' })).status, 400);
    assert.equal((await gw.request(`${path}&index=9`, { method: 'DELETE', auth: 'token' })).status, 404);
    const removed = await gw.request(`${path}&index=0`, { method: 'DELETE', auth: 'token' });
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual(removed.json.history.messages.map((m: { id: string }) => m.id), ['msg-2']);
    assert.deepEqual((await gw.request(path, { method: 'DELETE', auth: 'token' })).json, { success: true });
    const empty = await gw.request(path, { auth: 'token' });
    assert.deepEqual(empty.json, { messages: [], ticketId: 'ENG-45', repoPath: repo, codexSessionExists: false });
  });
});

describe('symphony/comment-chat', () => {
  const comment = { author: 'reviewer', body: 'Rename this variable', path: 'README.md', line: 1, url: 'https://github.com/o/r/pull/1#c1' };

  test('a comment chat reads the worktree but cannot write: the tool write is refused and the file is unchanged', async () => {
    const target = join(worktree, 'README.md');
    const before = readFileSync(target, 'utf8');
    api.script(
      { kind: 'tool', name: 'Write', input: { file_path: target, content: 'overwritten\n' } },
      { kind: 'text', text: 'I cannot change files here.' },
    );
    const path = `${S}/comment-chat/c-101?ticketId=${TICKET}&repo=${q(repo)}`;
    const reply = await gw.request(path, { method: 'POST', json: { message: 'fix it for me', commentContext: comment }, auth: 'token' });
    assert.equal(reply.status, 200, reply.text);
    const all = events(reply.text);
    const status = all.find((e) => e.type === 'status');
    assert.equal(status?.type === 'status' && status.mode, 'read-only');
    assert.equal(all.find((e) => e.type === 'tool_result')?.isError, true);
    assert.equal(readFileSync(target, 'utf8'), before);
    assert.match(JSON.stringify(api.modelRequests().at(-2)?.body), /> Rename this variable/, 'the comment is quoted to the agent');

    const thread = await gw.request(path, { auth: 'token' });
    assert.equal(thread.status, 200);
    assert.deepEqual(thread.json.commentContext, comment);
    assert.equal(thread.json.commentId, 'c-101');
    assert.deepEqual(thread.json.messages.map((m: { role: string }) => m.role), ['user', 'assistant']);
  });

  test('PATCH marks the reply responded (markResponded too); DELETE ?index= removes one message, DELETE removes the thread', async () => {
    const path = `${S}/comment-chat/c-101?ticketId=${TICKET}&repo=${q(repo)}`;
    assert.deepEqual((await gw.request(path, { method: 'PATCH', json: { markResponded: true }, auth: 'token' })).json, { success: true });
    let thread = (await gw.request(path, { auth: 'token' })).json;
    assert.equal(thread.messages[1].responded, true);
    assert.equal((await gw.request(path, { method: 'PATCH', json: { messageId: thread.messages[1].id, responded: false }, auth: 'token' })).status, 200);
    thread = (await gw.request(path, { auth: 'token' })).json;
    assert.equal(thread.messages[1].responded, undefined);
    assert.equal((await gw.request(path, { method: 'PATCH', json: { messageId: 'nope' }, auth: 'token' })).status, 404);

    assert.equal((await gw.request(`${path}&index=0`, { method: 'DELETE', auth: 'token' })).status, 200);
    thread = (await gw.request(path, { auth: 'token' })).json;
    assert.deepEqual(thread.messages.map((m: { role: string }) => m.role), ['assistant'], 'only the message at the index is gone');
    assert.equal((await gw.request(path, { method: 'DELETE', auth: 'token' })).status, 200);
    assert.deepEqual((await gw.request(path, { auth: 'token' })).json, { messages: [], commentId: 'c-101' });
  });

  test('ticketId and repo are required, and a bad comment id is a 400', async () => {
    assert.equal((await gw.request(`${S}/comment-chat/c-1?repo=${q(repo)}`, { auth: 'token' })).status, 400);
    assert.equal((await gw.request(`${S}/comment-chat/c-1?ticketId=${TICKET}`, { auth: 'token' })).status, 400);
    assert.equal((await gw.request(`${S}/comment-chat/a%20b?ticketId=${TICKET}&repo=${q(repo)}`, { auth: 'token' })).status, 400);
  });
});

describe('symphony/commit-message', () => {
  test('the model never sees a .env or key file from the diff; they are listed in the reply', async () => {
    const git = (...args: string[]) => new GitRunner(gw.services.supervisor).run(worktree, args, args[0]);
    writeFileSync(join(worktree, 'README.md'), '# hello\n\nA greeting for everyone.\n');
    writeFileSync(join(worktree, '.env'), 'API_TOKEN=hunter2-super-secret\n');
    mkdirSync(join(worktree, 'config'), { recursive: true });
    writeFileSync(join(worktree, 'config', 'server.key'), 'PRIVATE-KEY-MATERIAL\n');
    writeFileSync(join(worktree, 'app.ts'), 'const key = "sk-ant-abcdefghijklmnopqrstuvwxyz012345";\n');
    await git('add', '-A');
    api.script({ kind: 'text', text: 'Here you go: {"title": "Greet everyone in the README", "description": "Adds a greeting."}' });
    const requests = api.modelRequests().length;
    const reply = await gw.request(`${S}/commit-message/${TICKET}?repo=${q(repo)}`, { auth: 'token' });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.json, {
      title: 'Greet everyone in the README', description: 'Adds a greeting.', source: 'claude', excludedFiles: ['.env', 'config/server.key'],
    });
    const sent = api.modelRequests().slice(requests).map((r) => JSON.stringify(r.body)).join('\n');
    assert.match(sent, /A greeting for everyone/, 'the model saw the README change');
    for (const secret of ['hunter2', 'PRIVATE-KEY-MATERIAL', '.env', 'server.key', 'sk-ant-abcdefghijklmnopqrstuvwxyz012345']) {
      assert.equal(sent.includes(secret), false, `the model was sent ${secret}`);
    }
  });

  test('when the model fails, a default from the ticket and the changed files', async () => {
    api.script({ kind: 'error', status: 500 });
    const reply = await gw.request(`${S}/commit-message/${TICKET}?repo=${q(repo)}`, { auth: 'token' });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.source, 'default');
    assert.equal(reply.json.title, `Work on ${TICKET}`);
    assert.match(reply.json.description, /README\.md/);
    assert.equal(existsSync(join(worktree, 'README.md')), true);
  });
});
