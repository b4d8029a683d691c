// The registry of managed repositories: what the user added, what we detected about
// it, and where its worktrees go. Forgetting a repository never touches its files.
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { BadRequest, Conflict, NotFound, Unprocessable } from '../errors.js';
import { migrate, type Db } from '../store/database.js';
import { isInside } from '../files/paths.js';
import { SettingsStore } from '../store/settings.js';
import type { GitRunner } from './runner.js';
import type { PathGuard } from './types.js';

export type ProjectType = 'node' | 'python' | 'rust' | 'go' | 'java' | 'ruby' | 'php' | 'dotnet' | 'unknown';

export interface Repo {
  path: string;
  name: string;
  description: string | null;
  defaultBranch: string;
  remoteUrl: string | null;
  /** `owner/repo`, parsed from the origin remote. */
  fullName: string | null;
  projectType: ProjectType;
  /** Where this repository's worktrees go; null means `<dataDir>/worktrees/<name>`. */
  worktreeParentDir: string | null;
  addedAt: number;
  updatedAt: number;
}

/** The global worktree settings the web client's health check and picker use. */
export interface WorktreeSettings {
  /** Where every repository's worktrees go unless the repository names its own folder. */
  worktreeParentDir: string | null;
  /** The user confirmed the folder (the `worktree-dir` readiness row passes only then). */
  worktreeParentDirConfirmed: boolean;
}

const WORKTREE_SETTINGS_KEY = 'worktreeSettings';
/** Paths of repositories trusted for their own project settings (Workspace Trust). */
const TRUSTED_REPOS_KEY = 'trustedRepos';

export interface RepoPatch {
  name?: string;
  description?: string | null;
  defaultBranch?: string;
  worktreeParentDir?: string | null;
}

interface RepoRow {
  path: string;
  name: string;
  description: string | null;
  default_branch: string;
  remote_url: string | null;
  full_name: string | null;
  project_type: ProjectType;
  worktree_parent_dir: string | null;
  added_at: number;
  updated_at: number;
}

const MIGRATIONS = [
  `CREATE TABLE repos (
    path TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    default_branch TEXT NOT NULL,
    remote_url TEXT,
    full_name TEXT,
    project_type TEXT NOT NULL,
    worktree_parent_dir TEXT,
    added_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX repos_full_name ON repos (full_name COLLATE NOCASE);`,
];

// First marker file found decides; order puts the more specific markers first.
const PROJECT_MARKERS: ReadonlyArray<[string, ProjectType]> = [
  ['package.json', 'node'],
  ['pyproject.toml', 'python'],
  ['setup.py', 'python'],
  ['requirements.txt', 'python'],
  ['Cargo.toml', 'rust'],
  ['go.mod', 'go'],
  ['pom.xml', 'java'],
  ['build.gradle', 'java'],
  ['build.gradle.kts', 'java'],
  ['Gemfile', 'ruby'],
  ['composer.json', 'php'],
];

export function detectProjectType(dir: string): ProjectType {
  for (const [file, type] of PROJECT_MARKERS) if (existsSync(path.join(dir, file))) return type;
  return 'unknown';
}

