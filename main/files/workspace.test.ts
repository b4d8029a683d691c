import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Db } from '../store/database.js';
import { SettingsStore } from '../store/settings.js';
import { WorkspaceGuard } from './workspace.js';

// One temp tree: a fake home with secret folders, a workspace root inside it, a
// managed repository elsewhere, and an outside folder that links must not reach.
let base: string;
let home: string;
let root: string;
let repo: string;
let outside: string;
let db: Db;
let settings: SettingsStore;
let repoRoots: string[];

function newGuard(): WorkspaceGuard {
  return new WorkspaceGuard({ settings, listRepoRoots: () => repoRoots, homeDir: home });
}

async function assertRefused(guard: WorkspaceGuard, userPath: string, why?: RegExp): Promise<void> {
  await assert.rejects(guard.resolve(userPath), (error: Error & { status?: number; code?: string }) => {
    assert.equal(error.status, 403, `${userPath}: ${error.message}`);
    assert.equal(error.code, 'path_not_allowed');
    if (why) assert.match(error.message, why);
    return true;
  });
}

before(() => {
  base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'guard-')));
  home = path.join(base, 'home');
  root = path.join(home, 'code');
  repo = path.join(base, 'elsewhere', 'repo');
  outside = path.join(base, 'outside');
  for (const dir of [root, path.join(root, 'project'), repo, outside, path.join(home, '.ssh'), path.join(home, '.config', 'gh')]) {
    mkdirSync(dir, { recursive: true });
  }
  mkdirSync(`${root}-evil`);
  writeFileSync(path.join(home, '.ssh', 'id_ed25519'), 'secret');
  writeFileSync(path.join(outside, 'passwd'), 'x');
  symlinkSync(outside, path.join(root, 'link-out'));
  symlinkSync(path.join(root, 'project'), path.join(root, 'link-in'));
  symlinkSync(path.join(outside, 'missing'), path.join(root, 'dangling'));
  symlinkSync(path.join(home, '.ssh'), path.join(root, 'ssh-link'));
  db = openDatabase(path.join(base, 'test.db'));
  settings = new SettingsStore(db);
  repoRoots = [repo];
});

after(() => {
  db.close();
  rmSync(base, { recursive: true, force: true });
});

describe('WorkspaceGuard with no workspace root', () => {
  it('refuses every path and says how to set one', async () => {
    settings.delete('workspaceRoot');
    const guard = newGuard();
    assert.equal(guard.workspaceRoot(), null);
    await assertRefused(guard, path.join(root, 'project'), /symphony-gateway config --workspace-root DIR/);
    await assertRefused(guard, repo, /desktop app/);
  });
});

