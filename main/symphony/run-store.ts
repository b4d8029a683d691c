// A ticket run as SQLite rows: the run itself (one row a launch; a resume keeps its
// row), one row per iteration (its prompt, answer, tokens, judges), and the PR feedback
// it has seen (comments and failing checks, with the iteration that addressed each).
// Written by the run host and read by the gateway at once: the database is in WAL mode
// and every write is one short statement or transaction.
import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { ProviderId } from '../providers/types.js';
import { migrate, type Db } from '../store/database.js';
import { liveRunsLaunchedBy } from '../store/live-launches.js';
import type { ProcessIdentity } from '../supervisor/supervisor.js';
import type { CallerKind } from '../auth/caller.js';
import type { JudgesReport, RunFeedbackView, RunPlan } from '../../shared/runs.js';

export type { JudgeCase, JudgeMetric, JudgesReport, PlanTask, RunPlan } from '../../shared/runs.js';

export const RUN_STATUSES = ['STARTING', 'IN_PROGRESS', 'AWAITING_USER', 'COMPLETED', 'STOPPED', 'FAILED', 'INTERRUPTED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** Statuses with no host working on the run. */
export const RESTING: ReadonlySet<RunStatus> = new Set(['AWAITING_USER', 'COMPLETED', 'STOPPED', 'FAILED', 'INTERRUPTED']);

export interface Ticket {
  title?: string;
  identifier?: string;
  url?: string;
  description?: string;
  additionalContext?: string;
  contextRepoPaths?: string[];
  mentionedFiles?: string[];
  issueId?: string;
}

export interface CommandJudgeSpec {
  name: string;
  argv: string[];
  required: boolean;
}

export interface LlmJudgeSpec {
  metrics: Array<{ name: string; threshold: number; description?: string }>;
}

/** Everything that shapes a run, fixed at launch (a resume may raise maxIterations). */
export interface RunOptions {
  commandJudges: CommandJudgeSpec[];
  llmJudge: LlmJudgeSpec | null;
  judgeTimeoutMs: number;
  stallTimeoutMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxApiRetries: number;
  maxStallRetries: number;
  budgetTokens: number | null;
  budgetUsd: number | null;
  /** A run started with its own prompt (cloud loops) rather than from a ticket. */
  prompt: string | null;
  /** Skip the plan phase (loops that only execute). */
  skipPlan: boolean;
  /** Extra sections for the prompts (learnings and other context), already rendered. */
  extraSections: Array<{ title: string; body: string }>;
}

export interface RunRow {
  id: string;
  ticketId: string;
  ticketSlug: string;
  ticket: Ticket;
  repoPath: string;
  worktreePath: string;
  branch: string;
  baseBranch: string | null;
  workDir: string;
  provider: ProviderId;
  model: string | null;
  status: RunStatus;
  phase: string;
  reason: string | null;
  iteration: number;
  completedIteration: number;
  maxIterations: number;
  sessionId: string | null;
  host: ProcessIdentity | null;
  startedAt: number;
  updatedAt: number;
  endedAt: number | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  lastError: string | null;
  plan: RunPlan | null;
  planAccepted: boolean;
  autoApprovePlan: boolean;
  currentTaskId: string | null;
  options: RunOptions;
  followPr: boolean;
  prRounds: number;
  prNumber: number | null;
  prUrl: string | null;
  /** PR feedback keys the next iteration must address. */
  pendingFeedback: string[];
  discardedAt: number | null;
  /** Asked to open its pull request on completion (launch `openPr`), and how that went; null: not asked. */
  prOpen: PrOpenState | null;
  /** callerKey of whoever launched it last (new or resumed): a remote caller's live runs count against its agent cap. Null: launched from code. */
  launchedBy: string | null;
}

/** The launch's ask to open the run's PR: who launched (the approval policy asks as them), and the outcome. */
export interface PrOpenState {
  by: { kind: CallerKind; origin: string | null; claimedSource: string | null };
  /** `requested`: not tried yet; `asking`: waiting for the approval or gh; then opened, denied or failed. */
  state: 'requested' | 'asking' | 'opened' | 'denied' | 'failed';
  /** What happened, for the status and the run page (a denial, gh's error). */
  note: string | null;
  at: number;
}

export interface IterationRow {
  runId: string;
  iteration: number;
  kind: 'plan' | 'work' | 'review';
  prompt: string;
  answer: string;
  outcome: string;
  startedAt: number;
  endedAt: number | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  judges: JudgesReport | null;
}

/** A PR review comment or failing check the run has seen (the shape the run page lists). */
export interface FeedbackRow extends RunFeedbackView {
  runId: string;
}

interface DbRow {
  id: string;
  ticket_id: string;
  ticket_slug: string;
  ticket: string;
  repo_path: string;
  worktree_path: string;
  branch: string;
  base_branch: string | null;
  work_dir: string;
  provider: string;
  model: string | null;
  status: RunStatus;
  phase: string;
  reason: string | null;
  iteration: number;
  completed_iteration: number;
  max_iterations: number;
  session_id: string | null;
  host_pid: number | null;
  host_start_time: number | null;
  host_boot_id: string | null;
  started_at: number;
  updated_at: number;
  ended_at: number | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  last_error: string | null;
  plan: string | null;
  plan_accepted: number;
  auto_approve_plan: number;
  current_task_id: string | null;
  options: string;
  follow_pr: number;
  pr_rounds: number;
  pr_number: number | null;
  pr_url: string | null;
  pending_feedback: string;
  discarded_at: number | null;
  pr_open: string | null;
  launched_by: string | null;
}

const COLUMNS: Record<string, string> = {
  status: 'status', phase: 'phase', reason: 'reason', iteration: 'iteration', completedIteration: 'completed_iteration',
  maxIterations: 'max_iterations', sessionId: 'session_id', endedAt: 'ended_at', lastError: 'last_error',
  planAccepted: 'plan_accepted', autoApprovePlan: 'auto_approve_plan', currentTaskId: 'current_task_id', followPr: 'follow_pr',
  prRounds: 'pr_rounds', prNumber: 'pr_number', prUrl: 'pr_url', baseBranch: 'base_branch', ticket: 'ticket', plan: 'plan',
  options: 'options', pendingFeedback: 'pending_feedback', discardedAt: 'discarded_at', model: 'model', provider: 'provider',
  worktreePath: 'worktree_path', branch: 'branch', prOpen: 'pr_open', launchedBy: 'launched_by',
};
const JSON_FIELDS = new Set(['ticket', 'plan', 'options', 'pendingFeedback', 'prOpen']);
const BOOL_FIELDS = new Set(['planAccepted', 'autoApprovePlan', 'followPr']);

export type RunUpdate = Partial<Pick<RunRow, keyof typeof COLUMNS & keyof RunRow>>;

export class RunStore {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Db) {
    migrate(db, 'symphony_runs', [
      `CREATE TABLE symphony_runs (
        id TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL,
        ticket_slug TEXT NOT NULL,
        ticket TEXT NOT NULL,
        repo_path TEXT NOT NULL,
        worktree_path TEXT NOT NULL,
        branch TEXT NOT NULL,
        base_branch TEXT,
        work_dir TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT,
        status TEXT NOT NULL,
        phase TEXT NOT NULL,
        reason TEXT,
        iteration INTEGER NOT NULL DEFAULT 0,
        completed_iteration INTEGER NOT NULL DEFAULT 0,
        max_iterations INTEGER NOT NULL,
        session_id TEXT,
        host_pid INTEGER,
        host_start_time INTEGER,
        host_boot_id TEXT,
        started_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        ended_at INTEGER,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        last_error TEXT,
        plan TEXT,
        plan_accepted INTEGER NOT NULL DEFAULT 0,
        auto_approve_plan INTEGER NOT NULL DEFAULT 0,
        current_task_id TEXT,
        options TEXT NOT NULL,
        follow_pr INTEGER NOT NULL DEFAULT 1,
        pr_rounds INTEGER NOT NULL DEFAULT 0,
        pr_number INTEGER,
        pr_url TEXT,
        pending_feedback TEXT NOT NULL DEFAULT '[]',
        discarded_at INTEGER
      );
      CREATE INDEX symphony_runs_by_ticket ON symphony_runs(repo_path, ticket_slug, started_at);
      CREATE TABLE symphony_run_iterations (
        run_id TEXT NOT NULL REFERENCES symphony_runs(id) ON DELETE CASCADE,
        iteration INTEGER NOT NULL,
        kind TEXT NOT NULL,
        prompt TEXT NOT NULL,
        answer TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost_usd REAL NOT NULL DEFAULT 0,
        judges TEXT,
        PRIMARY KEY (run_id, iteration)
      );
      CREATE TABLE symphony_run_feedback (
        run_id TEXT NOT NULL REFERENCES symphony_runs(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        author TEXT,
        summary TEXT NOT NULL,
        body TEXT NOT NULL,
        url TEXT,
        seen_at INTEGER NOT NULL,
        addressed_iteration INTEGER,
        PRIMARY KEY (run_id, key)
      );`,
      // A launch with openPr: the run opens its pull request when it completes (PrOpenState).
      `ALTER TABLE symphony_runs ADD COLUMN pr_open TEXT;`,
      // Who launched the run (auth/caller.ts callerKey): the agent cap counts a remote caller's live runs.
      `ALTER TABLE symphony_runs ADD COLUMN launched_by TEXT;
       CREATE INDEX symphony_runs_live_by_caller ON symphony_runs(launched_by, status);`,
    ]);
  }

  /**
   * Live runs `key` launched, read straight from the database (any process's hosts), without
   * a RunStore: 0 where the table or its column is not there yet (this process never migrated it).
   */
  static liveLaunchedBy(db: Db, key: string): number {
    return liveRunsLaunchedBy(db, key);
  }

  create(input: Omit<RunRow, 'id' | 'startedAt' | 'updatedAt' | 'endedAt' | 'inputTokens' | 'outputTokens' | 'costUsd' | 'host' | 'discardedAt' | 'prOpen' | 'launchedBy'> & { launchedBy?: string | null }): RunRow {
    const now = Date.now();
    const id = randomUUID();
    this.sql(
      `INSERT INTO symphony_runs (id, ticket_id, ticket_slug, ticket, repo_path, worktree_path, branch, base_branch, work_dir, provider, model,
        status, phase, reason, iteration, completed_iteration, max_iterations, session_id, started_at, updated_at, last_error, plan,
        plan_accepted, auto_approve_plan, current_task_id, options, follow_pr, pr_rounds, pr_number, pr_url, pending_feedback, launched_by)
       VALUES (@id, @ticketId, @ticketSlug, @ticket, @repoPath, @worktreePath, @branch, @baseBranch, @workDir, @provider, @model,
        @status, @phase, @reason, @iteration, @completedIteration, @maxIterations, @sessionId, @now, @now, @lastError, @plan,
        @planAccepted, @autoApprovePlan, @currentTaskId, @options, @followPr, @prRounds, @prNumber, @prUrl, @pendingFeedback, @launchedBy)`,
    ).run({
      ...input, id, now, launchedBy: input.launchedBy ?? null, ticket: JSON.stringify(input.ticket), plan: input.plan ? JSON.stringify(input.plan) : null,
      options: JSON.stringify(input.options), pendingFeedback: JSON.stringify(input.pendingFeedback),
      planAccepted: input.planAccepted ? 1 : 0, autoApprovePlan: input.autoApprovePlan ? 1 : 0, followPr: input.followPr ? 1 : 0,
    });
    return this.require(id);
  }

  get(id: string): RunRow | null {
    const row = this.sql('SELECT * FROM symphony_runs WHERE id = ?').get(id) as DbRow | undefined;
    return row ? fromRow(row) : null;
  }

  require(id: string): RunRow {
    const row = this.get(id);
    if (!row) throw new Error(`run ${id} not found`);
    return row;
  }

  /** The ticket's latest run in this repository. */
  latest(repoPath: string, ticketSlug: string): RunRow | null {
    const row = this
      .sql('SELECT * FROM symphony_runs WHERE repo_path = ? AND ticket_slug = ? ORDER BY started_at DESC, rowid DESC LIMIT 1')
      .get(repoPath, ticketSlug) as DbRow | undefined;
    return row ? fromRow(row) : null;
  }

  /** The latest run of a ticket in any repository (routes that get no repo). */
  latestByTicket(ticketSlug: string): RunRow | null {
    const row = this
      .sql('SELECT * FROM symphony_runs WHERE ticket_slug = ? ORDER BY started_at DESC, rowid DESC LIMIT 1')
      .get(ticketSlug) as DbRow | undefined;
    return row ? fromRow(row) : null;
  }

  list(): RunRow[] {
    return (this.sql('SELECT * FROM symphony_runs ORDER BY started_at DESC, rowid DESC').all() as DbRow[]).map(fromRow);
  }

  /** Runs a host may be working on right now. */
  active(): RunRow[] {
    return (this.sql("SELECT * FROM symphony_runs WHERE status IN ('STARTING', 'IN_PROGRESS')").all() as DbRow[]).map(fromRow);
  }

  byHostPid(pid: number): RunRow | null {
    const row = this.sql('SELECT * FROM symphony_runs WHERE host_pid = ? ORDER BY started_at DESC LIMIT 1').get(pid) as DbRow | undefined;
    return row ? fromRow(row) : null;
  }

  update(id: string, changes: RunUpdate): void {
    const sets: string[] = ['updated_at = @updatedAt'];
    const values: Record<string, unknown> = { id, updatedAt: Date.now() };
    for (const [key, value] of Object.entries(changes)) {
      const column = COLUMNS[key];
      if (!column) throw new Error(`not a run column: ${key}`);
      sets.push(`${column} = @${key}`);
      values[key] = JSON_FIELDS.has(key) ? (value === null ? null : JSON.stringify(value)) : BOOL_FIELDS.has(key) ? (value ? 1 : 0) : value;
    }
    this.db.prepare(`UPDATE symphony_runs SET ${sets.join(', ')} WHERE id = @id`).run(values);
  }

  /**
   * Moves a run to `status` only while it is still in one of `from`: the host and the
   * gateway can both end a run (kill, crash), and the first one wins. True when it moved.
   */
  transition(id: string, from: readonly RunStatus[], changes: RunUpdate & { status: RunStatus }): boolean {
    return this.db.transaction(() => {
      const current = this.get(id);
      if (!current || !from.includes(current.status)) return false;
      this.update(id, changes);
      return true;
    }).immediate();
  }

  /** Moves the PR ask of a run from `from` to `to` (one process, one attempt at a time). True when it moved. */
  movePrOpen(id: string, from: PrOpenState['state'], to: Pick<PrOpenState, 'state' | 'note'>): boolean {
    return this.db.transaction(() => {
      const current = this.get(id)?.prOpen;
      if (!current || current.state !== from) return false;
      this.update(id, { prOpen: { ...current, ...to, at: Date.now() } });
      return true;
    }).immediate();
  }

  setHost(id: string, host: ProcessIdentity | null): void {
    this.sql('UPDATE symphony_runs SET host_pid = ?, host_start_time = ?, host_boot_id = ?, updated_at = ? WHERE id = ?')
      .run(host?.pid ?? null, host?.procStartTime ?? null, host?.bootId ?? null, Date.now(), id);
  }

  /** A host leaving: clears the identity only if it is still its own (a new host may have been started for the run since). */
  clearHost(id: string, pid: number): void {
    this.sql('UPDATE symphony_runs SET host_pid = NULL, host_start_time = NULL, host_boot_id = NULL, updated_at = ? WHERE id = ? AND host_pid = ?')
      .run(Date.now(), id, pid);
  }

  addUsage(id: string, usage: { inputTokens: number; outputTokens: number; costUsd: number }): void {
    this.sql('UPDATE symphony_runs SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, cost_usd = cost_usd + ?, updated_at = ? WHERE id = ?')
      .run(usage.inputTokens, usage.outputTokens, usage.costUsd, Date.now(), id);
  }

  startIteration(runId: string, iteration: number, kind: IterationRow['kind'], prompt: string): void {
    this.sql(
      `INSERT INTO symphony_run_iterations (run_id, iteration, kind, prompt, outcome, started_at) VALUES (?, ?, ?, ?, 'running', ?)
       ON CONFLICT(run_id, iteration) DO UPDATE SET kind = excluded.kind, prompt = excluded.prompt, outcome = 'running',
         started_at = excluded.started_at, ended_at = NULL, answer = '', judges = NULL`,
    ).run(runId, iteration, kind, prompt, Date.now());
  }

  endIteration(runId: string, iteration: number, end: { answer: string; outcome: string; usage: { inputTokens: number; outputTokens: number; costUsd: number } }): void {
    this.sql(
      `UPDATE symphony_run_iterations SET answer = ?, outcome = ?, ended_at = ?, input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,
        cost_usd = cost_usd + ? WHERE run_id = ? AND iteration = ?`,
    ).run(end.answer, end.outcome, Date.now(), end.usage.inputTokens, end.usage.outputTokens, end.usage.costUsd, runId, iteration);
  }

  setJudges(runId: string, iteration: number, report: JudgesReport): void {
    this.sql('UPDATE symphony_run_iterations SET judges = ? WHERE run_id = ? AND iteration = ?').run(JSON.stringify(report), runId, iteration);
  }

  iterations(runId: string): IterationRow[] {
    const rows = this.sql('SELECT * FROM symphony_run_iterations WHERE run_id = ? ORDER BY iteration').all(runId) as Array<Record<string, unknown>>;
    return rows.map((row) => ({
      runId: String(row.run_id), iteration: Number(row.iteration), kind: row.kind as IterationRow['kind'], prompt: String(row.prompt),
      answer: String(row.answer), outcome: String(row.outcome), startedAt: Number(row.started_at), endedAt: (row.ended_at as number | null) ?? null,
      inputTokens: Number(row.input_tokens), outputTokens: Number(row.output_tokens), costUsd: Number(row.cost_usd),
      judges: row.judges ? (JSON.parse(String(row.judges)) as JudgesReport) : null,
    }));
  }

  /** The newest judges report of the run. */
  latestJudges(runId: string): JudgesReport | null {
    const row = this
      .sql('SELECT judges FROM symphony_run_iterations WHERE run_id = ? AND judges IS NOT NULL ORDER BY iteration DESC LIMIT 1')
      .get(runId) as { judges: string } | undefined;
    return row ? (JSON.parse(row.judges) as JudgesReport) : null;
  }

  /** Records feedback not seen before; returns the keys that were new. */
  addFeedback(runId: string, items: Array<Omit<FeedbackRow, 'runId' | 'seenAt' | 'addressedIteration'>>): string[] {
    const fresh: string[] = [];
    this.db.transaction(() => {
      for (const item of items) {
        const result = this.sql(
          `INSERT INTO symphony_run_feedback (run_id, key, kind, author, summary, body, url, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(run_id, key) DO NOTHING`,
        ).run(runId, item.key, item.kind, item.author, item.summary, item.body, item.url, Date.now());
        if (result.changes > 0) fresh.push(item.key);
      }
    }).immediate();
    return fresh;
  }

  feedback(runId: string): FeedbackRow[] {
    const rows = this.sql('SELECT * FROM symphony_run_feedback WHERE run_id = ? ORDER BY seen_at, key').all(runId) as Array<Record<string, unknown>>;
    return rows.map((row) => ({
      runId: String(row.run_id), key: String(row.key), kind: row.kind as FeedbackRow['kind'], author: (row.author as string | null) ?? null,
      summary: String(row.summary), body: String(row.body), url: (row.url as string | null) ?? null, seenAt: Number(row.seen_at),
      addressedIteration: (row.addressed_iteration as number | null) ?? null,
    }));
  }

  markAddressed(runId: string, keys: readonly string[], iteration: number): void {
    this.db.transaction(() => {
      for (const key of keys) this.sql('UPDATE symphony_run_feedback SET addressed_iteration = ? WHERE run_id = ? AND key = ?').run(iteration, runId, key);
    }).immediate();
  }

  private sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }
}

