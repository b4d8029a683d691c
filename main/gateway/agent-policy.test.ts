// Issue 9, items 2 and 3: routes that start an agent are writes (a paired origin is asked
// on the first turn of a conversation), conversations belong to their caller, the provider
// is a validated field, and codex's shell and patch requests wait for the policy's approval
// as claude's tool calls do. Real claude and codex (app-server) against the mock model API,
// inside real bubblewrap.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NormalizedEvent } from '../../shared/events.js';
import { ClaudeProvider } from '../providers/claude.js';
import { CodexProvider } from '../providers/codex.js';
import { FAKE_PROVIDER_ID, FakeProvider } from '../providers/testing/fake-provider.js';
import { claudeTestConfig, codexTestConfig, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { startTestGateway, until, type TestGateway, type TestResponse } from './testing.js';

let api: MockModelApi;
let dirs: TestDirs;
let gw: TestGateway;
const A = 'https://a.example.test';
const B = 'https://b.example.test';
let sessionA: string;
let sessionB: string;

before(async () => {
  api = await MockModelApi.start();
  dirs = makeTestDirs('agent-policy');
  gw = await startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    configure: async (services) => {
      services.providers.register(new ClaudeProvider(services.supervisor, claudeTestConfig(api, dirs.homes)));
      services.providers.register(new CodexProvider(services.supervisor, codexTestConfig(api, dirs.homes)));
      services.providers.register(new FakeProvider({ deltas: 3 }));
      await services.setWorkspaceRoot(dirs.cwd);
    },
  });
  sessionA = await gw.pair(A);
  sessionB = await gw.pair(B);
});

after(async () => {
  await gw.close();
  await api.close();
  dirs.cleanup();
});

const as = (origin: string) => ({ session: origin === A ? sessionA : sessionB, origin });
const events = (res: TestResponse) => res.text.trim().split('\n').map((line) => NormalizedEvent.parse(JSON.parse(line)));
const textOf = (all: NormalizedEvent[]) => all.flatMap((e) => (e.type === 'text' ? [e.content] : [])).join('');

/** Sends a request and answers its first pending approval with `decision`; returns the reply and what was asked. */
async function answered(path: string, json: unknown, origin: string, decision: 'allow_once' | 'allow_always' | 'deny') {
  const reply = gw.request(path, { method: 'POST', json, auth: as(origin) });
  await until(() => gw.services.approvals.list().length > 0, 'an approval to be pending');
  const [pending] = gw.services.approvals.list();
  gw.services.approvals.decide(pending.id, { decision });
  return { reply: await reply, pending };
}

describe('agent starts are writes for the policy', () => {
  test("a paired origin's first terminal turn waits for approval; its next turn does not; the token is never asked", async () => {
    const { reply, pending } = await answered('/api/gateway/terminal-chat', { message: '@fake hello' }, A, 'allow_once');
    assert.equal(reply.status, 200);
    assert.equal(pending.operation, 'terminal_chat');
    assert.equal(pending.access, 'write');
    assert.equal(pending.action, 'agent_start');
    assert.equal(pending.scope, 'terminal');
    assert.equal(events(reply).at(-1)?.type, 'done');

    const second = await gw.request('/api/gateway/terminal-chat', { method: 'POST', json: { message: '@fake again' }, auth: as(A) });
    assert.equal(second.status, 200, 'the conversation goes on without asking');
    assert.deepEqual(gw.services.approvals.list(), []);
    const token = await gw.request('/api/gateway/terminal-chat', { method: 'POST', json: { message: '@fake from a tool' }, auth: 'token' });
    assert.equal(token.status, 200);

    // A provider that cannot ask before a tool runs (the fake; no shipped CLI any more) runs
    // read-only for a caller whose tool calls are asked, and the stream says why; the token's does not.
    const notice = (all: NormalizedEvent[]) => all.find((e) => e.type === 'status' && e.status === 'notice');
    const origins = notice(events(second));
    assert.ok(origins?.type === 'status' && /cannot ask[\s\S]*read-only/.test(origins.message ?? ''), JSON.stringify(events(second).slice(0, 2)));
    assert.ok(events(second).some((e) => e.type === 'status' && e.status === 'resumed' && e.mode === 'read-only'));
    assert.equal(notice(events(token)), undefined);
    assert.ok(events(token).some((e) => e.type === 'status' && e.status === 'started' && e.mode !== 'read-only'));
  });

  test('a denied first turn is 403 naming the operation, and no agent ran', async () => {
    const requests = api.modelRequests().length;
    const { reply } = await answered('/api/gateway/ticket-chat', { ticketId: 'T-deny', message: 'hi', ticketContext: 'c' }, A, 'deny');
    assert.equal(reply.status, 403);
    assert.equal(reply.json.details.operation, 'ticket_chat');
    assert.equal(api.modelRequests().length, requests);
    const list = await gw.request('/api/gateway/ticket-chat?ticketId=T-deny', { auth: as(A) });
    assert.deepEqual(list.json.sessions, []);
  });

  test('"allow always" covers the conversation\'s scope: a new conversation on that ticket passes, another ticket asks', async () => {
    api.script({ kind: 'text', text: 'first' }, { kind: 'text', text: 'second' });
    const { reply } = await answered('/api/gateway/ticket-chat', { ticketId: 'T-always', message: 'one', ticketContext: 'c' }, A, 'allow_always');
    assert.equal(textOf(events(reply)), 'first');
    await gw.request('/api/gateway/ticket-chat', { method: 'DELETE', json: { ticketId: 'T-always' }, auth: as(A) });
    const again = await gw.request('/api/gateway/ticket-chat', { method: 'POST', json: { ticketId: 'T-always', message: 'two', ticketContext: 'c' }, auth: as(A) });
    assert.equal(textOf(events(again)), 'second');
    assert.equal(gw.services.policy.listRules().find((rule) => rule.operation === 'ticket_chat')?.scope, 'ticket:T-always');

    const other = gw.request('/api/gateway/ticket-chat', { method: 'POST', json: { ticketId: 'T-other', message: 'x', ticketContext: 'c' }, auth: as(A) });
    await until(() => gw.services.approvals.list().length === 1, 'another ticket to ask');
    gw.services.approvals.decide(gw.services.approvals.list()[0].id, { decision: 'deny' });
    assert.equal((await other).status, 403);
  });

  test('uploads ask a paired origin', async () => {
    const upload = gw.request('/api/gateway/run-viewer-extract', { method: 'POST', body: '--x--\r\n', headers: { 'Content-Type': 'multipart/form-data; boundary=x' }, auth: as(A) });
    await until(() => gw.services.approvals.list().length === 1, 'the upload to ask');
    const [pending] = gw.services.approvals.list();
    assert.equal(pending.action, 'upload');
    gw.services.approvals.decide(pending.id, { decision: 'deny' });
    assert.equal((await upload).status, 403);
  });
});

