// A run follows its pull request: the gateway reads the PR of a completed run's branch
// through gh (the fake gh: it answers only the exact argv it expects, in gh's JSON), and
// a new review comment plus a failing check become one more iteration whose prompt holds
// both; the same comment seen again does not; rounds are capped; the switch turns it off.
// The real claude against the mock model API, real git.
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createFakeGh, jsonLines, type FakeGh, type FakeGhAnswer } from '../git/testing/fake-gh.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { PR_SETTINGS } from '../symphony/pr-follow.js';
import { createRunRepo, PLAN_ANSWER, startRunGateway, waitForStatus } from '../symphony/testing/run-fixture.js';
import { until, type TestGateway } from './testing.js';

let api: MockModelApi;
let fake: FakeGh;
let root: string;
let repo: string;
let gw: TestGateway;

before(async () => {
  api = await MockModelApi.start();
  fake = await createFakeGh();
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'runs-pr-')));
  repo = await createRunRepo(root);
  gw = await startRunGateway({ root, api, settings: { binaryPaths: { gh: fake.path }, [PR_SETTINGS.pollMs]: 300, [PR_SETTINGS.maxRounds]: 2 } });
});

after(async () => {
  await gw?.close();
  await api.close();
  await fake.close();
  rmSync(root, { recursive: true, force: true });
});

const TICKET = 'ENG-pr';
const PR_URL = 'https://github.com/acme/demo/pull/7';
const user = (login: string) => ({ login, id: 1, type: 'User', html_url: `https://github.com/${login}` });
/** An issue comment as the REST API (gh api) gives it. */
const comment = (id: number, body: string) => ({
  id, node_id: `IC_${id}`, user: user('reviewer'), body, html_url: `${PR_URL}#issuecomment-${id}`, author_association: 'MEMBER',
  created_at: '2026-12-01T10:00:00Z', updated_at: '2026-12-01T10:00:00Z',
});
/** gh's job log: job, step and an RFC 3339 timestamp before each line. */
const jobLog = (at: string) => [
  `unit\tRun npm test\t${at} > demo@1.0.0 test`,
  `unit\tRun npm test\t${at} FAIL test/math.test.js: expected 4, got 5`,
  `unit\tRun npm test\t${at} ##[error]Process completed with exit code 1.`,
].join('\n') + '\n';

function ghAnswers(comments: unknown[], logAt = '2026-12-01T10:01:02.1234567Z', ticket = TICKET): FakeGhAnswer[] {
  return [
    { args: ['pr', 'list', `--head=feature/${ticket}`, '--state=open', '--limit=1', '--json=number,url'], stdout: [{ number: 7, url: PR_URL }] },
    { args: ['api', '--paginate', '--jq=.[]', 'repos/acme/demo/issues/7/comments'], stdout: jsonLines(comments) },
    {
      args: ['api', '--paginate', '--jq=.[]', 'repos/acme/demo/pulls/7/comments'],
      stdout: jsonLines([{
        id: 201, pull_request_review_id: 301, path: 'src/math.js', line: 3, original_line: 3, side: 'RIGHT', diff_hunk: '@@ -1,3 +1,3 @@',
        commit_id: 'a'.repeat(40), user: user('reviewer'), body: 'Off by one here: use < not <=.', html_url: `${PR_URL}#discussion_r201`,
        created_at: '2026-12-01T10:00:00Z', updated_at: '2026-12-01T10:00:00Z',
      }]),
    },
    { args: ['api', '--paginate', '--jq=.[]', 'repos/acme/demo/pulls/7/reviews'], stdout: jsonLines([{ id: 301, user: user('reviewer'), body: '', state: 'COMMENTED', submitted_at: '2026-12-01T10:00:00Z' }]) },
    {
      // gh exits 1 when a check failed, after printing them.
      args: ['pr', 'checks', '7', '--json=name,state,bucket,link,workflow,description'], exitCode: 1,
      stdout: [
        { name: 'unit', state: 'FAILURE', bucket: 'fail', link: 'https://github.com/acme/demo/actions/runs/123/job/456', workflow: 'CI', description: '' },
        { name: 'lint', state: 'SUCCESS', bucket: 'pass', link: 'https://github.com/acme/demo/actions/runs/123/job/457', workflow: 'CI', description: '' },
      ],
    },
    { args: ['run', 'view', '--repo=acme/demo', '--job=456', '--log-failed'], stdout: jobLog(logAt) },
  ];
}

const get = (url: string) => gw.request(url, { auth: 'token' });
const status = (done: (s: { status: string; reason: string | null; iteration: number; processRunning: boolean }) => boolean) =>
  waitForStatus(gw, TICKET, repo, done, 60_000);
