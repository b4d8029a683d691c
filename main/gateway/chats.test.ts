// The chat routes through a real gateway, with the real claude and codex CLIs talking
// to the loopback mock model API (and the in-process fake provider for stream mechanics).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NormalizedEvent } from '../../shared/events.js';
import { ClaudeProvider } from '../providers/claude.js';
import { CodexProvider } from '../providers/codex.js';
import { FAKE_PROVIDER_ID, FakeProvider } from '../providers/testing/fake-provider.js';
import { claudeTestConfig, codexTestConfig, groupAlive, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { readUntil, startTestGateway, until, type TestGateway } from './testing.js';

let api: MockModelApi;
let dirs: TestDirs;
let gw: TestGateway;

before(async () => {
  api = await MockModelApi.start();
  dirs = makeTestDirs('chats-gw');
  gw = await startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    configure: async (services) => {
      services.providers.register(new ClaudeProvider(services.supervisor, claudeTestConfig(api, dirs.homes)));
      services.providers.register(new CodexProvider(services.supervisor, codexTestConfig(api, dirs.homes)));
      services.providers.register(new FakeProvider({ deltas: 2000, intervalMs: 2 }));
      await services.setWorkspaceRoot(dirs.cwd);
    },
  });
});

after(async () => {
  await gw.close();
  await api.close();
  dirs.cleanup();
});

/** Every line of an NDJSON reply, each checked against the event schema. */
function events(text: string): NormalizedEvent[] {
  return text.trim().split('\n').map((line) => NormalizedEvent.parse(JSON.parse(line)));
}

const textOf = (all: NormalizedEvent[]) => all.flatMap((e) => (e.type === 'text' ? [e.content] : [])).join('');

const openStream = (path: string, json: unknown, auth?: Record<string, string>) => gw.openStream(path, json, auth);

/** Waits for the one pending agent-start approval of `operation` and allows it once. */
async function approveAgentStart(operation: string): Promise<void> {
  await until(() => gw.services.approvals.list().length === 1, 'the agent start to wait for approval');
  const [pending] = gw.services.approvals.list();
  assert.equal(pending.operation, operation);
  assert.equal(pending.action, 'agent_start');
  gw.services.approvals.decide(pending.id, { decision: 'allow_once' });
}

const ownedChildren = () => gw.services.supervisor.list().filter((p) => p.owner?.startsWith('chat:'));

