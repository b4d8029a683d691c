// Reviews in SQLite: each run (who reviewed which ticket, where, how it went, its log
// file and verdict), the findings per ticket and reviewer (the current set, and earlier
// sets kept so a re-review can tell what was already commented or dismissed), the
// declined mark. A scope is (main checkout, ticket, reviewer).
import { randomUUID } from 'node:crypto';
import type { Finding, Verdict } from '../../shared/schemas/review.js';
import { migrate, type Db } from '../store/database.js';
import type { ExtractedFinding } from './extract.js';

export type ReviewProvider = 'codex' | 'claude';
export type RunStatus = 'running' | 'completed' | 'failed' | 'stopped' | 'interrupted';
export type FindingStatus = Finding['status'];

export interface ReviewScope {
  repoPath: string;
  ticketId: string;
  provider: ReviewProvider;
}

export interface ReviewConfig {
  model: string | null;
  reasoningEffort: string | null;
  reviewMode: 'base' | 'uncommitted';
  baseBranch: string | null;
  instructions: string | null;
  branchName: string | null;
  useBaseRepo: boolean;
}

export interface ReviewRun {
  id: string;
  repoPath: string;
  ticketId: string;
  provider: ReviewProvider;
  cwd: string;
  status: RunStatus;
  pid: number | null;
  sessionId: string | null;
  startedAt: string;
  completedAt: string | null;
  exitCode: number | null;
  config: ReviewConfig;
  logPath: string;
  verdict: Verdict | null;
  summary: string | null;
  /** callerKey of who started the review: a remote caller reaches only its own runs' sessions. Null: before callers were recorded. */
  caller: string | null;
}

interface RunRow {
  id: string;
  repo_path: string;
  ticket_id: string;
  provider: ReviewProvider;
  cwd: string;
  status: RunStatus;
  pid: number | null;
  session_id: string | null;
  started_at: number;
  completed_at: number | null;
  exit_code: number | null;
  config: string;
  log_path: string;
  verdict: string | null;
  summary: string | null;
  caller: string | null;
}

interface FindingRow {
  id: string;
  provider: ReviewProvider;
  run_id: string | null;
  position: number;
  severity: Finding['severity'];
  priority: Finding['priority'];
  file: string | null;
  line: number | null;
  end_line: number | null;
  title: string;
  body: string;
  suggestion: string | null;
  confidence: number | null;
  status: FindingStatus;
  humanized_body: string | null;
  duplicate_of: string | null;
  created_at: number;
}

/** A finding to store: what a reviewer reported, with our status and the earlier finding it repeats. */
export interface NewFinding extends ExtractedFinding {
  status?: FindingStatus;
  humanizedBody?: string | null;
  duplicateOf?: string | null;
}

const SCOPE = 'repo_path = ? AND ticket_id = ? AND provider = ?';

export class ReviewStore {
  constructor(private readonly db: Db) {
    migrate(db, 'reviews', [
      `CREATE TABLE review_runs (
        id TEXT PRIMARY KEY,
        repo_path TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        provider TEXT NOT NULL CHECK (provider IN ('codex', 'claude')),
        cwd TEXT NOT NULL,
        status TEXT NOT NULL,
        pid INTEGER,
        session_id TEXT,
        started_at INTEGER NOT NULL,
        completed_at INTEGER,
        exit_code INTEGER,
        config TEXT NOT NULL,
        log_path TEXT NOT NULL,
        verdict TEXT,
        summary TEXT
      );
      CREATE INDEX review_runs_by_scope ON review_runs(repo_path, ticket_id, provider, started_at);
      CREATE INDEX review_runs_by_session ON review_runs(session_id);
      CREATE TABLE review_findings (
        id TEXT PRIMARY KEY,
        repo_path TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        provider TEXT NOT NULL CHECK (provider IN ('codex', 'claude')),
        run_id TEXT REFERENCES review_runs(id) ON DELETE SET NULL,
        current INTEGER NOT NULL,
        position INTEGER NOT NULL,
        severity TEXT NOT NULL,
        priority TEXT NOT NULL,
        file TEXT,
        line INTEGER,
        end_line INTEGER,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        suggestion TEXT,
        confidence REAL,
        status TEXT NOT NULL CHECK (status IN ('open', 'commented', 'dismissed', 'fixed')),
        humanized_body TEXT,
        duplicate_of TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX review_findings_by_scope ON review_findings(repo_path, ticket_id, provider, current, position);
      CREATE TABLE review_meta (
        repo_path TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT,
        declined INTEGER NOT NULL DEFAULT 0,
        decline_reason TEXT,
        PRIMARY KEY (repo_path, ticket_id, provider)
      );`,
      // Who started the run (auth/caller.ts callerKey): its session is theirs to resume.
      `ALTER TABLE review_runs ADD COLUMN caller TEXT;`,
    ]);
  }

