import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AppError } from '../errors.js';
import { createGitFixture, type GitFixture } from './testing/fixture.js';

describe('diff', () => {
  let fx: GitFixture;
  before(async () => {
    fx = await createGitFixture();
  });
  after(() => fx.close());

  test('per-file stats and unified text; binary flagged; lockfile summarised, not printed', async () => {
    await fx.write('README.md', '# test\nmore\n');
    await fx.write('image.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1, 2, 3, 0]));
    await fx.write('package-lock.json', `${JSON.stringify({ lockfileVersion: 3, packages: { a: 1 } }, null, 2)}\n`);
    await fx.write('notes.txt', 'untracked\n');
    await fx.sh(fx.repo, 'add', 'image.png', 'package-lock.json');

    const result = await fx.git.diff(fx.repo, {});
    const byPath = new Map(result.files.map((f) => [f.path, f]));
    assert.deepEqual(byPath.get('README.md'), { path: 'README.md', status: 'modified', additions: 1, deletions: 0, binary: false, lockfile: false });
    assert.deepEqual(byPath.get('image.png'), { path: 'image.png', status: 'added', additions: null, deletions: null, binary: true, lockfile: false });
    const lock = byPath.get('package-lock.json');
    assert.equal(lock?.lockfile, true);
    assert.match(lock?.summary ?? '', /package-lock\.json: lockfile added, \+6 -0 lines/);
    assert.equal(byPath.get('notes.txt')?.status, 'untracked');
    assert.match(result.diff, /^\+more$/m);
    assert.match(result.diff, /Binary files \/dev\/null and b\/image\.png differ/);
    assert.doesNotMatch(result.diff, /lockfileVersion/);
    assert.equal(result.truncated, false);
    assert.deepEqual([result.additions, result.deletions], [7, 0]);

    const one = await fx.git.diff(fx.repo, { filePath: 'package-lock.json' });
    assert.deepEqual(one.files.map((f) => f.path), ['package-lock.json']);
    assert.match(one.diff, /lockfileVersion/, 'asking for the lockfile itself shows its text');
  });

  test('filePath may not leave the repository', async () => {
    for (const filePath of ['../outside', '/etc/passwd', 'a\0b', '.']) {
      await assert.rejects(fx.git.diff(fx.repo, { filePath }), (e: unknown) => e instanceof AppError && e.status === 400);
    }
  });

  test('against a base branch: committed and uncommitted work since the merge base', async () => {
    await fx.sh(fx.repo, 'switch', '--quiet', '-c', 'topic');
    await fx.sh(fx.repo, 'commit', '--quiet', '-m', 'topic work');
    await fx.write('after.txt', 'uncommitted\n');
    await fx.sh(fx.repo, 'add', 'after.txt');
    const result = await fx.git.diff(fx.repo, { baseBranch: 'main' });
    const paths = result.files.filter((f) => f.status !== 'untracked').map((f) => f.path).sort();
    assert.deepEqual(paths, ['README.md', 'after.txt', 'image.png', 'package-lock.json']);
    await assert.rejects(fx.git.diff(fx.repo, { baseBranch: 'no-such-branch' }), (e: unknown) => e instanceof AppError && e.code === 'unknown_ref');
  });

  test('a 50 MB diff is cut at the cap without buffering it all', async () => {
    const line = `${'x'.repeat(99)}\n`;
    await writeFile(path.join(fx.repo, 'huge.txt'), line.repeat(500_000)); // 50 MB
    await fx.sh(fx.repo, 'add', 'huge.txt');
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const result = await fx.git.diff(fx.repo, { maxBytes: 256 * 1024 });
    const elapsed = performance.now() - started;
    const grown = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    assert.equal(result.truncated, true);
    assert.ok(Buffer.byteLength(result.diff) <= 256 * 1024);
    assert.ok(result.diff.endsWith('\n'), 'cut at a line end');
    assert.equal(result.files.find((f) => f.path === 'huge.txt')?.additions, 500_000);
    console.log(`# 50 MB diff capped at 256 KiB: ${elapsed.toFixed(0)} ms, RSS grew ${grown.toFixed(1)} MiB`);
    assert.ok(grown < 40, `RSS grew ${grown} MiB`);
  });
});