const prLooks = async (ticket?: string) =>
  (await fake.calls()).filter((c) => c.args[0] === 'pr' && c.args[1] === 'list' && (!ticket || c.args[2] === `--head=feature/${ticket}`)).length;

test('review comments and a failing check become one more iteration; seen again they do not; capped; switched off', async () => {
  await fake.answer(ghAnswers([comment(101, 'Please rename add() to sum().')]));
  api.script({ kind: 'text', text: PLAN_ANSWER }, { kind: 'text', text: '<task-done id="T1"/>\n<promise>COMPLETE</promise>' }, { kind: 'text', text: 'Renamed it and fixed the bound.' });
  const launched = await gw.request('/api/gateway/symphony/launch', { method: 'POST', auth: 'token', json: { ticketIdentifier: TICKET, repoPath: repo, judges: [], autoApprovePlan: true } });
  assert.equal(launched.status, 200, launched.text);

  // Iteration 1 completes the ticket; the PR's feedback then earns iteration 2.
  const round1 = await status((s) => s.reason === 'review_addressed' && !s.processRunning);
  assert.deepEqual([round1.status, round1.iteration, round1.prRounds, round1.prUrl], ['COMPLETED', 2, 1, PR_URL]);
  const calls = await fake.calls();
  assert.deepEqual(calls.find((c) => c.args[1] === 'list')?.cwd, repo, 'the PR is looked up by branch in the run\'s repository');
  let detail = (await get(`/api/gateway/symphony/runs/${round1.runId}`)).json;
  const it2 = detail.iterations[2];
  assert.equal(it2.kind, 'review');
  assert.match(it2.prompt, /Please rename add\(\) to sum\(\)/);
  assert.match(it2.prompt, /Off by one here/);
  assert.match(it2.prompt, /FAIL test\/math.test.js: expected 4, got 5/);
  assert.ok(api.modelRequests().some((r) => JSON.stringify(r.body).includes('expected 4, got 5')), 'the check log reached the model');
  const logs = (await get(`/api/gateway/symphony/logs/${TICKET}?repo=${encodeURIComponent(repo)}&lines=1000`)).json.lines.map((l: string) => JSON.parse(l));
  const fed = logs.find((e: { type: string }) => e.type === 'pr_feedback');
  assert.deepEqual([fed?.round, [...fed.keys].sort()], [1, ['check:unit:' + fed.keys.find((k: string) => k.startsWith('check:')).slice(11), 'comment:101', 'review-comment:201'].sort()]);
  assert.ok(logs.some((e: { type: string; kind?: string; iteration: number }) => e.type === 'iteration_started' && e.kind === 'review' && e.iteration === 2));

  // The same comment, and the same check failing with the same text (a later timestamp), again: nothing new.
  await fake.answer(ghAnswers([comment(101, 'Please rename add() to sum().')], '2026-12-01T11:22:33.7654321Z'));
  const modelCalls = api.modelRequests().length;
  const looks = await prLooks();
  await until(async () => (await prLooks()) >= looks + 2, 'two more looks at the PR', 15_000);
  const quiet = (await get(`/api/gateway/symphony/status/${TICKET}?repo=${encodeURIComponent(repo)}`)).json;
  assert.deepEqual([quiet.status, quiet.iteration, quiet.prRounds], ['COMPLETED', 2, 1]);
  assert.equal(api.modelRequests().length, modelCalls);

  // A new comment: one more round, with only what is new.
  api.script({ kind: 'text', text: 'Added the test.' });
  await fake.answer(ghAnswers([comment(101, 'Please rename add() to sum().'), comment(102, 'Add a test for zero, please.')]));
  const round2 = await status((s) => s.iteration === 3 && s.status === 'COMPLETED' && !s.processRunning);
  assert.equal(round2.prRounds, 2);
  detail = (await get(`/api/gateway/symphony/runs/${round1.runId}`)).json;
  const it3 = detail.iterations[3].prompt as string;
  assert.match(it3, /Add a test for zero/);
  assert.doesNotMatch(it3, /rename add\(\)|Off by one|expected 4, got 5/);
  const addressed = Object.fromEntries(detail.feedback.map((f: { key: string; addressedIteration: number | null }) => [f.key, f.addressedIteration]));
  const checkKey = Object.keys(addressed).find((k) => k.startsWith('check:unit:'));
  assert.ok(checkKey);
  assert.deepEqual(addressed, { 'comment:101': 2, 'review-comment:201': 2, [checkKey]: 2, 'comment:102': 3 });

  // The cap (2 rounds): a third new comment is recorded, not worked on.
  await fake.answer(ghAnswers([comment(101, 'Please rename add() to sum().'), comment(102, 'Add a test for zero, please.'), comment(103, 'One more thing.')]));
  await until(async () => (await get(`/api/gateway/symphony/logs/${TICKET}?repo=${encodeURIComponent(repo)}&lines=1000`)).json.lines.some((l: string) => JSON.parse(l).type === 'pr_feedback_capped'), 'the capped event', 15_000);
  detail = (await get(`/api/gateway/symphony/runs/${round1.runId}`)).json;
  assert.deepEqual([detail.status, detail.iteration], ['COMPLETED', 3]);
  assert.deepEqual(detail.feedback.find((f: { key: string }) => f.key === 'comment:103')?.addressedIteration, null);

  // Switched off: the PR is not read any more.
  const off = await gw.request(`/api/gateway/symphony/runs/${round1.runId}/follow-pr`, { method: 'POST', auth: 'token', json: { enabled: false } });
  assert.equal(off.status, 200, off.text);
  await gw.services.prFollower.pollOnce();
  const before = await prLooks();
  await gw.services.prFollower.pollOnce();
  await gw.services.prFollower.pollOnce();
  assert.equal(await prLooks(), before);
  assert.equal((await fake.calls()).filter((c) => c.env.SYMPHONY_GATEWAY_TOKEN || (c.env.GH_TOKEN && c.env.GH_TOKEN !== process.env.GH_TOKEN)).length, 0, 'none of our tokens reached gh');
});