describe('conversations belong to their caller', () => {
  test("another origin and the token never see or end a paired origin's conversation; each gets its own", async () => {
    // A's terminal conversation with @fake was started (and approved) in the first test.
    const mine = (await gw.request('/api/gateway/terminal-chat', { auth: as(A) })).json.sessions;
    assert.ok(mine.some((s: { provider: string }) => s.provider === FAKE_PROVIDER_ID));
    const theirs = (await gw.request('/api/gateway/terminal-chat', { auth: as(B) })).json.sessions;
    assert.deepEqual(theirs, []);
    const tokens = (await gw.request('/api/gateway/terminal-chat', { auth: 'token' })).json.sessions;
    assert.ok(tokens.every((s: { id: string }) => !mine.some((m: { id: string }) => m.id === s.id)));
    assert.deepEqual((await gw.request('/api/gateway/terminal-chat', { method: 'DELETE', auth: as(B) })).json, { ended: 0 });
    assert.equal((await gw.request('/api/gateway/terminal-chat', { auth: as(A) })).json.sessions.length, mine.length);
    assert.deepEqual((await gw.request('/api/gateway/ticket-chat?ticketId=T-always', { auth: as(B) })).json.sessions, []);

    // B's first turn is its own conversation's first turn: it asks, and never resumes A's CLI session.
    const { reply: own, pending } = await answered('/api/gateway/terminal-chat', { message: '@fake mine too' }, B, 'allow_once');
    assert.equal(own.status, 200);
    assert.equal(pending.caller.origin, B);
  });
});

describe('the provider field', () => {
  test('provider picks the agent; an unknown provider or @name is a 400 naming the field, before anyone is asked', async () => {
    api.script({ kind: 'text', text: 'codex by field' });
    const byField = await gw.request('/api/gateway/ticket-chat', {
      method: 'POST', json: { ticketId: 'T-prov', message: 'who?', ticketContext: 'c', provider: 'codex' }, auth: 'token',
    });
    assert.equal(textOf(events(byField)), 'codex by field');
    assert.equal((await gw.request('/api/gateway/ticket-chat?ticketId=T-prov', { auth: 'token' })).json.sessions[0].provider, 'codex');

    const bad = await gw.request('/api/gateway/terminal-chat', { method: 'POST', json: { message: 'hi', provider: 'gpt' }, auth: as(A) });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.details.issues[0].field, 'provider');
    const unknown = await gw.request('/api/gateway/terminal-chat', { method: 'POST', json: { message: '@gemini do it' }, auth: as(A) });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.code, 'unknown_provider');
    assert.match(unknown.json.error, /@gemini/);
    const contradicts = await gw.request('/api/gateway/terminal-chat', { method: 'POST', json: { message: '@codex hi', provider: 'claude' }, auth: 'token' });
    assert.equal(contradicts.status, 400);
    assert.deepEqual(gw.services.approvals.list(), []);
  });
});

