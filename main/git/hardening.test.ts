// A repository's own config must not make the gateway run its commands: fsmonitor and
// hooks from .git/config and .git/hooks stay silent on reads and plain writes; only the
// writes that must run the user's hooks (commit, push) run them; the same for filter
// drivers, ssh commands and credential helpers. Real git, real files.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  test('filter drivers, core.sshCommand and credential helpers from the repository never run on reads, fetches or local writes; a push keeps them', async () => {
    const repo = path.join(fx.root, 'configured');
    mkdirSync(repo);
    await fx.sh(repo, 'init', '-q', '-b', 'main');
    await fx.sh(repo, 'config', 'user.email', 't@example.test');
    await fx.sh(repo, 'config', 'user.name', 'T');
    writeFileSync(path.join(repo, '.gitattributes'), '*.txt filter=evil\n');
    writeFileSync(path.join(repo, 'a.txt'), 'one\n');
    await fx.sh(repo, 'add', '.');
    await fx.sh(repo, 'commit', '-q', '-m', 'init');
    // With a `$1` per key: which one ran.
    const probe = path.join(fx.root, 'probe.sh');
    writeFileSync(probe, `#!/bin/sh\ntouch '${markers}'/"$1"\n[ "$1" = ssh ] && exit 1\ncat\n`, { mode: 0o755 });
    for (const kind of ['clean', 'smudge', 'process']) await fx.sh(repo, 'config', `filter.evil.${kind}`, `${probe} filter-${kind}`);
    await fx.sh(repo, 'config', 'core.sshCommand', `${probe} ssh`);
    await fx.sh(repo, 'config', 'credential.helper', `!${probe} credential`);
    await fx.sh(repo, 'remote', 'add', 'evil', 'ssh://127.0.0.1:9/x.git');

    // The repository's config is live: git without the runner's overrides runs it.
    writeFileSync(path.join(repo, 'a.txt'), 'two\n');
    await fx.supervisor.run('git', ['status', '--short'], { cwd: repo, timeoutMs: 10_000 });
    assert.equal(ran('filter-process') || ran('filter-clean'), true, 'control: plain git ran the filter');
    rmSync(markers, { recursive: true, force: true });
    mkdirSync(markers);

    await fx.runner.run(repo, ['status', '--porcelain'], 'status');
    await fx.runner.raw(repo, ['diff'], 'diff');
    await fx.runner.run(repo, ['checkout', '--', 'a.txt'], 'checkout');
    await fx.runner.raw(repo, ['fetch', 'evil'], 'fetch', { timeoutMs: 20_000 });
    await fx.runner.raw(repo, ['credential', 'fill'], 'credential', { input: 'protocol=https\nhost=example.test\n\n' });
    for (const marker of ['filter-clean', 'filter-smudge', 'filter-process', 'ssh', 'credential']) assert.equal(ran(marker), false, `${marker} ran`);
    assert.equal(readFileSync(path.join(repo, 'a.txt'), 'utf8'), 'one\n', 'a filter the repository defines reads as the identity');

    // A push is the user's own: their repository's ssh command is kept (as their hooks are).
    await fx.runner.raw(repo, ['push', 'evil', 'main'], 'push', { runUserHooks: true, timeoutMs: 20_000 });
    assert.equal(ran('ssh'), true, 'the push used the repository ssh command');
  });
});
