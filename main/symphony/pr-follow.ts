// A run follows its pull request: every few minutes the gateway looks, through gh, for
// the open PR of each resting run's branch (opened by the run or by hand: found by
// branch) and reads its review comments and failing CI checks (with the failed job's
// log tail). Feedback not seen before becomes one more iteration of the run ("Addressing
// review"); what an earlier iteration addressed is never sent again (a comment by its
// id, a check by its name and failure text), rounds are capped, and each run has an
// off switch (followPr).
// Which runs: never one that is working (STARTING, IN_PROGRESS: the agent is still on
// the branch; the poll after it rests reads what came meanwhile). A COMPLETED run gets
// the round. A run that rests for another reason (waiting at its plan, stopped by the
// user, failed, interrupted) has its feedback read and listed on its page, but no agent
// is started behind the user's back: the feedback waits, and once the run completes
// (the user resumed or accepted it) the next poll gives it its round.
// A run launched with `openPr` opens its PR itself once it completes with every required
// judge passing: what the agent left uncommitted is committed, the branch pushed and the
// PR created through gh (GitHubService.createPr), asked through the approval policy as
// `git_pr` in the launcher's name (a paired origin is asked). A denial leaves no PR and
// the run COMPLETED with a note. The PR it opened is followed by its number from then on.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { PolicyService } from '../auth/policy.js';
import type { GitService } from '../git/git.js';
import type { GitHubService } from '../git/github.js';
import type { SettingsStore } from '../store/settings.js';
import { appendRunEvent } from './run-log.js';
import { RESTING, type FeedbackRow, type RunRow } from './run-store.js';
import type { RunService } from './runs.js';

export const PR_SETTINGS = {
  /** How often completed runs' pull requests are read (ms). */
  pollMs: 'runs.prPollMs',
  /** At most this many "Addressing review" rounds a run. */
  maxRounds: 'runs.prMaxRounds',
} as const;

const DEFAULT_POLL_MS = 3 * 60_000;
const DEFAULT_MAX_ROUNDS = 3;
const LOG_TAIL_LINES = 60;
const LOG_TAIL_CHARS = 4_000;

type Feedback = Omit<FeedbackRow, 'runId' | 'seenAt' | 'addressedIteration'>;
type Json = Record<string, unknown>;

export interface PrFollowerOptions {
  runs: RunService;
  github: Pick<GitHubService, 'openPrForBranch' | 'feedbackThreads' | 'prChecks' | 'failedJobLog' | 'createPr'>;
  /** Commits what the agent left in the worktree before the PR is opened. */
  git: Pick<GitService, 'status' | 'commit'>;
  /** The PR opening is a git_pr write in the launcher's name. */
  policy: Pick<PolicyService, 'authorize'>;
  settings: SettingsStore;
  log: Logger;
}

export class PrFollower {
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private polling: Promise<void> | null = null;
  private closed = false;
  private readonly abort = new AbortController();
  /** Runs whose last poll failed with this message (logged once, not every poll). */
  private readonly failing = new Map<string, string>();
  /** PR openings under way (an approval may wait for a person): one per run. */
  private readonly opening = new Map<string, Promise<void>>();

  constructor(private readonly options: PrFollowerOptions) {}