describe('codex for a paired origin: its shell and patch requests wait for an approval', () => {
  const headersB = () => ({ 'X-Desktop-Session-Token': sessionB, Origin: B });
  const escalated = (cmd: string) => ({ kind: 'tool' as const, name: 'exec_command', input: { cmd, sandbox_permissions: 'require_escalated', justification: 'make the file' } });

  /** One `@codex` terminal turn as B, answering each approval in turn with `decisions`; returns its events and what was asked. */
  async function codexTurn(message: string, decisions: Array<'allow_once' | 'deny'>) {
    const opening = gw.openStream('/api/gateway/terminal-chat', { message }, headersB());
    const asked = [];
    for (const decision of decisions) {
      await until(() => gw.services.approvals.list().length === 1, `approval ${asked.length + 1} to be pending`, 60_000);
      const [pending] = gw.services.approvals.list();
      asked.push(pending);
      gw.services.approvals.decide(pending.id, { decision });
      await until(() => gw.services.approvals.list().length === 0, 'the approval to be decided');
    }
    const stream = await opening;
    const all: NormalizedEvent[] = [];
    for (let next = await stream.lines.next(); !next.done; next = await stream.lines.next()) all.push(NormalizedEvent.parse(JSON.parse(next.value)));
    assert.deepEqual(gw.services.approvals.list(), [], 'nothing left asking');
    return { all, asked };
  }

  test('a shell command that writes asks (after the start); denied, no file; allowed, the file is made in the root and a write outside still fails', async () => {
    const denied = join(dirs.cwd, 'codex-denied.txt');
    api.script(escalated(`touch ${denied} && echo wrote`), { kind: 'text', text: 'tried' });
    const first = await codexTurn('@codex make a file', ['allow_once', 'deny']);
    assert.deepEqual(first.asked.map((a) => a.action), ['agent_start', 'tool_use']);
    assert.equal(first.asked[1].operation, 'terminal_chat');
    assert.match(JSON.stringify(first.asked[1].args), /command_execution[\s\S]*codex-denied\.txt/);
    assert.equal(first.all.some((e) => e.type === 'status' && e.status === 'notice'), false, 'no read-only fallback');
    assert.ok(first.all.some((e) => e.type === 'status' && e.mode === 'ask'), 'codex ran with its writes asked');
    assert.deepEqual(first.all.flatMap((e) => (e.type === 'approval_request' ? [e.decision ?? null] : [])), [null, 'deny']);
    assert.equal(existsSync(denied), false);

    // The conversation's next turn is not asked to start; its command is.
    const made = join(dirs.cwd, 'codex-allowed.txt');
    const outside = join(dirs.homes, 'codex-outside.txt');
    api.script(escalated(`touch ${made}; touch ${outside}; echo outside=$?`), { kind: 'text', text: 'done' });
    const second = await codexTurn('@codex now make it', ['allow_once']);
    assert.deepEqual(second.asked.map((a) => a.action), ['tool_use']);
    assert.equal(existsSync(made), true);
    assert.equal(existsSync(outside), false);
    assert.ok(second.all.some((e) => e.type === 'result' && e.success), JSON.stringify(second.all.slice(-3)));
  });

  test('a patch that creates a file asks; denied, no file; allowed, the file is there', async () => {
    const patch = (name: string) => ({ kind: 'patch' as const, patch: `*** Begin Patch\n*** Add File: ${name}\n+from codex\n*** End Patch\n` });
    api.script(patch('codex-patch-denied.txt'), { kind: 'text', text: 'tried' });
    const denied = await codexTurn('@codex patch it', ['deny']);
    assert.deepEqual(denied.asked.map((a) => a.action), ['tool_use']);
    assert.match(JSON.stringify(denied.asked[0].args), /file_change[\s\S]*codex-patch-denied\.txt/);
    assert.equal(existsSync(join(dirs.cwd, 'codex-patch-denied.txt')), false);

    api.script(patch('codex-patch-allowed.txt'), { kind: 'text', text: 'patched' });
    await codexTurn('@codex patch it again', ['allow_once']);
    assert.equal(readFileSync(join(dirs.cwd, 'codex-patch-allowed.txt'), 'utf8'), 'from codex\n');
  });

  test('the gateway token is not asked: its codex writes in the root as before', async () => {
    const made = join(dirs.cwd, 'codex-token.txt');
    api.script({ kind: 'tool', name: 'exec_command', input: { cmd: `touch ${made}` } }, { kind: 'text', text: 'made' });
    const reply = await gw.request('/api/gateway/terminal-chat', { method: 'POST', json: { message: 'make it', provider: 'codex' }, auth: 'token' });
    assert.equal(reply.status, 200);
    assert.ok(events(reply).some((e) => e.type === 'status' && e.mode === 'workspace-write'));
    assert.equal(existsSync(made), true);
    assert.deepEqual(gw.services.approvals.list(), []);
  });

  test('a denied start of a new codex conversation runs nothing', async () => {
    const requests = api.modelRequests().length;
    // A's terminal conversation with codex is new: it asks, and a denial runs nothing.
    const denied = await answered('/api/gateway/terminal-chat', { message: '@codex make it anyway' }, A, 'deny');
    assert.equal(denied.reply.status, 403);
    assert.equal(api.modelRequests().length, requests);
  });
});
