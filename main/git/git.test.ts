import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Supervisor, type RunOptions } from '../supervisor/supervisor.js';
import { GitService } from './git.js';
import { GitRunner } from './runner.js';
import { createGitFixture, type GitFixture } from './testing/fixture.js';
import { rejectsWith } from './testing/assert-error.js';

/** Asserts the promise rejects with an AppError of this status and code. */
describe('git actions on a real repository', () => {
  let fx: GitFixture;
  before(async () => {
    fx = await createGitFixture();
  });
  after(() => fx.close());

  test('status reports branch, upstream and every file category', async () => {
    await fx.write('README.md', '# changed\n');
    await fx.sh(fx.repo, 'add', 'README.md');
    await fx.write('package.json', '{"a":1}\n');
    await fx.write('new file.txt', 'x\n');
    const status = (await fx.git.runAction({ action: 'status', repoPath: fx.repo })) as Awaited<ReturnType<GitService['status']>>;
    assert.equal(status.currentBranch, 'main');
    assert.equal(status.upstream, 'origin/main');
    assert.equal(status.ahead, 0);
    assert.equal(status.behind, 0);
    assert.equal(status.hasChanges, true);
    assert.deepEqual(status.staged, ['README.md']);
    assert.deepEqual(status.unstaged, ['package.json']);
    assert.deepEqual(status.untracked, ['new file.txt']);
    assert.deepEqual(status.conflicted, []);
    assert.deepEqual(
      status.files.map((f) => [f.path, f.status]),
      [['README.md', 'modified'], ['package.json', 'modified'], ['new file.txt', 'untracked']],
    );
  });

  test('commit stages everything; a second commit has nothing to commit (422)', async () => {
    const result = (await fx.git.runAction({ action: 'commit', repoPath: fx.repo, message: '--amend is just text here' })) as {
      commitHash: string;
    };
    assert.match(result.commitHash, /^[0-9a-f]{40}$/);
    assert.equal((await fx.sh(fx.repo, 'log', '-1', '--format=%s')).trim(), '--amend is just text here');
    const status = await fx.git.status(fx.repo);
    assert.equal(status.hasChanges, false);
    assert.equal(status.ahead, 1);
    const error = await rejectsWith(fx.git.runAction({ action: 'commit', repoPath: fx.repo, message: 'again' }), 422, 'nothing_to_commit');
    assert.ok((error.details as { hint: string }).hint);
  });

  test('push, then another clone pulls it; sync-status sees ahead/behind after fetch', async () => {
    await fx.git.runAction({ action: 'push', repoPath: fx.repo });
    const other = await fx.clone('other');
    assert.equal((await fx.sh(other, 'log', '-1', '--format=%s')).trim(), '--amend is just text here');

    await writeFile(path.join(other, 'from-other.txt'), 'hello\n');
    await fx.git.commit(other, 'from other');
    await fx.git.push(other);

    const sync = await fx.git.syncStatus(fx.repo);
    assert.deepEqual([sync.isUpToDate, sync.aheadBy, sync.behindBy, sync.fetched], [false, 0, 1, true]);
    const pulled = await fx.git.runAction({ action: 'pull', repoPath: fx.repo });
    assert.deepEqual((pulled as { updated: boolean }).updated, true);
    const after = await fx.git.syncStatus(fx.repo);
    assert.deepEqual([after.isUpToDate, after.aheadBy, after.behindBy], [true, 0, 0]);
  });

  test('a non-fast-forward push is a 409 with a hint; a diverged pull is a 409 too', async () => {
    const other = path.join(fx.root, 'other');
    await writeFile(path.join(other, 'other-2.txt'), 'b\n');
    await fx.git.commit(other, 'other 2');
    await fx.git.push(other);
    await fx.write('mine.txt', 'a\n');
    await fx.git.commit(fx.repo, 'mine');
    const error = await rejectsWith(fx.git.push(fx.repo), 409, 'non_fast_forward');
    assert.match((error.details as { hint: string }).hint, /Pull/);
    assert.match(error.message, /rejected/);
    await fx.git.syncStatus(fx.repo);
    await rejectsWith(fx.git.pull(fx.repo), 409, 'diverged');
    const sync = await fx.git.syncStatus(fx.repo);
    assert.deepEqual([sync.aheadBy, sync.behindBy], [1, 1]);
    await fx.sh(fx.repo, 'reset', '--quiet', '--hard', 'origin/main');
  });

  test('branch creates from a base and switches; push sets the upstream the first time', async () => {
    const created = await fx.git.runAction({ action: 'branch', repoPath: fx.repo, branchName: 'feature/one', baseBranch: 'main' });
    assert.deepEqual(created, { success: true, branch: 'feature/one', created: true });
    await fx.write('feature.txt', 'f\n');
    await fx.git.commit(fx.repo, 'feature work');
    const sync = await fx.git.syncStatus(fx.repo);
    assert.deepEqual([sync.isUpToDate, sync.upstream, sync.aheadBy], [false, null, 1]);
    await rejectsWith(fx.git.pull(fx.repo), 422, 'no_upstream');
    const pushed = await fx.git.push(fx.repo);
    assert.deepEqual([pushed.setUpstream, pushed.upstream], [true, 'origin/feature/one']);
    assert.equal((await fx.git.status(fx.repo)).upstream, 'origin/feature/one');
    const switched = await fx.git.runAction({ action: 'branch', repoPath: fx.repo, branchName: 'main' });
    assert.deepEqual(switched, { success: true, branch: 'main', created: false });
  });

  test('branch-diff lists commits and files between a branch and its base', async () => {
    const diff = (await fx.git.runAction({ action: 'branch-diff', repoPath: fx.repo, branchName: 'feature/one', baseBranch: 'main' })) as {
      commits: { subject: string }[];
      files: { path: string; status: string; additions: number }[];
      aheadBy: number;
      behindBy: number;
    };
    assert.deepEqual(diff.commits.map((c) => c.subject), ['feature work']);
    assert.deepEqual(diff.files, [{ path: 'feature.txt', status: 'added', additions: 1, deletions: 0, binary: false, lockfile: false }]);
    assert.deepEqual([diff.aheadBy, diff.behindBy], [1, 0]);
  });

  test('branches lists local and remote branches with the current one', async () => {
    const list = await fx.git.branches(fx.repo);
    assert.equal(list.current, 'main');
    const names = list.branches.map((b) => `${b.remote ? 'remote:' : ''}${b.name}`);
    for (const name of ['main', 'feature/one', 'remote:origin/main', 'remote:origin/feature/one']) assert.ok(names.includes(name), name);
    assert.equal(list.branches.find((b) => b.name === 'feature/one')?.upstream, 'origin/feature/one');
  });

  test('git refusals map to typed errors: detached HEAD, index.lock, not a repository', async () => {
    await fx.sh(fx.repo, 'switch', '--quiet', '--detach', 'HEAD');
    await rejectsWith(fx.git.push(fx.repo), 409, 'detached_head');
    await fx.sh(fx.repo, 'switch', '--quiet', 'main');

    const lock = path.join(fx.repo, '.git', 'index.lock');
    await writeFile(lock, '');
    await fx.write('locked.txt', 'x\n');
    const error = await rejectsWith(fx.git.commit(fx.repo, 'locked'), 409, 'git_locked');
    assert.match((error.details as { hint: string }).hint, /index\.lock/);
    await rm(lock);
    await rm(path.join(fx.repo, 'locked.txt'));

    const plain = path.join(fx.root, 'plain');
    await mkdir(plain);
    await rejectsWith(fx.git.runAction({ action: 'status', repoPath: plain }), 422, 'not_a_git_repository');
  });

  test('a merge conflict shows as conflicted; commit refuses it (409) instead of committing the markers', async () => {
    await fx.sh(fx.repo, 'switch', '--quiet', '-c', 'conflict-a');
    await fx.write('README.md', 'from a\n');
    await fx.git.commit(fx.repo, 'a');
    await fx.sh(fx.repo, 'switch', '--quiet', 'main');
    await fx.write('README.md', 'from main\n');
    await fx.git.commit(fx.repo, 'main side');
    const merge = await fx.runner.raw(fx.repo, ['merge', 'conflict-a'], 'merge');
    assert.notEqual(merge.exitCode, 0);
    const status = await fx.git.status(fx.repo);
    assert.deepEqual(status.conflicted, ['README.md']);
    assert.deepEqual(status.files.map((f) => [f.path, f.status]), [['README.md', 'conflicted']]);
    const error = await rejectsWith(fx.git.commit(fx.repo, 'resolve?'), 409, 'merge_conflict');
    assert.deepEqual((error.details as { files: string[] }).files, ['README.md']);
    await rejectsWith(fx.git.checkoutBranch(fx.repo, 'conflict-a', undefined), 409, 'merge_conflict');
    await fx.sh(fx.repo, 'merge', '--abort');
    await fx.sh(fx.repo, 'reset', '--quiet', '--hard', 'origin/main');
  });

  test('sync-status offline still answers from the last fetch, with the fetch error', async () => {
    const other = await fx.clone('offline');
    await fx.sh(other, 'remote', 'set-url', 'origin', path.join(fx.root, 'gone.git'));
    const sync = await fx.git.syncStatus(other);
    assert.deepEqual([sync.fetched, sync.isUpToDate, sync.aheadBy, sync.behindBy], [false, true, 0, 0]);
    assert.match(sync.fetchError ?? '', /gone\.git/);
  });

  test('a path outside the guard is 403 before git runs', async () => {
    await rejectsWith(fx.git.runAction({ action: 'status', repoPath: '/etc' }), 403, 'path_not_allowed');
  });
});

