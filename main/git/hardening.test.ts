// A repository's own config must not make the gateway run its commands: fsmonitor and
// hooks from .git/config and .git/hooks stay silent on reads and plain writes; only the
// writes that must run the user's hooks (commit, push) run them. Real git, real files.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { FileSearch } from '../files/search.js';
import { createGitFixture, type GitFixture } from './testing/fixture.js';

describe('git runner hardening', () => {
  let fx: GitFixture;
  let markers: string;
  const ran = (name: string) => existsSync(path.join(markers, name));
  const script = (file: string, marker: string) => {
    writeFileSync(file, `#!/bin/sh\ntouch '${path.join(markers, marker)}'\n`, { mode: 0o755 });
    return file;
  };

  before(async () => {
    fx = await createGitFixture();
    await fx.repos.add({ path: fx.repo });
    markers = path.join(fx.root, 'markers');
    mkdirSync(markers);
    await fx.sh(fx.repo, 'config', 'core.fsmonitor', script(path.join(fx.root, 'fsmonitor.sh'), 'fsmonitor'));
    const hooks = path.join(fx.repo, '.git', 'hooks');
    for (const hook of ['post-checkout', 'pre-commit', 'pre-push', 'post-merge']) script(path.join(hooks, hook), hook);
  });
  beforeEach(() => {
    rmSync(markers, { recursive: true, force: true });
    mkdirSync(markers);
  });
  after(() => fx.close());

  test('status, diffs and branch lists never run core.fsmonitor', async () => {
    await fx.write('README.md', '# changed\n');
    await fx.git.status(fx.repo);
    await fx.git.runAction({ action: 'status', repoPath: fx.repo });
    assert.equal(ran('fsmonitor'), false, 'core.fsmonitor ran');
  });

  test('file search lists files through the same runner (no fsmonitor)', async () => {
    const search = new FileSearch({ git: fx.runner, guard: fx.guard });
    try {
      assert.ok((await search.search({ repo: fx.repo, query: 'readme', limit: 5 })).files.length > 0);
    } finally {
      search.close();
    }
    assert.equal(ran('fsmonitor'), false, 'core.fsmonitor ran');
  });

  test('a worktree checkout runs no repository hook', async () => {
    await fx.git.worktrees.create({ repoPath: fx.repo, branchName: 'hardening/one', baseBranch: 'main' });
    assert.equal(ran('post-checkout'), false, 'post-checkout ran');
    assert.equal(ran('fsmonitor'), false, 'core.fsmonitor ran');
  });

  test("commit and push run the user's own hooks, on purpose", async () => {
    await fx.write('hooked.txt', 'x\n');
    await fx.git.runAction({ action: 'commit', repoPath: fx.repo, message: 'hooked commit' });
    assert.equal(ran('pre-commit'), true, 'pre-commit did not run');
    await fx.git.runAction({ action: 'push', repoPath: fx.repo });
    assert.equal(ran('pre-push'), true, 'pre-push did not run');
    assert.equal(ran('fsmonitor'), false, 'core.fsmonitor ran');
  });
});
