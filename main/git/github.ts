// GitHub through the user's own `gh` CLI: it holds the user's login, so no GitHub
// token ever passes through the gateway. gh missing or logged out is a 424 that says
// what to do; GitHub's own refusals keep their meaning (404, 422).
import type { PrCommentsReply, PrCreateRequest } from '../../shared/schemas/git.js';
import { AppError, BadRequest, Conflict, FailedDependency, NotFound, PayloadTooLarge, Unprocessable, isAppError } from '../errors.js';
import type { LocalFileDiff } from './local-changes.js';
import { checkBranchScope, commentProjection, reviewSummary, withFailureReason, withoutNulls, type GhReview } from './pr-views.js';
import type { RunResult } from '../supervisor/supervisor.js';
import { toolMissing } from './errors.js';
import type { GitService } from './git.js';
import { checkStarted, ghEnv, NETWORK_TIMEOUT_MS, type ProcessRunner } from './runner.js';
import type { PathGuard } from './types.js';

const MAX_OUTPUT = 32 * 1024 * 1024;
const NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}$/;
const FULL_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}\/[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}$/;
const PR_LIST_FIELDS = 'number,title,url,state,isDraft,headRefName,baseRefName,author,createdAt,updatedAt,mergedAt';
const PR_CHECK_FIELDS = 'name,state,bucket,link,workflow,description';

export interface PrRef {
  owner: string;
  repo: string;
  number: number;
}

export interface GitHubServiceOptions {
  processes: ProcessRunner;
  git: GitService;
  guard: PathGuard;
}

/** GitHub's JSON as gh returns it: passed through, not reshaped. */
type Json = Record<string, unknown>;
/** The fields of GitHub's pull request JSON we read. */
interface PullView {
  html_url?: string;
  head: { ref: string; sha: string };
  base: { sha: string };
}
const MAX_DIFF_FILE = 1024 * 1024;

export class GitHubService {
  constructor(private readonly options: GitHubServiceOptions) {}

  async user(signal?: AbortSignal): Promise<{ login: string; name: string | null }> {
    const user = JSON.parse(await this.gh(['api', 'user'], { signal })) as { login: string; name?: string | null };
    return { login: user.login, name: user.name ?? null };
  }

  /** Pushes the current branch, then opens its pull request, or returns the one already open. */
  async createPr(input: PrCreateRequest, signal?: AbortSignal): Promise<{ success: true; url: string; number: number; existing: boolean }> {
    const repoPath = await this.options.guard.resolve(input.repoPath);
    const status = await this.options.git.status(repoPath, signal);
    const branch = status.currentBranch;
    if (!branch) throw new Conflict('HEAD is detached: there is no branch to open a pull request from.', 'detached_head');
    const base = input.baseBranch ?? (await this.options.git.defaultBranch(repoPath, signal));
    if (branch === base) {
      throw new Unprocessable(`The current branch is the base branch (${base}).`, 'pr_from_base_branch', {
        hint: 'Create a branch for the change first.',
      });
    }
    await this.options.git.push(repoPath, signal);

    const existing = await this.openPrForBranch(repoPath, branch, signal);
    if (existing) return { success: true, url: existing.url, number: existing.number, existing: true };

    const body = input.ticketUrl && !input.body.includes(input.ticketUrl) ? `${input.body}\n\nTicket: ${input.ticketUrl}` : input.body;
    // `--flag=value` and the body on stdin: nothing the user typed can be read as a flag.
    const args = ['pr', 'create', `--title=${input.title}`, '--body-file=-', `--head=${branch}`, `--base=${base}`];
    if (input.draft) args.push('--draft');
    let out: string;
    try {
      out = await this.gh(args, { cwd: repoPath, input: body, signal, timeoutMs: NETWORK_TIMEOUT_MS });
    } catch (error) {
      // Opened by someone else between our check and our create: gh names it.
      const raced = isAppError(error) && /already exists:?\s*(https:\/\/\S+\/pull\/\d+)/.exec(error.message);
      if (raced) return { success: true, url: raced[1], number: prNumber(raced[1]), existing: true };
      throw error;
    }
    const url = out.trim().split('\n').pop() ?? '';
    return { success: true, url, number: prNumber(url), existing: false };
  }

