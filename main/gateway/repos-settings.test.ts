// The web client's repository picker and settings, over real sockets: PATCH /repos in
// its global form (`~/...`, created, stored, used by the next worktree), GET /repos with
// ISO timestamps and absent-not-null fields, /directories in the `~` form the query used,
// and /files/search answering paths (also inside a ticket's worktree).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createGitFixture, type GitFixture } from '../git/testing/fixture.js';
import { startTestGateway, type TestGateway } from './testing.js';

const APP = 'https://app.example.test';

describe('repos settings, directories and file search as the web client calls them', () => {
  let fx: GitFixture;
  let gw: TestGateway;
  let session: string;
  let home: string;
  const savedHome = process.env.HOME;

  const call = (route: string, init: { method?: string; json?: unknown } = {}) =>
    gw.request(`/api/gateway/${route}`, { ...init, auth: { session, origin: APP } });

  before(async () => {
    fx = await createGitFixture();
    // `~` is the user's home: make it the workspace root for this test.
    home = fx.root;
    process.env.HOME = home;
    gw = await startTestGateway({ configure: (services) => services.setWorkspaceRoot(home).then(() => undefined) });
    // A paired origin is asked before it changes settings: allow it here, the policy has its own tests.
    gw.services.policy.replaceOverrides([
      { callerKind: 'origin', operation: 'repos_config', access: 'write', decision: 'allow' },
      { callerKind: 'origin', operation: 'git_action', access: 'write', decision: 'allow' },
      // Worktree creation asks a paired origin by default, whatever the generic rule says.
      { callerKind: 'origin', operation: 'git_action', access: 'write', action: 'worktree-create', decision: 'allow' },
    ]);
    session = await gw.pair(APP);
    assert.equal((await call('repos', { method: 'POST', json: { path: fx.repo } })).status, 201);
  });
  after(async () => {
    await gw.close();
    await fx.close();
    if (savedHome === undefined) delete process.env.HOME;
    else process.env.HOME = savedHome;
  });

  test('GET /repos: settings absent until set, ISO addedAt, no null description', async () => {
    const res = await call('repos');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.settings, { worktreeParentDirConfirmed: false });
    const [repo] = res.json.repos;
    assert.equal(repo.path, fx.repo);
    assert.equal(new Date(repo.addedAt).toISOString(), repo.addedAt);
    assert.ok(!('description' in repo));
  });

  test('PATCH /repos global form: ~ expanded, folder created, JSON reply, used by the next worktree', async () => {
    const res = await call('repos', { method: 'PATCH', json: { worktreeParentDir: '~/trees', worktreeParentDirConfirmed: true } });
    assert.equal(res.status, 200, res.text);
    const dir = path.join(await realpath(home), 'trees');
    assert.deepEqual(res.json, { success: true, settings: { worktreeParentDir: dir, worktreeParentDirConfirmed: true } });
    assert.ok(existsSync(dir));
    assert.deepEqual((await call('repos')).json.settings, { worktreeParentDir: dir, worktreeParentDirConfirmed: true });
    const health = await call('health-check');
    assert.deepEqual(health.json.checks.find((row: { id: string }) => row.id === 'worktree-dir').passed, true);

    const created = await call('git/worktree', { method: 'POST', json: { repoPath: fx.repo, branchName: 'feature/after' } });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.json.path, path.join(dir, 'repo-feature-after'));
  });

  test('PATCH /repos refuses what it cannot use, naming the field', async () => {
    const empty = await call('repos', { method: 'PATCH', json: {} });
    assert.deepEqual([empty.status, empty.json.code, empty.json.details.issues[0].field], [400, 'invalid_input', 'worktreeParentDir']);
    const typo = await call('repos', { method: 'PATCH', json: { worktreeParentDir: '~/x', worktreeParentDirConfirmd: true } });
    assert.equal(typo.status, 400);
    const outside = await call('repos', { method: 'PATCH', json: { worktreeParentDir: '/etc/trees', worktreeParentDirConfirmed: true } });
    assert.deepEqual([outside.status, outside.json.code], [403, 'path_not_allowed']);
    assert.ok(!existsSync('/etc/trees'));
    const inside = await call('repos', { method: 'PATCH', json: { worktreeParentDir: path.join(fx.repo, 'wt') } });
    assert.deepEqual([inside.status, inside.json.code], [422, 'worktree_inside_repo']);
    // The per-repository form stays, and takes `~` too.
    const perRepo = await call('repos', { method: 'PATCH', json: { path: `~/${path.relative(home, fx.repo)}`, description: 'widgets' } });
    assert.deepEqual([perRepo.status, perRepo.json.repo.description], [200, 'widgets'], perRepo.text);
  });

  test('GET /directories answers in the form the query used; a missing folder is an empty list', async () => {
    await mkdir(path.join(home, 'code', 'nested'), { recursive: true });
    const tilde = await call('directories?path=~');
    assert.equal(tilde.status, 200, tilde.text);
    const names = tilde.json.directories.map((d: { name: string; path: string; isGitRepo: boolean }) => [d.name, d.path, d.isGitRepo]);
    assert.deepEqual(names.find(([name]: [string]) => name === 'repo'), ['repo', '~/repo', true]);
    assert.deepEqual(names.find(([name]: [string]) => name === 'code'), ['code', '~/code', false]);
    const deeper = await call('directories?path=~/code');
    assert.deepEqual(deeper.json.directories.map((d: { path: string }) => d.path), ['~/code/nested']);
    const absolute = await call(`directories?path=${encodeURIComponent(path.join(home, 'code'))}`);
    assert.deepEqual(absolute.json.directories.map((d: { path: string }) => d.path), [path.join(await realpath(home), 'code', 'nested')]);
    const missing = await call('directories?path=~/no-such-folder');
    assert.deepEqual([missing.status, missing.json.directories], [200, []]);
  });

  test('GET /files/search: string paths best first, `matches` with scores, ticket worktrees, base=true', async () => {
    await mkdir(path.join(fx.repo, 'src'), { recursive: true });
    await fx.write('src/widget.ts', 'x\n');
    await fx.sh(fx.repo, 'add', '-A');
    await fx.sh(fx.repo, 'commit', '-q', '-m', 'widget');
    const res = await call(`files/search?repo=${encodeURIComponent(fx.repo)}&query=widget`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.files, ['src/widget.ts']);
    assert.equal(res.json.truncated, false);
    assert.equal(res.json.matches[0].path, 'src/widget.ts');
    assert.equal(typeof res.json.matches[0].score, 'number');

    const none = await call(`files/search?repo=${encodeURIComponent(fx.repo)}&ticket=T-9&query=widget`);
    assert.deepEqual([none.status, none.json.files, typeof none.json.error], [200, [], 'string']);
    const worktree = await gw.services.ticketWorktrees.ensure({ repoPath: fx.repo, ticketId: 'T-9' });
    await writeFile(path.join(worktree.path, 'ticket-only.ts'), '');
    const inTicket = await call(`files/search?repo=${encodeURIComponent(fx.repo)}&ticket=T-9&query=ticket-only`);
    assert.deepEqual(inTicket.json.files, ['ticket-only.ts'], inTicket.text);
    const base = await call(`files/search?repo=${encodeURIComponent(fx.repo)}&ticket=T-9&base=true&query=ticket-only`);
    assert.deepEqual(base.json.files, []);
  });
});
