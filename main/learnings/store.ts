// Learnings in SQLite: pending learnings per ticket (what an extraction found), the pattern
// store they merge into, each ticket's extraction/processing status, the uses of patterns
// with their outcomes, and the process-all batch (a queue that outlives a restart).
import path from 'node:path';
import type { PendingLearning, Pattern } from '../../shared/schemas/learnings.js';
import { migrate, type Db } from '../store/database.js';

export type StatusKind = 'extraction' | 'processing';

export interface TicketStatus {
  status: string;
  count: number;
  message?: string;
  malformed?: Array<{ index: number; issues: string[] }>;
  updatedAt: string;
}

export interface BatchItem {
  repoPath: string;
  ticketId: string;
  done: boolean;
}

export interface BatchJob {
  id: string;
  status: 'processing' | 'completed' | 'error';
  items: BatchItem[];
  totalPending: number;
  merged: number;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

interface PatternRow {
  n: number;
  category: Pattern['category'];
  summary: string;
  confidence: number;
  seen_count: number;
  success_count: number;
  failure_count: number;
  applies_to: string;
  context: string;
  repo: string;
  last_seen_at: number;
  last_used_at: number | null;
}

const STALE_MS = 90 * 24 * 3_600_000;
const MAX_LIST = 20;

/** The same lesson worded with other case or punctuation is the same pattern. */
export function summaryKey(summary: string): string {
  return summary.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

export class LearningsStore {
  constructor(private readonly db: Db) {
    migrate(db, 'learnings', [
      `CREATE TABLE learning_pending (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        repo_path TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        learning TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX learning_pending_by_ticket ON learning_pending (repo_path, ticket_id);
      CREATE TABLE learning_patterns (
        n INTEGER PRIMARY KEY AUTOINCREMENT,
        category TEXT NOT NULL,
        summary TEXT NOT NULL,
        summary_key TEXT NOT NULL,
        confidence REAL NOT NULL,
        seen_count INTEGER NOT NULL,
        success_count INTEGER NOT NULL DEFAULT 0,
        failure_count INTEGER NOT NULL DEFAULT 0,
        applies_to TEXT NOT NULL,
        context TEXT NOT NULL,
        repo TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        last_used_at INTEGER,
        UNIQUE (category, summary_key, repo)
      );
      CREATE TABLE learning_status (
        repo_path TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (repo_path, ticket_id, kind)
      );
      CREATE TABLE learning_uses (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        pattern_n INTEGER REFERENCES learning_patterns(n) ON DELETE SET NULL,
        summary TEXT NOT NULL,
        repo_path TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE TABLE learning_jobs (
        id TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        started_at INTEGER NOT NULL
      );`,
    ]);
  }

  addPending(repoPath: string, ticketId: string, learnings: readonly PendingLearning[]): void {
    const insert = this.db.prepare('INSERT INTO learning_pending (repo_path, ticket_id, learning, created_at) VALUES (?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const learning of learnings) insert.run(repoPath, ticketId, JSON.stringify(learning), Date.now());
    }).immediate();
  }

  pendingCount(repoPath: string, ticketId: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM learning_pending WHERE repo_path = ? AND ticket_id = ?').get(repoPath, ticketId) as { n: number }).n;
  }

  /** Every ticket with pending learnings, with how many. */
  pendingByTicket(): Array<{ repoPath: string; ticketId: string; count: number }> {
    return (
      this.db.prepare('SELECT repo_path, ticket_id, count(*) AS n FROM learning_pending GROUP BY repo_path, ticket_id ORDER BY min(id)').all() as Array<{
        repo_path: string;
        ticket_id: string;
        n: number;
      }>
    ).map((row) => ({ repoPath: row.repo_path, ticketId: row.ticket_id, count: row.n }));
  }

  /**
   * Merges one ticket's pending learnings into the patterns and deletes them, in one
   * transaction (with `alsoInTransaction`, e.g. the batch's progress), so a crash either
   * merges a ticket's learnings once or not at all.
   */
  mergePending(repoPath: string, ticketId: string, alsoInTransaction?: (merged: number) => void): { merged: number; created: number } {
    return this.db.transaction(() => {
      const rows = this.db.prepare('SELECT id, learning FROM learning_pending WHERE repo_path = ? AND ticket_id = ? ORDER BY id').all(repoPath, ticketId) as Array<{ id: number; learning: string }>;
      let created = 0;
      const repo = path.basename(repoPath);
      const now = Date.now();
      for (const row of rows) {
        const learning = JSON.parse(row.learning) as PendingLearning;
        const key = summaryKey(learning.summary);
        const existing = this.db.prepare('SELECT * FROM learning_patterns WHERE category = ? AND summary_key = ? AND repo = ?').get(learning.category, key, repo) as PatternRow | undefined;
        if (existing) {
          const seen = existing.seen_count + 1;
          this.db
            .prepare('UPDATE learning_patterns SET seen_count = ?, confidence = ?, applies_to = ?, context = ?, last_seen_at = ? WHERE n = ?')
            .run(
              seen,
              (existing.confidence * existing.seen_count + learning.confidence) / seen,
              JSON.stringify(union(JSON.parse(existing.applies_to) as string[], learning.applies_to)),
              JSON.stringify(union(JSON.parse(existing.context) as string[], learning.context)),
              now,
              existing.n,
            );
        } else {
          this.db
            .prepare(
              `INSERT INTO learning_patterns (category, summary, summary_key, confidence, seen_count, applies_to, context, repo, created_at, last_seen_at)
               VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
            )
            .run(learning.category, learning.summary, key, learning.confidence, JSON.stringify(union([], learning.applies_to)), JSON.stringify(union([], learning.context)), repo, now, now);
          created++;
        }
        this.db.prepare('DELETE FROM learning_pending WHERE id = ?').run(row.id);
      }
      alsoInTransaction?.(rows.length);
      return { merged: rows.length, created };
    }).immediate();
  }

  patterns(options: { repo?: string; now?: number } = {}): Pattern[] {
    const rows = (
      options.repo === undefined
        ? this.db.prepare('SELECT * FROM learning_patterns ORDER BY n').all()
        : this.db.prepare("SELECT * FROM learning_patterns WHERE repo IN (?, '*') ORDER BY n").all(options.repo)
    ) as PatternRow[];
    return rows.map((row) => toPattern(row, options.now ?? Date.now()));
  }

  /** A use of a pattern (found by id, else by summary) with the run's outcome; unknown ones are still logged. */
  recordUse(input: { repoPath: string; ticketId: string; id?: string; summary: string; outcome: 'applied' | 'success' | 'failure' }): Pattern | null {
    return this.db.transaction(() => {
      const n = input.id?.startsWith('pattern-') ? Number(input.id.slice('pattern-'.length)) : NaN;
      const row = (Number.isInteger(n)
        ? this.db.prepare('SELECT * FROM learning_patterns WHERE n = ?').get(n)
        : this.db.prepare('SELECT * FROM learning_patterns WHERE summary_key = ? ORDER BY n LIMIT 1').get(summaryKey(input.summary))) as PatternRow | undefined;
      const now = Date.now();
      this.db
        .prepare('INSERT INTO learning_uses (pattern_n, summary, repo_path, ticket_id, outcome, at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(row?.n ?? null, input.summary, input.repoPath, input.ticketId, input.outcome, now);
      if (!row) return null;
      this.db
        .prepare('UPDATE learning_patterns SET seen_count = seen_count + 1, success_count = success_count + ?, failure_count = failure_count + ?, last_used_at = ? WHERE n = ?')
        .run(input.outcome === 'success' ? 1 : 0, input.outcome === 'failure' ? 1 : 0, now, row.n);
      return toPattern(this.db.prepare('SELECT * FROM learning_patterns WHERE n = ?').get(row.n) as PatternRow, now);
    }).immediate();
  }

  getStatus(repoPath: string, ticketId: string, kind: StatusKind): TicketStatus | null {
    const row = this.db.prepare('SELECT value FROM learning_status WHERE repo_path = ? AND ticket_id = ? AND kind = ?').get(repoPath, ticketId, kind) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as TicketStatus) : null;
  }

  /** The latest status of a ticket in any repository (the status route may omit the repository). */
  latestStatus(ticketId: string, kind: StatusKind): TicketStatus | null {
    const rows = this.db.prepare('SELECT value FROM learning_status WHERE ticket_id = ? AND kind = ?').all(ticketId, kind) as Array<{ value: string }>;
    const statuses = rows.map((row) => JSON.parse(row.value) as TicketStatus);
    return statuses.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0] ?? null;
  }

  setStatus(repoPath: string, ticketId: string, kind: StatusKind, status: Omit<TicketStatus, 'updatedAt'>): TicketStatus {
    const value: TicketStatus = { ...status, updatedAt: new Date().toISOString() };
    this.db
      .prepare('INSERT INTO learning_status (repo_path, ticket_id, kind, value) VALUES (?, ?, ?, ?) ON CONFLICT(repo_path, ticket_id, kind) DO UPDATE SET value = excluded.value')
      .run(repoPath, ticketId, kind, JSON.stringify(value));
    return value;
  }

  /** Extractions recorded as running died with an earlier gateway. */
  interruptExtractions(): number {
    const rows = this.db.prepare("SELECT repo_path, ticket_id, value FROM learning_status WHERE kind = 'extraction'").all() as Array<{ repo_path: string; ticket_id: string; value: string }>;
    let count = 0;
    for (const row of rows) {
      const status = JSON.parse(row.value) as TicketStatus;
      if (status.status !== 'processing') continue;
      this.setStatus(row.repo_path, row.ticket_id, 'extraction', { status: 'error', count: 0, message: 'The gateway restarted during the extraction; extract again.' });
      count++;
    }
    return count;
  }

  saveJob(job: BatchJob): void {
    this.db
      .prepare('INSERT INTO learning_jobs (id, value, started_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET value = excluded.value')
      .run(job.id, JSON.stringify(job), Date.parse(job.startedAt));
  }

  latestJob(): BatchJob | null {
    const row = this.db.prepare('SELECT value FROM learning_jobs ORDER BY started_at DESC, rowid DESC LIMIT 1').get() as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as BatchJob) : null;
  }
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].slice(0, MAX_LIST);
}

function toPattern(row: PatternRow, now: number): Pattern {
  const outcomes = row.success_count + row.failure_count;
  const successRate = outcomes ? row.success_count / outcomes : 0;
  const flags: Pattern['flags'] = [];
  if (outcomes === 0) flags.push('[UNTESTED]');
  if (outcomes >= 5 && successRate < 0.2) flags.push('[PRUNE]');
  else if (outcomes >= 3 && successRate < 0.5) flags.push('[REVIEW]');
  if (now - Math.max(row.last_seen_at, row.last_used_at ?? 0) > STALE_MS) flags.push('[STALE]');
  return {
    id: `pattern-${row.n}`,
    category: row.category,
    summary: row.summary,
    confidence: Math.round(row.confidence * 100) / 100,
    seen_count: row.seen_count,
    success_rate: Math.round(successRate * 100) / 100,
    flags,
    applies_to: JSON.parse(row.applies_to) as string[],
    context: JSON.parse(row.context) as string[],
    repo: row.repo,
  };
}