  /** `repo` is `owner/repo`, or the path of a local repository. */
  async listPrs(repo: string, state: 'open' | 'closed' | 'merged' | 'all', signal?: AbortSignal): Promise<{ pullRequests: Json[] }> {
    const where = FULL_NAME.test(repo) ? { args: [`--repo=${repo}`] } : { args: [], cwd: await this.options.guard.resolve(repo) };
    const out = await this.gh(['pr', 'list', ...where.args, `--state=${state}`, '--limit=100', `--json=${PR_LIST_FIELDS}`], {
      cwd: where.cwd,
      signal,
    });
    return { pullRequests: JSON.parse(out) as Json[] };
  }

  /** The web client's comment projection (spec §5), after checking `branchId` is this PR's head branch. */
  async comments(pr: PrRef & { branchId: string }, signal?: AbortSignal): Promise<PrCommentsReply> {
    try {
      const [pull, issueComments, reviewComments] = await Promise.all([
        this.pull(pr, signal),
        this.paginate(`repos/${repoPath(pr)}/issues/${pr.number}/comments`, signal),
        this.paginate(`repos/${repoPath(pr)}/pulls/${pr.number}/comments`, signal),
      ]);
      checkBranchScope(pr.branchId, repoPath(pr), pull.head.ref);
      return commentProjection({ branchId: pr.branchId, prNumber: pr.number, prUrl: pull.html_url ?? null, issueComments, reviewComments, now: new Date() });
    } catch (error) {
      throw withFailureReason(error);
    }
  }

  /** A PR's conversation comments, inline review comments and reviews as GitHub's REST API gives them (runs following their PR). */
  async feedbackThreads(pr: PrRef, signal?: AbortSignal): Promise<{ comments: Json[]; reviewComments: Json[]; reviews: Json[] }> {
    const [comments, reviewComments, reviews] = await Promise.all([
      this.paginate(`repos/${repoPath(pr)}/issues/${pr.number}/comments`, signal),
      this.paginate(`repos/${repoPath(pr)}/pulls/${pr.number}/comments`, signal),
      this.paginate(`repos/${repoPath(pr)}/pulls/${pr.number}/reviews`, signal),
    ]);
    return { comments, reviewComments, reviews };
  }

  /** GitHub's review decision, and how many reviewers approve or ask for changes (each one's latest decisive review). */
  async reviews(pr: PrRef, signal?: AbortSignal) {
    const out = await this.gh(['pr', 'view', String(pr.number), `--repo=${repoPath(pr)}`, '--json=reviewDecision,reviews'], { signal });
    const view = JSON.parse(out) as { reviewDecision?: unknown; reviews?: GhReview[] };
    return reviewSummary(view.reviewDecision, view.reviews ?? []);
  }

  async files(pr: PrRef, signal?: AbortSignal): Promise<{ files: Json[] }> {
    return { files: (await this.paginate(`repos/${repoPath(pr)}/pulls/${pr.number}/files`, signal)).map(withoutNulls) };
  }

  /**
   * One file of a PR: its content at the merge base and at the head (spec §5). It must be
   * among the PR's files (404) with that `previousPath` (400); over 1 MiB is 413; binary
   * content comes back empty with `isBinary`.
   */
  async fileDiff(input: PrRef & { path: string; branchId?: string; previousPath?: string }, signal?: AbortSignal): Promise<LocalFileDiff> {
    const name = repoPath(input);
    const [pull, files] = await Promise.all([this.pull(input, signal), this.paginate(`repos/${name}/pulls/${input.number}/files`, signal)]);
    if (input.branchId !== undefined) checkBranchScope(input.branchId, name, pull.head.ref);
    const file = files.find((entry) => entry.filename === input.path);
    if (!file) throw new NotFound(`${input.path} is not among the files of ${name}#${input.number}.`, 'file_not_in_pr');
    const previous = typeof file.previous_filename === 'string' ? file.previous_filename : undefined;
    if (input.previousPath !== undefined && input.previousPath !== input.path && input.previousPath !== previous) {
      throw new BadRequest(`previousPath does not match: GitHub says ${input.path} was ${previous ? `renamed from ${previous}` : 'not renamed'}.`, { issues: [{ field: 'previousPath', message: 'does not match the pull request' }] }, 'invalid_input');
    }
    const isNew = file.status === 'added';
    const isDeleted = file.status === 'removed';
    const base = isNew ? null : (await this.gh(['api', `repos/${name}/compare/${pull.base.sha}...${pull.head.sha}`, '--jq=.merge_base_commit.sha'], { signal })).trim();
    const [oldFile, newFile] = await Promise.all([
      base === null ? null : this.content(name, previous ?? input.path, base, signal),
      isDeleted ? null : this.content(name, input.path, pull.head.sha, signal),
    ]);
    const isBinary = Boolean(oldFile?.binary || newFile?.binary);
    return {
      path: input.path,
      oldContent: isBinary ? '' : (oldFile?.text ?? ''),
      newContent: isBinary ? '' : (newFile?.text ?? ''),
      isNew,
      isDeleted,
      isBinary,
    };
  }

