// A ticket's own git worktree and work folder, shared by runs, ticket chats, reviews
// and deploys. The worktree is `<worktree parent>/<repo>-<ticket sanitized>` on branch
// `feature/<ticket sanitized>` (the original's layout); the work folder (prd.md, plan,
// judges, logs) lives under the data dir, never inside the repository or its worktree,
// so that nothing of ours is committed by the agent or picked up by the repo's tools.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BadRequest, isAppError } from '../errors.js';
import type { GitService } from '../git/git.js';
import { assertBranchShape } from '../git/refs.js';
import type { RepoRegistry } from '../git/repos.js';
import type { GitRunner } from '../git/runner.js';
import type { PathGuard } from '../git/types.js';

const MAX_TICKET_ID = 100;

/**
 * Validates a ticket id from the network and returns it as a folder/branch segment
 * (`[^A-Za-z0-9_-]` -> `_`). Refuses what could climb or smuggle: `..`, path
 * separators, a leading `-` (an option to git), control characters, empty or too long.
 */
export function ticketSlug(ticketId: unknown, field = 'ticketId'): string {
  const refuse = (why: string) => new BadRequest(`${field} ${why}.`, { field }, 'invalid_ticket_id');
  if (typeof ticketId !== 'string' || ticketId.trim() === '') throw refuse('is required and must be a non-empty string');
  if (ticketId.length > MAX_TICKET_ID) throw refuse(`must be at most ${MAX_TICKET_ID} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(ticketId)) throw refuse('must not contain control characters');
  if (/[/\\]/.test(ticketId)) throw refuse('must not contain / or \\');
  if (ticketId.includes('..')) throw refuse('must not contain ..');
  if (ticketId.startsWith('-') || ticketId.startsWith('.')) throw refuse("must not start with '-' or '.'");
  return ticketId.replace(/[^A-Za-z0-9_-]/g, '_');
}

export interface TicketWorktree {
  path: string;
  branch: string;
  /** The repository's main checkout. */
  repoPath: string;
}

export interface EnsuredTicketWorktree extends TicketWorktree {
  created: boolean;
  /** The start point when created (e.g. `origin/main`), else null. */
  baseBranch: string | null;
}

export interface TicketWorktreesOptions {
  git: GitService;
  runner: GitRunner;
  repos: RepoRegistry;
  guard: PathGuard;
  dataDir: string;
}

export class TicketWorktrees {
  constructor(private readonly options: TicketWorktreesOptions) {}

  /** `feature/<ticket sanitized>`. */
  branchFor(ticketId: string): string {
    return `feature/${ticketSlug(ticketId)}`;
  }

  /** Where the ticket's worktree goes (it may not exist). `repoPath` must be the main checkout. */
  expectedPath(repoPath: string, ticketId: string): string {
    const repo = this.options.repos.requireByPath(repoPath);
    return path.join(this.options.repos.worktreeParent(repo), `${repo.name}-${ticketSlug(ticketId)}`);
  }

  /**
   * The run's work folder (prd.md, plan, judges, logs) under the data dir:
   * `<dataDir>/runs/<repo name>-<hash of its path>/<ticket sanitized>`. Not created here.
   * Pass the main checkout's path (what find/ensure return as `repoPath`).
   */
  workFolder(repoPath: string, ticketId: string): string {
    const resolved = path.resolve(repoPath);
    const hash = createHash('sha256').update(resolved).digest('hex').slice(0, 10);
    return path.join(this.options.dataDir, 'runs', `${path.basename(resolved)}-${hash}`, ticketSlug(ticketId));
  }

  /** The work folder of the ticket in the repository that `repoPath` (any of its checkouts) belongs to, validated. */
  async resolveWorkFolder(repoPath: string, ticketId: string, signal?: AbortSignal): Promise<string> {
    ticketSlug(ticketId);
    return this.workFolder(await this.mainRepo(repoPath, signal), ticketId);
  }

  /** The ticket's existing worktree, or null. Validates the ticket id and the repository path (403 outside the workspace). */
  async find(repoPath: string, ticketId: string, signal?: AbortSignal): Promise<TicketWorktree | null> {
    const slug = ticketSlug(ticketId);
    // A lookup never registers a repository: an unmanaged one is matched by branch alone.
    const mainRepo = await this.mainRepo(repoPath, signal, { register: false });
    const expected = this.options.repos.findByPath(mainRepo) ? this.expectedPath(mainRepo, ticketId) : null;
    const branch = `feature/${slug}`;
    const worktrees = await this.options.git.worktrees.list(mainRepo, signal);
    const hit = worktrees.find((w) => !w.main && w.path === expected) ?? worktrees.find((w) => !w.main && w.branch === branch);
    return hit ? { path: hit.path, branch: hit.branch ?? branch, repoPath: mainRepo } : null;
  }

  /**
   * The ticket's worktree, created when missing from the resolved base: `baseBranch`
   * (local, then `origin/<b>`), else `origin/HEAD`, else `HEAD`.
   */
  async ensure(
    input: { repoPath: string; ticketId: string; baseBranch?: string; branchName?: string },
    signal?: AbortSignal,
  ): Promise<EnsuredTicketWorktree> {
    const slug = ticketSlug(input.ticketId);
    if (input.baseBranch !== undefined) assertBranchShape(input.baseBranch.replace(/^origin\//, ''), 'baseBranch');
    if (input.branchName !== undefined) assertBranchShape(input.branchName, 'branchName');
    const mainRepo = await this.mainRepo(input.repoPath, signal);
    const existing = await this.find(mainRepo, input.ticketId, signal);
    if (existing) return { ...existing, created: false, baseBranch: null };
    // Best effort: a fresh base when the remote answers; offline work goes on from what we have.
    await this.options.runner.raw(mainRepo, ['fetch', '--quiet', 'origin'], 'fetch', { signal, timeoutMs: 60_000 }).catch(() => undefined);
    const start = await this.resolveStart(mainRepo, input.baseBranch, signal);
    const repo = this.options.repos.requireByPath(mainRepo);
    const created = await this.options.git.worktrees.create(
      { repoPath: mainRepo, branchName: input.branchName ?? `feature/${slug}`, dirName: `${repo.name}-${slug}`, startPoint: start },
      signal,
    );
    await mkdir(this.workFolder(mainRepo, input.ticketId), { recursive: true, mode: 0o700 });
    return { path: created.path, branch: created.branch, repoPath: mainRepo, created: created.created, baseBranch: created.created ? displayRef(start) : null };
  }

  /** The main checkout of `repoPath` (403 outside the workspace); a repository not yet managed becomes managed. */
  resolveRepo(repoPath: string, signal?: AbortSignal): Promise<string> {
    return this.mainRepo(repoPath, signal);
  }

  private async mainRepo(repoPath: string, signal?: AbortSignal, options: { register?: boolean } = {}): Promise<string> {
    const resolved = await this.options.guard.resolve(repoPath);
    const mainRepo = await this.options.git.worktrees.mainRepoPath(resolved, signal);
    // A repository inside the workspace that is not managed yet becomes managed when work
    // starts in it (as the original's launch needed only the sandbox); its worktree folder
    // is then known. Two first launches at once both get here: the second finds it added.
    if (options.register !== false && !this.options.repos.findByPath(mainRepo)) {
      await this.options.repos.add({ path: mainRepo }, signal).catch((error: unknown) => {
        if (!(isAppError(error) && error.code === 'repo_exists')) throw error;
      });
    }
    return mainRepo;
  }

  private async resolveStart(repoPath: string, baseBranch: string | undefined, signal?: AbortSignal): Promise<string> {
    if (baseBranch) {
      try {
        return await this.options.git.resolveBase(repoPath, baseBranch, signal);
      } catch (error) {
        if (!(isAppError(error) && error.code === 'unknown_ref')) throw error;
      }
    }
    const originHead = await this.options.runner.raw(repoPath, ['symbolic-ref', '--quiet', 'refs/remotes/origin/HEAD'], 'symbolic-ref', { signal });
    if (originHead.exitCode === 0 && originHead.stdout.trim().startsWith('refs/remotes/origin/')) return originHead.stdout.trim();
    return 'HEAD';
  }
}

/** `refs/remotes/origin/main` -> `origin/main`, `refs/heads/x` -> `x`. */
function displayRef(ref: string): string {
  return ref.replace(/^refs\/remotes\//, '').replace(/^refs\/heads\//, '');
}
