import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GitHubService } from './github.js';
import { createFakeGh, jsonLines, type FakeGh } from './testing/fake-gh.js';
import { createGitFixture, type GitFixture } from './testing/fixture.js';
import { rejectsWith } from './testing/assert-error.js';

const PR = { owner: 'acme', repo: 'widgets', number: 7 };

describe('GitHub through gh', () => {
  let fx: GitFixture;
  let fake: FakeGh;
  let github: GitHubService;
  before(async () => {
    fx = await createGitFixture();
    fake = await createFakeGh();
    fx.settings.set('binaryPaths', { gh: fake.path });
    github = new GitHubService({ processes: fx.supervisor, git: fx.git, guard: fx.guard });
  });
  after(async () => {
    await fx.close();
    await fake.close();
  });

  test('user: the login from gh api user', async () => {
    await fake.answer([{ args: ['api', 'user'], stdout: { login: 'octocat', id: 1, name: 'The Octocat', type: 'User' } }]);
    assert.deepEqual(await github.user(), { login: 'octocat', name: 'The Octocat' });
  });

  test('gh gets the SSH agent and no prompts, never a token from our environment', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { SSH_AUTH_SOCK: '/tmp/agent.sock', GH_TOKEN: 'ghp_secret', GITHUB_TOKEN: 'ghp_secret2' });
    try {
      await fake.answer([{ args: ['api', 'user'], stdout: { login: 'octocat', name: null } }]);
      await github.user();
    } finally {
      for (const name of ['SSH_AUTH_SOCK', 'GH_TOKEN', 'GITHUB_TOKEN']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
    const last = (await fake.calls()).at(-1);
    assert.deepEqual(last?.env, { GH_PROMPT_DISABLED: '1', SSH_AUTH_SOCK: '/tmp/agent.sock' });
  });

  test('gh not logged in is a 424 telling the user to run gh auth login', async () => {
    await fake.answer([
      {
        args: ['api', 'user'],
        exitCode: 4,
        stderr: 'To get started with GitHub CLI, please run:  gh auth login\nAlternatively, populate the GH_TOKEN environment variable with a GitHub API authentication token.\n',
      },
    ]);
    const error = await rejectsWith(github.user(), 424, 'gh_not_authenticated');
    assert.match((error.details as { hint: string }).hint, /gh auth login/);
  });

  test('create PR pushes the branch, opens the PR, then returns the existing one', async () => {
    await fx.git.checkoutBranch(fx.repo, 'feature/pr', undefined);
    await fx.write('pr.txt', 'change\n');
    await fx.git.commit(fx.repo, 'pr change');
    const list = ['pr', 'list', '--head=feature/pr', '--state=open', '--limit=1', '--json=number,url'];
    const create = ['pr', 'create', '--title=--fix: it', '--body-file=-', '--head=feature/pr', '--base=main'];
    await fake.answer([
      { args: list, stdout: [] },
      { args: create, stdout: 'https://github.com/acme/widgets/pull/7\n' },
    ]);
    const created = await github.createPr({ repoPath: fx.repo, title: '--fix: it', body: 'Does the thing.', ticketUrl: 'https://tickets.example/T-1' });
    assert.deepEqual(created, { success: true, url: 'https://github.com/acme/widgets/pull/7', number: 7, existing: false });
    const calls = await fake.calls();
    const createCall = calls.find((c) => c.args[1] === 'create');
    assert.equal(createCall?.stdin, 'Does the thing.\n\nTicket: https://tickets.example/T-1');
    assert.equal(createCall?.cwd, fx.repo);
    assert.match(await fx.sh(fx.remote, 'branch', '--list', 'feature/pr'), /feature\/pr/, 'the branch was pushed first');

    await fake.answer([{ args: list, stdout: [{ number: 7, url: 'https://github.com/acme/widgets/pull/7' }] }]);
    const again = await github.createPr({ repoPath: fx.repo, title: 'x', body: 'y' });
    assert.deepEqual(again, { success: true, url: 'https://github.com/acme/widgets/pull/7', number: 7, existing: true });
  });

  test('create PR answers with the PR gh says already exists (opened meanwhile)', async () => {
    await fx.git.checkoutBranch(fx.repo, 'feature/pr', undefined);
    await fake.answer([
      { args: ['pr', 'list', '--head=feature/pr', '--state=open', '--limit=1', '--json=number,url'], stdout: [] },
      {
        args: ['pr', 'create', '--title=t', '--body-file=-', '--head=feature/pr', '--base=main'],
        exitCode: 1,
        stderr: 'a pull request for branch "feature/pr" into branch "main" already exists:\nhttps://github.com/acme/widgets/pull/8\n',
      },
    ]);
    const raced = await github.createPr({ repoPath: fx.repo, title: 't', body: 'b' });
    assert.deepEqual(raced, { success: true, url: 'https://github.com/acme/widgets/pull/8', number: 8, existing: true });
  });

  test('create PR from the base branch is 422, outside the workspace 403', async () => {
    await fx.git.checkoutBranch(fx.repo, 'main', undefined);
    await rejectsWith(github.createPr({ repoPath: fx.repo, title: 't', body: 'b' }), 422, 'pr_from_base_branch');
    await rejectsWith(github.createPr({ repoPath: '/etc', title: 't', body: 'b' }), 403, 'path_not_allowed');
  });

  test('list, comments, reviews, files and head SHA read gh JSON', async () => {
    const pr = { number: 7, title: 'Fix', url: 'https://github.com/acme/widgets/pull/7', state: 'OPEN', isDraft: false, headRefName: 'feature/pr', baseRefName: 'main', author: { login: 'octocat' }, createdAt: '2026-11-01T00:00:00Z', updatedAt: '2026-11-02T00:00:00Z', mergedAt: null };
    const issueComment = { id: 1, body: 'looks good', user: { login: 'octocat' }, created_at: '2026-11-02T00:00:00Z', html_url: 'https://github.com/acme/widgets/pull/7#issuecomment-1' };
    const reviewComment = { id: 99, body: 'nit', path: 'pr.txt', line: 1, side: 'RIGHT', commit_id: 'abc', user: { login: 'octocat' }, in_reply_to_id: undefined };
    const review = { id: 5, state: 'APPROVED', body: '', user: { login: 'octocat' }, commit_id: 'abc', submitted_at: '2026-11-02T00:00:00Z' };
    const file = { sha: 'f1', filename: 'pr.txt', status: 'added', additions: 1, deletions: 0, changes: 1, patch: '@@ -0,0 +1 @@\n+change' };
    await fake.answer([
      { args: ['pr', 'list', '--repo=acme/widgets', '--state=open', '--limit=100', '--json=number,title,url,state,isDraft,headRefName,baseRefName,author,createdAt,updatedAt,mergedAt'], stdout: [pr] },
      { args: ['api', '--paginate', '--jq=.[]', 'repos/acme/widgets/issues/7/comments'], stdout: jsonLines([issueComment]) },
      { args: ['api', '--paginate', '--jq=.[]', 'repos/acme/widgets/pulls/7/comments'], stdout: jsonLines([reviewComment, { ...reviewComment, id: 100 }]) },
      { args: ['api', '--paginate', '--jq=.[]', 'repos/acme/widgets/pulls/7/reviews'], stdout: jsonLines([review]) },
      { args: ['api', '--paginate', '--jq=.[]', 'repos/acme/widgets/pulls/7/files'], stdout: jsonLines([file]) },
      { args: ['api', 'repos/acme/widgets/pulls/7', '--jq=.head.sha'], stdout: '0123456789abcdef0123456789abcdef01234567\n' },
    ]);
    assert.deepEqual(await github.listPrs('acme/widgets', 'open'), { pullRequests: [pr] });
    const comments = await github.comments(PR);
    assert.deepEqual(comments.comments, [issueComment]);
    assert.deepEqual(comments.reviewComments.map((c) => c.id), [99, 100]);
    assert.deepEqual(await github.reviews(PR), { reviews: [review] });
    assert.deepEqual(await github.files(PR), { files: [file] });
    assert.deepEqual(await github.headSha(PR), { sha: '0123456789abcdef0123456789abcdef01234567' });
  });

  test('reply and inline comment POST JSON on stdin; inline comment defaults to the head commit', async () => {
    const created = { id: 101, body: 'thanks', in_reply_to_id: 99 };
    await fake.answer([
      { args: ['api', '--method=POST', '--input=-', 'repos/acme/widgets/pulls/7/comments/99/replies'], stdout: created },
      { args: ['api', 'repos/acme/widgets/pulls/7', '--jq=.head.sha'], stdout: 'headsha\n' },
      { args: ['api', '--method=POST', '--input=-', 'repos/acme/widgets/pulls/7/comments'], stdout: { id: 102 } },
    ]);
    assert.deepEqual(await github.reply({ ...PR, commentId: 99, body: 'thanks' }), { success: true, comment: created });
    assert.deepEqual(await github.inlineComment({ ...PR, body: 'why?', path: 'pr.txt', line: 1 }), { success: true, comment: { id: 102 } });
    const posts = (await fake.calls()).filter((c) => c.args.includes('--method=POST')).slice(-2);
    assert.deepEqual(JSON.parse(posts[0].stdin), { body: 'thanks' });
    assert.deepEqual(JSON.parse(posts[1].stdin), { body: 'why?', commit_id: 'headsha', path: 'pr.txt', line: 1, side: 'RIGHT' });
  });

  test('GitHub errors keep their meaning; bad names never reach gh', async () => {
    await fake.answer([{ args: ['api', 'repos/acme/gone/pulls/7', '--jq=.head.sha'], exitCode: 1, stderr: 'gh: Not Found (HTTP 404)\n' }]);
    await rejectsWith(github.headSha({ ...PR, repo: 'gone' }), 404, 'github_not_found');
    const before = (await fake.calls()).length;
    await rejectsWith(github.headSha({ ...PR, owner: '../x' }), 400, 'bad_request');
    await rejectsWith(github.headSha({ ...PR, repo: '-r' }), 400, 'bad_request');
    await rejectsWith(github.headSha({ ...PR, number: 0 }), 400, 'bad_request');
    assert.equal((await fake.calls()).length, before);
  });

  test('merged branches come from gh pr list --state=merged', async () => {
    await fake.answer([{ args: ['pr', 'list', '--state=merged', '--limit=200', '--json=headRefName'], stdout: [{ headRefName: 'ticket/1' }, { headRefName: 'ticket/2' }] }]);
    assert.deepEqual([...(await github.mergedBranches(fx.repo))], ['ticket/1', 'ticket/2']);
  });
});

test('gh missing is a 424 telling the user to install it', async (t) => {
  const fx = await createGitFixture();
  try {
    const found = await fx.supervisor.binaries.resolve('gh');
    if (found.path) {
      t.skip(`a real gh is installed at ${found.path}; cannot test its absence here`);
      return;
    }
    const github = new GitHubService({ processes: fx.supervisor, git: fx.git, guard: fx.guard });
    const error = await rejectsWith(github.user(), 424, 'gh_not_installed');
    assert.match((error.details as { hint: string }).hint, /cli\.github\.com/);
  } finally {
    await fx.close();
  }
});
