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
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
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
  github: Pick<GitHubService, 'openPrForBranch' | 'feedbackThreads' | 'prChecks' | 'failedJobLog'>;
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

  constructor(private readonly options: PrFollowerOptions) {}

  start(): void {
    if (this.closed || this.timer) return;
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
    await this.polling?.catch(() => undefined);
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
    const pr = await github.openPrForBranch(run.repoPath, run.branch, signal);
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