describe('malicious ref names never reach git', () => {
  let fx: GitFixture;
  before(async () => {
    fx = await createGitFixture();
  });
  after(() => fx.close());

  test('--upload-pack=x, main;id, -x and friends are 400 naming the field, with no git call carrying them', async () => {
    const calls: string[][] = [];
    const recording = new Supervisor();
    const spy = {
      run: (command: string, args: readonly string[], options?: RunOptions) => {
        calls.push([command, ...args]);
        return recording.run(command, args, options);
      },
    };
    const runner = new GitRunner(spy);
    const git = new GitService({ git: runner, repos: fx.repos, guard: fx.guard });
    const bad = ['--upload-pack=touch /tmp/pwned', 'main;id', '-x', '.hidden', 'a b', 'a..b', 'x\ny', ''];
    for (const name of bad) {
      const action = git.runAction({ action: 'branch', repoPath: fx.repo, branchName: name });
      const error = await rejectsWith(action, 400, name === '' ? 'bad_request' : 'invalid_ref');
      assert.deepEqual(error.details, { field: 'branchName' });
      await rejectsWith(git.runAction({ action: 'branch-diff', repoPath: fx.repo, baseBranch: name || '-' }), 400, 'invalid_ref');
      await rejectsWith(git.worktrees.create({ repoPath: fx.repo, branchName: name || '-' }), 400, 'invalid_ref');
    }
    const leaked = calls.filter((argv) => argv.some((arg) => bad.some((name) => name.length > 1 && arg.includes(name))));
    assert.deepEqual(leaked, []);
  });

  test('names against the ref rules of git (.lock, //, trailing /) are 400 too', async () => {
    for (const name of ['feature.lock', 'a//b', 'ends/']) {
      await rejectsWith(fx.git.checkoutBranch(fx.repo, name, undefined), 400, 'invalid_ref');
    }
  });
});
