// Ticket runs: launch (new, resume, accept the plan), status, kill, logs (with a live
// NDJSON follow), plan, judges, the work directory, and the run page's detail. The run
// engine is main/symphony/runs.ts; this file only parses and shapes.
import {
  FollowPrBody, KillBody, LaunchBody, LogsQuery, PruneBody, RepoQuery, RetentionBody, RunIdParams, TicketParams, WorkDirectoryQuery,
} from '../../../shared/schemas/symphony.js';
import { judgesView, planView, runDetail, statusView, ticketStatus, workDirectory } from '../../symphony/run-views.js';
import type { Caller } from '../../auth/caller.js';
import type { LaunchInput } from '../../symphony/runs.js';
import { ndjson } from '../reply.js';
import { defineRoute, type AnyRoute } from '../route.js';
import type { LazyServiceName } from '../../services.js';
import { RETENTION_SETTINGS, type WorktreeRetention } from '../../symphony/worktree-retention.js';

const retentionView = (retention: WorktreeRetention) => ({ days: retention.days(), auto: retention.auto() });

const API = '/api/gateway/symphony';

/** Who launches (the PR opening asks as them; their agent cap counts the run). */
const launcher = (caller: Caller): LaunchInput['caller'] => ({ kind: caller.kind, origin: caller.origin, claimedSource: caller.claimedSource });

