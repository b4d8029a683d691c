import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../errors.js';
import { detectProjectType, parseFullName, RepoRegistry } from './repos.js';
import { createGitFixture, type GitFixture } from './testing/fixture.js';
import { rejectsWith } from './testing/assert-error.js';

describe('repository registry', () => {
  let fx: GitFixture;
  before(async () => {
    fx = await createGitFixture();
    await fx.sh(fx.repo, 'remote', 'set-url', 'origin', 'git@github.com:acme/widgets.git');
  });
  after(() => fx.close());

  test('add detects name, default branch, remote, owner/repo and project type', async () => {
    const repo = await fx.repos.add({ path: fx.repo, description: 'the widgets' });
    assert.equal(repo.path, fx.repo);
    assert.equal(repo.name, 'repo');
    assert.equal(repo.description, 'the widgets');
    assert.equal(repo.defaultBranch, 'main');
    assert.equal(repo.remoteUrl, 'git@github.com:acme/widgets.git');
    assert.equal(repo.fullName, 'acme/widgets');
    assert.equal(repo.projectType, 'node');
    assert.equal(repo.worktreeParentDir, null);
    assert.deepEqual(fx.repos.list().map((r) => r.path), [fx.repo]);
    assert.equal(fx.repos.findByFullName('ACME/Widgets')?.path, fx.repo);
    assert.equal(fx.repos.findByPath(fx.repo)?.name, 'repo');
  });

  test('a subfolder adds its work tree top; a duplicate is 409', async () => {
    await mkdir(path.join(fx.repo, 'src'), { recursive: true });
    await rejectsWith(fx.repos.add({ path: path.join(fx.repo, 'src') }), 409, 'repo_exists');
    await rejectsWith(fx.repos.add({ path: fx.repo }), 409, 'repo_exists');
  });

  test('a folder that is not a git work tree is 422; outside the guard is 403', async () => {
    const plain = path.join(fx.root, 'plain');
    await mkdir(plain);
    await rejectsWith(fx.repos.add({ path: plain }), 422, 'not_a_git_work_tree');
    await rejectsWith(fx.repos.add({ path: fx.remote }), 422, 'not_a_git_work_tree');
    await rejectsWith(fx.repos.add({ path: '/etc' }), 403, 'path_not_allowed');
  });

  test('patch sets worktreeParentDir outside the repo only; allowedRoots lists it', async () => {
    const parent = path.join(fx.root, 'trees');
    const patched = await fx.repos.patch(fx.repo, { worktreeParentDir: parent, description: 'changed' });
    assert.equal(patched.worktreeParentDir, parent);
    assert.equal(fx.repos.findByPath(fx.repo)?.description, 'changed');
    assert.deepEqual(fx.repos.allowedRoots().sort(), [path.join(fx.dataDir, 'worktrees'), fx.repo, parent].sort());
    await rejectsWith(fx.repos.patch(fx.repo, { worktreeParentDir: path.join(fx.repo, 'trees') }), 422, 'worktree_inside_repo');
    await rejectsWith(fx.repos.patch(fx.repo, { worktreeParentDir: 'relative/dir' }), 400, 'bad_request');
    await rejectsWith(fx.repos.patch(fx.repo, { worktreeParentDir: '/etc/trees' }), 403, 'path_not_allowed');
    assert.equal((await fx.repos.patch(fx.repo, { worktreeParentDir: null })).worktreeParentDir, null);
    await rejectsWith(fx.repos.patch(path.join(fx.root, 'nope'), { description: 'x' }), 404, 'repo_not_found');
  });

  test('the registry survives reopening the database', () => {
    const reopened = new RepoRegistry({ db: fx.db, git: fx.runner, guard: { resolve: async (p) => p }, dataDir: fx.dataDir });
    assert.equal(reopened.findByPath(fx.repo)?.fullName, 'acme/widgets');
  });

  test('remove forgets the repository (found through a symlink too) and leaves its files', async () => {
    await writeFile(path.join(fx.repo, 'keep.txt'), 'keep\n');
    const link = path.join(fx.root, 'repo-link');
    await symlink(fx.repo, link);
    assert.equal(fx.repos.remove(link).path, fx.repo);
    assert.deepEqual(fx.repos.list(), []);
    assert.equal((await fx.git.status(fx.repo)).untracked.includes('keep.txt'), true);
    assert.throws(() => fx.repos.remove(fx.repo), (e: unknown) => e instanceof AppError && e.status === 404);
  });
});

test('parseFullName reads https, ssh and scp-style remotes', () => {
  assert.equal(parseFullName('https://github.com/acme/widgets.git'), 'acme/widgets');
  assert.equal(parseFullName('https://github.com/acme/widgets'), 'acme/widgets');
  assert.equal(parseFullName('ssh://git@github.com/acme/wid.gets.git'), 'acme/wid.gets');
  assert.equal(parseFullName('git@github.com:acme/widgets.git'), 'acme/widgets');
  assert.equal(parseFullName('/srv/git/widgets.git'), null);
  assert.equal(parseFullName('file:///srv/git/widgets.git'), null);
  assert.equal(parseFullName('https://ghe.example.com/org/tool.git'), 'org/tool');
  assert.equal(parseFullName('widgets'), null);
});

test('detectProjectType picks the first marker', async () => {
  const fx = await createGitFixture();
  try {
    const dir = path.join(fx.root, 'py');
    await mkdir(dir);
    assert.equal(detectProjectType(dir), 'unknown');
    await writeFile(path.join(dir, 'pyproject.toml'), '');
    assert.equal(detectProjectType(dir), 'python');
    await writeFile(path.join(dir, 'Cargo.toml'), '');
    assert.equal(detectProjectType(dir), 'python');
    await writeFile(path.join(dir, 'go.mod'), '');
    const rust = path.join(fx.root, 'rs');
    await mkdir(rust);
    await writeFile(path.join(rust, 'Cargo.toml'), '');
    assert.equal(detectProjectType(rust), 'rust');
  } finally {
    await fx.close();
  }
});
