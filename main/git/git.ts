// The git operations the gateway offers, on one repository at a time. Every
// repository path goes through the workspace guard first; every ref is checked
// before it reaches git; git's refusals come back as typed 409/422 errors.
import type { GitActionRequest } from '../../shared/schemas/git.js';
import { BadRequest, Conflict, Unprocessable } from '../errors.js';
import { RepoLocks } from './locks.js';
import { DiffReader, type DiffOptions, type DiffResult } from './diff.js';
import type { RepoRegistry } from './repos.js';
import { assertBranchName, assertBranchShape } from './refs.js';
import { NETWORK_TIMEOUT_MS, type GitRunner } from './runner.js';
import { parseStatus, type GitStatus } from './status.js';
import type { PathGuard } from './types.js';
import { WorktreeManager } from './worktrees.js';
import { LocalChanges } from './local-changes.js';

export interface Commit {
  sha: string;
  author: string;
  email: string;
  date: string;
  subject: string;
}

export interface BranchInfo {
  name: string;
  current: boolean;
  remote: boolean;
  sha: string;
  upstream: string | null;
  date: string;
  subject: string;
}

export interface SyncStatus {
  isUpToDate: boolean;
  aheadBy: number;
  behindBy: number;
  branch: string | null;
  upstream: string | null;
  fetched: boolean;
  fetchError?: string;
}

export interface GitServiceOptions {
  git: GitRunner;
  repos: RepoRegistry;
  guard: PathGuard;
  /** Branches whose pull requests are merged (from GitHub); used to clean up worktrees. */
  mergedBranches?: (repoPath: string, signal?: AbortSignal) => Promise<Set<string>>;
}

const FIELD_SEP = '\x1f';
const RECORD_SEP = '\x1e';

export class GitService {
  readonly worktrees: WorktreeManager;
  /** The web client's Branch View: a PR worktree's local changes, one file's diff, commit and push. */
  readonly localChanges: LocalChanges;
  private readonly git: GitRunner;
  private readonly repos: RepoRegistry;
  private readonly guard: PathGuard;
  private readonly diffs: DiffReader;
  private readonly locks = new RepoLocks();

  constructor(options: GitServiceOptions) {
    ({ git: this.git, repos: this.repos, guard: this.guard } = options);
    this.diffs = new DiffReader(this.git);
    this.worktrees = new WorktreeManager({ ...options, locks: this.locks, resolveBase: (repo, base, signal) => this.resolveBase(repo, base, signal) });
    this.localChanges = new LocalChanges(this.git, this.diffs, this.guard, this.locks);
  }

  /** POST /git: one action on one repository. */
  async runAction(input: GitActionRequest, signal?: AbortSignal): Promise<unknown> {
    const repoPath = await this.guard.resolve(input.repoPath);
    switch (input.action) {
      case 'status':
        return this.status(repoPath, signal);
      case 'branch':
        return this.checkoutBranch(repoPath, required(input.branchName, 'branchName'), input.baseBranch, signal);
      case 'commit':
        return this.commit(repoPath, required(input.message, 'message'), signal);
      case 'push':
        return this.push(repoPath, signal);
      case 'pull':
        return this.pull(repoPath, signal);
      case 'branch-diff':
        return this.branchDiff(repoPath, input.branchName, input.baseBranch, signal);
      case 'sync-status':
        return this.syncStatus(repoPath, signal);
    }
  }

  async status(repoPath: string, signal?: AbortSignal): Promise<GitStatus> {
    const out = await this.git.run(repoPath, ['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=all'], 'status', {
      signal,
    });
    return parseStatus(out);
  }

