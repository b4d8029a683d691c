// Issue 9, item 4: chat defects found by hand, each reproduced here. Real claude and codex
// against the mock model API, through a real gateway.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NormalizedEvent } from '../../shared/events.js';
import { ClaudeProvider } from '../providers/claude.js';
import { CodexProvider } from '../providers/codex.js';
import { claudeTestConfig, codexTestConfig, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { readUntil, startTestGateway, until, type TestGateway } from './testing.js';

let api: MockModelApi;
let dirs: TestDirs;
let gw: TestGateway;
/** The argv of every codex start, as the provider handed it to the supervisor. */
const codexArgv: string[][] = [];

async function gateway(dataDir?: string): Promise<TestGateway> {
  const claude = claudeTestConfig(api, dirs.homes);
  return startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    ...(dataDir ? { dataDir } : {}),
    configure: async (services) => {
      services.providers.register(new ClaudeProvider(services.supervisor, { ...claude, env: { ...claude.env, CLAUDE_CODE_MAX_RETRIES: '2' } }));
      const recording = { start: (spec: Parameters<typeof services.supervisor.start>[0]) => (codexArgv.push([...spec.args]), services.supervisor.start(spec)) };
      services.providers.register(new CodexProvider(recording, codexTestConfig(api, dirs.homes)));
      await services.setWorkspaceRoot(dirs.cwd);
    },
  });
}

before(async () => {
  api = await MockModelApi.start();
  dirs = makeTestDirs('chat-defects');
  gw = await gateway();
});

after(async () => {
  await gw.close();
  await api.close();
  dirs.cleanup();
});

const events = (text: string) => text.trim().split('\n').map((line) => NormalizedEvent.parse(JSON.parse(line)));
const post = (path: string, json: unknown) => gw.request(path, { method: 'POST', json, auth: 'token' });