function fromRow(row: DbRow): RunRow {
  return {
    id: row.id, ticketId: row.ticket_id, ticketSlug: row.ticket_slug, ticket: JSON.parse(row.ticket) as Ticket, repoPath: row.repo_path,
    worktreePath: row.worktree_path, branch: row.branch, baseBranch: row.base_branch, workDir: row.work_dir, provider: row.provider as ProviderId,
    model: row.model, status: row.status, phase: row.phase, reason: row.reason, iteration: row.iteration, completedIteration: row.completed_iteration,
    maxIterations: row.max_iterations, sessionId: row.session_id,
    host: row.host_pid ? { pid: row.host_pid, procStartTime: row.host_start_time, bootId: row.host_boot_id } : null,
    startedAt: row.started_at, updatedAt: row.updated_at, endedAt: row.ended_at, inputTokens: row.input_tokens, outputTokens: row.output_tokens,
    costUsd: row.cost_usd, lastError: row.last_error, plan: row.plan ? (JSON.parse(row.plan) as RunPlan) : null, planAccepted: row.plan_accepted === 1,
    autoApprovePlan: row.auto_approve_plan === 1, currentTaskId: row.current_task_id, options: JSON.parse(row.options) as RunOptions,
    followPr: row.follow_pr === 1, prRounds: row.pr_rounds, prNumber: row.pr_number, prUrl: row.pr_url,
    pendingFeedback: JSON.parse(row.pending_feedback) as string[], discardedAt: row.discarded_at,
    prOpen: row.pr_open ? (JSON.parse(row.pr_open) as PrOpenState) : null, launchedBy: row.launched_by,
  };
}
