// The learnings routes through a real gateway: extraction is a real `claude` turn (read-only,
// rooted at the repository) against the loopback mock model API with a scripted answer;
// malformed answers are reported; processing, the TOON export and uses work end to end;
// and the process-all batch picks up where it stopped after a gateway restart.
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { PendingLearning } from '../../shared/schemas/learnings.js';
import { ClaudeProvider } from '../providers/claude.js';
import { claudeTestConfig, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../providers/testing/cli-env.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import type { Provider, TurnOptions } from '../providers/types.js';
import { startTestGateway, type TestGateway, type TestResponse } from './testing.js';

let api: MockModelApi;
let dirs: TestDirs;
let gw: TestGateway;
let repo: string;
const turns: TurnOptions[] = [];

const learning = (id: string, summary: string): PendingLearning => ({
  id, category: 'convention', summary, confidence: 0.9, applies_to: ['package.json'], source: 'chat', context: ['the user said so'],
});
const post = (path: string, json: unknown) => gw.request(`/api/gateway${path}`, { method: 'POST', json, auth: 'token' });
const get = (path: string) => gw.request(`/api/gateway${path}`, { auth: 'token' });

async function until(check: () => Promise<TestResponse>, done: (r: TestResponse) => boolean, limitMs = 60_000): Promise<TestResponse> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const reply = await check();
    if (done(reply)) return reply;
    if (Date.now() > deadline) throw new Error(`never matched: ${reply.text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

before(async () => {
  api = await MockModelApi.start();
  dirs = makeTestDirs('learnings-gw');
  repo = realpathSync(dirs.cwd);
  gw = await startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    configure: async (services) => {
      const claude = new ClaudeProvider(services.supervisor, claudeTestConfig(api, dirs.homes));
      // The real provider, with each turn's options kept so the test can see its confinement.
      const watched: Provider = { id: 'claude', startTurn: (options) => (turns.push(options), claude.startTurn(options)) };
      services.providers.register(watched);
      await services.setWorkspaceRoot(dirs.root);
    },
  });
});

after(async () => {
  await gw.close();
  await api.close();
  dirs.cleanup();
});

describe('learnings', () => {
  test('extraction is a read-only claude turn over the ticket chat; valid learnings kept, malformed ones reported', async () => {
    api.script({ kind: 'text', text: 'Noted: this repository uses pnpm.' });
    const chat = await post('/ticket-chat', { ticketId: 'SHOP-7', repoPath: repo, message: 'Remember: always use pnpm here, npm breaks the lockfile.', ticketContext: 'Shop ticket' });
    assert.equal(chat.status, 200, chat.text);

    const answer = {
      learnings: [
        learning('L1', 'Use pnpm in this repository; npm breaks the lockfile'),
        { id: 'L2', category: 'gossip', summary: 'bad', confidence: 7 },
      ],
    };
    api.script({ kind: 'text', text: `Here are the learnings.\n\n\`\`\`json\n${JSON.stringify(answer)}\n\`\`\`` });
    const requests = api.modelRequests().length;
    const started = await post('/symphony/extract-learnings', { ticketId: 'SHOP-7', repoPath: repo, activeTab: 'chat' });
    assert.equal(started.status, 200, started.text);
    assert.deepEqual([started.json.status, started.json.ticketId, started.json.activeTab], ['processing', 'SHOP-7', 'chat']);

    const done = await until(() => get(`/symphony/learnings-status/SHOP-7?repo=${encodeURIComponent(repo)}`), (r) => r.json.status !== 'processing');
    assert.equal(done.json.status, 'completed', done.text);
    assert.equal(done.json.count, 1);
    assert.equal(done.json.malformed.length, 1);
    assert.equal(done.json.malformed[0].index, 1);
    assert.ok(done.json.malformed[0].issues.some((issue: string) => issue.startsWith('category:')));

    const turn = turns.at(-1)!;
    const { caller, ...profile } = turn.confinement;
    assert.deepEqual(profile, { level: 'read', root: repo });
    assert.equal(caller?.key, 'token', "the asker's start counts against its concurrent agents");
    assert.equal(turn.cwd, repo);
    const sent = JSON.stringify(api.modelRequests().slice(requests).map((r) => r.body));
    assert.match(sent, /always use pnpm here, npm breaks the lockfile/, 'the chat history reached the model');
    assert.deepEqual((await get('/symphony/pending-learnings')).json, { totalCount: 1, worktreeCount: 1 });

    const processed = await post('/symphony/process-learnings', { ticketId: 'SHOP-7', repoPath: repo });
    assert.deepEqual([processed.json.status, processed.json.count], ['completed', 1]);
    assert.equal((await get(`/symphony/process-learnings?ticketId=SHOP-7&repo=${encodeURIComponent(repo)}`)).json.status, 'completed');
    const patterns = (await get('/learnings')).json.patterns;
    assert.deepEqual(patterns.map((p: { summary: string; repo: string }) => [p.summary, p.repo]), [['Use pnpm in this repository; npm breaks the lockfile', 'work']]);
    const toon = await get('/learnings?format=toon');
    assert.match(String(toon.headers['content-type']), /^text\/plain/);
    assert.match(toon.text, /^patterns\[1\]\{id,category,summary,confidence,seen_count,success_rate,flags,applies_to,context,repo\}:$/m);
    assert.match(toon.text, /^ {2}pattern-1,convention,"Use pnpm in this repository; npm breaks the lockfile",0\.9,1,0,"\[UNTESTED\]",package\.json,the user said so,work$/m);

    const used = await post('/symphony/record-learning-use', { ticketId: 'SHOP-8', repoPath: repo, learnings: [{ id: 'pattern-1', summary: 'Use pnpm' }], outcome: 'success' });
    assert.deepEqual([used.json.status, used.json.count, used.json.patterns[0].seen_count, used.json.patterns[0].success_rate], ['recorded', 1, 2, 1]);
    const [section] = gw.services.learnings.promptSections(repo);
    assert.match(section.title, /\(pattern-1\)$/);
  });

  test('an answer with no usable learnings is reported as an error with the reason', async () => {
    api.script({ kind: 'text', text: 'I could not find anything worth keeping.' });
    gw.services.learnings.addTranscriptSource('Run', (_repo, ticketId) => (ticketId === 'SHOP-9' ? 'iteration 1: tests failed, then passed' : null));
    const started = await post('/symphony/extract-learnings', { ticketId: 'SHOP-9', repoPath: repo });
    assert.equal(started.status, 200, started.text);
    const done = await until(() => get('/symphony/learnings-status/SHOP-9'), (r) => r.json.status !== 'processing');
    assert.deepEqual([done.json.status, done.json.count], ['error', 0]);
    assert.match(done.json.message, /did not answer with a JSON object/);

    api.script({ kind: 'text', text: '```json\n{"learnings": [{"id": "X", "summary": "no category"}]}\n```' });
    await post('/symphony/extract-learnings', { ticketId: 'SHOP-9', repoPath: repo });
    const bad = await until(() => get('/symphony/learnings-status/SHOP-9'), (r) => r.json.status !== 'processing');
    assert.equal(bad.json.status, 'error');
    assert.match(bad.json.message, /None of the 1 learning/);
    assert.ok(bad.json.malformed[0].issues.length >= 3);
  });

  test('bad input and missing history: clear errors', async () => {
    const none = await post('/symphony/extract-learnings', { ticketId: 'NOPE-1', repoPath: repo });
    assert.equal(none.status, 404);
    assert.equal(none.json.code, 'no_history');
    const empty = await post('/symphony/record-learning-use', { ticketId: 'SHOP-8', repoPath: repo, learnings: [] });
    assert.equal(empty.status, 400);
    assert.match(JSON.stringify(empty.json.details), /learnings/);
    assert.equal((await post('/symphony/extract-learnings', { ticketId: 'SHOP-1', repoPath: '/etc' })).status, 403);
    assert.deepEqual((await get('/symphony/learnings-status/NEVER')).json, { status: 'none', count: 0 });
  });
});

