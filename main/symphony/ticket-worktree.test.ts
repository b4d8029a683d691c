import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createGitFixture, type GitFixture } from '../git/testing/fixture.js';
import { rejectsWith } from '../git/testing/assert-error.js';
import { TicketWorktrees, ticketSlug } from './ticket-worktree.js';

describe('ticket worktrees', () => {
  let fx: GitFixture;
  let tickets: TicketWorktrees;
  before(async () => {
    fx = await createGitFixture();
    await fx.sh(fx.repo, 'remote', 'set-head', 'origin', 'main');
    tickets = new TicketWorktrees({ git: fx.git, runner: fx.runner, repos: fx.repos, guard: fx.guard, dataDir: fx.dataDir });
  });
  after(() => fx.close());

  test('ticketSlug keeps ordinary ids and refuses what could climb or pass as an option', () => {
    assert.equal(ticketSlug('ENG-123'), 'ENG-123');
    assert.equal(ticketSlug('PROJ #12:a'), 'PROJ__12_a');
    for (const bad of ['../etc', 'a/b', 'a\\b', '-rf', '.hidden', 'a\nb', '', '..', 'x'.repeat(101), 42]) {
      assert.throws(() => ticketSlug(bad), (e: Error & { details?: { field: string } }) => e.details?.field === 'ticketId', String(bad));
    }
  });

  test('ensure creates <parent>/<repo>-<ticket> on feature/<ticket> from origin/HEAD; find and a second ensure return it', async () => {
    assert.equal(await tickets.find(fx.repo, 'ENG-1'), null);
    const made = await tickets.ensure({ repoPath: fx.repo, ticketId: 'ENG-1' });
    assert.equal(made.path, path.join(fx.dataDir, 'worktrees', 'repo', 'repo-ENG-1'));
    assert.deepEqual([made.branch, made.created, made.baseBranch, made.repoPath], ['feature/ENG-1', true, 'origin/main', fx.repo]);
    assert.equal((await fx.git.status(made.path)).currentBranch, 'feature/ENG-1');
    assert.deepEqual(await tickets.find(fx.repo, 'ENG-1'), { path: made.path, branch: 'feature/ENG-1', repoPath: fx.repo });
    // From the worktree itself too: the main checkout is found.
    assert.deepEqual(await tickets.find(made.path, 'ENG-1'), { path: made.path, branch: 'feature/ENG-1', repoPath: fx.repo });
    const again = await tickets.ensure({ repoPath: fx.repo, ticketId: 'ENG-1' });
    assert.deepEqual([again.path, again.created], [made.path, false]);
    const work = tickets.workFolder(fx.repo, 'ENG-1');
    assert.ok(work.startsWith(path.join(fx.dataDir, 'runs') + path.sep) && work.endsWith(`${path.sep}ENG-1`));
    assert.ok(existsSync(work));
  });

  test('baseBranch: a local branch, else origin/<b>, else origin/HEAD', async () => {
    await fx.sh(fx.repo, 'branch', 'dev', 'main');
    assert.equal((await tickets.ensure({ repoPath: fx.repo, ticketId: 'ENG-2', baseBranch: 'dev' })).baseBranch, 'dev');
    assert.equal((await tickets.ensure({ repoPath: fx.repo, ticketId: 'ENG-3', baseBranch: 'main' })).baseBranch, 'main');
    assert.equal((await tickets.ensure({ repoPath: fx.repo, ticketId: 'ENG-4', baseBranch: 'no-such' })).baseBranch, 'origin/main');
  });

  test('find never registers a repository; two first launches in an unmanaged one at once both work', async () => {
    const other = await fx.clone('other');
    assert.equal(await tickets.find(other, 'ENG-7'), null);
    assert.equal(fx.repos.findByPath(other), undefined);
    // Both register it on the way in: the loser of the insert race uses the winner's row.
    const folders = await Promise.all([tickets.resolveWorkFolder(other, 'ENG-7'), tickets.resolveWorkFolder(other, 'ENG-8')]);
    assert.deepEqual(folders.map((f) => path.basename(f)), ['ENG-7', 'ENG-8']);
    assert.equal(fx.repos.findByPath(other)?.path, other);
    await rejectsWith(fx.repos.add({ path: other }), 409, 'repo_exists');
  });

  test('bad input is refused before anything is created', async () => {
    await rejectsWith(tickets.ensure({ repoPath: fx.repo, ticketId: '../x' }), 400, 'invalid_ticket_id');
    const dash = await rejectsWith(tickets.ensure({ repoPath: fx.repo, ticketId: 'ENG-5', baseBranch: '--upload-pack=x' }), 400, 'invalid_ref');
    assert.equal((dash.details as { field: string }).field, 'baseBranch');
    await rejectsWith(tickets.ensure({ repoPath: '/etc', ticketId: 'ENG-5' }), 403, 'path_not_allowed');
    assert.equal(await tickets.find(fx.repo, 'ENG-5'), null);
    assert.equal(existsSync(path.join(fx.dataDir, 'worktrees', 'repo', 'repo-ENG-5')), false);
  });
});