/** `owner/repo` from an https, ssh or scp-style remote URL; null when it has no such shape. */
export function parseFullName(remoteUrl: string): string | null {
  // A local path or file:// remote has no owner.
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]+\/|^[^/:]+:[^/]/i.test(remoteUrl.trim()) || remoteUrl.startsWith('file:')) return null;
  const match = /[/:]([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(remoteUrl.trim());
  if (!match || [match[1], match[2]].some((name) => name === '.' || name === '..')) return null;
  return `${match[1]}/${match[2]}`;
}

/**
 * A repository's name names its worktree folder (<dataDir>/worktrees/<name>): one plain
 * path segment, never a separator or a dot segment that would move the folder elsewhere.
 */
export function assertRepoName(name: string, field = 'name'): void {
  if (name.trim() === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new BadRequest(`${field} must be one folder name: no "/", "\\", "." or "..".`, { field }, 'invalid_repo_name');
  }
}

/** The realpath when the path still exists (a forgotten repository may be gone from disk). */
function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function fromRow(row: RepoRow): Repo {
  return {
    path: row.path,
    name: row.name,
    description: row.description,
    defaultBranch: row.default_branch,
    remoteUrl: row.remote_url,
    fullName: row.full_name,
    projectType: row.project_type,
    worktreeParentDir: row.worktree_parent_dir,
    addedAt: row.added_at,
    updatedAt: row.updated_at,
  };
}

export interface RepoRegistryOptions {
  db: Db;
  git: GitRunner;
  guard: PathGuard;
  dataDir: string;
  /** Where the global worktree settings live (default: the settings table of `db`). */
  settings?: SettingsStore;
}

export class RepoRegistry {
  private readonly db: Db;
  private readonly git: GitRunner;
  private readonly guard: PathGuard;
  private readonly dataDir: string;
  private readonly settings: SettingsStore;

  constructor(options: RepoRegistryOptions) {
    ({ db: this.db, git: this.git, guard: this.guard, dataDir: this.dataDir } = options);
    this.settings = options.settings ?? new SettingsStore(this.db);
    migrate(this.db, 'repos', MIGRATIONS);
  }

  worktreeSettings(): WorktreeSettings {
    const stored = this.settings.get<Partial<WorktreeSettings>>(WORKTREE_SETTINGS_KEY) ?? {};
    return {
      worktreeParentDir: typeof stored.worktreeParentDir === 'string' ? stored.worktreeParentDir : null,
      worktreeParentDirConfirmed: stored.worktreeParentDirConfirmed === true,
    };
  }

  /** Sets the global worktree folder (`~` allowed; path-guarded; created when missing) and/or its confirmation. */
  async setWorktreeSettings(patch: { worktreeParentDir?: string; worktreeParentDirConfirmed?: boolean }): Promise<WorktreeSettings> {
    const next = this.worktreeSettings();
    if (patch.worktreeParentDir !== undefined) {
      const dir = await this.checkWorktreeParent(patch.worktreeParentDir, this.list());
      await mkdir(dir, { recursive: true });
      next.worktreeParentDir = await realpath(dir);
    }
    if (patch.worktreeParentDirConfirmed !== undefined) next.worktreeParentDirConfirmed = patch.worktreeParentDirConfirmed;
    this.settings.set(WORKTREE_SETTINGS_KEY, next);
    return next;
  }

  /** Repositories the user trusts for their own project settings (hooks, MCP servers, CLAUDE.md); default: none. */
  trustedPaths(): string[] {
    const stored = this.settings.get<string[]>(TRUSTED_REPOS_KEY);
    const known = new Set(this.list().map((repo) => repo.path));
    return Array.isArray(stored) ? stored.filter((repoPath) => known.has(repoPath)) : [];
  }

  /** Marks a managed repository trusted (or not) for its own project settings. */
  setTrusted(userPath: string, trusted: boolean): { path: string; trusted: boolean } {
    const repo = this.requireByPath(userPath);
    const next = new Set(this.trustedPaths());
    if (trusted) next.add(repo.path);
    else next.delete(repo.path);
    this.settings.set(TRUSTED_REPOS_KEY, [...next].sort());
    return { path: repo.path, trusted };
  }

  list(): Repo[] {
    return (this.db.prepare('SELECT * FROM repos ORDER BY name COLLATE NOCASE, path').all() as RepoRow[]).map(fromRow);
  }

  findByPath(repoPath: string): Repo | undefined {
    const row = this.db.prepare('SELECT * FROM repos WHERE path = ?').get(repoPath) as RepoRow | undefined;
    return row && fromRow(row);
  }

  findByFullName(fullName: string): Repo | undefined {
    const row = this.db
      .prepare('SELECT * FROM repos WHERE full_name = ? COLLATE NOCASE ORDER BY added_at LIMIT 1')
      .get(fullName) as RepoRow | undefined;
    return row && fromRow(row);
  }

  requireByFullName(fullName: string): Repo {
    const repo = this.findByFullName(fullName);
    if (!repo) {
      throw new NotFound(`No managed repository has the remote ${fullName}.`, 'repo_not_found', {
        hint: 'Add the repository under Settings → Repositories first.',
      });
    }
    return repo;
  }

  /** The folder for this repository's worktrees (it may not exist yet): its own, else the global one, else under the data dir. */
  worktreeParent(repo: Repo): string {
    return repo.worktreeParentDir ?? this.worktreeSettings().worktreeParentDir ?? path.join(this.defaultWorktreeRoot(), repo.name);
  }

  /** True when the repository's worktrees share the global folder with other repositories' worktrees. */
  sharesWorktreeParent(repo: Repo): boolean {
    return repo.worktreeParentDir === null && this.worktreeSettings().worktreeParentDir !== null;
  }

  defaultWorktreeRoot(): string {
    return path.join(this.dataDir, 'worktrees');
  }

  /** For the path guard: every repository, its worktree folder, and the data-dir worktrees folder. */
  allowedRoots(): string[] {
    const roots = new Set<string>([this.defaultWorktreeRoot()]);
    const shared = this.worktreeSettings().worktreeParentDir;
    if (shared) roots.add(shared);
    for (const repo of this.list()) {
      roots.add(repo.path);
      if (repo.worktreeParentDir) roots.add(repo.worktreeParentDir);
    }
    return [...roots];
  }

  async add(input: { path: string; description?: string | null }, signal?: AbortSignal): Promise<Repo> {
    const resolved = await this.guard.resolve(input.path);
    const top = await this.workTreeTop(resolved, signal);
    const repoPath = top === resolved ? resolved : await this.guard.resolve(top);
    if (this.findByPath(repoPath)) {
      throw new Conflict(`${repoPath} is already a managed repository.`, 'repo_exists', { path: repoPath });
    }
    const remoteUrl = await this.remoteUrl(repoPath, signal);
    const now = Date.now();
    const repo: Repo = {
      path: repoPath,
      name: path.basename(repoPath),
      description: input.description ?? null,
      defaultBranch: await this.detectDefaultBranch(repoPath, signal),
      remoteUrl,
      fullName: remoteUrl ? parseFullName(remoteUrl) : null,
      projectType: detectProjectType(repoPath),
      worktreeParentDir: null,
      addedAt: now,
      updatedAt: now,
    };
    // The detection above awaits: a concurrent add of the same path may have won meanwhile.
    const inserted = this.db
      .prepare(
        `INSERT INTO repos (path, name, description, default_branch, remote_url, full_name, project_type, worktree_parent_dir, added_at, updated_at)
         VALUES (@path, @name, @description, @defaultBranch, @remoteUrl, @fullName, @projectType, @worktreeParentDir, @addedAt, @updatedAt)
         ON CONFLICT(path) DO NOTHING`,
      )
      .run(repo);
    if (inserted.changes === 0) throw new Conflict(`${repoPath} is already a managed repository.`, 'repo_exists', { path: repoPath });
    return repo;
  }

  async patch(repoPath: string, changes: RepoPatch): Promise<Repo> {
    const repo = this.requireByPath(repoPath);
    const next: Repo = { ...repo, updatedAt: Date.now() };
    if (changes.name !== undefined) {
      assertRepoName(changes.name);
      next.name = changes.name;
    }
    if (changes.description !== undefined) next.description = changes.description;
    if (changes.defaultBranch !== undefined) next.defaultBranch = changes.defaultBranch;
    if (changes.worktreeParentDir !== undefined) {
      next.worktreeParentDir =
        changes.worktreeParentDir === null ? null : await this.checkWorktreeParent(changes.worktreeParentDir, [repo]);
    }
    this.db
      .prepare(
        `UPDATE repos SET name = @name, description = @description, default_branch = @defaultBranch,
         worktree_parent_dir = @worktreeParentDir, updated_at = @updatedAt WHERE path = @path`,
      )
      .run(next);
    return next;
  }

  /** Forgets the repository; its files and worktrees stay where they are. */
  remove(repoPath: string): Repo {
    const repo = this.requireByPath(repoPath);
    this.db.prepare('DELETE FROM repos WHERE path = ?').run(repo.path);
    return repo;
  }

  /** Looks a repository up by the path the user gave: as stored, normalised, or through symlinks. */
  requireByPath(userPath: string): Repo {
    const repoPath = this.guard.expandHome?.(userPath) ?? userPath;
    const repo = this.findByPath(repoPath) ?? this.findByPath(path.resolve(repoPath)) ?? this.findByPath(realpathOrSelf(repoPath));
    if (!repo) throw new NotFound(`${repoPath} is not a managed repository.`, 'repo_not_found');
    return repo;
  }

  private async workTreeTop(dir: string, signal?: AbortSignal): Promise<string> {
    const result = await this.git.raw(dir, ['rev-parse', '--is-inside-work-tree', '--show-toplevel'], 'rev-parse', { signal });
    const [inside, top] = result.stdout.trim().split('\n');
    if (result.exitCode !== 0 || inside !== 'true' || !top) {
      throw new Unprocessable(`${dir} is not a git work tree.`, 'not_a_git_work_tree', {
        hint: 'Pick the folder of a cloned repository (one that contains .git), or run `git init` there first.',
      });
    }
    return realpath(top);
  }

  private async remoteUrl(repoPath: string, signal?: AbortSignal): Promise<string | null> {
    // The URL as configured (not after `insteadOf` rewriting): that is the one naming the GitHub repository.
    const result = await this.git.raw(repoPath, ['config', '--get', 'remote.origin.url'], 'config', { signal });
    return result.exitCode === 0 ? result.stdout.trim() || null : null;
  }

  private async detectDefaultBranch(repoPath: string, signal?: AbortSignal): Promise<string> {
    const originHead = await this.git.raw(repoPath, ['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD'], 'symbolic-ref', { signal });
    if (originHead.exitCode === 0 && originHead.stdout.trim().startsWith('origin/')) {
      return originHead.stdout.trim().slice('origin/'.length);
    }
    for (const candidate of ['main', 'master']) {
      if (await this.git.succeeds(repoPath, ['show-ref', '--verify', '--quiet', `refs/heads/${candidate}`], 'show-ref', signal)) {
        return candidate;
      }
    }
    const head = await this.git.raw(repoPath, ['symbolic-ref', '--quiet', '--short', 'HEAD'], 'symbolic-ref', { signal });
    return head.exitCode === 0 && head.stdout.trim() ? head.stdout.trim() : 'main';
  }

  /**
   * A worktree folder becomes readable through the path guard, so it must itself be
   * somewhere the guard already allows, and never inside the repository (tools that
   * scan the repository would walk into every worktree).
   */
  private async checkWorktreeParent(input: string, repos: readonly Repo[]): Promise<string> {
    const dir = this.guard.expandHome?.(input) ?? input;
    if (!path.isAbsolute(dir)) {
      throw new BadRequest('worktreeParentDir must be an absolute path (or start with ~/).', { field: 'worktreeParentDir' });
    }
    // The guard judges a folder that does not exist yet by its nearest existing parent.
    const resolved = await this.guard.resolve(path.resolve(dir));
    if (repos.some((repo) => isInside(resolved, repo.path))) {
      throw new Unprocessable('worktreeParentDir must be outside the repository.', 'worktree_inside_repo', {
        field: 'worktreeParentDir',
        hint: 'Tools that scan the repository would walk into every worktree; pick a sibling folder instead.',
      });
    }
    return resolved;
  }
}