  /** Switches to `branchName`, creating it from `baseBranch` (or HEAD) when it does not exist. */
  async checkoutBranch(repoPath: string, branchName: string, baseBranch: string | undefined, signal?: AbortSignal) {
    return this.locks.exclusive(repoPath, async () => {
      await assertBranchName(this.git, repoPath, branchName, 'branchName');
      const exists = await this.hasLocalBranch(repoPath, branchName, signal);
      if (exists) {
        await this.git.run(repoPath, ['switch', '--', branchName], 'switch', { signal });
        return { success: true, branch: branchName, created: false };
      }
      const start = baseBranch ? await this.resolveBase(repoPath, baseBranch, signal) : 'HEAD';
      await this.git.run(repoPath, ['switch', '-c', branchName, '--', start], 'switch -c', { signal });
      return { success: true, branch: branchName, created: true };
    });
  }

  /** Stages everything (as the cloud app's "commit" means) and commits it. */
  async commit(repoPath: string, message: string, signal?: AbortSignal) {
    return this.locks.exclusive(repoPath, async () => {
      if (!message.trim()) throw new BadRequest('message must not be empty.', { field: 'message' });
      // `add --all` would mark conflicted files resolved and commit their conflict markers.
      const before = await this.status(repoPath, signal);
      if (before.conflicted.length > 0) {
        throw new Conflict('The repository has unresolved merge conflicts.', 'merge_conflict', {
          files: before.conflicted,
          hint: 'Resolve the conflicted files (or abort the merge/rebase), then commit.',
        });
      }
      await this.git.run(repoPath, ['add', '--all'], 'add', { signal });
      // The message goes through stdin so no text of it can be read as an option. The
      // user's own commit hooks run (and may be slow: lint-staged and the like).
      await this.git.run(repoPath, ['commit', '--file=-'], 'commit', { signal, input: message, timeoutMs: NETWORK_TIMEOUT_MS, runUserHooks: true });
      const sha = (await this.git.run(repoPath, ['rev-parse', 'HEAD'], 'rev-parse', { signal })).trim();
      const status = await this.status(repoPath, signal);
      return { success: true, commitHash: sha, branch: status.currentBranch };
    });
  }

  /** Pushes the current branch; sets its upstream on the first push. */
  async push(repoPath: string, signal?: AbortSignal) {
    return this.locks.exclusive(repoPath, async () => {
      const status = await this.status(repoPath, signal);
      const branch = requireBranch(status);
      assertBranchShape(branch, 'branch');
      // A branch created from a remote base (a worktree's `-b feature/x origin/main`) tracks
      // that base: a plain push refuses, and the branch goes to its own name instead.
      if (status.upstream && status.upstream.endsWith(`/${branch}`)) {
        await this.git.run(repoPath, ['push', '--porcelain'], 'push', { signal, timeoutMs: NETWORK_TIMEOUT_MS, runUserHooks: true });
        return { success: true, branch, upstream: status.upstream, setUpstream: false };
      }
      const remote = await this.pushRemote(repoPath, branch, signal);
      await this.git.run(repoPath, ['push', '--porcelain', '--set-upstream', '--', remote, `refs/heads/${branch}:refs/heads/${branch}`], 'push', {
        signal,
        timeoutMs: NETWORK_TIMEOUT_MS,
        runUserHooks: true,
      });
      return { success: true, branch, upstream: `${remote}/${branch}`, setUpstream: true };
    });
  }

  /** Fast-forward only: a pull never leaves the user's work tree mid-merge. */
  async pull(repoPath: string, signal?: AbortSignal) {
    return this.locks.exclusive(repoPath, async () => {
      const status = await this.status(repoPath, signal);
      const branch = requireBranch(status);
      if (!status.upstream) throw noUpstream(branch);
      const before = status.headSha;
      await this.git.run(repoPath, ['pull', '--ff-only', '--no-rebase'], 'pull', { signal, timeoutMs: NETWORK_TIMEOUT_MS });
      const after = (await this.git.run(repoPath, ['rev-parse', 'HEAD'], 'rev-parse', { signal })).trim();
      return { success: true, branch, updated: before !== after, headSha: after };
    });
  }

