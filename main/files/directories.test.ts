import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Db } from '../store/database.js';
import { SettingsStore } from '../store/settings.js';
import { listDirectories } from './directories.js';
import { WorkspaceGuard } from './workspace.js';

let base: string;
let root: string;
let db: Db;
let guard: WorkspaceGuard;

before(async () => {
  base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'directories-')));
  // The workspace root is the (fake) home itself, so its secret folders sit in the listing.
  root = path.join(base, 'home');
  for (const dir of ['zeta', 'Alpha', 'beta-repo/.git', 'gamma-worktree', 'item10', 'item9', '.hidden', '.ssh', '.config/gh', 'Library/Keychains']) {
    mkdirSync(path.join(root, dir), { recursive: true });
  }
  writeFileSync(path.join(root, 'gamma-worktree', '.git'), 'gitdir: /somewhere/.git/worktrees/gamma\n');
  writeFileSync(path.join(root, 'a-file.txt'), 'not a folder');
  mkdirSync(path.join(base, 'outside'));
  symlinkSync(path.join(base, 'outside'), path.join(root, 'link-out'));
  symlinkSync(path.join(root, 'zeta'), path.join(root, 'link-in'));
  db = openDatabase(path.join(base, 'test.db'));
  guard = new WorkspaceGuard({ settings: new SettingsStore(db), listRepoRoots: () => [], homeDir: root });
});

after(() => {
  db.close();
  rmSync(base, { recursive: true, force: true });
});

describe('listDirectories', () => {
  it('refuses to list anything, and says how to fix it, when no workspace root is set', async () => {
    await assert.rejects(listDirectories(guard, {}), { status: 403, code: 'path_not_allowed', message: /--workspace-root/ });
  });

  it('lists git repositories first, then folders by name; no files, no links that point out', async () => {
    await guard.setWorkspaceRoot(root);
    const listing = await listDirectories(guard, {});
    assert.equal(listing.path, root);
    assert.equal(listing.parent, null, 'the parent of the root is not allowed');
    assert.equal(listing.truncated, false);
    assert.deepEqual(
      listing.directories.map((d) => [d.name, d.isGitRepo]),
      [
        ['beta-repo', true],
        ['gamma-worktree', true],
        ['Alpha', false],
        ['item9', false],
        ['item10', false],
        ['Library', false],
        ['link-in', false],
        ['zeta', false],
      ],
    );
    const alpha = listing.directories.find((d) => d.name === 'Alpha')!;
    assert.deepEqual(alpha, { name: 'Alpha', path: path.join(root, 'Alpha'), isDirectory: true, isGitRepo: false });
  });

  it('shows hidden folders only when asked, and secret folders never', async () => {
    const names = (await listDirectories(guard, { path: root, includeHidden: true })).directories.map((d) => d.name);
    assert.ok(names.includes('.hidden'));
    assert.ok(names.includes('.config'));
    assert.ok(!names.includes('.ssh'));
    const library = await listDirectories(guard, { path: path.join(root, 'Library') });
    assert.deepEqual(library.directories, []);
    assert.equal(library.parent, root);
  });

  it('caps the count and says so', async () => {
    const listing = await listDirectories(guard, { path: root, limit: 3 });
    assert.deepEqual(listing.directories.map((d) => d.name), ['beta-repo', 'gamma-worktree', 'Alpha']);
    assert.equal(listing.truncated, true);
  });

  it('answers a missing folder with an empty list (the web client expects it), a file with 422, and escapes with 403', async () => {
    assert.deepEqual((await listDirectories(guard, { path: path.join(root, 'nope') })).directories, []);
    await assert.rejects(listDirectories(guard, { path: path.join(root, 'a-file.txt') }), { status: 422, code: 'not_a_directory' });
    await assert.rejects(listDirectories(guard, { path: path.join(root, 'link-out') }), { status: 403, code: 'path_not_allowed' });
    await assert.rejects(listDirectories(guard, { path: path.join(root, '.ssh') }), { status: 403, code: 'path_not_allowed' });
    await assert.rejects(listDirectories(guard, { path: `${root}/../outside` }), { status: 403, code: 'path_not_allowed' });
  });
});
