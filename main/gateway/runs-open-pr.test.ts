// A run opens its pull request on request (launch `openPr`): once it completes with every
// required judge passing, what the agent left is committed, the branch pushed (real git,
// to a bare remote) and the PR created through gh (the fake gh: it answers only the exact
// argv it expects), asked as `git_pr` in the launcher's name; the PR is then followed by
// its number. A paired origin is asked, and its denial leaves no PR, no push, and the run
// COMPLETED with a note. The real claude against the mock model API.
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createFakeGh, type FakeGh, type FakeGhAnswer } from '../git/testing/fake-gh.js';
import { MockModelApi } from '../providers/testing/mock-model-api.js';
import { PR_SETTINGS } from '../symphony/pr-follow.js';
import { createRunRepo, DONE_ANSWER, PLAN_ANSWER, runEvents, sh, startRunGateway, waitForStatus } from '../symphony/testing/run-fixture.js';
import { until, type TestGateway } from './testing.js';

let api: MockModelApi;
let fake: FakeGh;
let root: string;
let repo: string;
let gw: TestGateway;
const APP = 'https://app.example.test';
const PR_URL = 'https://github.com/acme/demo/pull/9';
const FIELDS = '--json=name,state,bucket,link,workflow,description';

before(async () => {
  api = await MockModelApi.start();
  fake = await createFakeGh();
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'runs-open-pr-')));
  repo = await createRunRepo(root);
  gw = await startRunGateway({ root, api, settings: { binaryPaths: { gh: fake.path }, [PR_SETTINGS.pollMs]: 60_000 } });
});

after(async () => {
  await gw?.close();
  await api.close();
  await fake.close();
  rmSync(root, { recursive: true, force: true });
});

/** gh's answers for opening PR 9 of `ticket` and then reading it (no feedback yet). */
const ghAnswers = (ticket: string, title: string): FakeGhAnswer[] => [
  { args: ['pr', 'list', `--head=feature/${ticket}`, '--state=open', '--limit=1', '--json=number,url'], stdout: [] },
  { args: ['pr', 'create', `--title=${title}`, '--body-file=-', `--head=feature/${ticket}`, '--base=main'], stdout: `Creating pull request\n${PR_URL}\n` },
  ...['issues/9/comments', 'pulls/9/comments', 'pulls/9/reviews'].map((what) => ({ args: ['api', '--paginate', '--jq=.[]', `repos/acme/demo/${what}`], stdout: '' })),
  { args: ['pr', 'checks', '9', FIELDS], stdout: [] },
];
/** A command judge that passes and leaves a file the agent "forgot" to commit. */
const WRITES_FILE = { name: 'writes', command: `node -e "require('fs').writeFileSync('fixed.txt', 'done')"` };
const remoteBranch = async (ticket: string) => (await sh(repo, 'ls-remote', 'origin', `refs/heads/feature/${ticket}`)).trim();

