// The shapes the ticket-run routes answer with, in the original's field names
// (exists, stateExists, phase, status, raw, taskProgress, currentTaskId, activeAgents,
// pid, processRunning, ...) plus ours (iteration, maxIterations, tokens, costUsd, lastError).
import type { RunDetailView, RunStatusView } from '../../shared/runs.js';
import { NotFound } from '../errors.js';
import type { GitRunner } from '../git/runner.js';
import type { RunRow } from './run-store.js';
import type { RunService } from './runs.js';
import { ticketSlug, type TicketWorktrees } from './ticket-worktree.js';

export async function statusView(runs: RunService, run: RunRow): Promise<RunStatusView> {
  const processRunning = await runs.isHostAlive(run);
  const pending = run.plan?.pendingTasks.length ?? 0;
  const completed = run.plan?.completedTasks.length ?? 0;
  const timestamp = new Date(run.updatedAt).toISOString();
  return {
    exists: true, stateExists: true, runId: run.id, ticketId: run.ticketId, repoPath: run.repoPath, worktreeDir: run.worktreePath, branch: run.branch,
    baseBranch: run.baseBranch, provider: run.provider, model: run.model, phase: run.phase, status: run.status, reason: run.reason, timestamp,
    raw: { phase: run.phase, status: run.status, timestamp, reason: run.reason, iteration: run.iteration, lastError: run.lastError },
    fallbackDetected: false, planExists: run.plan !== null, planAccepted: run.planAccepted,
    taskProgress: { pending, completed, total: pending + completed }, currentTaskId: run.currentTaskId,
    activeAgents: processRunning && run.status === 'IN_PROGRESS'
      ? [{ agentId: run.id, agentType: run.provider, agentName: run.phase, startedAt: new Date(run.updatedAt).toISOString() }]
      : [],
    pid: processRunning ? (run.host?.pid ?? null) : null, processRunning, iteration: run.iteration, maxIterations: run.maxIterations,
    tokens: { input: run.inputTokens, output: run.outputTokens, total: run.inputTokens + run.outputTokens }, costUsd: run.costUsd,
    lastError: run.lastError, startedAt: new Date(run.startedAt).toISOString(), endedAt: run.endedAt ? new Date(run.endedAt).toISOString() : null,
    followPr: run.followPr, prRounds: run.prRounds, prUrl: run.prUrl, prNumber: run.prNumber,
    prOpen: run.prOpen ? { state: run.prOpen.state, note: run.prOpen.note, at: new Date(run.prOpen.at).toISOString() } : null, discardedAt: run.discardedAt ? new Date(run.discardedAt).toISOString() : null,
    ...runs.retention.view(run),
  };
}

/** GET /symphony/status/:ticketId?repo= */
export async function ticketStatus(runs: RunService, worktrees: TicketWorktrees, ticketId: string, repo: string, signal?: AbortSignal) {
  const run = await runs.find(ticketId, repo, signal);
  if (run) return statusView(runs, run);
  const worktree = await worktrees.find(repo, ticketId, signal);
  if (!worktree) return { exists: false, phase: null, status: null, message: 'Worktree not found' };
  return { exists: true, stateExists: false, phase: null, status: null, worktreeDir: worktree.path, processRunning: false, message: 'No run for this ticket yet' };
}

async function requireRun(runs: RunService, ticketId: string, repo: string, signal?: AbortSignal): Promise<RunRow> {
  const run = await runs.find(ticketId, repo, signal);
  if (!run) throw new NotFound('Worktree not found', 'run_not_found', { exists: false });
  return run;
}

/** GET /symphony/plan/:ticketId?repo= */
export async function planView(runs: RunService, ticketId: string, repo: string, signal?: AbortSignal) {
  const run = await requireRun(runs, ticketId, repo, signal);
  if (!run.plan) throw new NotFound('Plan not found yet', 'plan_not_found', { exists: false, planExists: false });
  return {
    exists: true, planExists: true, content: run.plan.content, raw: run.plan, worktreeDir: run.worktreePath, planAccepted: run.planAccepted,
    pendingTasks: run.plan.pendingTasks, completedTasks: run.plan.completedTasks, openQuestions: run.plan.openQuestions, currentTaskId: run.currentTaskId,
  };
}