describe('the process-all batch', () => {
  test('is a queue in the gateway that survives a restart: every ticket merged exactly once', async () => {
    const base = makeTestDirs('learnings-batch');
    const dataDir = join(base.root, 'data');
    mkdirSync(dataDir);
    try {
      const first = await startTestGateway({ dataDir, learningsBatchPauseMs: 400 });
      const tickets = ['B-1', 'B-2', 'B-3', 'B-4'];
      await first.services.load('learnings');
      for (const ticket of tickets) first.services.learnings.store.addPending('/repos/shop', ticket, [learning('L1', `Lesson of ${ticket}`), learning('L2', 'A lesson every ticket learns')]);
      const call = (gw2: TestGateway, method = 'GET') => gw2.request('/api/gateway/symphony/process-all-learnings', { method, auth: 'token', ...(method === 'POST' ? { json: {} } : {}) });
      const started = await call(first, 'POST');
      assert.equal(started.status, 200, started.text);
      assert.deepEqual([started.json.status, started.json.worktreeCount, started.json.totalPending, started.json.processedWorktrees], ['processing', 4, 8, 0]);
      assert.equal((await call(first, 'POST')).json.status, 'already_processing');
      await until(() => call(first), (r) => r.json.processedWorktrees >= 1, 20_000);
      await first.close();

      const stopped = await startTestGateway({ dataDir, learningsBatchPauseMs: 60_000 });
      const midway = await call(stopped);
      // The new gateway resumed the job (and is pausing before its next item): progress is what the first one left.
      assert.equal(midway.json.status, 'processing');
      assert.ok(midway.json.processedWorktrees >= 1 && midway.json.processedWorktrees < 4, midway.text);
      await stopped.close();

      const second = await startTestGateway({ dataDir });
      try {
        const done = await until(() => call(second), (r) => r.json.status === 'completed', 20_000);
        assert.deepEqual([done.json.processedWorktrees, done.json.merged, done.json.worktreeCount], [4, 8, 4]);
        assert.deepEqual((await second.request('/api/gateway/symphony/pending-learnings', { auth: 'token' })).json, { totalCount: 0, worktreeCount: 0 });
        const patterns = second.services.learnings.store.patterns();
        assert.equal(patterns.length, 5);
        assert.equal(patterns.find((p) => p.summary === 'A lesson every ticket learns')?.seen_count, 4, 'each ticket merged once');
        assert.equal((await call(second, 'POST')).json.status, 'skipped');
      } finally {
        await second.close();
      }
    } finally {
      base.cleanup();
    }
  });
});
