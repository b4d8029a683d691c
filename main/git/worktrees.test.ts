import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createGitFixture, type GitFixture } from './testing/fixture.js';
import { rejectsWith } from './testing/assert-error.js';

describe('worktrees', () => {
  let fx: GitFixture;
  const merged = new Set<string>();
  before(async () => {
    fx = await createGitFixture({ mergedBranches: async () => merged });
    await fx.sh(fx.repo, 'remote', 'set-url', 'origin', 'https://github.com/acme/widgets.git');
    await fx.repos.add({ path: fx.repo });
  });
  after(() => fx.close());

  test('create puts a new branch under <dataDir>/worktrees/<repo>/, outside the repository', async () => {
    const created = await fx.git.worktrees.create({ repoPath: fx.repo, branchName: 'ticket/42-fix', baseBranch: 'main' });
    assert.equal(created.path, path.join(fx.dataDir, 'worktrees', 'repo', 'ticket-42-fix'));
    assert.deepEqual([created.created, created.repoPath, created.branch], [true, fx.repo, 'ticket/42-fix']);
    assert.equal((await fx.git.status(created.path)).currentBranch, 'ticket/42-fix');
    const again = await fx.git.worktrees.create({ repoPath: fx.repo, branchName: 'ticket/42-fix' });
    assert.deepEqual([again.path, again.created], [created.path, false]);
    const list = await fx.git.worktrees.list(fx.repo);
    assert.deepEqual(list.map((w) => [w.path, w.branch, w.main]), [[fx.repo, 'main', true], [created.path, 'ticket/42-fix', false]]);
  });

  test('a branch checked out elsewhere is 409 naming where', async () => {
    const error = await rejectsWith(fx.git.worktrees.create({ repoPath: fx.repo, branchName: 'main' }), 409, 'branch_checked_out_elsewhere');
    assert.equal((error.details as { path: string }).path, fx.repo);
    assert.match(error.message, new RegExp(fx.repo));
    // git's own message maps the same way when a switch collides with a worktree.
    const viaGit = await rejectsWith(fx.git.checkoutBranch(fx.repo, 'ticket/42-fix', undefined), 409, 'branch_checked_out_elsewhere');
    assert.equal((viaGit.details as { path: string }).path, path.join(fx.dataDir, 'worktrees', 'repo', 'ticket-42-fix'));
  });

  test('branch-worktree and repo lookups by owner/repo', async () => {
    assert.deepEqual(await fx.git.worktrees.findBranchWorktree('acme/widgets', 'ticket/42-fix'), {
      path: path.join(fx.dataDir, 'worktrees', 'repo', 'ticket-42-fix'),
      repoPath: fx.repo,
    });
    assert.deepEqual(await fx.git.worktrees.findBranchWorktree('Acme/Widgets', 'main'), { path: fx.repo, repoPath: fx.repo });
    await rejectsWith(fx.git.worktrees.findBranchWorktree('acme/widgets', 'nope'), 404, 'worktree_not_found');
    await rejectsWith(fx.git.worktrees.findBranchWorktree('acme/other', 'main'), 404, 'repo_not_found');
  });

  test('delete refuses uncommitted changes unless force; never the repository itself', async () => {
    const worktreePath = path.join(fx.dataDir, 'worktrees', 'repo', 'ticket-42-fix');
    await writeFile(path.join(worktreePath, 'wip.txt'), 'work in progress\n');
    const error = await rejectsWith(fx.git.worktrees.remove({ worktreePath }), 409, 'worktree_dirty');
    assert.deepEqual((error.details as { files: string[] }).files, ['wip.txt']);
    assert.ok(existsSync(worktreePath));
    await rejectsWith(fx.git.worktrees.remove({ worktreePath: fx.repo, force: true }), 422, 'not_a_linked_worktree');
    const removed = await fx.git.worktrees.remove({ worktreePath, force: true });
    assert.deepEqual([removed.removed, removed.branch], [worktreePath, 'ticket/42-fix']);
    assert.equal(existsSync(worktreePath), false);
    await rejectsWith(fx.git.worktrees.remove({ worktreePath: '/etc' }), 403, 'path_not_allowed');
  });

  test('worktreeParentDir is honoured', async () => {
    const parent = path.join(fx.root, 'trees');
    await fx.repos.patch(fx.repo, { worktreeParentDir: parent });
    const created = await fx.git.worktrees.create({ repoPath: fx.repo, branchName: 'ticket/7' });
    assert.equal(created.path, path.join(parent, 'ticket-7'));
  });

  test('a repository name with separators or dot segments is refused; a worktree path outside every root is never created', async () => {
    for (const name of ['../..', '..', '.', 'a/b', 'a\\b', '../../escape']) {
      await rejectsWith(fx.repos.patch(fx.repo, { name }), 400, 'invalid_repo_name');
    }
    // A name that slipped past (an older database): the guard refuses the path before anything is made.
    await fx.repos.patch(fx.repo, { worktreeParentDir: null });
    fx.db.prepare('UPDATE repos SET name = ? WHERE path = ?').run('../../../escaped', fx.repo);
    const outside = path.join(fx.dataDir, 'worktrees', '../../../escaped');
    await rejectsWith(fx.git.worktrees.create({ repoPath: fx.repo, branchName: 'ticket/escape', baseBranch: 'main' }), 403, 'path_not_allowed');
    assert.equal(existsSync(outside), false, `${outside} was created`);
    fx.db.prepare('UPDATE repos SET name = ? WHERE path = ?').run('repo', fx.repo);
    await fx.repos.patch(fx.repo, { worktreeParentDir: path.join(fx.root, 'trees') });
  });

  test('parallel creates in one repository (parallel ticket runs) all succeed', async () => {
    const names = ['par/1', 'par/2', 'par/3', 'par/4'];
    const created = await Promise.all(names.map((branchName) => fx.git.worktrees.create({ repoPath: fx.repo, branchName, baseBranch: 'main' })));
    assert.deepEqual(created.map((w) => w.branch), names);
    await Promise.all(created.map((w) => fx.git.worktrees.remove({ worktreePath: w.path })));
    const left = (await fx.git.worktrees.list(fx.repo)).map((w) => w.branch);
    assert.ok(names.every((name) => !left.includes(name)));
  });

  test('cleanup removes clean worktrees of merged branches and keeps the rest', async () => {
    const dirty = await fx.git.worktrees.create({ repoPath: fx.repo, branchName: 'ticket/8' });
    const open = await fx.git.worktrees.create({ repoPath: fx.repo, branchName: 'ticket/9' });
    await writeFile(path.join(dirty.path, 'wip.txt'), 'x\n');
    merged.add('ticket/7').add('ticket/8');
    const result = await fx.git.worktrees.cleanupMerged(fx.repo);
    assert.deepEqual(result.removed, [{ path: path.join(fx.root, 'trees', 'ticket-7'), branch: 'ticket/7' }]);
    assert.deepEqual(result.kept, [
      { path: dirty.path, branch: 'ticket/8', reason: 'uncommitted changes' },
      { path: open.path, branch: 'ticket/9', reason: 'not merged' },
    ]);
    assert.deepEqual(result.errors, []);
    assert.equal(existsSync(path.join(fx.root, 'trees', 'ticket-7')), false);
  });
});
