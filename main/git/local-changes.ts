// The web client's "local changes" of a pull request's worktree (Branch View): list,
// one file's before/after, and commit-everything-and-push to the PR's head branch.
// Every call first proves the worktree is the one the client means: a path the guard
// allows, a checkout whose origin is `repoFullName`, on `headBranch`.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AppError, Conflict, Forbidden, NotFound, PayloadTooLarge } from '../errors.js';
import type { DiffReader } from './diff.js';
import type { RepoLocks } from './locks.js';
import { parseFullName } from './repos.js';
import type { GitRunner } from './runner.js';
import { parseStatus, type StatusFile } from './status.js';
import type { PathGuard } from './types.js';

export interface LocalIdentity {
  repoPath: string;
  repoFullName: string;
  headBranch: string;
}

export interface LocalFile {
  path: string;
  previousPath?: string;
  status: 'added' | 'removed' | 'renamed' | 'copied' | 'modified';
  additions?: number;
  deletions?: number;
}

export interface LocalFileDiff {
  path: string;
  oldContent: string;
  newContent: string;
  isNew: boolean;
  isDeleted: boolean;
  isBinary: boolean;
}

const MAX_FILE_BYTES = 1024 * 1024;
const PUSH_TIMEOUT_MS = 120_000;

export class LocalChanges {
  constructor(
    private readonly git: GitRunner,
    private readonly diffs: DiffReader,
    private readonly guard: PathGuard,
    private readonly locks: RepoLocks,
  ) {}

  async list(identity: LocalIdentity, signal?: AbortSignal): Promise<{ repoPath: string; branch: string; files: LocalFile[] }> {
    const worktree = await this.verify(identity, signal);
    const files = await this.files(worktree, signal);
    return { repoPath: worktree, branch: identity.headBranch, files };
  }

  async diff(identity: LocalIdentity & { path: string; previousPath?: string | null }, signal?: AbortSignal): Promise<LocalFileDiff> {
    const worktree = await this.verify(identity, signal);
    const relative = insidePath(worktree, identity.path, 'path');
    const previous = identity.previousPath ? insidePath(worktree, identity.previousPath, 'previousPath') : relative;
    const changed = (await this.status(worktree, signal)).find((file) => file.path === relative);
    if (!changed) throw new NotFound(`${relative} has no local changes.`, 'no_local_changes');
    const [before, after] = await Promise.all([this.headContent(worktree, previous, signal), this.worktreeContent(worktree, relative)]);
    const isBinary = [before, after].some((content) => content !== null && content.includes(0));
    return {
      path: relative,
      oldContent: isBinary || !before ? '' : before.toString('utf8'),
      newContent: isBinary || !after ? '' : after.toString('utf8'),
      isNew: before === null,
      isDeleted: after === null,
      isBinary,
    };
  }

  async commitPush(identity: LocalIdentity & { message: string }, signal?: AbortSignal) {
    const worktree = await this.verify(identity, signal);
    return this.locks.exclusive(worktree, async () => {
      const pending = await this.status(worktree, signal);
      if (pending.length === 0) throw new Conflict('There is nothing to commit in this worktree.', 'no_local_changes');
      const remote = await this.pushRemote(worktree, identity.repoFullName, signal);
      await this.step(worktree, ['add', '--all'], 'git_add_failed', {}, signal);
      await this.step(worktree, ['commit', '--file=-'], 'git_commit_failed', { input: identity.message, runUserHooks: true, timeoutMs: PUSH_TIMEOUT_MS }, signal);
      const commitSha = (await this.step(worktree, ['rev-parse', 'HEAD'], 'commit_sha_failed', {}, signal)).trim();
      await this.step(worktree, ['push', '--porcelain', '--', remote, `HEAD:refs/heads/${identity.headBranch}`], 'git_push_failed', { timeoutMs: PUSH_TIMEOUT_MS, runUserHooks: true }, signal);
      return { success: true, commitSha, branch: identity.headBranch, pushed: true, filesCommitted: pending.length };
    });
  }

  /** The worktree's realpath once it is proven to be `repoFullName` on `headBranch`. */
  private async verify(identity: LocalIdentity, signal?: AbortSignal): Promise<string> {
    const worktree = await this.guard.resolve(identity.repoPath);
    const top = await this.git.raw(worktree, ['rev-parse', '--show-toplevel'], 'rev-parse', { signal }).catch(() => null);
    if (!top || top.exitCode !== 0) throw new NotFound(`${identity.repoPath} is not a git checkout.`, 'repo_not_found');
    const origin = await this.git.raw(worktree, ['config', '--get', 'remote.origin.url'], 'config', { signal });
    const fullName = origin.exitCode === 0 ? parseFullName(origin.stdout.trim()) : null;
    if (!fullName) throw new Conflict('The checkout has no GitHub origin remote.', 'missing_origin');
    if (fullName.toLowerCase() !== identity.repoFullName.toLowerCase()) {
      throw new Conflict(`The checkout belongs to ${fullName}, not ${identity.repoFullName}.`, 'repo_mismatch', { actualRepo: fullName });
    }
    const branch = await this.git.raw(worktree, ['symbolic-ref', '--quiet', '--short', 'HEAD'], 'symbolic-ref', { signal });
    const currentBranch = branch.exitCode === 0 ? branch.stdout.trim() : null;
    if (currentBranch !== identity.headBranch) {
      throw new Conflict(`The checkout is on ${currentBranch ?? 'a detached HEAD'}, not ${identity.headBranch}.`, 'branch_mismatch', {
        currentBranch,
        expectedBranch: identity.headBranch,
      });
    }
    return worktree;
  }