  start(): void {
    if (this.closed || this.timer) return;
    // An opening a stopped gateway left half-asked is asked again.
    for (const run of this.options.runs.list()) if (run.prOpen?.state === 'asking') this.options.runs.store.movePrOpen(run.id, 'asking', { state: 'requested', note: null });
    this.schedule();
    // A new interval applies at once, not after the old one ran out.
    this.unsubscribe = this.options.settings.onChange((key) => {
      if (key !== null && key !== PR_SETTINGS.pollMs) return;
      if (!this.timer || this.closed) return;
      clearTimeout(this.timer);
      this.schedule();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort.abort();
    await Promise.all([this.polling?.catch(() => undefined), ...this.opening.values()]);
  }

  /** A run rested (RunService.onRunEnded): a completed one that asked for its PR opens it now. */
  runEnded(run: RunRow): void {
    if (wantsPrOpened(run)) void this.openPr(run);
  }

  /** Opens the run's PR once (an opening under way is joined); resolves when it is open, refused or failed. */
  openPr(run: RunRow): Promise<void> {
    let pending = this.opening.get(run.id);
    if (!pending) {
      pending = this.openOnce(run).finally(() => this.opening.delete(run.id));
      this.opening.set(run.id, pending);
    }
    return pending;
  }

  private async openOnce(run: RunRow): Promise<void> {
    const { runs, policy, github, git, log } = this.options;
    if (this.closed || !runs.store.movePrOpen(run.id, 'requested', { state: 'asking', note: 'Asking to open the pull request' })) return;
    const by = run.prOpen!.by;
    const title = prTitle(run);
    const base = prBase(run.baseBranch);
    const note = (state: 'requested' | 'opened' | 'denied' | 'failed', text: string | null, event: string, fields: Record<string, unknown> = {}) => {
      runs.store.movePrOpen(run.id, 'asking', { state, note: text });
      if (state !== 'requested') appendRunEvent(run.workDir, run.id, run.iteration, event, { note: text, ...fields });
    };
    try {
      await policy.authorize({
        operation: 'git_pr', caller: { ...by, sessionId: null }, method: 'POST', path: '/git/pr', access: 'write', action: null,
        repoPath: run.repoPath, args: { runId: run.id, ticketId: run.ticketId, head: run.branch, base: base ?? '(the default branch)', title },
        forceApproval: false, claimedReason: `The run of ${run.ticketId} completed with its judges passing: open its pull request.`,
        signal: this.abort.signal,
      });
    } catch (error) {
      if (this.abort.signal.aborted) return note('requested', null, '');
      return note('denied', `The pull request was not opened: ${(error as Error).message}`, 'pr_open_denied');
    }
    try {
      const status = await git.status(run.worktreePath, this.abort.signal);
      if (status.hasChanges) await git.commit(run.worktreePath, title, this.abort.signal);
      const pr = await github.createPr({ repoPath: run.worktreePath, title, body: prBody(run), baseBranch: base, ticketUrl: ticketUrl(run) }, this.abort.signal);
      runs.store.update(run.id, { prNumber: pr.number, prUrl: pr.url });
      note('opened', `${pr.existing ? 'Its open pull request' : 'Opened'} #${pr.number}: ${pr.url}`, 'pr_opened', { number: pr.number, url: pr.url, existing: pr.existing });
    } catch (error) {
      if (this.abort.signal.aborted) return note('requested', null, '');
      log.warn({ runId: run.id, err: (error as Error).message }, 'could not open the pull request of a run');
      return note('failed', `The pull request could not be opened: ${(error as Error).message}`, 'pr_open_failed');
    }
    // Followed from now on; the first look is now.
    const opened = runs.store.require(run.id);
    if (opened.followPr) await this.pollRun(opened).catch((error: unknown) => log.warn({ runId: run.id, err: (error as Error).message }, 'could not read the pull request of a run'));
  }

  /** One look at every followed run's pull request (also what the timer calls). */
  pollOnce(): Promise<void> {
    this.polling ??= this.pollAll().finally(() => (this.polling = null));
    return this.polling;
  }

  private schedule(): void {
    const every = this.options.settings.get<number>(PR_SETTINGS.pollMs) ?? DEFAULT_POLL_MS;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.pollOnce().finally(() => {
        if (!this.closed) this.schedule();
      });
    }, every);
    this.timer.unref();
  }

  private async pollAll(): Promise<void> {
    for (const run of this.options.runs.list()) {
      if (this.closed) return;
      // A run this gateway reattached ended without telling it: its PR is opened here.
      if (wantsPrOpened(run) && !(await this.options.runs.isHostAlive(run))) {
        void this.openPr(run);
        continue;
      }
      if (run.prOpen?.state === 'asking') continue;
      if (!run.followPr || !RESTING.has(run.status) || run.discardedAt !== null) continue;
      // A host that reported COMPLETED may still be shutting down: the next round waits for it.
      if (await this.options.runs.isHostAlive(run)) continue;
      try {
        await this.pollRun(run);
        this.failing.delete(run.id);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (this.failing.get(run.id) !== message) this.options.log.warn({ runId: run.id, err: message }, 'could not read the pull request of a run');
        this.failing.set(run.id, message);
      }
    }
  }