test('feedback on a run that waits at its plan is read and listed, never worked on; never read while the run works; its round comes once it completes', async () => {
  const ticket = 'ENG-wait';
  const statusOf = (done: (s: { status: string; reason: string | null; iteration: number; processRunning: boolean }) => boolean) => waitForStatus(gw, ticket, repo, done, 60_000);
  api.script({ kind: 'text', text: PLAN_ANSWER });
  const launched = await gw.request('/api/gateway/symphony/launch', { method: 'POST', auth: 'token', json: { ticketIdentifier: ticket, repoPath: repo, judges: [] } });
  assert.equal(launched.status, 200, launched.text);
  const waiting = await statusOf((s) => s.status === 'AWAITING_USER' && !s.processRunning);

  // At the plan checkpoint: the PR's comment is read and listed, and no agent starts.
  await fake.answer(ghAnswers([comment(501, 'Mind the README too.')], undefined, ticket).map((a) => (a.args[1] === 'checks' ? { ...a, exitCode: 0, stdout: [] } : a)));
  const modelCalls = api.modelRequests().length;
  await gw.services.prFollower.pollOnce();
  let detail = (await get(`/api/gateway/symphony/runs/${waiting.runId}`)).json;
  assert.deepEqual([detail.status, detail.iteration], ['AWAITING_USER', 0]);
  assert.deepEqual(detail.feedback.map((f: { key: string; addressedIteration: number | null }) => [f.key, f.addressedIteration]).sort(), [['comment:501', null], ['review-comment:201', null]]);
  assert.equal(api.modelRequests().length, modelCalls, 'no agent was started for a run waiting on the user');
  const logs = (await get(`/api/gateway/symphony/logs/${ticket}?repo=${encodeURIComponent(repo)}&lines=1000`)).json.lines.map((l: string) => JSON.parse(l));
  assert.ok(logs.some((e: { type: string; status?: string }) => e.type === 'pr_feedback_waiting' && e.status === 'AWAITING_USER'));

  // Accepted: while iteration 1 works (a slow answer), the PR is not read.
  api.script({ kind: 'text', text: '<task-done id="T1"/>\n<promise>COMPLETE</promise>', chunks: 4, delayMs: 800 }, { kind: 'text', text: 'README updated.' });
  const accepted = await gw.request(`/api/gateway/symphony/runs/${waiting.runId}/accept`, { method: 'POST', auth: 'token' });
  assert.equal(accepted.status, 200, accepted.text);
  await statusOf((s) => s.status === 'IN_PROGRESS' && s.iteration === 1);
  const looks = await prLooks(ticket);
  await gw.services.prFollower.pollOnce();
  if ((await get(`/api/gateway/symphony/status/${ticket}?repo=${encodeURIComponent(repo)}`)).json.status === 'IN_PROGRESS') {
    assert.equal(await prLooks(ticket), looks, 'a working run\'s PR is not read');
  }

  // Completed: the waiting feedback gets its round (the timer's poll).
  const done = await statusOf((s) => s.reason === 'review_addressed' && !s.processRunning);
  assert.deepEqual([done.status, done.iteration, done.prRounds], ['COMPLETED', 2, 1]);
  detail = (await get(`/api/gateway/symphony/runs/${waiting.runId}`)).json;
  assert.match(detail.iterations[2].prompt, /Mind the README too/);
  assert.equal(detail.feedback.find((f: { key: string }) => f.key === 'comment:501')?.addressedIteration, 2);
});