describe('chat routes', () => {
  test('POST /terminal-chat streams a claude turn as NDJSON; GET shows the history', async () => {
    api.script({ kind: 'text', text: 'Hello through the gateway', chunks: 4 });
    const reply = await gw.request('/api/gateway/terminal-chat', { method: 'POST', json: { message: 'hi there' }, auth: 'token' });
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /^application\/x-ndjson/);
    const all = events(reply.text);
    assert.equal(all[0].type, 'status');
    assert.equal(textOf(all), 'Hello through the gateway');
    assert.deepEqual(all.at(-2), { type: 'result', success: true });
    assert.deepEqual(all.at(-1), { type: 'done' });

    const history = await gw.request('/api/gateway/terminal-chat', { auth: 'token' });
    assert.equal(history.status, 200);
    const claude = history.json.sessions.find((s: { provider: string }) => s.provider === 'claude');
    assert.equal(claude.state, 'idle');
    assert.equal(claude.cwd, dirs.cwd);
    assert.deepEqual(claude.messages.map((m: { content: string }) => m.content), ['hi there', 'Hello through the gateway']);
  });

  test('text deltas reach the client as the model produces them, not at the end of the turn', async () => {
    api.script({ kind: 'text', text: 'one two three four', chunks: 4, delayMs: 400 });
    const stream = await openStream('/api/gateway/terminal-chat', { message: 'slowly please' });
    const arrivals: number[] = [];
    for (let next = await stream.lines.next(); !next.done; next = await stream.lines.next()) {
      if (NormalizedEvent.parse(JSON.parse(next.value)).type === 'text') arrivals.push(performance.now());
    }
    assert.equal(arrivals.length, 4);
    // The mock waits 400 ms between deltas: buffered output would arrive all at once.
    assert.ok(arrivals[3] - arrivals[0] > 600, `deltas arrived ${Math.round(arrivals[3] - arrivals[0])} ms apart`);
  });

  test('a leading "@codex " talks to codex in a session of its own', async () => {
    api.script({ kind: 'text', text: 'codex here' });
    const reply = await gw.request('/api/gateway/terminal-chat', { method: 'POST', json: { message: '@codex who are you?' }, auth: 'token' });
    assert.equal(reply.status, 200);
    assert.equal(textOf(events(reply.text)), 'codex here');
    assert.match(JSON.stringify(api.modelRequests().at(-1)?.body), /who are you\?/);
    assert.doesNotMatch(JSON.stringify(api.modelRequests().at(-1)?.body), /@codex/);
    const history = await gw.request('/api/gateway/terminal-chat', { auth: 'token' });
    const codex = history.json.sessions.find((s: { provider: string }) => s.provider === 'codex');
    assert.equal(codex.messages[0].content, 'who are you?');
    assert.ok(codex.cliSessionId);
  });

  test('one turn at a time: a second POST is 409, DELETE stops the running turn and its process tree', async () => {
    api.script({ kind: 'hang' });
    const requests = api.modelRequests().length;
    const stream = await openStream('/api/gateway/ticket-chat', { ticketId: 'T-409', message: 'slow one', ticketContext: 'ctx' });
    assert.equal(stream.res.statusCode, 200);
    await readUntil(stream.lines, 'status');
    await api.waitForModelRequests(requests + 1);
    const pid = ownedChildren()[0].pid;

    const second = await gw.request('/api/gateway/ticket-chat', {
      method: 'POST', json: { ticketId: 'T-409', message: 'again', ticketContext: 'ctx' }, auth: 'token',
    });
    assert.equal(second.status, 409);
    assert.equal(second.json.code, 'turn_in_progress');

    const ended = await gw.request('/api/gateway/ticket-chat', { method: 'DELETE', json: { ticketId: 'T-409' }, auth: 'token' });
    assert.deepEqual(ended.json, { ended: 1 });
    const rest = await readUntil(stream.lines, 'done');
    assert.ok(rest.some((e) => e.type === 'result' && e.reason === 'killed'));
    assert.equal(groupAlive(pid), false);
    assert.deepEqual((await gw.request('/api/gateway/ticket-chat?ticketId=T-409', { auth: 'token' })).json, { sessions: [] });
  });

  test('a client that disconnects mid-turn stops it: the CLI tree is killed and the session marked killed', async () => {
    api.script({ kind: 'hang' });
    const requests = api.modelRequests().length;
    const stream = await openStream('/api/gateway/run-viewer-chat', { message: 'explain this run' });
    await readUntil(stream.lines, 'status');
    await api.waitForModelRequests(requests + 1);
    const pid = ownedChildren()[0].pid;
    stream.close();
    await until(() => !groupAlive(pid), 'the CLI tree to die');
    await until(() => gw.services.chats.list('run_viewer', undefined, 'token')[0]?.state === 'killed', 'the session to be marked killed');
  });

  test("killing the CLI from the desktop's process list ends the turn as killed", async () => {
    api.script({ kind: 'hang' });
    const requests = api.modelRequests().length;
    const stream = await openStream('/api/gateway/ticket-chat', { ticketId: 'T-proc', message: 'slow', ticketContext: 'ctx' });
    await readUntil(stream.lines, 'status');
    await api.waitForModelRequests(requests + 1);
    const [child] = ownedChildren();
    const killed = await gw.request(`/api/gateway/desktop/processes/${child.id}`, { method: 'DELETE', auth: 'token' });
    assert.ok(killed.status < 300, `process kill answered ${killed.status}`);
    const rest = await readUntil(stream.lines, 'done');
    assert.deepEqual(rest.filter((e) => e.type === 'result'), [{ type: 'result', success: false, reason: 'killed' }]);
    assert.equal(rest.some((e) => e.type === 'error'), false);
    assert.equal(gw.services.chats.list('ticket', 'T-proc', 'token')[0].state, 'killed');
    assert.equal(groupAlive(child.pid), false);
  });

  test("the CLI's environment has the model API settings and never the gateway's credentials", { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    api.script({ kind: 'hang' });
    const requests = api.modelRequests().length;
    const stream = await openStream('/api/gateway/ticket-chat', { ticketId: 'T-env', message: 'env', ticketContext: 'ctx' });
    await readUntil(stream.lines, 'status');
    await api.waitForModelRequests(requests + 1);
    const environ = readFileSync(`/proc/${ownedChildren()[0].pid}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes(`ANTHROPIC_BASE_URL=${api.url}`));
    assert.equal(environ.some((entry) => entry.includes(gw.token)), false);
    assert.equal(environ.some((entry) => /^SYMPHONY_/i.test(entry)), false);
    await gw.request('/api/gateway/ticket-chat', { method: 'DELETE', json: { ticketId: 'T-env' }, auth: 'token' });
    await readUntil(stream.lines, 'done');
  });

  test('the fake provider streams many events with backpressure and stops when the client leaves', async () => {
    const stream = await openStream('/api/gateway/terminal-chat', { message: '@fake stream please' });
    const first = await readUntil(stream.lines, 'text');
    assert.equal(first[0].type, 'status');
    stream.close();
    await until(() => gw.services.chats.list('terminal', undefined, 'token').find((s) => s.provider === FAKE_PROVIDER_ID)?.state === 'killed', 'the fake turn to stop');
  });

  test("a paired web origin's terminal chat asks the desktop before a tool runs", async () => {
    const origin = 'https://app.example.test';
    const session = await gw.pair(origin);
    api.script(
      { kind: 'tool', name: 'Bash', input: { command: 'touch approved.txt', description: 'touch' } },
      { kind: 'text', text: 'made it' },
    );
    const opening = openStream('/api/gateway/terminal-chat', { message: 'make a file' }, { 'X-Desktop-Session-Token': session, Origin: origin });
    await approveAgentStart('terminal_chat');
    const stream = await opening;
    assert.equal(stream.res.statusCode, 200);
    const asked = await readUntil(stream.lines, 'approval_request');
    const request = asked.at(-1);
    assert.equal(request?.type === 'approval_request' ? request.toolName : request?.type, 'Bash');
    await until(() => gw.services.approvals.list().length === 1, 'the approval to be pending');
    const [pending] = gw.services.approvals.list();
    assert.equal(pending.operation, 'terminal_chat');
    assert.match(JSON.stringify(pending.args), /touch approved\.txt/);
    gw.services.approvals.decide(pending.id, { decision: 'allow_once' });
    const rest = await readUntil(stream.lines, 'done');
    assert.ok(rest.some((e) => e.type === 'approval_request' && e.decision === 'allow'));
    assert.equal(rest.find((e) => e.type === 'tool_result')?.isError, false);
    assert.equal(existsSync(join(dirs.cwd, 'approved.txt')), true);
  });

  test('DELETE while a tool waits for approval withdraws the approval and ends the turn at once', async () => {
    const origin = 'https://app.example.test';
    const session = await gw.pair(origin);
    api.script({ kind: 'tool', name: 'Bash', input: { command: 'touch never.txt', description: 'touch' } });
    const stream = await openStream('/api/gateway/terminal-chat', { message: 'make another file' }, { 'X-Desktop-Session-Token': session, Origin: origin });
    // The conversation's first turn was approved in the test before: this one does not ask again.
    await readUntil(stream.lines, 'approval_request');
    await until(() => gw.services.approvals.list().length === 1, 'the approval to be pending');
    const pid = ownedChildren()[0].pid;

    const started = performance.now();
    const ended = await gw.request('/api/gateway/terminal-chat', { method: 'DELETE', auth: { session, origin } });
    assert.equal(ended.status, 200);
    assert.deepEqual(ended.json, { ended: 1 });
    const rest = await readUntil(stream.lines, 'done');
    assert.ok(performance.now() - started < 10_000, 'the turn did not wait for the approval timeout');
    assert.ok(rest.some((e) => e.type === 'result' && e.reason === 'killed'));
    assert.deepEqual(gw.services.approvals.list(), []);
    assert.equal(groupAlive(pid), false);
    assert.equal(existsSync(join(dirs.cwd, 'never.txt')), false);
  });

  test('ticket chats are read-only: claude gets reading tools only and its Bash call is refused', async () => {
    api.script(
      { kind: 'tool', name: 'Bash', input: { command: 'touch nope.txt', description: 'touch' } },
      { kind: 'text', text: 'could not' },
    );
    const reply = await gw.request('/api/gateway/ticket-chat', {
      method: 'POST', json: { ticketId: 'T-ro', message: 'change something', ticketContext: { title: 'Read-only ticket' }, repoPath: dirs.cwd },
      auth: 'token',
    });
    assert.equal(reply.status, 200);
    const all = events(reply.text);
    assert.equal(all.find((e) => e.type === 'tool_result')?.isError, true);
    const tools = (api.modelRequests().at(-1)?.body as { tools: Array<{ name: string }> }).tools.map((t) => t.name);
    assert.equal(tools.includes('Bash'), false);
    assert.match(JSON.stringify(api.modelRequests().at(-2)?.body), /Read-only ticket[\s\S]*change something/);
  });

  test('paths are checked: a repoPath outside the workspace and a runDir that is not a run are refused', async () => {
    const outside = await gw.request('/api/gateway/ticket-chat', {
      method: 'POST', json: { ticketId: 'T-x', message: 'hi', ticketContext: 'c', repoPath: '/etc' }, auth: 'token',
    });
    assert.equal(outside.status, 403);
    const notARun = join(gw.dataDir, 'elsewhere');
    mkdirSync(notARun, { recursive: true });
    const run = await gw.request('/api/gateway/run-viewer-chat', { method: 'POST', json: { message: 'hi', runDir: notARun }, auth: 'token' });
    assert.equal(run.status, 403);
    assert.equal(run.json.code, 'path_not_allowed');
  });

  test('bad input is a 400 naming the field', async () => {
    const reply = await gw.request('/api/gateway/ticket-chat', { method: 'POST', json: { ticketId: 'T-1', message: 'hi' }, auth: 'token' });
    assert.equal(reply.status, 400);
    assert.match(JSON.stringify(reply.json.error), /ticketContext/);
    const empty = await gw.request('/api/gateway/terminal-chat', { method: 'POST', json: { message: '' }, auth: 'token' });
    assert.equal(empty.status, 400);
  });
});

describe('chat routes without a workspace root', () => {
  test('a terminal chat says how to set the workspace root instead of running in the home directory', async () => {
    const bare = await startTestGateway();
    try {
      const res = await bare.request('/api/gateway/terminal-chat', { method: 'POST', json: { message: 'hi' }, auth: 'token' });
      assert.equal(res.status, 403);
      assert.equal(res.json.code, 'path_not_allowed');
      assert.match(res.json.error, /--workspace-root/);
    } finally {
      await bare.close();
    }
  });
});