  private async pollRun(run: RunRow): Promise<void> {
    const signal = this.abort.signal;
    const { github, runs } = this.options;
    // The PR the run opened is followed by its number; any other is found by the branch.
    const pr = run.prOpen?.state === 'opened' && run.prNumber !== null && run.prUrl !== null
      ? { number: run.prNumber, url: run.prUrl }
      : await github.openPrForBranch(run.repoPath, run.branch, signal);
    if (!pr) return;
    if (pr.number !== run.prNumber || pr.url !== run.prUrl) runs.store.update(run.id, { prNumber: pr.number, prUrl: pr.url });
    const where = /^https?:\/\/[^/]+\/([^/]+)\/([^/]+)\/pull\/\d+/.exec(pr.url);
    if (!where) throw new Error(`gh gave a pull request URL that names no repository: ${pr.url}`);
    const ref = { owner: where[1], repo: where[2], number: pr.number };
    const [{ comments, reviewComments, reviews }, checks] = await Promise.all([
      github.feedbackThreads(ref, signal),
      github.prChecks(run.repoPath, pr.number, signal),
    ]);
    const items: Feedback[] = [
      ...comments.map((c) => commentFeedback('comment', c, 'Comment')),
      ...reviewComments.map((c) => commentFeedback('review-comment', c, `On ${String(c.path ?? '?')}${c.line ? `:${String(c.line)}` : ''}`)),
      ...reviews.filter((r) => typeof r.body === 'string' && r.body.trim()).map((r) => commentFeedback('review', r, `Review (${String(r.state ?? '').toLowerCase()})`)),
    ].filter((item): item is Feedback => item !== null);
    for (const check of checks.filter((c) => c.bucket === 'fail')) items.push(await this.checkFeedback(`${ref.owner}/${ref.repo}`, check, signal));

    const fresh = runs.store.addFeedback(run.id, items);
    const open = runs.store.feedback(run.id).filter((f) => f.addressedIteration === null).map((f) => f.key);
    if (open.length === 0) return;
    if (run.status !== 'COMPLETED') {
      if (fresh.length) appendRunEvent(run.workDir, run.id, run.iteration, 'pr_feedback_waiting', { keys: fresh, status: run.status });
      return;
    }
    const maxRounds = this.options.settings.get<number>(PR_SETTINGS.maxRounds) ?? DEFAULT_MAX_ROUNDS;
    if (run.prRounds >= maxRounds) {
      if (fresh.length) appendRunEvent(run.workDir, run.id, run.iteration, 'pr_feedback_capped', { keys: fresh, rounds: run.prRounds, maxRounds });
      return;
    }
    await runs.addressFeedback(run.id, open);
  }

  /** A failing check: its failed job's log tail when gh can give it, else gh's description. */
  private async checkFeedback(fullName: string, check: Json, signal: AbortSignal): Promise<Feedback> {
    const name = String(check.name ?? 'check');
    const link = typeof check.link === 'string' ? check.link : null;
    const job = link ? /\/actions\/runs\/\d+\/job\/(\d+)/.exec(link)?.[1] : undefined;
    let failure = String(check.description ?? '').trim();
    if (job) {
      try {
        failure = logTail(await this.options.github.failedJobLog(fullName, job, signal)) || failure;
      } catch (error) {
        this.options.log.debug({ err: (error as Error).message, check: name }, 'no log for a failing check');
      }
    }
    const workflow = typeof check.workflow === 'string' && check.workflow ? `${check.workflow} / ` : '';
    return {
      key: `check:${name}:${hash(normalise(failure))}`, kind: 'check', author: null,
      summary: `${workflow}${name} failed`, body: failure || `${name} failed (no details from gh).`, url: link,
    };
  }
}

/** Completed with every required judge passing, and asked to open its PR (not tried yet). */
function wantsPrOpened(run: RunRow): boolean {
  return run.status === 'COMPLETED' && run.reason === 'completed' && run.prOpen?.state === 'requested' && run.discardedAt === null;
}

function prTitle(run: RunRow): string {
  const title = typeof run.ticket.title === 'string' ? run.ticket.title.trim() : '';
  return `${run.ticketId}: ${title || run.plan?.content.split('\n')[0]?.trim() || 'changes'}`.slice(0, 256);
}

/** The PR's base: the run's base branch without its remote; a commit (no named base) means the default branch. */
function prBase(base: string | null): string | undefined {
  if (!base || /^[0-9a-f]{40}$/.test(base)) return undefined;
  return base.replace(/^origin\//, '');
}

function prBody(run: RunRow): string {
  const tasks = run.plan?.completedTasks.map((t) => `- [x] ${t.id}: ${t.description}`) ?? [];
  return [
    `Opened by the Symphony run of ${run.ticketId} after ${run.completedIteration} iteration(s), with every required judge passing.`,
    ...(tasks.length ? ['', '## Tasks', ...tasks] : []),
  ].join('\n');
}

function ticketUrl(run: RunRow): string | undefined {
  const url = (run.ticket as { url?: unknown }).url;
  return typeof url === 'string' && /^https?:\/\//.test(url) ? url : undefined;
}

function commentFeedback(prefix: string, comment: Json, what: string): Feedback | null {
  const body = typeof comment.body === 'string' ? comment.body.trim() : '';
  if (!body || comment.id === undefined) return null;
  const user = comment.user as { login?: string } | undefined;
  const author = user?.login ?? null;
  return {
    key: `${prefix}:${String(comment.id)}`, kind: 'comment', author, summary: `${what}${author ? ` by @${author}` : ''}`, body,
    url: typeof comment.html_url === 'string' ? comment.html_url : null,
  };
}

/** The end of a job log; gh prefixes each line with the job and step names and a timestamp. */
function logTail(log: string): string {
  const lines = log.split('\n').filter((line) => line.trim());
  return lines.slice(-LOG_TAIL_LINES).join('\n').slice(-LOG_TAIL_CHARS);
}

/** The same failure on a re-run differs only by timestamps and run ids: those do not count. */
function normalise(text: string): string {
  return text.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '').replace(/\s+/g, ' ').trim();
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