describe('chat defects', () => {
  test("claude's API retries become status retrying events with attempt, of and error", async () => {
    api.script({ kind: 'error', status: 529, message: 'overloaded', times: 2 }, { kind: 'text', text: 'made it' });
    const reply = await post('/api/gateway/ticket-chat', { ticketId: 'T-retry', message: 'hi', ticketContext: 'c' });
    const retries = events(reply.text).filter((e) => e.type === 'status' && e.status === 'retrying');
    assert.equal(retries.length, 2);
    assert.deepEqual(retries.map((e) => e.type === 'status' && [e.attempt, e.of]), [[1, 2], [2, 2]]);
    assert.match(retries[0].type === 'status' ? (retries[0].error ?? '') : '', /overloaded.*529/);
    assert.ok(events(reply.text).some((e) => e.type === 'result' && e.success));
  });

  test('history keeps tool calls and separates the text around them; a running turn keeps its partial text', async () => {
    writeFileSync(join(dirs.cwd, 'notes.txt'), 'the notes say hello\n');
    api.script(
      { kind: 'tool', name: 'Read', input: { file_path: join(dirs.cwd, 'notes.txt') }, text: 'Let me look.' },
      { kind: 'text', text: 'It says hello.' },
    );
    await post('/api/gateway/ticket-chat', { ticketId: 'T-tools', message: 'what do the notes say?', ticketContext: 'c', repoPath: dirs.cwd });
    const [session] = gw.services.chats.list('ticket', 'T-tools', 'token');
    const reply = session.messages[1];
    assert.equal(reply.content, 'Let me look.\n\nIt says hello.');
    assert.deepEqual(reply.parts?.map((p) => p.type), ['text', 'tool_use', 'tool_result', 'text']);
    const result = reply.parts?.find((p) => p.type === 'tool_result');
    assert.match(result?.type === 'tool_result' ? result.content : '', /the notes say hello/);

    api.script({ kind: 'text', text: 'slow partial answer here', chunks: 4, delayMs: 700 });
    const stream = await gw.openStream('/api/gateway/ticket-chat', { ticketId: 'T-partial', message: 'slowly', ticketContext: 'c' });
    await readUntil(stream.lines, 'text');
    await readUntil(stream.lines, 'text');
    await until(() => (gw.services.chats.list('ticket', 'T-partial', 'token')[0]?.messages[1]?.content ?? '') !== '', 'the partial text to be stored');
    assert.equal(gw.services.chats.list('ticket', 'T-partial', 'token')[0].messages[1].status, 'running');
    await readUntil(stream.lines, 'done');
  });

  test('a ticket chat moved to another folder says so; a changed workspace root applies to the next terminal turn', async () => {
    const first = join(dirs.cwd, 'repo-one');
    const second = join(dirs.cwd, 'repo-two');
    mkdirSync(first, { recursive: true });
    mkdirSync(second, { recursive: true });
    api.script({ kind: 'text', text: 'in one' }, { kind: 'text', text: 'in two' });
    await post('/api/gateway/ticket-chat', { ticketId: 'T-move', message: 'remember 42', ticketContext: 'c', repoPath: first });
    const moved = events((await post('/api/gateway/ticket-chat', { ticketId: 'T-move', message: 'and now?', ticketContext: 'c', repoPath: second })).text);
    const notice = moved.find((e) => e.type === 'status' && e.status === 'moved');
    assert.ok(notice?.type === 'status' && notice.message?.includes(second), JSON.stringify(moved.slice(0, 3)));
    assert.equal(gw.services.chats.list('ticket', 'T-move', 'token')[0].cwd, second);
    assert.match(JSON.stringify(api.modelRequests().at(-1)?.body), /remember 42/, 'the new session is told the stored history');

    const outside = await post('/api/gateway/ticket-chat', { ticketId: 'T-move', message: 'x', ticketContext: 'c', repoPath: '/etc' });
    assert.equal(outside.status, 403, 'the folder is checked on every turn');

    api.script({ kind: 'text', text: 'root one' }, { kind: 'text', text: 'root two' });
    await post('/api/gateway/terminal-chat', { message: 'hello', provider: 'claude' });
    await gw.services.setWorkspaceRoot(second);
    try {
      const after = events((await post('/api/gateway/terminal-chat', { message: 'still there?' })).text);
      assert.ok(after.some((e) => e.type === 'status' && e.status === 'moved'));
      assert.equal(gw.services.chats.list('terminal', undefined, 'token').find((s) => s.provider === 'claude')?.cwd, second);
    } finally {
      await gw.services.setWorkspaceRoot(dirs.cwd);
    }
  });

  test('a codex conversation whose CLI session is gone goes on from the stored transcript, sent on stdin (never argv)', async () => {
    api.script({ kind: 'text', text: 'noted the pelican' });
    const first = events((await post('/api/gateway/ticket-chat', { ticketId: 'T-gone', message: 'remember the word pelican', ticketContext: 'c', provider: 'codex' })).text);
    const threadId = first.find((e) => e.type === 'sessionId');
    assert.ok(threadId, JSON.stringify(first));
    // codex's own record of the thread is gone (a cleaned CODEX_HOME, another machine).
    rmSync(join(dirs.homes, 'codex-home', 'sessions'), { recursive: true, force: true });

    api.script({ kind: 'text', text: 'the word was pelican' });
    const starts = codexArgv.length;
    const reply = await post('/api/gateway/ticket-chat', { ticketId: 'T-gone', message: 'which word (XYZZY)?', ticketContext: 'c', provider: 'codex' });
    assert.equal(reply.status, 200);
    const second = events(reply.text);
    assert.deepEqual(second.flatMap((e) => (e.type === 'status' && e.status !== 'notice' ? [e.status] : [])), ['resumed', 'new_session']);
    assert.ok(second.some((e) => e.type === 'result' && e.success), JSON.stringify(second.slice(-3)));
    const fresh = second.find((e) => e.type === 'sessionId');
    assert.ok(fresh?.type === 'sessionId' && threadId.type === 'sessionId' && fresh.sessionId !== threadId.sessionId);
    assert.match(JSON.stringify(api.modelRequests().at(-1)?.body), /remember the word pelican[\s\S]*noted the pelican[\s\S]*which word \(XYZZY\)/);
    assert.equal(codexArgv.length, starts + 1, 'one codex process for the whole fallback');
    assert.doesNotMatch(codexArgv.at(-1)!.join(' '), /pelican|XYZZY/);
    assert.equal(gw.services.chats.list('ticket', 'T-gone', 'token')[0].cliSessionId, fresh.sessionId);
  });

  test('a client gone before the first byte leaves no child and no running turn: the next turn runs (not 409)', async () => {
    // The request is sent whole, then the socket closed before a byte of the reply is read.
    const body = JSON.stringify({ ticketId: 'T-left', message: 'are you there?', ticketContext: 'c' });
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1', port: gw.port, path: '/api/gateway/ticket-chat', method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), 'X-Desktop-Gateway-Token': gw.services.gatewayToken },
      });
      req.on('error', () => {}); // the reset we cause
      req.on('response', () => reject(new Error('the reply arrived before the client left')));
      req.end(body, () => {
        req.destroy();
        resolve();
      });
    });
    // The turn did start (the conversation holds the message) and ended killed, its child gone.
    await until(() => gw.services.chats.list('ticket', 'T-left', 'token')[0]?.state === 'killed', 'the abandoned turn to end killed', 30_000);
    const [session] = gw.services.chats.list('ticket', 'T-left', 'token');
    assert.deepEqual(session.messages.map((m) => [m.role, m.status]), [['user', 'complete'], ['assistant', 'killed']]);
    await until(() => !gw.services.supervisor.list().some((child) => child.owner === `chat:${session.id}`), 'the turn\'s claude to be gone', 30_000);

    api.script({ kind: 'text', text: 'here now' });
    const next = await post('/api/gateway/ticket-chat', { ticketId: 'T-left', message: 'again?', ticketContext: 'c' });
    assert.equal(next.status, 200, next.text);
    assert.ok(events(next.text).some((e) => e.type === 'result' && e.success));
  });
});