  // Runs

  createRun(run: Omit<ReviewRun, 'status' | 'pid' | 'sessionId' | 'completedAt' | 'exitCode' | 'verdict' | 'summary' | 'startedAt' | 'caller'> & { caller?: string | null }): ReviewRun {
    const startedAt = Date.now();
    this.db
      .prepare(
        `INSERT INTO review_runs (id, repo_path, ticket_id, provider, cwd, status, started_at, config, log_path, caller)
         VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)`,
      )
      .run(run.id, run.repoPath, run.ticketId, run.provider, run.cwd, startedAt, JSON.stringify(run.config), run.logPath, run.caller ?? null);
    return this.run(run.id)!;
  }

  run(id: string): ReviewRun | null {
    const row = this.db.prepare('SELECT * FROM review_runs WHERE id = ?').get(id) as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  /** The scope's newest run; `ownedBy`: the newest that caller started (null: anyone's). */
  latestRun(scope: ReviewScope, ownedBy: string | null = null): ReviewRun | null {
    const row = this.db
      .prepare(`SELECT * FROM review_runs WHERE ${SCOPE} AND (? IS NULL OR caller = ?) ORDER BY started_at DESC, rowid DESC LIMIT 1`)
      .get(scope.repoPath, scope.ticketId, scope.provider, ownedBy, ownedBy) as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  /** The ticket's run that has this CLI session, for extract and verdict; `ownedBy`: only a run that caller started (null: any). */
  runBySession(repoPath: string, ticketId: string, sessionId: string, provider: ReviewProvider | undefined, ownedBy: string | null): ReviewRun | null {
    const row = this.db
      .prepare(
        `SELECT * FROM review_runs WHERE repo_path = ? AND ticket_id = ? AND session_id = ? AND (? IS NULL OR provider = ?) AND (? IS NULL OR caller = ?)
         ORDER BY CASE provider WHEN 'claude' THEN 0 ELSE 1 END, started_at DESC LIMIT 1`,
      )
      .get(repoPath, ticketId, sessionId, provider ?? null, provider ?? null, ownedBy, ownedBy) as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  updateRun(id: string, patch: Partial<Pick<ReviewRun, 'pid' | 'sessionId' | 'status' | 'exitCode' | 'summary' | 'verdict'>>): void {
    const columns: Record<string, unknown> = {};
    if (patch.pid !== undefined) columns.pid = patch.pid;
    if (patch.sessionId !== undefined) columns.session_id = patch.sessionId;
    if (patch.exitCode !== undefined) columns.exit_code = patch.exitCode;
    if (patch.summary !== undefined) columns.summary = patch.summary;
    if (patch.verdict !== undefined) columns.verdict = patch.verdict ? JSON.stringify(patch.verdict) : null;
    if (patch.status !== undefined) {
      columns.status = patch.status;
      if (patch.status !== 'running') columns.completed_at = Date.now();
    }
    const names = Object.keys(columns);
    if (!names.length) return;
    this.db.prepare(`UPDATE review_runs SET ${names.map((name) => `${name} = @${name}`).join(', ')} WHERE id = @id`).run({ ...columns, id });
  }

  /** Runs recorded as running that this process does not run: a gateway restart ended them. */
  markInterrupted(isLive: (runId: string) => boolean, runId?: string): string[] {
    const rows = this.db
      .prepare("SELECT id FROM review_runs WHERE status = 'running' AND (? IS NULL OR id = ?)")
      .all(runId ?? null, runId ?? null) as Array<{ id: string }>;
    const stale = rows.map((row) => row.id).filter((id) => !isLive(id));
    for (const id of stale) this.updateRun(id, { status: 'interrupted' });
    return stale;
  }

  /**
   * Forgets a scope's runs, findings, and declined mark; returns the log files to delete.
   * `ownedBy`: only the runs that caller started and the findings they found (others' stay).
   */
  forget(scope: ReviewScope, ownedBy: string | null = null): { runs: number; logPaths: string[] } {
    return this.db.transaction(() => {
      const args = [scope.repoPath, scope.ticketId, scope.provider];
      if (ownedBy !== null) {
        const mine = `${SCOPE} AND caller = ?`;
        const logs = this.db.prepare(`SELECT log_path FROM review_runs WHERE ${mine} ORDER BY started_at, rowid`).all(...args, ownedBy) as Array<{ log_path: string }>;
        this.db.prepare(`DELETE FROM review_findings WHERE run_id IN (SELECT id FROM review_runs WHERE ${mine})`).run(...args, ownedBy);
        const runs = this.db.prepare(`DELETE FROM review_runs WHERE ${mine}`).run(...args, ownedBy).changes;
        return { runs, logPaths: logs.map((row) => row.log_path) };
      }
      const logs = this.db.prepare(`SELECT log_path FROM review_runs WHERE ${SCOPE} ORDER BY started_at, rowid`).all(...args) as Array<{ log_path: string }>;
      this.db.prepare(`DELETE FROM review_findings WHERE ${SCOPE}`).run(...args);
      this.db.prepare(`DELETE FROM review_meta WHERE ${SCOPE}`).run(...args);
      const runs = this.db.prepare(`DELETE FROM review_runs WHERE ${SCOPE}`).run(...args).changes;
      return { runs, logPaths: logs.map((row) => row.log_path) };
    }).immediate();
  }

  // Findings

  /** Replaces the scope's current findings (earlier ones stay, not current, for cross-run dedup). */
  replaceFindings(scope: ReviewScope, runId: string | null, findings: readonly NewFinding[], model: string | null): Finding[] {
    const now = Date.now();
    this.db.transaction(() => {
      const args = [scope.repoPath, scope.ticketId, scope.provider];
      this.db.prepare(`UPDATE review_findings SET current = 0 WHERE ${SCOPE} AND current = 1`).run(...args);
      const insert = this.db.prepare(
        `INSERT INTO review_findings (id, repo_path, ticket_id, provider, run_id, current, position, severity, priority, file, line,
           end_line, title, body, suggestion, confidence, status, humanized_body, duplicate_of, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      findings.forEach((finding, position) => {
        insert.run(
          randomUUID(), ...args, runId, position, finding.severity, finding.priority, finding.file, finding.line, finding.endLine,
          finding.title, finding.body, finding.suggestion, finding.confidence, finding.status ?? 'open', finding.humanizedBody ?? null,
          finding.duplicateOf ?? null, now, now,
        );
      });
      this.db
        .prepare(
          `INSERT INTO review_meta (repo_path, ticket_id, provider, model, declined) VALUES (?, ?, ?, ?, 0)
           ON CONFLICT (repo_path, ticket_id, provider) DO UPDATE SET model = excluded.model, declined = 0, decline_reason = NULL`,
        )
        .run(...args, model);
    }).immediate();
    return this.findings(scope);
  }

  findings(scope: ReviewScope): Finding[] {
    const rows = this.db
      .prepare(`SELECT * FROM review_findings WHERE ${SCOPE} AND current = 1 ORDER BY position`)
      .all(scope.repoPath, scope.ticketId, scope.provider) as FindingRow[];
    return rows.map(toFinding);
  }

  /** The ticket's findings that were commented or dismissed, in any run and by either reviewer. */
  settledFindings(repoPath: string, ticketId: string): Finding[] {
    const rows = this.db
      .prepare("SELECT * FROM review_findings WHERE repo_path = ? AND ticket_id = ? AND status IN ('commented', 'dismissed') ORDER BY created_at")
      .all(repoPath, ticketId) as FindingRow[];
    return rows.map(toFinding);
  }

  finding(id: string): (Finding & { repoPath: string; ticketId: string }) | null {
    const row = this.db.prepare('SELECT * FROM review_findings WHERE id = ?').get(id) as (FindingRow & { repo_path: string; ticket_id: string }) | undefined;
    return row ? { ...toFinding(row), repoPath: row.repo_path, ticketId: row.ticket_id } : null;
  }

  /** The current finding at `index` (the web client's id is its index), or null. */
  findingAt(scope: ReviewScope, index: number): Finding | null {
    return this.findings(scope).find((finding) => finding.index === index) ?? null;
  }

  setStatus(id: string, status: FindingStatus, humanizedBody?: string): boolean {
    const result = this.db
      .prepare('UPDATE review_findings SET status = ?, humanized_body = COALESCE(?, humanized_body), updated_at = ? WHERE id = ?')
      .run(status, humanizedBody ?? null, Date.now(), id);
    return result.changes > 0;
  }

  meta(scope: ReviewScope): { model: string | null; declined: boolean; declineReason: string | null } | null {
    const row = this.db.prepare(`SELECT model, declined, decline_reason FROM review_meta WHERE ${SCOPE}`).get(scope.repoPath, scope.ticketId, scope.provider) as
      | { model: string | null; declined: number; decline_reason: string | null }
      | undefined;
    return row ? { model: row.model, declined: row.declined === 1, declineReason: row.decline_reason } : null;
  }

  decline(scope: ReviewScope, reason: string | null): void {
    this.db
      .prepare(
        `INSERT INTO review_meta (repo_path, ticket_id, provider, declined, decline_reason) VALUES (?, ?, ?, 1, ?)
         ON CONFLICT (repo_path, ticket_id, provider) DO UPDATE SET declined = 1, decline_reason = excluded.decline_reason`,
      )
      .run(scope.repoPath, scope.ticketId, scope.provider, reason);
  }
}

function toRun(row: RunRow): ReviewRun {
  return {
    id: row.id, repoPath: row.repo_path, ticketId: row.ticket_id, provider: row.provider, cwd: row.cwd, status: row.status, pid: row.pid,
    sessionId: row.session_id, startedAt: new Date(row.started_at).toISOString(),
    completedAt: row.completed_at === null ? null : new Date(row.completed_at).toISOString(), exitCode: row.exit_code,
    config: JSON.parse(row.config) as ReviewConfig, logPath: row.log_path, verdict: row.verdict ? (JSON.parse(row.verdict) as Verdict) : null,
    summary: row.summary, caller: row.caller,
  };
}

function toFinding(row: FindingRow): Finding {
  const status = row.status;
  return {
    id: row.id, index: row.position, provider: row.provider, runId: row.run_id, severity: row.severity, priority: row.priority, file: row.file,
    line: row.line, endLine: row.end_line, title: row.title, body: row.body, message: row.body ? `${row.title}\n${row.body}` : row.title,
    suggestion: row.suggestion, confidence: row.confidence, status, commented: status === 'commented', humanizedBody: row.humanized_body,
    duplicateOf: row.duplicate_of, createdAt: new Date(row.created_at).toISOString(),
  };
}
