// Ticket runs end to end: the real gateway, real git, run hosts running the real claude
// and codex CLIs against the mock model API, judges that run a real command.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import type { ProviderId } from '../providers/types.js';
import { createRunRepo, PLAN_ANSWER, startRunGateway, waitForStatus } from '../symphony/testing/run-fixture.js';
import type { TestGateway } from './testing.js';

let api: MockModelApi;
let root: string;
let repo: string;
let gw: TestGateway;

before(async () => {
  api = await MockModelApi.start();
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'runs-gw-')));
  repo = await createRunRepo(root);
  gw = await startRunGateway({ root, api, dataDir: process.env.KEEP_DD });
});

after(async () => {
  await gw?.close();
  await api.close();
  rmSync(root, { recursive: true, force: true });
});

const launch = (json: Record<string, unknown>) => gw.request('/api/gateway/symphony/launch', { method: 'POST', json, auth: 'token' });
const get = (url: string) => gw.request(url, { auth: 'token' });
const q = (ticket: string) => `${encodeURIComponent(ticket)}?repo=${encodeURIComponent(repo)}`;
const JUDGES = [{ name: 'test', command: 'node check.js' }];


function editTurn(provider: ProviderId, worktree: string) {
  return provider === 'claude'
    ? { kind: 'tool' as const, name: 'Write', input: { file_path: path.join(worktree, 'fixed.txt'), content: 'fixed\n' } }
    : { kind: 'patch' as const, patch: '*** Begin Patch\n*** Add File: fixed.txt\n+fixed\n*** End Patch\n' };
}

for (const provider of ['claude', 'codex'] as ProviderId[]) {
  describe(`a ticket run with the real ${provider}`, () => {
    test('plan checkpoint, accept, a failing judge whose output reaches iteration 2, then COMPLETED', async () => {
      const ticket = `ENG-${provider}`;
      api.script({ kind: 'text', text: PLAN_ANSWER });
      const first = await launch({ ticketIdentifier: ticket, repoPath: repo, provider, judges: JUDGES, ticket: { title: 'Add fixed.txt', description: 'The check wants fixed.txt.' } });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.json.branchName, `feature/${ticket}`);
      assert.equal(first.json.baseBranch, 'origin/main');
      const worktree = first.json.worktreePath as string;
      assert.ok(existsSync(worktree));
      const waiting = await waitForStatus(gw, ticket, repo, (s) => s.status === 'AWAITING_USER');
      assert.equal(waiting.phase, 'Plan review');
      await waitForStatus(gw, ticket, repo, (s) => s.processRunning === false);
      const plan = await get(`/api/gateway/symphony/plan/${q(ticket)}`);
      assert.deepEqual(plan.json.pendingTasks.map((t: { id: string }) => t.id), ['T1']);
      assert.deepEqual(plan.json.openQuestions, ['Which content?']);

      // Iteration 1 does nothing useful: the judge fails. Iteration 2 writes the file and says so.
      api.script({ kind: 'text', text: 'Looked around, nothing changed yet.' }, editTurn(provider, worktree), { kind: 'text', text: 'Created it.\n<task-done id="T1"/>\n<promise>COMPLETE</promise>' });
      const accepted = await launch({ ticketIdentifier: ticket, repoPath: repo });
      assert.equal(accepted.status, 200, accepted.text);
      const done = await waitForStatus(gw, ticket, repo, (s) => ['COMPLETED', 'FAILED'].includes(s.status) && !s.processRunning, 60_000);
      assert.equal(done.status, 'COMPLETED', JSON.stringify(done));
      assert.equal(done.reason, 'completed');
      assert.equal(done.iteration, 2);
      assert.deepEqual(done.taskProgress, { pending: 0, completed: 1, total: 1 });
      assert.ok(done.tokens.total > 0);

      const detail = await get(`/api/gateway/symphony/runs/${done.runId}`);
      const [, it1, it2] = detail.json.iterations;
      assert.equal(it1.judges.stats[0].final_status, 'FAILED');
      assert.match(it1.judges.stats[0].outputTail, /FAIL: fixed.txt is missing/);
      assert.match(it2.prompt, /FAIL: fixed.txt is missing/);
      assert.ok(api.modelRequests().some((r) => /FAIL: fixed.txt is missing/.test(JSON.stringify(r.body))), 'the judge output reached the model');
      const judges = await get(`/api/gateway/symphony/judges/${q(ticket)}`);
      assert.equal(judges.json.exists, true);
      const [testCase] = judges.json.data.stats;
      assert.deepEqual([testCase.type, testCase.case_id, testCase.final_status], ['case_score', 'test', 'PASSED']);
      assert.deepEqual(Object.keys(testCase.metrics[0]).sort(), ['justification', 'metric_name', 'score', 'threshold']);

      const logs = await get(`/api/gateway/symphony/logs/${q(ticket)}&lines=1000`);
      assert.equal(logs.json.format, 'jsonl');
      const types = logs.json.lines.map((line: string) => JSON.parse(line).type);
      for (const type of ['launched', 'plan', 'judge_result', 'tasks_done', 'status']) assert.ok(types.includes(type), type);
      const wd = await get(`/api/gateway/work-directory/${q(ticket)}`);
      assert.deepEqual([wd.json.exists, wd.json.path, wd.json.source], [true, worktree, 'run']);
    });
  });
}
