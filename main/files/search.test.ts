import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase, type Db } from '../store/database.js';
import { SettingsStore } from '../store/settings.js';
import { GitRunner } from '../git/runner.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { FileSearch } from './search.js';
import { WorkspaceGuard } from './workspace.js';

const supervisor = new Supervisor();
const runner = new GitRunner(supervisor);
let base: string;
let root: string;
let repo: string;
let db: Db;
let guard: WorkspaceGuard;
const searches: FileSearch[] = [];

async function git(cwd: string, ...args: string[]): Promise<void> {
  const result = await supervisor.run('git', args, { cwd, timeoutMs: 30_000 });
  assert.equal(result.exitCode, 0, `git ${args.join(' ')}: ${result.stderr}`);
}

function write(file: string, content = ''): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

async function makeRepo(dir: string, files: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  for (const file of files) write(path.join(dir, file), file);
  await git(dir, 'add', '-A');
  await git(dir, '-c', 'user.name=t', '-c', 'user.email=t@example.test', 'commit', '-q', '-m', 'init');
}

function newSearch(options: Partial<ConstructorParameters<typeof FileSearch>[0]> = {}): FileSearch {
  const search = new FileSearch({ git: runner, guard, debounceMs: 20, ...options });
  searches.push(search);
  return search;
}

const paths = (result: { files: string[] }) => result.files;

/** Asks until `check` holds: fs.watch events arrive asynchronously. */
async function eventually<T>(ask: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await ask();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

before(async () => {
  base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'file-search-')));
  root = path.join(base, 'workspace');
  repo = path.join(root, 'app');
  await makeRepo(repo, [
    '.gitignore',
    'src/components/Button.tsx',
    'lib/big-utility-toolkit-on.ts',
    'b/u/t/t/o/n/x.ts',
    'docs/guide.md',
    'src/deep/only/folders/here/leaf.ts',
  ]);
  write(path.join(repo, '.gitignore'), 'dist/\n*.log\n');
  write(path.join(repo, 'dist/bundle.js'));
  write(path.join(repo, 'debug.log'));
  write(path.join(repo, 'notes/untracked-todo.md'));
  mkdirSync(path.join(root, 'plain-folder'));
  db = openDatabase(path.join(base, 'test.db'));
  guard = new WorkspaceGuard({ settings: new SettingsStore(db), listRepoRoots: () => [], homeDir: path.join(base, 'home') });
  await guard.setWorkspaceRoot(root);
});

after(() => {
  for (const search of searches) search.close();
  db.close();
  rmSync(base, { recursive: true, force: true });
});

describe('FileSearch', () => {
  it('ranks an exact file name above scattered matches', async () => {
    const result = await newSearch().search({ repo, query: 'button', limit: 10 });
    assert.equal(result.repo, repo);
    assert.deepEqual(paths(result), ['src/components/Button.tsx', 'lib/big-utility-toolkit-on.ts', 'b/u/t/t/o/n/x.ts']);
    assert.equal(result.matches[0].name, 'Button.tsx');
    assert.equal(result.truncated, false);
  });

  it('includes untracked files that are not ignored, never ignored ones', async () => {
    const search = newSearch();
    assert.deepEqual(paths(await search.search({ repo, query: 'todo', limit: 10 })), ['notes/untracked-todo.md']);
    assert.deepEqual(paths(await search.search({ repo, query: 'bundle', limit: 10 })), []);
    assert.deepEqual(paths(await search.search({ repo, query: 'debug.log', limit: 10 })), []);
  });

  it('honours the limit and says the answer is truncated', async () => {
    const result = await newSearch().search({ repo, query: 't', limit: 2 });
    assert.equal(result.files.length, 2);
    assert.equal(result.truncated, true);
    assert.ok(result.total > 2);
  });

  it('sees files added after the index was built', async () => {
    const search = newSearch();
    assert.deepEqual(paths(await search.search({ repo, query: 'freshfile', limit: 10 })), []);
    write(path.join(repo, 'freshfile.ts'));
    write(path.join(repo, 'src/deep/only/freshnested.ts'));
    const found = await eventually(
      () => search.search({ repo, query: 'fresh', limit: 10 }),
      (r) => r.files.length === 2,
    );
    assert.deepEqual(paths(found).sort(), ['freshfile.ts', 'src/deep/only/freshnested.ts']);
  });

  it('rebuilds when git index changes even where nothing is watched', async () => {
    const search = newSearch({ maxWatchedDirs: 1, revalidateAfterMs: 60_000 });
    await search.search({ repo, query: 'x', limit: 1 });
    write(path.join(repo, 'docs/api/staged-only.md'));
    await git(repo, 'add', 'docs/api/staged-only.md');
    // Same-second writes can leave the mtime unchanged on coarse file systems: make it move.
    const future = new Date(Date.now() + 5000);
    utimesSync(path.join(repo, '.git', 'index'), future, future);
    assert.deepEqual(paths(await search.search({ repo, query: 'stagedonly', limit: 10 })), ['docs/api/staged-only.md']);
  });

  it('rebuilds behind the answers when some folders are not watched', async () => {
    const search = newSearch({ maxWatchedDirs: 1, revalidateAfterMs: 0 });
    await search.search({ repo, query: 'x', limit: 1 });
    write(path.join(repo, 'docs/unwatched-new.md'));
    const found = await eventually(
      () => search.search({ repo, query: 'unwatchednew', limit: 10 }),
      (r) => r.files.length === 1,
    );
    assert.deepEqual(paths(found), ['docs/unwatched-new.md']);
  });

  it('refuses a folder that is not a git repository, and paths outside the workspace', async () => {
    const search = newSearch();
    await assert.rejects(search.search({ repo: path.join(root, 'plain-folder'), query: 'a', limit: 5 }), {
      status: 422,
      code: 'not_a_git_repository',
    });
    await assert.rejects(search.search({ repo: path.join(root, 'missing'), query: 'a', limit: 5 }), { status: 404 });
    await assert.rejects(search.search({ repo: base, query: 'a', limit: 5 }), { status: 403, code: 'path_not_allowed' });
    await assert.rejects(search.search({ repo: `${repo}/../app`, query: 'a', limit: 5 }), { status: 403, code: 'path_not_allowed' });
  });

  it('keeps a bounded number of repositories and still answers for an evicted one', async () => {
    const other = path.join(root, 'other');
    await makeRepo(other, ['main.go']);
    const search = newSearch({ maxRepos: 1 });
    assert.deepEqual(paths(await search.search({ repo, query: 'guide', limit: 5 })), ['docs/guide.md']);
    assert.deepEqual(paths(await search.search({ repo: other, query: 'main', limit: 5 })), ['main.go']);
    assert.deepEqual(paths(await search.search({ repo, query: 'guide', limit: 5 })), ['docs/guide.md']);
  });

  it('hides files inside a secret folder that a repository happens to contain', async () => {
    const homeRepo = path.join(root, 'home-under-git');
    await makeRepo(homeRepo, ['.ssh/id_ed25519', '.ssh/config', 'notes.txt']);
    const homeGuard = new WorkspaceGuard({ settings: new SettingsStore(db), listRepoRoots: () => [], homeDir: homeRepo });
    const search = new FileSearch({ git: runner, guard: homeGuard });
    searches.push(search);
    assert.deepEqual(paths(await search.search({ repo: homeRepo, query: '', limit: 10 })), ['notes.txt']);
    assert.deepEqual(paths(await search.search({ repo: homeRepo, query: 'id_ed', limit: 10 })), []);
  });
});