/** Built before this family's first request (see LazyServiceName in services.ts). */
export const needs: readonly LazyServiceName[] = ['runs'];

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'POST', path: `${API}/launch`,
    summary: "Launch a ticket's run in its own worktree, or resume it, or accept its plan (a second launch); alreadyRunning when live.",
    body: LaunchBody,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ body }, { services, signal, caller }) => services.runs.launch({ ...body, caller: launcher(caller) }, signal),
  }),
  defineRoute({
    method: 'GET', path: `${API}/status`,
    summary: 'Every ticket run with its status, phase, iteration, tokens and cost.',
    handler: async (_input, { services }) => ({ runs: await Promise.all(services.runs.list().map((run) => statusView(services.runs, run))) }),
  }),
  defineRoute({
    method: 'GET', path: `${API}/status/:ticketId`,
    summary: "A ticket's run status (exists, stateExists, phase, status, raw, taskProgress, pid, processRunning, iteration, tokens, ...).",
    params: TicketParams, query: RepoQuery,
    classify: ({ query }) => ({ repoPath: query.repo }),
    handler: ({ params, query }, { services, signal }) => ticketStatus(services.runs, services.ticketWorktrees, params.ticketId, query.repo, signal),
  }),
  defineRoute({
    method: 'POST', path: `${API}/kill`,
    summary: 'Stop a run: {ticketId, repoPath}, or {pid} of one of this gateway\'s runs (any other pid is 404 and never signalled).',
    body: KillBody,
    classify: ({ body }) => ('repoPath' in body ? { repoPath: body.repoPath } : {}),
    handler: ({ body }, { services, signal }) => services.runs.kill(body, signal),
  }),
  defineRoute({
    method: 'GET', path: `${API}/logs/:ticketId`,
    summary: "A run's event log (JSONL lines); ?follow=1 streams new events as NDJSON until the run ends or the client leaves.",
    params: TicketParams, query: LogsQuery,
    classify: ({ query }) => ({ repoPath: query.repo }),
    handler: async ({ params, query }, { services, signal }) => {
      const run = await services.runs.find(params.ticketId, query.repo, signal);
      if (query.follow) {
        if (!run) return ndjson((async function* () { yield { type: 'error', message: 'No run for this ticket.' }; })());
        return ndjson(services.runs.follow(run, signal, true));
      }
      if (!run) return { exists: false, format: 'text', content: '', lines: 0, totalLines: 0, returnedLines: 0 };
      const tail = services.runs.logTail(run, query.lines);
      return { exists: tail.exists, format: 'jsonl', lines: tail.lines, totalLines: tail.totalLines, returnedLines: tail.lines.length, logFile: services.runs.logFile(run) };
    },
  }),
  defineRoute({
    method: 'GET', path: `${API}/plan/:ticketId`,
    summary: "A run's plan: content (markdown), pendingTasks, completedTasks, openQuestions.",
    params: TicketParams, query: RepoQuery,
    classify: ({ query }) => ({ repoPath: query.repo }),
    handler: ({ params, query }, { services, signal }) => planView(services.runs, params.ticketId, query.repo, signal),
  }),
  defineRoute({
    method: 'GET', path: `${API}/judges/:ticketId`,
    summary: "A run's latest judges report (report_id, timestamp, stats[] of case_score with metrics[]) and every iteration's.",
    params: TicketParams, query: RepoQuery,
    classify: ({ query }) => ({ repoPath: query.repo }),
    handler: ({ params, query }, { services, signal }) => judgesView(services.runs, params.ticketId, query.repo, signal),
  }),
  defineRoute({
    method: 'GET', path: '/api/gateway/work-directory/:ticketId',
    summary: "The ticket's worktree: exists, path, source, pendingClaudeMd, branchStatus {merged, remoteMissing}.",
    params: TicketParams, query: WorkDirectoryQuery,
    classify: ({ query }) => (query.repo ? { repoPath: query.repo } : {}),
    handler: ({ params, query }, { services, signal }) =>
      workDirectory(
        { runs: services.runs, worktrees: services.ticketWorktrees, git: services.gitRunner, repoPaths: () => services.repos.list().map((r) => r.path) },
        params.ticketId, query.repo, signal,
      ),
  }),
  defineRoute({
    method: 'GET', path: `${API}/runs/:runId`,
    summary: 'One run with its iterations (prompts, judges), plan and PR feedback (for the Runs screen).',
    params: RunIdParams,
    handler: ({ params }, { services }) => runDetail(services.runs, params.runId),
  }),
  defineRoute({
    method: 'POST', path: `${API}/runs/:runId/accept`,
    summary: "Accept a run's plan at the plan checkpoint (the Runs screen's button; the web client sends a second launch).",
    params: RunIdParams,
    handler: ({ params }, { services, caller }) => services.runs.acceptPlan(params.runId, launcher(caller)),
  }),
  defineRoute({
    method: 'POST', path: `${API}/runs/:runId/discard`,
    summary: "Discard a resting run: its ticket's next launch starts afresh, and retention removes its worktree after the kept days.",
    params: RunIdParams,
    handler: async ({ params }, { services }) => statusView(services.runs, services.runs.discard(params.runId)),
  }),
  defineRoute({
    method: 'POST', path: `${API}/worktrees/prune`,
    summary: "Remove finished runs' worktrees that are due (merged or discarded longer ago than the retention days, never with uncommitted changes); dryRun only says which.",
    body: PruneBody,
    handler: async ({ body }, { services, signal }) => ({
      retentionDays: services.runs.retention.days(), dryRun: body.dryRun, worktrees: await services.runs.retention.prune({ dryRun: body.dryRun, signal }),
    }),
  }),
  defineRoute({
    method: 'GET', path: `${API}/worktrees/retention`,
    summary: "How long merged or discarded runs' worktrees are kept (days) and whether the gateway prunes them by itself (auto).",
    handler: (_input, { services }) => retentionView(services.runs.retention),
  }),
  defineRoute({
    method: 'PUT', path: `${API}/worktrees/retention`,
    summary: 'Change the worktree retention: days (0-3650) and/or auto (the gateway prunes due worktrees by itself).',
    body: RetentionBody,
    handler: ({ body }, { services }) => {
      if (body.days !== undefined) services.settings.set(RETENTION_SETTINGS.days, body.days);
      if (body.auto !== undefined) services.settings.set(RETENTION_SETTINGS.auto, body.auto);
      return retentionView(services.runs.retention);
    },
  }),
  defineRoute({
    method: 'POST', path: `${API}/runs/:runId/follow-pr`,
    summary: "Switch following the run's pull request (review comments and failing checks become iterations) on or off.",
    params: RunIdParams, body: FollowPrBody,
    handler: ({ params, body }, { services }) => {
      services.runs.requireRun(params.runId);
      services.runs.store.update(params.runId, { followPr: body.enabled });
      return { success: true, followPr: body.enabled };
    },
  }),
];
