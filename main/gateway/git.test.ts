// The repos, git and GitHub routes over real sockets: real git on temp repositories
// with a bare remote, a fake gh (argv-checking) through the binaryPaths override.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createFakeGh, type FakeGh } from '../git/testing/fake-gh.js';
import { createGitFixture, type GitFixture } from '../git/testing/fixture.js';
import { startTestGateway, type TestGateway } from './testing.js';

const APP = 'https://app.example.test';

describe('repos, git and GitHub routes', () => {
  let fx: GitFixture;
  let fake: FakeGh;
  let gw: TestGateway;
  let session: string;

  const post = (route: string, json: unknown, method = 'POST') => gw.request(`/api/gateway/${route}`, { method, json, auth: 'token' });
  const get = (route: string, params: Record<string, string>) =>
    gw.request(`/api/gateway/${route}?${new URLSearchParams(params).toString()}`, { auth: 'token' });

  before(async () => {
    fx = await createGitFixture();
    fake = await createFakeGh();
    // origin names the GitHub repository; git is redirected to the local bare remote.
    await fx.sh(fx.repo, 'remote', 'set-url', 'origin', 'https://github.com/acme/widgets.git');
    await fx.sh(fx.repo, 'config', `url.${fx.remote}.insteadOf`, 'https://github.com/acme/widgets.git');
    gw = await startTestGateway({
      approvalTimeoutMs: 300,
      configure: async (services) => {
        await services.setWorkspaceRoot(fx.root);
        services.settings.set('binaryPaths', { gh: fake.path });
      },
    });
    session = await gw.pair(APP);
  });
  after(async () => {
    await gw.close();
    await fx.close();
    await fake.close();
  });

  test('POST /repos adds a work tree: 201, then 409 duplicate, 422 not a work tree, 403 outside, 400 no path', async () => {
    const added = await post('repos', { path: fx.repo, description: 'widgets' });
    assert.equal(added.status, 201, added.text);
    assert.deepEqual([added.json.repo.fullName, added.json.repo.projectType, added.json.repo.defaultBranch], ['acme/widgets', 'node', 'main']);
    assert.equal((await post('repos', { path: fx.repo })).json.code, 'repo_exists');
    const plain = path.join(fx.root, 'plain');
    await mkdir(plain);
    const notGit = await post('repos', { path: plain });
    assert.deepEqual([notGit.status, notGit.json.code], [422, 'not_a_git_work_tree']);
    const outside = await post('repos', { path: '/etc' });
    assert.deepEqual([outside.status, outside.json.code], [403, 'path_not_allowed']);
    const missing = await post('repos', { description: 'x' });
    assert.equal(missing.status, 400);
    assert.match(missing.json.error, /path/);
    const list = await gw.request('/api/gateway/repos', { auth: 'token' });
    assert.deepEqual(list.json.repos.map((r: { path: string }) => r.path), [fx.repo]);
  });

  test('POST /git dispatches status; bad input is 400 naming the field; outside the workspace 403', async () => {
    const status = await post('git', { action: 'status', repoPath: fx.repo });
    assert.equal(status.status, 200, status.text);
    assert.deepEqual([status.json.currentBranch, status.json.hasChanges, status.json.files], ['main', false, []]);

    const noBranch = await post('git', { action: 'branch', repoPath: fx.repo });
    assert.deepEqual([noBranch.status, noBranch.json.details.issues[0].field], [400, 'branchName']);
    for (const branchName of ['--upload-pack=touch /tmp/x', 'main;id', '-x']) {
      const bad = await post('git', { action: 'branch', repoPath: fx.repo, branchName });
      assert.deepEqual([bad.status, bad.json.details.issues[0].field], [400, 'branchName'], branchName);
    }
    const badAction = await post('git', { action: 'rebase', repoPath: fx.repo });
    assert.deepEqual([badAction.status, badAction.json.details.issues[0].field], [400, 'action']);
    const outside = await post('git', { action: 'status', repoPath: '/etc' });
    assert.deepEqual([outside.status, outside.json.code], [403, 'path_not_allowed']);
    const sneaky = await post('git', { action: 'status', repoPath: `${fx.repo}/../../..` });
    assert.equal(sneaky.status, 403);
  });

  test('a paired origin may read status but push asks first (no answer: 408)', async () => {
    const auth = { session, origin: APP };
    const status = await gw.request('/api/gateway/git', { method: 'POST', json: { action: 'status', repoPath: fx.repo }, auth });
    assert.equal(status.status, 200, status.text);
    const push = await gw.request('/api/gateway/git', { method: 'POST', json: { action: 'push', repoPath: fx.repo }, auth });
    assert.equal(push.status, 408, push.text);
  });

  test('branch, commit, push, sync-status, branch-diff, branches and diff over HTTP', async () => {
    assert.equal((await post('git', { action: 'branch', repoPath: fx.repo, branchName: 'feature/http', baseBranch: 'main' })).status, 200);
    await fx.write('http.txt', 'over http\n');
    const diff = await post('git/diff', { repoPath: fx.repo });
    assert.deepEqual(diff.json.files.map((f: { path: string; status: string }) => [f.path, f.status]), [['http.txt', 'untracked']]);
    const commit = await post('git', { action: 'commit', repoPath: fx.repo, message: 'over http' });
    assert.match(commit.json.commitHash, /^[0-9a-f]{40}$/);
    const push = await post('git', { action: 'push', repoPath: fx.repo });
    assert.deepEqual([push.status, push.json.setUpstream], [200, true], push.text);
    const sync = await post('git', { action: 'sync-status', repoPath: fx.repo });
    assert.deepEqual([sync.json.isUpToDate, sync.json.aheadBy, sync.json.behindBy], [true, 0, 0], sync.text);
    const branchDiff = await post('git', { action: 'branch-diff', repoPath: fx.repo, baseBranch: 'main' });
    assert.deepEqual(branchDiff.json.commits.map((c: { subject: string }) => c.subject), ['over http']);
    const nothing = await post('git', { action: 'commit', repoPath: fx.repo, message: 'again' });
    assert.deepEqual([nothing.status, nothing.json.code], [422, 'nothing_to_commit']);
    assert.ok(nothing.json.details.hint);
    const branches = await get('git/branches', { repo: fx.repo });
    assert.equal(branches.json.current, 'feature/http');
    const escape = await post('git/diff', { repoPath: fx.repo, filePath: '../../etc/passwd' });
    assert.deepEqual([escape.status, escape.json.details.field], [400, 'filePath']);
  });

  test('worktrees: create, 409 when checked out elsewhere, lookups by owner/repo, delete', async () => {
    const created = await post('git/worktree', { repoPath: fx.repo, branchName: 'ticket/http-1', baseBranch: 'main' });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.path, path.join(gw.dataDir, 'worktrees', 'repo', 'ticket-http-1'));
    const taken = await post('git/worktree', { repoPath: fx.repo, branchName: 'feature/http' });
    assert.deepEqual([taken.status, taken.json.code, taken.json.details.path], [409, 'branch_checked_out_elsewhere', fx.repo]);
    const lookup = await get('git/branch-worktree', { repoFullName: 'acme/widgets', headBranch: 'ticket/http-1' });
    assert.deepEqual(lookup.json, { path: created.json.path, repoPath: fx.repo });
    assert.deepEqual((await get('git/repo-path', { repoFullName: 'acme/widgets' })).json, { path: fx.repo });
    assert.equal((await get('git/repo-path', { repoFullName: 'acme/nope' })).status, 404);
    assert.equal((await get('git/repo-path', { repoFullName: 'not a name' })).status, 400);
    const removed = await post('git/worktree', { worktreePath: created.json.path }, 'DELETE');
    assert.deepEqual([removed.status, removed.json.removed], [200, created.json.path], removed.text);
    const outside = await post('git/worktree', { worktreePath: '/etc' }, 'DELETE');
    assert.equal(outside.status, 403);
  });

  test('GitHub: user and PR create through the fake gh; bad PR refs are 400 naming the field', async () => {
    await fake.answer([
      { args: ['api', 'user'], stdout: { login: 'octocat', name: null } },
      { args: ['pr', 'list', '--head=feature/http', '--state=open', '--limit=1', '--json=number,url'], stdout: [] },
      { args: ['pr', 'create', '--title=HTTP PR', '--body-file=-', '--head=feature/http', '--base=main'], stdout: 'https://github.com/acme/widgets/pull/12\n' },
    ]);
    const user = await gw.request('/api/gateway/git/user', { auth: 'token' });
    assert.deepEqual(user.json, { login: 'octocat', name: null });
    const pr = await post('git/pr', { repoPath: fx.repo, title: 'HTTP PR', body: 'body' });
    assert.deepEqual(pr.json, { success: true, url: 'https://github.com/acme/widgets/pull/12', number: 12, existing: false }, pr.text);
    const badNumber = await get('git/pr/head-sha', { owner: 'acme', repo: 'widgets', number: 'abc' });
    assert.deepEqual([badNumber.status, badNumber.json.details.issues[0].field], [400, 'number']);
    const badOwner = await get('git/pr/comments', { owner: '--jq', repo: 'widgets', number: '1' });
    assert.deepEqual([badOwner.status, badOwner.json.details.issues[0].field], [400, 'owner']);
  });

  test('POST /git/worktree cleanup removes worktrees whose PRs gh reports merged', async () => {
    const merged = await post('git/worktree', { repoPath: fx.repo, branchName: 'ticket/merged', baseBranch: 'main' });
    const open = await post('git/worktree', { repoPath: fx.repo, branchName: 'ticket/open', baseBranch: 'main' });
    await fake.answer([{ args: ['pr', 'list', '--state=merged', '--limit=200', '--json=headRefName'], stdout: [{ headRefName: 'ticket/merged' }] }]);
    const cleanup = await post('git/worktree', { action: 'cleanup', repoPath: fx.repo });
    assert.equal(cleanup.status, 200, cleanup.text);
    assert.deepEqual(cleanup.json, {
      removed: [{ path: merged.json.path, branch: 'ticket/merged' }],
      kept: [{ path: open.json.path, branch: 'ticket/open', reason: 'not merged' }],
      errors: [],
    });
  });

  test('PATCH /repos sets worktreeParentDir (outside the repo only); a misspelt setting is 400', async () => {
    const parent = path.join(fx.root, 'trees');
    const patched = await post('repos', { path: fx.repo, worktreeParentDir: parent }, 'PATCH');
    assert.deepEqual([patched.status, patched.json.repo.worktreeParentDir], [200, parent], patched.text);
    const created = await post('git/worktree', { repoPath: fx.repo, branchName: 'ticket/patched', baseBranch: 'main' });
    assert.equal(created.json.path, path.join(parent, 'ticket-patched'));
    const inside = await post('repos', { path: fx.repo, worktreeParentDir: path.join(fx.repo, 'trees') }, 'PATCH');
    assert.deepEqual([inside.status, inside.json.code], [422, 'worktree_inside_repo']);
    const typo = await post('repos', { path: fx.repo, worktreeParentdir: parent }, 'PATCH');
    assert.equal(typo.status, 400);
  });

  test('DELETE /repos forgets the repository, keeps its files', async () => {
    const removed = await gw.request(`/api/gateway/repos?path=${encodeURIComponent(fx.repo)}`, { method: 'DELETE', auth: 'token' });
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual((await gw.request('/api/gateway/repos', { auth: 'token' })).json.repos, []);
    assert.equal((await post('git', { action: 'status', repoPath: fx.repo })).status, 200, 'still inside the workspace root');
  });
});
