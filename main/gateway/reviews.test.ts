// The review routes through a real gateway: the real `codex exec review` and claude
// against the mock model API, on a real repository with a seeded bug, in the ticket's
// own worktree; dedup, verdict, extract, argue and finding chats; 409, stop, disconnect.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { ClaudeProvider } from '../providers/claude.js';
import { CodexProvider } from '../providers/codex.js';
import { claudeTestConfig, codexTestConfig, groupAlive, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { BUG_FILE, BUG_LINE, seededBugRepo } from '../review/testing/seeded-repo.js';
import { startTestGateway, type TestGateway } from './testing.js';

let api: MockModelApi;
let dirs: TestDirs;
let gw: TestGateway;
let repo: string;

const REVIEW = '/api/gateway/codex/review';
type Event = { type: string; [key: string]: unknown };

before(async () => {
  api = await MockModelApi.start();
  dirs = makeTestDirs('reviews-gw');
  gw = await startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    reviewKeepaliveMs: 300,
    configure: async (services) => {
      services.providers.register(new ClaudeProvider(services.supervisor, claudeTestConfig(api, dirs.homes)));
      services.providers.register(new CodexProvider(services.supervisor, codexTestConfig(api, dirs.homes)));
      await services.setWorkspaceRoot(dirs.root);
    },
  });
  repo = join(dirs.root, 'app');
  mkdirSync(repo);
  await seededBugRepo(gw.services.supervisor, repo, 'main');
  await gw.services.repos.add({ path: repo });
});

after(async () => {
  await gw.close();
  await api.close();
  dirs.cleanup();
});

const post = (path: string, json: unknown) => gw.request(path, { method: 'POST', json, auth: 'token' });
const get = (path: string) => gw.request(path, { auth: 'token' });
const lines = (text: string): Event[] => text.trim().split('\n').map((line) => JSON.parse(line) as Event);
const q = (extra: Record<string, string> = {}) => new URLSearchParams({ repo, ...extra }).toString();