describe('WorkspaceGuard with a workspace root', () => {
  let guard: WorkspaceGuard;
  before(async () => {
    guard = newGuard();
    assert.equal(await guard.setWorkspaceRoot(root), root);
  });

  it('allows the root, paths inside it and managed repositories, as realpaths', async () => {
    assert.equal(await guard.resolve(root), root);
    assert.equal(await guard.resolve(path.join(root, 'project')), path.join(root, 'project'));
    assert.equal(await guard.resolve(path.join(root, 'link-in')), path.join(root, 'project'));
    assert.equal(await guard.resolve(`${root}/./project/`), path.join(root, 'project'));
    assert.equal(await guard.resolve(repo), repo);
  });

  it('resolves a path that does not exist yet through its nearest existing parent', async () => {
    assert.equal(await guard.resolve(path.join(root, 'link-in', 'new', 'tree')), path.join(root, 'project', 'new', 'tree'));
    await assertRefused(guard, path.join(root, 'link-out', 'new-worktree'), /outside/);
  });

  it('allows paths under a managed folder that does not exist yet (a fresh data dir\'s worktrees folder), and only there', async () => {
    const worktrees = path.join(base, 'data', 'worktrees');
    repoRoots = [repo, worktrees];
    try {
      const target = path.join(worktrees, 'repo', 'repo-ENG-1');
      assert.equal(await guard.resolve(target), target);
      await assertRefused(guard, path.join(base, 'data', 'other'), /outside/);
    } finally {
      repoRoots = [repo];
    }
  });

  it('refuses relative paths, .. segments, encoded .., NUL and empty paths', async () => {
    await assertRefused(guard, 'code/project', /absolute/);
    await assertRefused(guard, './project', /absolute/);
    await assertRefused(guard, `${root}/../outside`, /\.\./);
    await assertRefused(guard, `${root}/project/../../outside`, /\.\./);
    await assertRefused(guard, `${root}/%2e%2e/outside`, /percent/);
    await assertRefused(guard, `${root}/%2E%2e%2Foutside`, /percent/);
    await assertRefused(guard, `${root}/%252e%252e/outside`, /percent/);
    await assertRefused(guard, `${root}/project\0/x`, /NUL/);
    await assertRefused(guard, '', /empty/);
  });

  it('refuses a sibling whose name merely starts with the root', async () => {
    await assertRefused(guard, `${root}-evil`, /outside/);
    await assertRefused(guard, `${root}-evil/x`, /outside/);
  });

  it('refuses symlinks that point out, including dangling ones', async () => {
    await assertRefused(guard, path.join(root, 'link-out'), /outside/);
    await assertRefused(guard, path.join(root, 'link-out', 'passwd'), /outside/);
    await assertRefused(guard, path.join(root, 'dangling'), /symbolic link/);
    await assertRefused(guard, path.join(root, 'dangling', 'x'), /symbolic link/);
  });

  it('refuses secret folders even under an allowed parent or through a link', async () => {
    // The whole home becomes a managed "repository": its secret folders stay closed.
    repoRoots = [repo, home];
    try {
      assert.equal(await guard.resolve(path.join(home, 'Documents')), path.join(home, 'Documents'));
      await assertRefused(guard, path.join(home, '.ssh'), /secrets/);
      await assertRefused(guard, path.join(home, '.ssh', 'id_ed25519'), /secrets/);
      await assertRefused(guard, path.join(home, '.config', 'gh', 'hosts.yml'), /secrets/);
      await assertRefused(guard, path.join(home, '.aws', 'credentials'), /secrets/);
      await assertRefused(guard, path.join(home, '.local', 'share', 'keyrings'), /secrets/);
      await assertRefused(guard, path.join(root, 'ssh-link'), /secrets/);
      await assertRefused(guard, path.join(root, 'ssh-link', 'id_ed25519'), /secrets/);
      assert.equal(guard.isDenied(path.join(home, '.codex', 'auth.json')), true);
      assert.equal(guard.isDenied(path.join(home, '.codexfoo')), false);
    } finally {
      repoRoots = [repo];
    }
  });

  it('never echoes the secret folder in its message', async () => {
    await assert.rejects(guard.resolve(path.join(home, '.ssh', 'id_ed25519')), (error: Error) => {
      assert.doesNotMatch(error.message, /ssh|id_ed25519/);
      return true;
    });
  });
});

describe('WorkspaceGuard.setWorkspaceRoot', () => {
  it('validates the directory before storing it', async () => {
    const guard = newGuard();
    await assert.rejects(guard.setWorkspaceRoot('relative/dir'), { status: 400, code: 'invalid_workspace_root' });
    await assert.rejects(guard.setWorkspaceRoot(path.join(base, 'nope')), { status: 422, code: 'invalid_workspace_root' });
    await assert.rejects(guard.setWorkspaceRoot(path.join(outside, 'passwd')), { status: 422, code: 'invalid_workspace_root' });
    await assert.rejects(guard.setWorkspaceRoot('/'), { status: 403, code: 'path_not_allowed' });
    await assert.rejects(guard.setWorkspaceRoot(path.join(home, '.ssh')), { status: 403, code: 'path_not_allowed' });
    await assert.rejects(guard.setWorkspaceRoot(path.join(root, 'ssh-link')), { status: 403, code: 'path_not_allowed' });
    assert.equal(await guard.setWorkspaceRoot(path.join(root, 'link-in')), path.join(root, 'project'));
    assert.equal(guard.workspaceRoot(), path.join(root, 'project'));
    assert.equal(await guard.setWorkspaceRoot(null), null);
    assert.equal(guard.workspaceRoot(), null);
  });
});