/** GET /symphony/judges/:ticketId?repo= : the latest report, and every iteration's. */
export async function judgesView(runs: RunService, ticketId: string, repo: string, signal?: AbortSignal) {
  const run = await requireRun(runs, ticketId, repo, signal);
  const reports = runs.store.iterations(run.id).flatMap((it) => (it.judges ? [it.judges] : []));
  const latest = reports.at(-1);
  if (!latest) return { exists: false, isMock: false, message: 'Awaiting LLM judges feedback', worktreeDir: run.worktreePath };
  return { exists: true, isMock: false, data: latest, history: reports, worktreeDir: run.worktreePath };
}

/** GET /symphony/runs/:runId : everything the run page shows. */
export async function runDetail(runs: RunService, runId: string): Promise<RunDetailView> {
  const run = runs.requireRun(runId);
  return {
    ...(await statusView(runs, run)),
    ticket: run.ticket,
    plan: run.plan,
    iterations: runs.store.iterations(run.id).map((it) => ({
      iteration: it.iteration, kind: it.kind, outcome: it.outcome, startedAt: new Date(it.startedAt).toISOString(),
      endedAt: it.endedAt ? new Date(it.endedAt).toISOString() : null, inputTokens: it.inputTokens, outputTokens: it.outputTokens, costUsd: it.costUsd,
      judges: it.judges, prompt: it.prompt,
    })),
    feedback: runs.store.feedback(run.id),
  };
}

/** GET /work-directory/:ticketId[?repo=]: the ticket's worktree (its run's, else found by layout in each managed repository). */
export async function workDirectory(
  deps: { runs: RunService; worktrees: TicketWorktrees; git: GitRunner; repoPaths: () => string[] },
  ticketId: string,
  repo: string | undefined,
  signal?: AbortSignal,
) {
  const slug = ticketSlug(ticketId);
  let found: { path: string; branch: string; repoPath: string; source: 'run' | 'worktree' } | null = null;
  const run = repo ? await deps.runs.find(ticketId, repo, signal) : deps.runs.store.latestByTicket(slug);
  if (run) found = { path: run.worktreePath, branch: run.branch, repoPath: run.repoPath, source: 'run' };
  for (const repoPath of found ? [] : repo ? [repo] : deps.repoPaths()) {
    const worktree = await deps.worktrees.find(repoPath, ticketId, signal).catch(() => null);
    if (worktree) {
      found = { ...worktree, source: 'worktree' };
      break;
    }
  }
  if (!found) return { exists: false, path: null, source: null, pendingClaudeMd: null, branchStatus: null };
  const claude = await deps.git.raw(found.path, ['status', '--porcelain', '--', 'CLAUDE.md'], 'status', { signal }).catch(() => null);
  return {
    exists: true, path: found.path, source: found.source, branch: found.branch, runId: run?.id ?? null,
    pendingClaudeMd: claude ? claude.exitCode === 0 && claude.stdout.trim() !== '' : null,
    branchStatus: await branchStatus(deps.git, found.repoPath, found.branch, signal),
  };
}

async function branchStatus(git: GitRunner, repoPath: string, branch: string, signal?: AbortSignal): Promise<{ merged: boolean | null; remoteMissing: boolean | null }> {
  const remote = await git.raw(repoPath, ['ls-remote', '--heads', 'origin', `refs/heads/${branch}`], 'ls-remote', { signal, timeoutMs: 15_000 }).catch(() => null);
  const head = await git.raw(repoPath, ['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD'], 'symbolic-ref', { signal }).catch(() => null);
  const target = head?.exitCode === 0 && head.stdout.trim() ? head.stdout.trim() : 'origin/main';
  const merged = await git.raw(repoPath, ['merge-base', '--is-ancestor', `refs/heads/${branch}`, target], 'merge-base', { signal }).catch(() => null);
  return {
    merged: merged && (merged.exitCode === 0 || merged.exitCode === 1) ? merged.exitCode === 0 : null,
    remoteMissing: remote && remote.exitCode === 0 ? remote.stdout.trim() === '' : null,
  };
}