/** A POST whose NDJSON reply is read while it streams. */
function openStream(path: string, json: unknown): Promise<{ res: IncomingMessage; next(): Promise<Event | null>; close(): void }> {
  const body = JSON.stringify(json);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1', port: gw.port, path, method: 'POST',
        headers: { Host: `127.0.0.1:${gw.port}`, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), 'X-Desktop-Gateway-Token': gw.token },
      },
      (res) => {
        const reader = createInterface({ input: res })[Symbol.asyncIterator]();
        resolve({ res, next: async () => { const item = await reader.next(); return item.done ? null : (JSON.parse(item.value) as Event); }, close: () => req.destroy() });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function readUntil(stream: { next(): Promise<Event | null> }, type: string): Promise<Event[]> {
  const seen: Event[] = [];
  for (let event = await stream.next(); event; event = await stream.next()) {
    seen.push(event);
    if (event.type === type) break;
  }
  return seen;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const bug = (file: string) => ({ title: 'add() subtracts', body: 'add returns a - b instead of a + b, so every total is wrong.', file, line: BUG_LINE, priority: 1 as const, confidence: 0.9 });

describe('review routes', () => {
  let worktree: string;
  let codexFindings: Array<Record<string, unknown>>;
  let claudeSession: string;

  test('GET /codex/available finds codex through the binary resolution and reports its version', async () => {
    const reply = await get('/api/gateway/codex/available');
    assert.equal(reply.status, 200);
    assert.equal(reply.json.available, true);
    assert.equal(reply.json.version, '0.171.0');
  });

  test('a codex review (exec review --base) in the ticket worktree made for branchName stores findings with file and line', async () => {
    worktree = gw.services.ticketWorktrees.expectedPath(repo, 'T-1');
    api.script({ kind: 'review', findings: [bug(join(worktree, BUG_FILE))], correct: false, explanation: 'The change breaks add.' });
    const reply = await post(`${REVIEW}/T-1`, { repoPath: repo, provider: 'codex', branchName: 'feature/bug', baseBranch: 'main', model: '', instructions: '' });
    assert.equal(reply.status, 200, reply.text);
    const events = lines(reply.text);
    assert.deepEqual([events[0].type, events[0].status, events[0].provider], ['status', 'running', 'codex']);
    assert.ok((events[0].pid as number) > 0);
    assert.ok(events.some((e) => e.type === 'sessionId'));
    const found = events.find((e) => e.type === 'findings') as unknown as { findings: Array<Record<string, unknown>>; invalid: unknown[] };
    assert.deepEqual(found.invalid, []);
    assert.deepEqual(events.slice(-2), [{ type: 'result', success: true }, { type: 'done' }]);
    // codex reviewed the worktree against main (its own prompt names the merge base).
    assert.match(JSON.stringify(api.modelRequests().at(-1)?.body), /against the base branch 'main'\. The merge base commit/);

    const stored = await get(`/api/gateway/codex/review-findings/T-1?${q({ provider: 'codex' })}`);
    assert.equal(stored.status, 200);
    codexFindings = stored.json.findings;
    assert.equal(codexFindings.length, 1);
    assert.deepEqual(
      [codexFindings[0].file, codexFindings[0].line, codexFindings[0].severity, codexFindings[0].priority, codexFindings[0].status, codexFindings[0].title],
      [BUG_FILE, BUG_LINE, 'high', 'P1', 'open', 'add() subtracts'],
    );
    assert.equal(codexFindings[0].message, `add() subtracts\n${bug('').body}`);

    const status = await get(`/api/gateway/codex/status/T-1?${q({ provider: 'codex' })}`);
    assert.equal(status.json.hasReview, true);
    assert.equal(status.json.status, 'completed');
    assert.equal(status.json.processRunning, false);
    assert.equal(status.json.worktreeDir, worktree);
    assert.equal(status.json.config.baseBranch, 'main');
    assert.match(status.json.log, /\[P1\] add\(\) subtracts/);
  });

  test('a claude review is a read-only turn shown the diff, asked for JSON; its findings stored the same way', async () => {
    api.script({ kind: 'review', findings: [bug(BUG_FILE)] });
    const reply = await post(`${REVIEW}/T-1`, { repoPath: repo, provider: 'claude', baseBranch: 'main', instructions: 'Mind the arithmetic.' });
    assert.equal(reply.status, 200, reply.text);
    const events = lines(reply.text);
    claudeSession = (events.find((e) => e.type === 'sessionId') as unknown as { sessionId: string }).sessionId;
    const sent = JSON.stringify(api.modelRequests().at(-1)?.body);
    assert.match(sent, /return a - b/);
    assert.match(sent, /Mind the arithmetic/);
    const tools = (api.modelRequests().at(-1)?.body as { tools?: Array<{ name: string }> }).tools?.map((t) => t.name) ?? [];
    assert.ok(!tools.includes('Write') && !tools.includes('Bash') && !tools.includes('Edit'), `claude had ${tools.join(',')}`);
    const stored = await get(`/api/gateway/codex/review-findings/T-1?${q({ provider: 'claude' })}`);
    assert.deepEqual([stored.json.findings[0].file, stored.json.findings[0].line, stored.json.findings[0].confidence], [BUG_FILE, BUG_LINE, 0.9]);
  });

  test('dedup pairs the two reviews and the PR comment that says the same', async () => {
    const claude = (await get(`/api/gateway/codex/review-findings/T-1?${q({ provider: 'claude' })}`)).json.findings;
    const reply = await post('/api/gateway/codex/review-dedup/T-1', { repoPath: repo, providerA: 'claude', providerB: 'codex', findingsA: claude, findingsB: codexFindings });
    assert.deepEqual(reply.json, { duplicates: [[0, 0]] });
    const comments = [{ body: 'LGTM otherwise', path: 'README.md' }, { body: 'add() subtracts: add returns a - b instead of a + b', path: BUG_FILE }];
    const vsComments = await post('/api/gateway/codex/review-dedup/T-1', { repoPath: repo, providerA: 'codex', providerB: 'pr-comments', findingsA: codexFindings, findingsB: comments });
    assert.deepEqual(vsComments.json, { duplicates: [[0, 1]] });
  });

  test('extract and verdict: from the log, and from the resumed read-only session', async () => {
    const extracted = await post('/api/gateway/codex/review-extract/T-1', { repoPath: repo, sessionId: claudeSession });
    assert.equal(extracted.status, 200);
    assert.equal(extracted.json.findings[0].line, BUG_LINE);

    api.script({ kind: 'text', text: 'It breaks add.\n<pr_verdict>{"verdict": "needs_attention", "reason": "add() subtracts."}</pr_verdict>' });
    const verdict = await post('/api/gateway/codex/review-verdict/T-1', { repoPath: repo, sessionId: claudeSession, provider: 'claude' });
    assert.deepEqual(verdict.json, { verdict: { verdict: 'needs_attention', reason: 'add() subtracts.' } });
    assert.match(JSON.stringify(api.modelRequests().at(-1)?.body), /premise review[\s\S]*pr_verdict/);
    const status = await get(`/api/gateway/codex/status/T-1?${q({ provider: 'claude' })}`);
    assert.equal(status.json.verdict.verdict, 'needs_attention');
    const unknown = await post('/api/gateway/codex/review-verdict/T-1', { repoPath: repo, sessionId: 'nope', provider: 'claude' });
    assert.equal(unknown.status, 404);
  });

  test('a re-review does not bring back a finding already dismissed', async () => {
    const dismissed = await post(`/api/gateway/codex/review-findings/T-1?${q({ provider: 'codex' })}`, { findingId: codexFindings[0].id, status: 'dismissed' });
    assert.deepEqual(dismissed.json, { success: true });
    const reworded = { ...bug(join(worktree, BUG_FILE)), body: 'add returns a - b instead of a + b, so totals are wrong.' };
    const other = { title: 'Unused export', body: 'math.js exports nothing else.', file: join(worktree, BUG_FILE), line: 1, priority: 3 as const };
    api.script({ kind: 'review', findings: [reworded, other] });
    const reply = await post(`${REVIEW}/T-1`, { repoPath: repo, provider: 'codex' });
    assert.equal(reply.status, 200, reply.text);
    const findings = (await get(`/api/gateway/codex/review-findings/T-1?${q({ provider: 'codex' })}`)).json.findings;
    assert.deepEqual(findings.map((f: { status: string }) => f.status), ['dismissed', 'open']);
    assert.equal(findings[0].duplicateOf, codexFindings[0].id);
  });

  test('findings POST modes: commentedIndex, declined, a whole set', async () => {
    const path = `/api/gateway/codex/review-findings/T-1?${q({ provider: 'codex' })}`;
    assert.deepEqual((await post(path, { commentedIndex: 1, humanizedBody: 'Please drop it.' })).json, { success: true });
    assert.equal((await post(path, { commentedIndex: 9 })).status, 400);
    const after = (await get(path)).json;
    assert.deepEqual([after.findings[1].status, after.findings[1].commented, after.findings[1].humanizedBody], ['commented', true, 'Please drop it.']);
    assert.deepEqual((await post(path, { declined: true, declineReason: 'not ours' })).json, { success: true });
    assert.equal((await get(path)).json.declined, true);
    const saved = await post(`/api/gateway/codex/review-findings/T-9?${q()}`, { findings: [{ severity: 'warning', message: 'Title\nBody', file: 'a.ts', line: 3 }], provider: 'claude', model: 'm' });
    assert.deepEqual(saved.json, { success: true, count: 1 });
    const set = (await get(`/api/gateway/codex/review-findings/T-9?${q({ provider: 'claude' })}`)).json;
    assert.deepEqual([set.model, set.findings[0].severity, set.findings[0].priority, set.findings[0].title, set.findings[0].body], ['m', 'medium', 'P2', 'Title', 'Body']);
    assert.equal((await post(path, { nothing: true })).status, 400);
  });

  test('provider is an enum, never a path piece: ../../x is a 400 naming the field', async () => {
    for (const path of [
      `/api/gateway/codex/review-findings/T-1?${q({ provider: '../../x' })}`,
      `/api/gateway/codex/status/T-1?${q({ provider: '../../x' })}`,
    ]) {
      const reply = await get(path);
      assert.equal(reply.status, 400, path);
      assert.equal(reply.json.code, 'invalid_input');
      assert.match(reply.json.error, /provider/);
    }
    const del = await gw.request(`/api/gateway/codex/stop/T-1?${q({ provider: '../../x' })}`, { method: 'DELETE', auth: 'token' });
    assert.equal(del.status, 400);
    const review = await post(`${REVIEW}/T-1`, { repoPath: repo, provider: '../../x' });
    assert.equal(review.status, 400);
    assert.equal(existsSync(join(dirs.root, 'x')), false);
  });

  test('a second review of the same ticket and provider is 409; stop kills the process tree; keepalives meanwhile', async () => {
    api.script({ kind: 'hang' });
    const requests = api.modelRequests().length;
    const stream = await openStream(`${REVIEW}/T-2`, { repoPath: repo, provider: 'codex', useBaseRepo: true, reviewMode: 'uncommitted' });
    assert.equal(stream.res.statusCode, 200);
    const first = await stream.next();
    const pid = first!.pid as number;
    await api.waitForModelRequests(requests + 1);
    assert.ok(groupAlive(pid));

    const second = await post(`${REVIEW}/T-2`, { repoPath: repo, provider: 'codex', useBaseRepo: true });
    assert.equal(second.status, 409);
    assert.equal(second.json.code, 'review_in_progress');
    const running = await get(`/api/gateway/codex/status/T-2?${q()}`);
    assert.deepEqual([running.json.status, running.json.processRunning, running.json.provider], ['running', true, 'codex']);
    assert.equal((await readUntil(stream, 'keepalive')).at(-1)?.type, 'keepalive');

    const stopped = await post('/api/gateway/codex/stop/T-2', { repo, provider: 'codex' });
    assert.deepEqual(stopped.json, { stopped: true, pid });
    assert.equal(groupAlive(pid), false);
    const rest = await readUntil(stream, 'done');
    assert.deepEqual(rest.filter((e) => e.type === 'result'), [{ type: 'result', success: false, reason: 'killed' }]);
    await until(async () => (await get(`/api/gateway/codex/status/T-2?${q()}`)).json.status === 'stopped', 'the run to be stopped');
    assert.equal((await post('/api/gateway/codex/stop/T-2', { repo, provider: 'codex' })).json.stopped, false);
    // Forgetting it leaves nothing.
    const forgot = await gw.request(`/api/gateway/codex/stop/T-2?${q({ provider: 'codex' })}`, { method: 'DELETE', auth: 'token' });
    assert.equal(forgot.status, 200);
    assert.equal((await get(`/api/gateway/codex/status/T-2?${q()}`)).json.hasReview, false);
  });

  test('a client that leaves stops the review and its process', async () => {
    api.script({ kind: 'hang' });
    const requests = api.modelRequests().length;
    const stream = await openStream(`${REVIEW}/T-3`, { repoPath: repo, provider: 'claude', useBaseRepo: true });
    const pid = (await stream.next())!.pid as number;
    await api.waitForModelRequests(requests + 1);
    stream.close();
    await until(() => !groupAlive(pid), 'the review process to be gone');
    await until(async () => (await get(`/api/gateway/codex/status/T-3?${q({ provider: 'claude' })}`)).json.status === 'stopped', 'the run to be stopped');
  });

  test('argue: the other reviewer argues a finding read-only (a shell write fails), and the rounds are kept', async () => {
    const claude = (await get(`/api/gateway/codex/review-findings/T-1?${q({ provider: 'claude' })}`)).json.findings;
    api.script(
      { kind: 'tool', name: 'exec_command', input: { cmd: 'touch argued.txt' } },
      { kind: 'text', text: 'The finding is real.\n<debate_position>agree</debate_position>' },
    );
    const reply = await post('/api/gateway/codex/argue/T-1', { repoPath: repo, findingId: claude[0].id, claudeArgument: 'It is clearly a bug.' });
    assert.equal(reply.status, 200, reply.text);
    const events = lines(reply.text);
    const debate = events.find((e) => e.type === 'debate') as unknown as { position: string; rounds: Array<{ side: string; provider: string; content: string }> };
    assert.equal(debate.position, 'agree');
    assert.deepEqual(debate.rounds.map((r) => [r.side, r.provider]), [['challenge', 'claude'], ['response', 'codex']]);
    assert.equal(existsSync(join(worktree, 'argued.txt')), false);
    assert.deepEqual(events.slice(-2), [{ type: 'result', success: true }, { type: 'done' }]);
  });

  test('finding chat: a read-only claude turn (a Write is refused), then GET, PATCH responded and append, DELETE', async () => {
    const findingId = codexFindings[0].id as string;
    const target = join(worktree, 'chat-wrote.txt');
    api.script(
      { kind: 'tool', name: 'Write', input: { file_path: target, content: 'x' } },
      { kind: 'text', text: 'I cannot write files here; the fix is a + b.' },
    );
    const path = `/api/gateway/codex/finding-chat/${findingId}?${new URLSearchParams({ ticketId: 'T-1', repo })}`;
    const reply = await gw.request(path, { method: 'POST', json: { message: 'Fix it please' }, auth: 'token' });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(existsSync(target), false);
    const toolResult = JSON.stringify(api.modelRequests().at(-1)?.body);
    assert.match(toolResult, /tool_result/);
    assert.match(JSON.stringify(api.modelRequests().at(-2)?.body), /add\(\) subtracts/);

    const history = await get(path);
    assert.deepEqual(history.json.messages.map((m: { role: string }) => m.role), ['user', 'assistant']);
    assert.deepEqual((await gw.request(path, { method: 'PATCH', json: { responded: true }, auth: 'token' })).json, { success: true });
    assert.deepEqual((await gw.request(path, { method: 'PATCH', json: { message: 'noted in the debate' }, auth: 'token' })).json, { success: true });
    const after = (await get(path)).json.messages;
    assert.deepEqual([after[1].responded, after[2].content], [true, 'noted in the debate']);
    assert.deepEqual((await gw.request(path, { method: 'DELETE', auth: 'token' })).json, { success: true });
    assert.deepEqual((await get(path)).json.messages, []);
  });

  test('chat about the review: read-only, codex by default', async () => {
    api.script({ kind: 'text', text: 'The review found one bug.' });
    const reply = await post('/api/gateway/codex/chat/T-1', { prompt: 'What did the review find?', repoPath: repo, chatContextId: 'review' });
    assert.equal(reply.status, 200, reply.text);
    const events = lines(reply.text);
    assert.equal(events.find((e) => e.type === 'status')?.mode, 'read-only');
    assert.equal(events.filter((e) => e.type === 'text').map((e) => e.content).join(''), 'The review found one bug.');
  });
});
