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

  test("gh gets the SSH agent, no prompts, and the user's GH_TOKEN/GITHUB_TOKEN; any other child (git, a judge, a dev server) gets no token", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { SSH_AUTH_SOCK: '/tmp/agent.sock', GH_TOKEN: 'ghp_secret', GITHUB_TOKEN: 'ghp_secret2', SYMPHONY_GATEWAY_TOKEN: 'ours' });
    try {
      await fake.answer([{ args: ['api', 'user'], stdout: { login: 'octocat', name: null } }]);
      await github.user();
      // The same program started as every other child is: the supervisor's clean environment.
      await fx.supervisor.run(fake.path, ['api', 'user']);
    } finally {
      for (const name of ['SSH_AUTH_SOCK', 'GH_TOKEN', 'GITHUB_TOKEN', 'SYMPHONY_GATEWAY_TOKEN']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
    const [asGh, asOther] = (await fake.calls()).slice(-2);
    assert.deepEqual(asGh?.env, { GH_PROMPT_DISABLED: '1', SSH_AUTH_SOCK: '/tmp/agent.sock', GH_TOKEN: 'ghp_secret', GITHUB_TOKEN: 'ghp_secret2' });
    assert.deepEqual(asOther?.env, {}, 'no token, and not our own');
  });

  test('without GH_TOKEN/GITHUB_TOKEN in the environment gh gets none', async () => {
    const saved = { GH_TOKEN: process.env.GH_TOKEN, GITHUB_TOKEN: process.env.GITHUB_TOKEN };
    delete process.env.GH_TOKEN;
    delete process.env.GITHUB_TOKEN;
    try {
      await fake.answer([{ args: ['api', 'user'], stdout: { login: 'octocat', name: null } }]);
      await github.user();
    } finally {
      for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value;
    }
    const last = (await fake.calls()).at(-1);
    assert.equal(last?.env.GH_TOKEN, undefined);
    assert.equal(last?.env.GITHUB_TOKEN, undefined);
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

  const HEAD = '1111111111111111111111111111111111111111';
  const BASE = '2222222222222222222222222222222222222222';
  const MERGE_BASE = '3333333333333333333333333333333333333333';
  // GitHub's REST pull request (the fields gh api prints that we read, and some we do not).
  const pull = { number: 7, state: 'open', html_url: 'https://github.com/acme/widgets/pull/7', head: { ref: 'feature/pr', sha: HEAD, repo: { full_name: 'acme/widgets' } }, base: { ref: 'main', sha: BASE } };
  const BRANCH_ID = `${encodeURIComponent('acme/widgets')}::${encodeURIComponent('feature/pr')}`;
  const ghApi = (path: string) => ['api', path];
  const ghList = (path: string) => ['api', '--paginate', '--jq=.[]', path];

  test('list and head SHA read gh JSON', async () => {
    const pr = { number: 7, title: 'Fix', url: 'https://github.com/acme/widgets/pull/7', state: 'OPEN', isDraft: false, headRefName: 'feature/pr', baseRefName: 'main', author: { login: 'octocat' }, createdAt: '2026-11-01T00:00:00Z', updatedAt: '2026-11-02T00:00:00Z', mergedAt: null };
    await fake.answer([
      { args: ['pr', 'list', '--repo=acme/widgets', '--state=open', '--limit=100', '--json=number,title,url,state,isDraft,headRefName,baseRefName,author,createdAt,updatedAt,mergedAt'], stdout: [pr] },
      { args: ['api', 'repos/acme/widgets/pulls/7', '--jq=.head.sha'], stdout: '0123456789abcdef0123456789abcdef01234567\n' },
    ]);
    assert.deepEqual(await github.listPrs('acme/widgets', 'open'), { pullRequests: [pr] });
    assert.deepEqual(await github.headSha(PR), { sha: '0123456789abcdef0123456789abcdef01234567' });
  });

  test("reviews: GitHub's decision (REVIEW_REQUIRED is null) and counts over each reviewer's latest decisive review", async () => {
    // gh pr view --json reviews: GraphQL-shaped entries, in submission order.
    const review = (login: string, state: string, submittedAt: string) => ({ id: `PRR_${login}${submittedAt}`, author: { login }, authorAssociation: 'MEMBER', body: '', submittedAt, includesCreatedEdit: false, reactionGroups: [], state, commit: { oid: HEAD } });
    const reviews = [
      review('ana', 'CHANGES_REQUESTED', '2026-11-01T00:00:00Z'),
      review('ana', 'APPROVED', '2026-11-02T00:00:00Z'),
      review('ana', 'COMMENTED', '2026-11-03T00:00:00Z'),
      review('bo', 'APPROVED', '2026-11-01T00:00:00Z'),
      review('bo', 'CHANGES_REQUESTED', '2026-11-04T00:00:00Z'),
      review('cy', 'COMMENTED', '2026-11-01T00:00:00Z'),
    ];
    const view = ['pr', 'view', '7', '--repo=acme/widgets', '--json=reviewDecision,reviews'];
    await fake.answer([{ args: view, stdout: { reviewDecision: 'CHANGES_REQUESTED', reviews } }]);
    const summary = await github.reviews(PR);
    assert.deepEqual({ ...summary, reviews: summary.reviews.length }, { reviewDecision: 'CHANGES_REQUESTED', approvalCount: 1, changesRequestedCount: 1, reviews: 6 });
    assert.deepEqual(summary.reviews[0], { author: 'ana', state: 'CHANGES_REQUESTED', submittedAt: '2026-11-01T00:00:00Z' });
    await fake.answer([{ args: view, stdout: { reviewDecision: 'REVIEW_REQUIRED', reviews: [] } }]);
    assert.deepEqual(await github.reviews(PR), { reviewDecision: null, approvalCount: 0, changesRequestedCount: 0, reviews: [] });
    await fake.answer([{ args: view, stdout: { reviewDecision: '', reviews: [] } }]);
    assert.equal((await github.reviews(PR)).reviewDecision, null);
  });

  test('files: GitHub entries pass through, previous_filename only where there is one (never null)', async () => {
    const added = { sha: 'f1', filename: 'pr.txt', status: 'added', additions: 1, deletions: 0, changes: 1, patch: '@@ -0,0 +1 @@\n+change' };
    const renamed = { sha: 'f2', filename: 'b.txt', status: 'renamed', additions: 0, deletions: 0, changes: 0, previous_filename: 'a.txt' };
    await fake.answer([{ args: ghList('repos/acme/widgets/pulls/7/files'), stdout: jsonLines([added, renamed, { ...added, filename: 'x.txt', previous_filename: null }]) }]);
    const { files } = await github.files(PR);
    assert.deepEqual(files.slice(0, 2), [added, renamed]);
    assert.ok(!('previous_filename' in files[2]), 'a null previous_filename is left out');
  });

  test('comments: the projection, newest first, ids as strings, kinds; a branchId of another branch or repository is 403 forbidden_mismatch', async () => {
    const issueComment = { id: 1, node_id: 'IC_1', body: 'looks good', user: { login: 'octocat', avatar_url: 'https://avatars.example/1', html_url: 'https://github.com/octocat' }, created_at: '2026-11-02T00:00:00Z', updated_at: '2026-11-02T00:00:00Z', html_url: 'https://github.com/acme/widgets/pull/7#issuecomment-1' };
    const root = { id: 99, node_id: 'PRRC_99', body: 'nit', path: 'pr.txt', line: 1, original_line: 1, position: 1, side: 'RIGHT', commit_id: HEAD, user: { login: 'ana' }, created_at: '2026-11-03T00:00:00Z', updated_at: '2026-11-03T00:00:00Z', html_url: 'https://github.com/acme/widgets/pull/7#discussion_r99' };
    const reply = { ...root, id: 100, node_id: 'PRRC_100', body: 'x'.repeat(20_000), in_reply_to_id: 99, line: null, original_line: 3, position: null, created_at: '2026-11-04T00:00:00Z' };
    await fake.answer([
      { args: ghApi('repos/acme/widgets/pulls/7'), stdout: pull },
      { args: ghList('repos/acme/widgets/issues/7/comments'), stdout: jsonLines([issueComment]) },
      { args: ghList('repos/acme/widgets/pulls/7/comments'), stdout: jsonLines([root, reply]) },
    ]);
    const result = await github.comments({ ...PR, branchId: BRANCH_ID });
    assert.deepEqual({ ...result, comments: result.comments.map((c) => [c.id, c.kind, c.threadId, c.inReplyToId, c.line, c.stale, c.bodyTruncated]), providerProofedAt: typeof result.providerProofedAt }, {
      branchId: BRANCH_ID,
      state: 'populated',
      comments: [
        ['review:100', 'review_reply', '99', '99', 3, true, true],
        ['review:99', 'review', '99', null, 1, false, false],
        ['issue:1', 'issue', null, null, null, false, false],
      ],
      budget: { maxComments: 100, pageSize: 50, maxBodyBytes: 16_384, maxResponseBytes: 524_288, omittedComments: 0, bodyTruncatedCount: 1, providerTruncated: false, responseTruncated: false },
      providerProofedAt: 'string',
      stale: false,
      mixedProjection: false,
      prNumber: 7,
      prUrl: 'https://github.com/acme/widgets/pull/7',
    });
    assert.equal(Buffer.byteLength(result.comments[0].body), 16_384);
    assert.deepEqual(result.comments[2].author, { login: 'octocat', displayName: null, avatarUrl: 'https://avatars.example/1', profileUrl: 'https://github.com/octocat' });
    assert.deepEqual([result.comments[2].path, result.comments[2].providerCommentId, result.comments[2].providerNodeId], [null, '1', 'IC_1']);

    const local = await github.comments({ ...PR, branchId: `local::${encodeURIComponent('feature/pr')}` });
    assert.equal(local.state, 'populated', 'a local repository part only checks the branch');
    for (const branchId of [`${encodeURIComponent('acme/widgets')}::main`, `${encodeURIComponent('acme/other')}::${encodeURIComponent('feature/pr')}`]) {
      const error = await rejectsWith(github.comments({ ...PR, branchId }), 403, 'forbidden_mismatch');
      assert.equal((error as unknown as { reason: string }).reason, 'forbidden_mismatch');
    }
  });

  test('comments: gh failures carry the reason the client switches on', async () => {
    await fake.answer([
      { args: ghApi('repos/acme/widgets/pulls/7'), exitCode: 4, stderr: 'To get started with GitHub CLI, please run:  gh auth login\n' },
      { args: ghList('repos/acme/widgets/issues/7/comments'), stdout: '' },
      { args: ghList('repos/acme/widgets/pulls/7/comments'), stdout: '' },
    ]);
    const auth = await rejectsWith(github.comments({ ...PR, branchId: BRANCH_ID }), 424, 'gh_not_authenticated');
    assert.equal((auth as unknown as { reason: string }).reason, 'auth');
    await fake.answer([
      { args: ghApi('repos/acme/widgets/pulls/7'), exitCode: 1, stderr: 'gh: Not Found (HTTP 404)\n' },
      { args: ghList('repos/acme/widgets/issues/7/comments'), exitCode: 1, stderr: 'gh: Not Found (HTTP 404)\n' },
      { args: ghList('repos/acme/widgets/pulls/7/comments'), exitCode: 1, stderr: 'gh: Not Found (HTTP 404)\n' },
    ]);
    const missing = await rejectsWith(github.comments({ ...PR, branchId: BRANCH_ID }), 404, 'github_not_found');
    assert.equal((missing as unknown as { reason: string }).reason, 'not_found');
  });

  /** The contents API's answer for a file: base64 in `content`, wrapped at 60 columns as GitHub does. */
  const contents = (path: string, data: Buffer | string, size = Buffer.byteLength(data)) => ({
    type: 'file', encoding: 'base64', size, name: path.split('/').pop(), path, sha: 'blob',
    content: (Buffer.from(data).toString('base64').match(/.{1,60}/g) ?? []).join('\n') + '\n',
  });
  const diffAnswers = (files: object[], extra: Array<{ args: string[]; stdout?: unknown; stderr?: string; exitCode?: number }>) => fake.answer([
    { args: ghApi('repos/acme/widgets/pulls/7'), stdout: pull },
    { args: ghList('repos/acme/widgets/pulls/7/files'), stdout: jsonLines(files) },
    { args: ['api', `repos/acme/widgets/compare/${BASE}...${HEAD}`, '--jq=.merge_base_commit.sha'], stdout: `${MERGE_BASE}\n` },
    ...extra,
  ]);

  test('file-diff: old content at the merge base (from the old name of a rename), new at the head', async () => {
    await diffAnswers(
      [{ filename: 'src/new name.ts', status: 'renamed', previous_filename: 'src/old.ts', additions: 1, deletions: 1 }, { filename: 'added.md', status: 'added', additions: 1, deletions: 0 }],
      [
        { args: ghApi(`repos/acme/widgets/contents/src/old.ts?ref=${MERGE_BASE}`), stdout: contents('src/old.ts', 'old line\n') },
        { args: ghApi(`repos/acme/widgets/contents/src/new%20name.ts?ref=${HEAD}`), stdout: contents('src/new name.ts', 'new line ✓\n') },
        { args: ghApi(`repos/acme/widgets/contents/added.md?ref=${HEAD}`), stdout: contents('added.md', '# hi\n') },
      ],
    );
    assert.deepEqual(await github.fileDiff({ ...PR, path: 'src/new name.ts', previousPath: 'src/old.ts', branchId: BRANCH_ID }), {
      path: 'src/new name.ts', oldContent: 'old line\n', newContent: 'new line ✓\n', isNew: false, isDeleted: false, isBinary: false,
    });
    assert.deepEqual(await github.fileDiff({ ...PR, path: 'added.md' }), { path: 'added.md', oldContent: '', newContent: '# hi\n', isNew: true, isDeleted: false, isBinary: false });
    await rejectsWith(github.fileDiff({ ...PR, path: 'nope.md' }), 404, 'file_not_in_pr');
    await rejectsWith(github.fileDiff({ ...PR, path: 'src/new name.ts', previousPath: 'src/other.ts' }), 400, 'invalid_input');
    await rejectsWith(github.fileDiff({ ...PR, path: 'added.md', branchId: 'local::main' }), 403, 'forbidden_mismatch');
  });

  test('file-diff: deleted, binary, and over 1 MiB (413)', async () => {
    await diffAnswers(
      [{ filename: 'gone.txt', status: 'removed', additions: 0, deletions: 1 }, { filename: 'logo.png', status: 'modified', additions: 0, deletions: 0 }, { filename: 'big.json', status: 'modified', additions: 1, deletions: 1 }],
      [
        { args: ghApi(`repos/acme/widgets/contents/gone.txt?ref=${MERGE_BASE}`), stdout: contents('gone.txt', 'bye\n') },
        { args: ghApi(`repos/acme/widgets/contents/logo.png?ref=${MERGE_BASE}`), stdout: contents('logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1])) },
        { args: ghApi(`repos/acme/widgets/contents/logo.png?ref=${HEAD}`), stdout: contents('logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 2])) },
        // Past 1 MB GitHub sends no content (encoding "none"); the size is what counts.
        { args: ghApi(`repos/acme/widgets/contents/big.json?ref=${MERGE_BASE}`), stdout: { ...contents('big.json', ''), encoding: 'none', content: '', size: 2 * 1024 * 1024 } },
        { args: ghApi(`repos/acme/widgets/contents/big.json?ref=${HEAD}`), stdout: { ...contents('big.json', ''), encoding: 'none', content: '', size: 2 * 1024 * 1024 } },
      ],
    );
    assert.deepEqual(await github.fileDiff({ ...PR, path: 'gone.txt' }), { path: 'gone.txt', oldContent: 'bye\n', newContent: '', isNew: false, isDeleted: true, isBinary: false });
    assert.deepEqual(await github.fileDiff({ ...PR, path: 'logo.png' }), { path: 'logo.png', oldContent: '', newContent: '', isNew: false, isDeleted: false, isBinary: true });
    await rejectsWith(github.fileDiff({ ...PR, path: 'big.json' }), 413, 'file_too_large');
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