  async headSha(pr: PrRef, signal?: AbortSignal): Promise<{ sha: string }> {
    const sha = (await this.gh(['api', `repos/${repoPath(pr)}/pulls/${pr.number}`, '--jq=.head.sha'], { signal })).trim();
    return { sha };
  }

  /** Replies in the thread of an inline review comment. */
  async reply(pr: PrRef & { commentId: number; body: string }, signal?: AbortSignal): Promise<{ success: true; comment: Json }> {
    const path = `repos/${repoPath(pr)}/pulls/${pr.number}/comments/${pr.commentId}/replies`;
    return { success: true, comment: await this.post(path, { body: pr.body }, signal) };
  }

  /** A new inline comment on a line of the pull request's diff (on its head commit unless given). */
  async inlineComment(
    input: PrRef & { body: string; path: string; line: number; side?: 'LEFT' | 'RIGHT'; startLine?: number; commitId?: string },
    signal?: AbortSignal,
  ): Promise<{ success: true; comment: Json }> {
    const commitId = input.commitId ?? (await this.headSha(input, signal)).sha;
    const payload: Json = { body: input.body, commit_id: commitId, path: input.path, line: input.line, side: input.side ?? 'RIGHT' };
    if (input.startLine !== undefined) payload.start_line = input.startLine;
    return { success: true, comment: await this.post(`repos/${repoPath(input)}/pulls/${input.number}/comments`, payload, signal) };
  }

  /** Head branches of the repository's merged pull requests (for worktree clean-up). */
  async mergedBranches(localRepoPath: string, signal?: AbortSignal): Promise<Set<string>> {
    const out = await this.gh(['pr', 'list', '--state=merged', '--limit=200', '--json=headRefName'], { cwd: localRepoPath, signal });
    return new Set((JSON.parse(out) as { headRefName: string }[]).map((pr) => pr.headRefName));
  }

  private async pull(pr: PrRef, signal?: AbortSignal): Promise<PullView> {
    return JSON.parse(await this.gh(['api', `repos/${repoPath(pr)}/pulls/${pr.number}`], { signal })) as PullView;
  }

  /** A file at a commit through the contents API (base64 JSON); over 1 MiB is 413. */
  private async content(name: string, file: string, ref: string, signal?: AbortSignal): Promise<{ text: string; binary: boolean }> {
    const encoded = file.split('/').map(encodeURIComponent).join('/');
    const entry = JSON.parse(await this.gh(['api', `repos/${name}/contents/${encoded}?ref=${ref}`], { signal })) as {
      type?: string;
      size?: number;
      encoding?: string;
      content?: string;
    };
    if ((entry.size ?? 0) > MAX_DIFF_FILE) throw new PayloadTooLarge(`${file} is larger than 1 MiB; open it on GitHub instead.`, 'file_too_large');
    if (entry.type !== 'file' || entry.encoding !== 'base64') return { text: '', binary: true };
    const bytes = Buffer.from(entry.content ?? '', 'base64');
    return bytes.includes(0) ? { text: '', binary: true } : { text: bytes.toString('utf8'), binary: false };
  }

  /** The open pull request whose head is `branch`, in the GitHub repository of the local one at `cwd`. */
  async openPrForBranch(cwd: string, branch: string, signal?: AbortSignal): Promise<{ url: string; number: number } | undefined> {
    const out = await this.gh(['pr', 'list', `--head=${branch}`, '--state=open', '--limit=1', '--json=number,url'], { cwd, signal });
    return (JSON.parse(out) as { url: string; number: number }[])[0];
  }

  /**
   * A pull request's CI checks as `gh pr checks --json` lists them (bucket: pass, fail,
   * pending, skipping, cancel). gh may exit 1 (a check failed) or 8 (some pending) after
   * printing them; a branch with no checks at all is an empty list.
   */
  async prChecks(cwd: string, number: number, signal?: AbortSignal): Promise<Json[]> {
    const out = await this.gh(['pr', 'checks', String(number), `--json=${PR_CHECK_FIELDS}`], { cwd, signal, okExitCodes: [1, 8], emptyWhen: /no checks reported/i });
    return out.trim() ? (JSON.parse(out) as Json[]) : [];
  }

