// Worktrees for ticket runs. They live OUTSIDE the repository (under the
// repository's worktreeParentDir, else the global one from PATCH /repos, else
// <dataDir>/worktrees/<repo-name>/): tools that
// scan a repository would otherwise walk into every worktree.
import { mkdir, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { BadRequest, Conflict, NotFound, Unprocessable } from '../errors.js';
import { gitError } from './errors.js';
import { assertBranchName, assertBranchShape, branchSlug } from './refs.js';
import { isInside } from '../files/paths.js';
import type { Repo, RepoRegistry } from './repos.js';
import type { RepoLocks } from './locks.js';
import type { GitRunner } from './runner.js';
import { parseStatus } from './status.js';
import type { PathGuard } from './types.js';

export interface Worktree {
  path: string;
  head: string | null;
  branch: string | null;
  detached: boolean;
  bare: boolean;
  locked: boolean;
  prunable: boolean;
  /** The repository's own checkout (not a linked worktree). */
  main: boolean;
}

export interface WorktreeCreateInput {
  repoPath: string;
  branchName: string;
  baseBranch?: string;
  /** The folder's name under the worktree parent (one segment the caller made safe); default: the branch as a slug. */
  dirName?: string;
  /** An already-resolved start ref (e.g. `refs/remotes/origin/HEAD`), used as is instead of resolving `baseBranch`. */
  startPoint?: string;
}

export interface CleanupResult {
  removed: { path: string; branch: string | null }[];
  kept: { path: string; branch: string | null; reason: string }[];
  errors: { path: string; message: string }[];
}

interface WorktreeManagerOptions {
  git: GitRunner;
  repos: RepoRegistry;
  guard: PathGuard;
  locks: RepoLocks;
  resolveBase: (repoPath: string, base: string, signal?: AbortSignal) => Promise<string>;
  mergedBranches?: (repoPath: string, signal?: AbortSignal) => Promise<Set<string>>;
}

/** `git worktree list --porcelain`: blocks of "key value" lines separated by a blank line. */
export function parseWorktreeList(out: string): Worktree[] {
  const worktrees: Worktree[] = [];
  let current: Worktree | null = null;
  for (const line of out.split('\n')) {
    if (line === '') {
      current = null;
      continue;
    }
    const space = line.indexOf(' ');
    const key = space === -1 ? line : line.slice(0, space);
    const value = space === -1 ? '' : line.slice(space + 1);
    if (key === 'worktree') {
      current = { path: value, head: null, branch: null, detached: false, bare: false, locked: false, prunable: false, main: worktrees.length === 0 };
      worktrees.push(current);
    } else if (current) {
      if (key === 'HEAD') current.head = value;
      else if (key === 'branch') current.branch = value.replace(/^refs\/heads\//, '');
      else if (key === 'detached') current.detached = true;
      else if (key === 'bare') current.bare = true;
      else if (key === 'locked') current.locked = true;
      else if (key === 'prunable') current.prunable = true;
    }
  }
  return worktrees;
}

export class WorktreeManager {
  constructor(private readonly options: WorktreeManagerOptions) {}

  private get git(): GitRunner {
    return this.options.git;
  }

  async list(repoPath: string, signal?: AbortSignal): Promise<Worktree[]> {
    // Without -z (git 2.36+): Ubuntu 22.04 ships 2.34. Only a path with a newline in it would confuse this.
    const out = await this.git.run(repoPath, ['worktree', 'list', '--porcelain'], 'worktree list', { signal });
    return parseWorktreeList(out);
  }

  /**
   * Creates a worktree for `branchName` (from `baseBranch` when the branch is new).
   * Asking again for the same branch returns the worktree already made for it.
   */
  async create(input: WorktreeCreateInput, signal?: AbortSignal) {
    assertBranchShape(input.branchName, 'branchName');
    if (input.dirName !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/.test(input.dirName)) {
      throw new BadRequest('dirName must be one folder name of letters, digits and . _ -.', { field: 'dirName' });
    }
    const repoPath = await this.options.guard.resolve(input.repoPath);
    const repo = this.options.repos.requireByPath(await this.mainRepoPath(repoPath, signal));
    await assertBranchName(this.git, repo.path, input.branchName, 'branchName');
    return this.options.locks.exclusive(repo.path, () => this.addWorktree(repo, input, signal));
  }

  private async addWorktree(repo: Repo, input: WorktreeCreateInput, signal?: AbortSignal) {
    // In the shared global folder, the repository's name keeps two repositories' `main` apart.
    const defaultName = this.options.repos.sharesWorktreeParent(repo) ? `${repo.name}-${branchSlug(input.branchName)}` : branchSlug(input.branchName);
    const target = await this.prepareTarget(repo, input.dirName ?? defaultName);
    const holder = (await this.list(repo.path, signal)).find((w) => w.branch === input.branchName);
    if (holder) {
      if (holder.path === target) return { path: target, branch: input.branchName, repoPath: repo.path, created: false };
      throw new Conflict(`Branch ${input.branchName} is already checked out at ${holder.path}.`, 'branch_checked_out_elsewhere', {
        path: holder.path,
        hint: 'A branch can be checked out in one worktree at a time: use that worktree, or switch it to another branch first.',
      });
    }
    if (await nonEmptyDir(target)) {
      throw new Conflict(`${target} already exists and is not a worktree of ${input.branchName}.`, 'worktree_path_taken', { path: target });
    }
    const branchExists = await this.git.succeeds(repo.path, ['show-ref', '--verify', '--quiet', `refs/heads/${input.branchName}`], 'show-ref', signal);
    const args = branchExists
      ? ['worktree', 'add', '--', target, input.branchName]
      : ['worktree', 'add', '-b', input.branchName, '--', target, input.startPoint ?? (await this.options.resolveBase(repo.path, input.baseBranch ?? repo.defaultBranch, signal))];
    await this.git.run(repo.path, args, 'worktree add', { signal });
    return { path: await realpath(target), branch: input.branchName, repoPath: repo.path, created: true };
  }

  /** Removes a linked worktree; refuses one with uncommitted changes unless `force`. */
  async remove(input: { worktreePath: string; force?: boolean }, signal?: AbortSignal) {
    const worktreePath = await this.options.guard.resolve(input.worktreePath);
    const repoPath = await this.mainRepoPath(worktreePath, signal);
    return this.options.locks.exclusive(repoPath, () => this.removeWorktree(repoPath, worktreePath, Boolean(input.force), signal));
  }

  private async removeWorktree(repoPath: string, worktreePath: string, force: boolean, signal?: AbortSignal) {
    const worktree = (await this.list(repoPath, signal)).find((w) => w.path === worktreePath);
    if (!worktree) throw new NotFound(`${worktreePath} is not a worktree of ${repoPath}.`, 'worktree_not_found');
    if (worktree.main) {
      throw new Unprocessable(`${worktreePath} is the repository itself, not a linked worktree.`, 'not_a_linked_worktree', {
        field: 'worktreePath',
      });
    }
    if (!force) {
      const dirty = await this.changedFiles(worktreePath, signal);
      if (dirty.length > 0) {
        throw new Conflict(`The worktree at ${worktreePath} has uncommitted changes.`, 'worktree_dirty', {
          files: dirty.slice(0, 50),
          hint: 'Commit or discard them, or delete with force: true to lose them.',
        });
      }
    }
    await this.git.run(repoPath, ['worktree', 'remove', ...(force ? ['--force', '--force'] : []), '--', worktreePath], 'worktree remove', {
      signal,
    });
    return { success: true, removed: worktreePath, branch: worktree.branch, repoPath };
  }

  /** Removes the clean worktrees whose branch's pull request is merged. */
  async cleanupMerged(userRepoPath: string, signal?: AbortSignal): Promise<CleanupResult> {
    const repoPath = await this.options.guard.resolve(userRepoPath);
    const repo = this.options.repos.requireByPath(await this.mainRepoPath(repoPath, signal));
    const merged = await this.mergedBranches(repo, signal);
    return this.options.locks.exclusive(repo.path, () => this.removeMerged(repo, merged, signal));
  }

  private async removeMerged(repo: Repo, merged: Set<string>, signal?: AbortSignal): Promise<CleanupResult> {
    const result: CleanupResult = { removed: [], kept: [], errors: [] };
    for (const worktree of await this.list(repo.path, signal)) {
      if (worktree.main) continue;
      if (!worktree.branch || !merged.has(worktree.branch)) {
        result.kept.push({ path: worktree.path, branch: worktree.branch, reason: 'not merged' });
        continue;
      }
      try {
        const dirty = await this.changedFiles(worktree.path, signal);
        if (dirty.length > 0) {
          result.kept.push({ path: worktree.path, branch: worktree.branch, reason: 'uncommitted changes' });
          continue;
        }
        await this.git.run(repo.path, ['worktree', 'remove', '--', worktree.path], 'worktree remove', { signal });
        result.removed.push({ path: worktree.path, branch: worktree.branch });
      } catch (error) {
        result.errors.push({ path: worktree.path, message: (error as Error).message });
      }
    }
    await this.git.raw(repo.path, ['worktree', 'prune'], 'worktree prune', { signal });
    return result;
  }

  /** The worktree (or the repository itself) that has `headBranch` checked out. */
  async findBranchWorktree(repoFullName: string, headBranch: string, signal?: AbortSignal) {
    const repo = this.options.repos.requireByFullName(repoFullName);
    const holder = (await this.list(repo.path, signal)).find((w) => w.branch === headBranch);
    if (!holder) {
      throw new NotFound(`No worktree of ${repoFullName} has ${headBranch} checked out.`, 'worktree_not_found', {
        repoPath: repo.path,
      });
    }
    return { path: holder.path, repoPath: repo.path };
  }

  /** The main checkout of the repository that `dir` (a repository or one of its worktrees) belongs to. */
  async mainRepoPath(dir: string, signal?: AbortSignal): Promise<string> {
    const result = await this.git.raw(dir, ['rev-parse', '--git-common-dir'], 'rev-parse', { signal });
    if (result.exitCode !== 0) throw gitError('rev-parse', result);
    // Relative to `dir` in the main checkout (".git"), absolute in a linked worktree.
    const commonDir = path.resolve(dir, result.stdout.trim());
    // A normal repository's common dir is <repo>/.git; a bare one has no work tree.
    return path.basename(commonDir) === '.git' ? realpath(path.dirname(commonDir)) : realpath(dir);
  }

  private async mergedBranches(repo: Repo, signal?: AbortSignal): Promise<Set<string>> {
    if (!this.options.mergedBranches) throw new Unprocessable('Merged pull requests cannot be looked up here.', 'github_unavailable');
    return this.options.mergedBranches(repo.path, signal);
  }

  private async changedFiles(worktreePath: string, signal?: AbortSignal): Promise<string[]> {
    const out = await this.git.run(worktreePath, ['status', '--porcelain=v2', '-z', '--untracked-files=all'], 'status', { signal });
    return parseStatus(out).files.map((f) => f.path);
  }

  /** The worktree folder `dirName`, checked by the path guard before anything is created. */
  private async prepareTarget(repo: Repo, dirName: string): Promise<string> {
    const parent = this.options.repos.worktreeParent(repo);
    const target = await this.options.guard.resolve(path.join(parent, dirName));
    if (isInside(target, repo.path)) {
      throw new Unprocessable(`Worktrees must live outside the repository; ${target} is inside it.`, 'worktree_inside_repo', {
        hint: 'Set worktreeParentDir to a folder outside the repository.',
      });
    }
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    return target;
  }
}

async function nonEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch {
    return false;
  }
}