  /** Fetches, then compares the current branch with its upstream. */
  async syncStatus(repoPath: string, signal?: AbortSignal): Promise<SyncStatus> {
    const fetch = await this.git.raw(repoPath, ['fetch', '--quiet', '--prune'], 'fetch', { signal, timeoutMs: NETWORK_TIMEOUT_MS });
    const fetched = fetch.exitCode === 0;
    const status = await this.status(repoPath, signal);
    const result: SyncStatus = {
      isUpToDate: false,
      aheadBy: status.ahead,
      behindBy: status.behind,
      branch: status.currentBranch,
      upstream: status.upstream,
      fetched,
    };
    // Offline is not an error here: the answer is still right as of the last fetch.
    if (!fetched) result.fetchError = fetch.stderr.trim() || 'git fetch failed';
    if (!status.upstream && status.headSha) {
      // Never pushed: everything not on any remote counts as ahead.
      const count = await this.git.run(repoPath, ['rev-list', '--count', 'HEAD', '--not', '--remotes'], 'rev-list', { signal });
      result.aheadBy = Number(count.trim());
    }
    result.isUpToDate = status.upstream !== null && result.aheadBy === 0 && result.behindBy === 0;
    return result;
  }

  /** Commits and files between a branch (default: the current one) and its base. */
  async branchDiff(repoPath: string, branchName: string | undefined, baseBranch: string | undefined, signal?: AbortSignal) {
    const head = branchName ? await this.localOrRemote(repoPath, branchName, 'branchName', signal) : 'HEAD';
    const baseName = baseBranch ?? (await this.defaultBranch(repoPath, signal));
    const base = await this.resolveBase(repoPath, baseName, signal);
    const mergeBase = (await this.git.run(repoPath, ['merge-base', base, head], 'merge-base', { signal })).trim();
    const logFormat = ['%H', '%an', '%ae', '%aI', '%s'].join(FIELD_SEP) + RECORD_SEP;
    const [log, [behindBy, aheadBy], files, current] = await Promise.all([
      this.git.run(repoPath, ['log', `--format=${logFormat}`, '--max-count=500', `${mergeBase}..${head}`, '--'], 'log', { signal }),
      this.leftRight(repoPath, `${base}...${head}`, signal),
      this.diffs.fileStats(repoPath, [mergeBase, head], signal),
      branchName ? branchName : this.status(repoPath, signal).then((status) => status.currentBranch),
    ]);
    return {
      branch: current,
      baseBranch: baseName,
      base,
      mergeBase,
      aheadBy,
      behindBy,
      commits: parseLog(log),
      files: files.files,
      filesTruncated: files.truncated,
    };
  }

  async branches(userPath: string, signal?: AbortSignal): Promise<{ current: string | null; branches: BranchInfo[] }> {
    const repoPath = await this.guard.resolve(userPath);
    const format = ['%(refname)', '%(objectname)', '%(upstream:short)', '%(committerdate:iso-strict)', '%(HEAD)', '%(subject)'].join(FIELD_SEP);
    const out = await this.git.run(repoPath, ['for-each-ref', `--format=${format}`, '--sort=-committerdate', 'refs/heads', 'refs/remotes'], 'for-each-ref', {
      signal,
    });
    const branches: BranchInfo[] = [];
    for (const line of out.split('\n')) {
      if (!line) continue;
      const [ref, sha, upstream, date, head, subject] = line.split(FIELD_SEP);
      if (ref.endsWith('/HEAD')) continue;
      const remote = ref.startsWith('refs/remotes/');
      const name = ref.replace(remote ? 'refs/remotes/' : 'refs/heads/', '');
      branches.push({ name, current: head === '*', remote, sha, upstream: upstream || null, date, subject });
    }
    return { current: branches.find((b) => b.current)?.name ?? null, branches };
  }

  async diff(userPath: string, options: DiffOptions, signal?: AbortSignal): Promise<DiffResult> {
    const repoPath = await this.guard.resolve(userPath);
    const base = options.baseBranch ? await this.resolveBase(repoPath, options.baseBranch, signal) : undefined;
    return this.diffs.diff(repoPath, { ...options, baseRef: base }, signal);
  }