  /** The log lines of the failed steps of one Actions job (`gh run view --job --log-failed`). */
  async failedJobLog(fullName: string, jobId: string, signal?: AbortSignal): Promise<string> {
    if (!FULL_NAME.test(fullName)) throw new BadRequest('repository must be owner/repo.', { field: 'repo' });
    if (!/^\d{1,20}$/.test(jobId)) throw new BadRequest('jobId must be a number.', { field: 'jobId' });
    return this.gh(['run', 'view', `--repo=${fullName}`, `--job=${jobId}`, '--log-failed'], { signal });
  }

  /** Every page of a list endpoint; `--jq .[]` turns gh's page-by-page arrays into one item a line. */
  private async paginate(path: string, signal?: AbortSignal): Promise<Json[]> {
    const out = await this.gh(['api', '--paginate', '--jq=.[]', path], { signal });
    return out
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Json);
  }

  private async post(path: string, payload: Json, signal?: AbortSignal): Promise<Json> {
    const out = await this.gh(['api', '--method=POST', '--input=-', path], { input: JSON.stringify(payload), signal });
    return JSON.parse(out) as Json;
  }

  private async gh(
    args: string[],
    options: { cwd?: string; input?: string; signal?: AbortSignal; timeoutMs?: number; okExitCodes?: number[]; emptyWhen?: RegExp },
  ): Promise<string> {
    let result: RunResult;
    try {
      result = await this.options.processes.run('gh', args, {
        cwd: options.cwd,
        input: options.input,
        signal: options.signal,
        timeoutMs: options.timeoutMs ?? NETWORK_TIMEOUT_MS,
        maxBuffer: MAX_OUTPUT,
        env: ghEnv(),
      });
    } catch (error) {
      if (isAppError(error) && error.code === 'binary_missing') throw toolMissing('gh');
      throw error;
    }
    checkStarted('gh', args.slice(0, 2).join(' '), result, options.signal);
    if (result.exitCode !== 0 && options.emptyWhen?.test(result.stderr)) return '';
    if (result.exitCode !== 0 && !(options.okExitCodes?.includes(result.exitCode ?? -1) && result.stdout.trim())) throw ghError(args, result);
    if (result.truncated) throw new AppError(502, 'github_response_too_large', 'GitHub answered with more data than the gateway accepts.');
    return result.stdout;
  }
}

function repoPath(pr: PrRef): string {
  if (!NAME.test(pr.owner)) throw new BadRequest('owner is not a valid GitHub name.', { field: 'owner' });
  if (!NAME.test(pr.repo)) throw new BadRequest('repo is not a valid GitHub name.', { field: 'repo' });
  if (!Number.isSafeInteger(pr.number) || pr.number < 1) throw new BadRequest('number must be a positive integer.', { field: 'number' });
  return `${pr.owner}/${pr.repo}`;
}

function prNumber(url: string): number {
  const match = /\/pull\/(\d+)/.exec(url);
  if (!match) throw new AppError(502, 'github_unexpected_reply', `gh pr create did not print a pull request URL: ${url}`);
  return Number(match[1]);
}

/** gh's failure as a typed error; gh exits 4 when it needs `gh auth login`. */
export function ghError(args: readonly string[], result: RunResult): AppError {
  const message = (result.stderr.trim() || result.stdout.trim()).slice(0, 2000);
  const what = `gh ${args.slice(0, 2).join(' ')} failed: ${message}`;
  if (result.exitCode === 4 || /gh auth login|not logged in|authentication required|HTTP 401/i.test(message)) {
    return new FailedDependency('The GitHub CLI (gh) is not logged in.', 'gh_not_authenticated', {
      hint: 'Run `gh auth login` in a terminal, then try again.',
      ghMessage: message,
    });
  }
  if (/HTTP 404|Could not resolve to a|no pull requests? found|not found/i.test(message)) return new NotFound(what, 'github_not_found');
  if (/HTTP 422|Validation Failed/i.test(message)) return new Unprocessable(what, 'github_unprocessable');
  if (/none of the git remotes|no git remotes|not a git repository/i.test(message)) {
    return new Unprocessable(what, 'no_github_remote', { hint: 'The repository needs a GitHub remote (git remote add origin https://github.com/OWNER/REPO).' });
  }
  if (/API rate limit|HTTP 403|HTTP 429/i.test(message)) return new FailedDependency(what, 'github_rate_limited', { hint: 'Wait a little and try again.' });
  return new AppError(502, 'github_error', what);
}
