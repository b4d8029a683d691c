// Temp repositories for git tests: a bare "remote", a clone with one commit, a
// registry on a real SQLite file, and the real WorkspaceGuard with the temp dir as the
// workspace root. Everything runs the real git.
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WorkspaceGuard } from '../../files/workspace.js';
import { openDatabase, type Db } from '../../store/database.js';
import { SettingsStore } from '../../store/settings.js';
import { Supervisor } from '../../supervisor/supervisor.js';
import { GitService } from '../git.js';
import { RepoRegistry } from '../repos.js';
import { GitRunner } from '../runner.js';

export interface GitFixture {
  root: string;
  remote: string;
  repo: string;
  dataDir: string;
  db: Db;
  guard: WorkspaceGuard;
  /** Where the supervisor reads binary overrides (`binaryPaths`). */
  settings: SettingsStore;
  supervisor: Supervisor;
  runner: GitRunner;
  repos: RepoRegistry;
  git: GitService;
  /** Runs git in `cwd` (through the supervisor) and returns stdout; throws on failure. */
  sh(cwd: string, ...args: string[]): Promise<string>;
  write(file: string, content: string | Buffer): Promise<void>;
  /** Makes a second clone of the remote (another developer). */
  clone(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function createGitFixture(options: { mergedBranches?: (repoPath: string) => Promise<Set<string>> } = {}): Promise<GitFixture> {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'git-test-')));
  const db = openDatabase(path.join(root, 'test.sqlite'));
  const settings = new SettingsStore(db);
  const supervisor = new Supervisor({ settings });
  const runner = new GitRunner(supervisor);
  const sh = (cwd: string, ...args: string[]) => runner.run(cwd, args, args[0] ?? 'git');
  const remote = path.join(root, 'remote.git');
  const repo = path.join(root, 'repo');
  const dataDir = path.join(root, 'data');
  await sh(root, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  const clone = async (name: string) => {
    const dir = path.join(root, name);
    await sh(root, 'clone', '--quiet', remote, dir);
    await sh(dir, 'config', 'user.name', 'Test User');
    await sh(dir, 'config', 'user.email', 'test@example.com');
    return dir;
  };
  await clone('repo');
  await writeFile(path.join(repo, 'README.md'), '# test\n');
  await writeFile(path.join(repo, 'package.json'), '{}\n');
  await sh(repo, 'add', '.');
  await sh(repo, 'commit', '--quiet', '-m', 'initial');
  await sh(repo, 'push', '--quiet', '-u', 'origin', 'main');
  await sh(remote, 'symbolic-ref', 'HEAD', 'refs/heads/main');

  const guard: WorkspaceGuard = new WorkspaceGuard({ settings, listRepoRoots: () => repos.allowedRoots() });
  await guard.setWorkspaceRoot(root);
  const repos = new RepoRegistry({ db, git: runner, guard, dataDir });
  const git = new GitService({ git: runner, repos, guard, mergedBranches: options.mergedBranches });
  return {
    root,
    remote,
    repo,
    dataDir,
    db,
    guard,
    settings,
    supervisor,
    runner,
    repos,
    git,
    sh,
    write: (file, content) => writeFile(path.resolve(repo, file), content),
    clone,
    close: async () => {
      await supervisor.stopAll();
      db.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A fresh repository in `dir` with one commit on main (for tests that build their own gateway). */
export async function initTestRepo(runner: GitRunner, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const git = (...args: string[]) => runner.run(dir, args, args[0] ?? 'git');
  await git('init', '--quiet', '--initial-branch=main');
  await git('config', 'user.name', 'Test User');
  await git('config', 'user.email', 'test@example.com');
  await writeFile(path.join(dir, 'README.md'), '# hello\n');
  await git('add', '.');
  await git('commit', '--quiet', '-m', 'initial');
}