test('openPr: the completed run commits, pushes and opens its PR (right head, base, title), then follows it', async () => {
  const ticket = 'ENG-open';
  await fake.answer(ghAnswers(ticket, `${ticket}: Add the fixed file`));
  api.script({ kind: 'text', text: PLAN_ANSWER }, { kind: 'text', text: DONE_ANSWER });
  const launched = await gw.request('/api/gateway/symphony/launch', {
    method: 'POST', auth: 'token',
    json: { ticketIdentifier: ticket, repoPath: repo, autoApprovePlan: true, openPr: true, judges: [WRITES_FILE], ticket: { title: 'Add the fixed file' } },
  });
  assert.equal(launched.status, 200, launched.text);

  const done = await waitForStatus(gw, ticket, repo, (s) => s.prOpen?.state === 'opened', 60_000);
  assert.deepEqual([done.status, done.reason, done.prUrl, done.prNumber], ['COMPLETED', 'completed', PR_URL, 9]);
  assert.match(done.prOpen.note, /#9/);
  const calls = await fake.calls();
  const create = calls.find((c) => c.args[1] === 'create');
  assert.ok(create, 'gh pr create was called');
  assert.equal(create.cwd, done.worktreeDir, 'the PR is opened from the run\'s worktree');
  assert.match(create.stdin, /Opened by the Symphony run of ENG-open/);
  // What the agent left uncommitted is on the pushed branch.
  const pushed = await remoteBranch(ticket);
  assert.ok(pushed, 'the branch was pushed');
  assert.equal((await sh(repo, 'show', '--format=%s', '--name-only', pushed.split('\t')[0])).split('\n').filter(Boolean).join('|'), `${ticket}: Add the fixed file|fixed.txt`);
  // Followed at once, by its number (no lookup by branch after the create).
  await until(async () => (await fake.calls()).some((c) => c.args.includes('repos/acme/demo/issues/9/comments')), 'the first look at PR 9');
  const afterCreate = (await fake.calls()).slice(calls.indexOf(create) + 1);
  assert.ok(afterCreate.some((c) => c.args[0] === 'pr' && c.args[1] === 'checks' && c.args[2] === '9'));
  assert.ok(!afterCreate.some((c) => c.args[1] === 'list'), 'the PR it opened is followed by its number');
  const events = await runEvents(gw, ticket, repo);
  assert.ok(events.some((e) => e.type === 'pr_opened' && e.number === 9 && e.url === PR_URL));
  // Shown in the whole list too.
  const all = (await gw.request('/api/gateway/symphony/status', { auth: 'token' })).json.runs;
  assert.equal(all.find((r: { ticketId: string }) => r.ticketId === ticket)?.prUrl, PR_URL);
});

test('openPr from a paired origin: it is asked (git_pr); a denial leaves no PR, no push, the run COMPLETED with a note', async () => {
  const ticket = 'ENG-deny';
  const session = await gw.pair(APP);
  const asApp = { session, origin: APP };
  await fake.answer(ghAnswers(ticket, `${ticket}: Deny me`));
  const pending = async () => (await gw.request('/api/gateway/desktop/approvals', { auth: 'token' })).json.approvals as Array<{ id: string; operation: string; action: string | null; caller: { origin: string }; args: { head?: string; base?: string; title?: string } }>;
  const decide = (id: string, decision: string) => gw.request(`/api/gateway/desktop/approvals/${id}`, { method: 'POST', json: { decision }, auth: 'token' });

  api.script({ kind: 'text', text: PLAN_ANSWER }, { kind: 'text', text: DONE_ANSWER });
  const launching = gw.request('/api/gateway/symphony/launch', {
    method: 'POST', auth: asApp,
    json: { ticketIdentifier: ticket, repoPath: repo, autoApprovePlan: true, openPr: true, judges: [], ticket: { title: 'Deny me' } },
  });
  // The agent start asks first (a paired origin's default); allowed once.
  let ask: Awaited<ReturnType<typeof pending>>[number] | undefined;
  await until(async () => Boolean((ask = (await pending()).find((a) => a.operation === 'symphony_launch'))), 'the launch approval', 15_000);
  assert.equal((await decide(ask!.id, 'allow_once')).status, 200);
  const launched = await launching;
  assert.equal(launched.status, 200, launched.text);

  // On completion the PR opening asks, in the origin's name, with what it would open.
  await until(async () => Boolean((ask = (await pending()).find((a) => a.operation === 'git_pr'))), 'the git_pr approval', 60_000);
  assert.equal(ask!.caller.origin, APP);
  assert.deepEqual([ask!.args.head, ask!.args.base, ask!.args.title], [`feature/${ticket}`, 'main', `${ticket}: Deny me`]);
  const asking = await waitForStatus(gw, ticket, repo, () => true);
  assert.deepEqual([asking.status, asking.prOpen.state], ['COMPLETED', 'asking']);
  assert.equal((await decide(ask!.id, 'deny')).status, 200);

  const denied = await waitForStatus(gw, ticket, repo, (s) => s.prOpen?.state === 'denied');
  assert.deepEqual([denied.status, denied.reason, denied.prUrl, denied.prNumber], ['COMPLETED', 'completed', null, null]);
  assert.match(denied.prOpen.note, /not opened: .*denied/i);
  assert.ok(!(await fake.calls()).some((c) => c.args[1] === 'create' && c.args.includes(`--head=feature/${ticket}`)), 'no PR was created');
  assert.equal(await remoteBranch(ticket), '', 'nothing was pushed');
  assert.ok((await runEvents(gw, ticket, repo)).some((e) => e.type === 'pr_open_denied'));
  // A later poll does not ask again.
  await gw.services.prFollower.pollOnce();
  assert.equal((await pending()).filter((a) => a.operation === 'git_pr').length, 0);
});