  /** The repository's default branch as registered, else main/master/current. */
  async defaultBranch(repoPath: string, signal?: AbortSignal): Promise<string> {
    const repo = this.repos.findByPath(repoPath);
    if (repo) return repo.defaultBranch;
    for (const candidate of ['main', 'master']) if (await this.hasLocalBranch(repoPath, candidate, signal)) return candidate;
    throw new Unprocessable('Cannot tell the base branch of this repository.', 'base_branch_unknown', {
      field: 'baseBranch',
      hint: 'Pass baseBranch.',
    });
  }

  /** A base branch as a full ref: the local branch when it exists, else origin's. */
  async resolveBase(repoPath: string, name: string, signal?: AbortSignal): Promise<string> {
    return this.localOrRemote(repoPath, name, 'baseBranch', signal);
  }

  private async localOrRemote(repoPath: string, name: string, field: string, signal?: AbortSignal): Promise<string> {
    const short = name.startsWith('origin/') ? name.slice('origin/'.length) : name;
    assertBranchShape(short, field);
    if (!name.startsWith('origin/') && (await this.hasLocalBranch(repoPath, short, signal))) return `refs/heads/${short}`;
    if (await this.git.succeeds(repoPath, ['show-ref', '--verify', '--quiet', `refs/remotes/origin/${short}`], 'show-ref', signal)) {
      return `refs/remotes/origin/${short}`;
    }
    throw new Unprocessable(`Branch ${name} does not exist in this repository.`, 'unknown_ref', {
      field,
      hint: 'Check the name, or fetch first if the branch is only on the remote.',
    });
  }

  private hasLocalBranch(repoPath: string, name: string, signal?: AbortSignal): Promise<boolean> {
    return this.git.succeeds(repoPath, ['show-ref', '--verify', '--quiet', `refs/heads/${name}`], 'show-ref', signal);
  }

  private async leftRight(repoPath: string, range: string, signal?: AbortSignal): Promise<[number, number]> {
    const out = await this.git.run(repoPath, ['rev-list', '--left-right', '--count', range, '--'], 'rev-list', { signal });
    const [left, right] = out.trim().split(/\s+/).map(Number);
    return [left, right];
  }

  private async pushRemote(repoPath: string, branch: string, signal?: AbortSignal): Promise<string> {
    const configured = await this.git.raw(repoPath, ['config', '--get', `branch.${branch}.remote`], 'config', { signal });
    if (configured.exitCode === 0 && configured.stdout.trim()) return configured.stdout.trim();
    const remotes = (await this.git.run(repoPath, ['remote'], 'remote', { signal })).split('\n').filter(Boolean);
    if (remotes.includes('origin')) return 'origin';
    if (remotes.length === 1) return remotes[0];
    throw new Unprocessable('This repository has no remote to push to.', 'no_remote', {
      hint: 'Add one with `git remote add origin <url>`.',
    });
  }
}

function required(value: string | undefined, field: string): string {
  if (value === undefined || value === '') throw new BadRequest(`${field} is required for this action.`, { field });
  return value;
}

function requireBranch(status: GitStatus): string {
  if (!status.currentBranch) {
    throw new Conflict('HEAD is detached: there is no branch to work with.', 'detached_head', {
      hint: 'Switch to (or create) a branch first.',
    });
  }
  return status.currentBranch;
}

function noUpstream(branch: string): Unprocessable {
  return new Unprocessable(`Branch ${branch} has no upstream.`, 'no_upstream', { hint: 'Push it once to set one.' });
}

function parseLog(out: string): Commit[] {
  return out
    .split(RECORD_SEP)
    .map((record) => record.trim())
    .filter(Boolean)
    .map((record) => {
      const [sha, author, email, date, subject] = record.split(FIELD_SEP);
      return { sha, author, email, date, subject };
    });
}