  private async status(worktree: string, signal?: AbortSignal): Promise<StatusFile[]> {
    const out = await this.git.run(worktree, ['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=all'], 'status', { signal });
    return parseStatus(out).files;
  }

  private async files(worktree: string, signal?: AbortSignal): Promise<LocalFile[]> {
    const [status, stats] = await Promise.all([this.status(worktree, signal), this.diffs.fileStats(worktree, ['HEAD'], signal).catch(() => ({ files: [] }))]);
    const counts = new Map(stats.files.map((file) => [file.path, file]));
    return status.map((file) => {
      const stat = counts.get(file.path);
      return {
        path: file.path,
        ...(file.origPath ? { previousPath: file.origPath } : {}),
        status: STATUS[file.status] ?? 'modified',
        ...(typeof stat?.additions === 'number' ? { additions: stat.additions, deletions: stat.deletions ?? 0 } : {}),
      };
    });
  }

  private async headContent(worktree: string, relative: string, signal?: AbortSignal): Promise<Buffer | null> {
    const size = await this.git.raw(worktree, ['cat-file', '-s', `HEAD:${relative}`], 'cat-file', { signal });
    if (size.exitCode !== 0) return null;
    if (Number(size.stdout.trim()) > MAX_FILE_BYTES) throw tooLarge(relative);
    const blob = await this.git.raw(worktree, ['show', `HEAD:${relative}`], 'show', { signal, maxBuffer: MAX_FILE_BYTES + 1 });
    return blob.exitCode === 0 ? Buffer.from(blob.stdout, 'utf8') : null;
  }

  private async worktreeContent(worktree: string, relative: string): Promise<Buffer | null> {
    const file = path.join(worktree, relative);
    const real = await fs.realpath(file).catch(() => null);
    if (real === null) return null;
    if (real !== worktree && !real.startsWith(worktree + path.sep)) throw new Forbidden(`${relative} points outside the worktree.`, 'path_escape');
    const stat = await fs.stat(real);
    if (!stat.isFile()) return null;
    if (stat.size > MAX_FILE_BYTES) throw tooLarge(relative);
    return fs.readFile(real);
  }

  /** origin, when it has exactly one push URL naming the same GitHub repository. */
  private async pushRemote(worktree: string, repoFullName: string, signal?: AbortSignal): Promise<string> {
    // As configured (before `insteadOf` rewriting): that is the URL that names the GitHub repository.
    const lines = async (key: string) => {
      const out = await this.git.raw(worktree, ['config', '--get-all', key], 'config', { signal });
      return out.exitCode === 0 ? out.stdout.split('\n').map((line) => line.trim()).filter(Boolean) : [];
    };
    const pushUrls = await lines('remote.origin.pushurl');
    const list = pushUrls.length > 0 ? pushUrls : await lines('remote.origin.url');
    if (list.length === 0) throw new Conflict('origin has no push URL.', 'missing_push_origin');
    if (list.length > 1) throw new Conflict('origin has more than one push URL; push by hand.', 'ambiguous_push_origin');
    if (parseFullName(list[0])?.toLowerCase() !== repoFullName.toLowerCase()) {
      throw new Conflict(`origin pushes somewhere other than ${repoFullName}.`, 'push_repo_mismatch');
    }
    return 'origin';
  }

  private async step(
    worktree: string,
    args: string[],
    code: string,
    options: { input?: string; runUserHooks?: boolean; timeoutMs?: number },
    signal?: AbortSignal,
  ): Promise<string> {
    const result = await this.git.raw(worktree, args, args[0], { ...options, signal });
    if (result.exitCode !== 0) {
      const said = (result.stderr.trim() || result.stdout.trim()).slice(0, 2000);
      throw new AppError(500, code, `git ${args[0]} failed: ${said}`, { exitCode: result.exitCode });
    }
    return result.stdout;
  }
}

const STATUS: Partial<Record<StatusFile['status'], LocalFile['status']>> = {
  added: 'added',
  untracked: 'added',
  deleted: 'removed',
  renamed: 'renamed',
  copied: 'copied',
};

/** A repository-relative path that stays inside: `..` or an absolute path is a 403 path_escape. */
function insidePath(worktree: string, relative: string, field: string): string {
  if (relative.trim() === '' || relative.includes('\0')) throw new AppError(400, 'invalid_path', `${field} must name a file.`, { field });
  const absolute = path.resolve(worktree, relative);
  const inside = path.relative(worktree, absolute);
  if (path.isAbsolute(relative) || inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) {
    throw new Forbidden(`${field} must stay inside the worktree.`, 'path_escape', { field });
  }
  return inside.split(path.sep).join('/');
}

function tooLarge(relative: string): PayloadTooLarge {
  return new PayloadTooLarge(`${relative} is larger than 1 MiB; open it in an editor instead.`, 'file_too_large');
}
