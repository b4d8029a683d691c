// Worktree retention: a finished run's worktree is removed some days (setting, default 7)
// after its branch was merged or the user discarded the run, never while it has
// uncommitted changes, and never while the run is live or resumable. The gateway prunes
// on a timer (setting `runs.autoPruneWorktrees`, default on); `symphony-gateway runs
// prune [--dry-run]` does the same on demand. Each worktree's size on disk is measured
// here too (a walk like `du`, in the background) and kept beside the retention facts.
import { lstat, opendir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { RetentionView, WorktreePruneOutcome } from '../../shared/runs.js';
import type { GitRunner } from '../git/runner.js';
import { migrate, type Db } from '../store/database.js';
import type { SettingsStore } from '../store/settings.js';
import type { RunRow, RunStore } from './run-store.js';

export const RETENTION_SETTINGS = {
  /** Days a merged or discarded run's worktree is kept (default 7). */
  days: 'runs.worktreeRetentionDays',
  /** The gateway prunes due worktrees by itself (default true); `runs prune` works either way. */
  auto: 'runs.autoPruneWorktrees',
} as const;

const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 7;
const CHECK_EVERY_MS = 10 * 60_000;
const FIRST_CHECK_MS = 5_000;
/** Statuses a run can end in and not be picked up again by a launch (without a discard). */
const FINISHED = new Set(['COMPLETED', 'STOPPED', 'FAILED']);

export interface RetentionFacts {
  /** The worktree folder is there. */
  exists: boolean;
  /** Its branch has commits of its own and all of them are on the default branch (null: unknown). */
  merged: boolean | null;
  /** When this gateway first saw the branch merged. */
  mergedSeenAt: number | null;
  /** It has uncommitted changes (null: unknown). */
  dirty: boolean | null;
}

/** What happens to a run's worktree, from facts alone (no I/O): the rule, testable. */
export function retentionDecision(run: Pick<RunRow, 'status' | 'discardedAt' | 'host'>, facts: RetentionFacts, days: number, now = Date.now()): RetentionView {
  if (!facts.exists) return { decision: 'removed', removeAfter: null, why: 'The worktree is gone.' };
  if (run.host || (!FINISHED.has(run.status) && run.discardedAt === null)) {
    return { decision: 'keep', removeAfter: null, why: `The run is ${run.status} (not finished): it can still go on.` };
  }
  const since = run.discardedAt ?? (facts.merged ? facts.mergedSeenAt : null);
  if (since === null) {
    return { decision: 'keep', removeAfter: null, why: facts.merged === null ? 'Whether its branch is merged is not known yet.' : 'Its branch is not merged and the run was not discarded.' };
  }
  const removeAfter = since + days * DAY_MS;
  const when = new Date(removeAfter).toISOString();
  if (facts.dirty !== false) {
    return { decision: 'keep', removeAfter: null, why: facts.dirty ? 'It has uncommitted changes (a worktree with changes is never removed).' : 'Its changes could not be checked.' };
  }
  if (now < removeAfter) return { decision: 'scheduled', removeAfter: when, why: `${run.discardedAt !== null ? 'Discarded' : 'Merged'}; removed after ${days} day(s).` };
  return { decision: 'remove', removeAfter: when, why: `${run.discardedAt !== null ? 'Discarded' : 'Merged'} more than ${days} day(s) ago.` };
}

/** Bytes on disk under `dir` (allocated blocks, like `du`; symlinks not followed). */
export async function diskUsage(dir: string, signal?: AbortSignal): Promise<number> {
  let total = 0;
  const pending = [dir];
  while (pending.length) {
    if (signal?.aborted) throw new Error('aborted');
    const current = pending.pop()!;
    let entries;
    try {
      entries = await opendir(current);
    } catch {
      continue;
    }
    for await (const entry of entries) {
      const full = path.join(current, entry.name);
      try {
        const stat = await lstat(full);
        total += stat.blocks ? stat.blocks * 512 : stat.size;
        if (entry.isDirectory()) pending.push(full);
      } catch {
        // Removed while walking.
      }
    }
  }
  return total;
}

export interface WorktreeRecord {
  runId: string;
  diskBytes: number | null;
  diskMeasuredAt: number | null;
  merged: boolean | null;
  mergedSeenAt: number | null;
  dirty: boolean | null;
  checkedAt: number | null;
  removedAt: number | null;
}

/** One worktree's prune outcome (the shape the route and `runs prune` answer with). */
export type PruneOutcome = WorktreePruneOutcome;

export interface WorktreeRetentionOptions {
  db: Db;
  settings: SettingsStore;
  runs: RunStore;
  git: GitRunner;
  /** The existing worktree removal (refuses a dirty worktree). */
  removeWorktree: (worktreePath: string) => Promise<unknown>;
  log: Logger;
}

export class WorktreeRetention {
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly options: WorktreeRetentionOptions) {
    migrate(options.db, 'symphony_worktree_retention', [
      `CREATE TABLE symphony_worktree_retention (
        run_id TEXT PRIMARY KEY REFERENCES symphony_runs(id) ON DELETE CASCADE,
        disk_bytes INTEGER,
        disk_measured_at INTEGER,
        merged INTEGER,
        merged_seen_at INTEGER,
        dirty INTEGER,
        checked_at INTEGER,
        removed_at INTEGER
      );`,
    ]);
  }

  days(): number {
    const days = this.options.settings.get<number>(RETENTION_SETTINGS.days);
    return typeof days === 'number' && days >= 0 ? days : DEFAULT_DAYS;
  }

  auto(): boolean {
    return this.options.settings.get<boolean>(RETENTION_SETTINGS.auto) !== false;
  }

  record(runId: string): WorktreeRecord | null {
    const row = this.options.db.prepare('SELECT * FROM symphony_worktree_retention WHERE run_id = ?').get(runId) as Record<string, number | null> | undefined;
    if (!row) return null;
    const bool = (value: number | null) => (value === null ? null : value === 1);
    return {
      runId, diskBytes: row.disk_bytes, diskMeasuredAt: row.disk_measured_at, merged: bool(row.merged), mergedSeenAt: row.merged_seen_at,
      dirty: bool(row.dirty), checkedAt: row.checked_at, removedAt: row.removed_at,
    };
  }

  /** The decision for a run from what was last checked (no I/O: the status routes call it). */
  view(run: RunRow): { disk: { bytes: number; measuredAt: string } | null; retention: RetentionView | null } {
    const record = this.record(run.id);
    const disk = record?.diskBytes != null && record.diskMeasuredAt ? { bytes: record.diskBytes, measuredAt: new Date(record.diskMeasuredAt).toISOString() } : null;
    if (record?.removedAt) return { disk: null, retention: { decision: 'removed', removeAfter: null, why: `Removed by retention at ${new Date(record.removedAt).toISOString()}.` } };
    if (!record?.checkedAt) return { disk, retention: null };
    return { disk, retention: retentionDecision(run, { exists: existsSync(run.worktreePath), merged: record.merged, mergedSeenAt: record.mergedSeenAt, dirty: record.dirty }, this.days()) };
  }

  /** Measures and checks one run's worktree now (size, merged, dirty). */
  async check(run: RunRow, signal?: AbortSignal): Promise<WorktreeRecord> {
    const now = Date.now();
    const previous = this.record(run.id);
    const exists = existsSync(run.worktreePath);
    let merged: boolean | null = null;
    let dirty: boolean | null = null;
    let diskBytes: number | null = null;
    if (exists) {
      [merged, dirty, diskBytes] = await Promise.all([
        branchMerged(this.options.git, run.repoPath, run.branch, signal),
        worktreeDirty(this.options.git, run.worktreePath, signal),
        diskUsage(run.worktreePath, signal).catch(() => null),
      ]);
    }
    const mergedSeenAt = merged ? (previous?.mergedSeenAt ?? now) : null;
    this.options.db
      .prepare(
        `INSERT INTO symphony_worktree_retention (run_id, disk_bytes, disk_measured_at, merged, merged_seen_at, dirty, checked_at)
         VALUES (@runId, @diskBytes, @measuredAt, @merged, @mergedSeenAt, @dirty, @now)
         ON CONFLICT(run_id) DO UPDATE SET disk_bytes = excluded.disk_bytes, disk_measured_at = excluded.disk_measured_at, merged = excluded.merged,
           merged_seen_at = excluded.merged_seen_at, dirty = excluded.dirty, checked_at = excluded.checked_at`,
      )
      .run({ runId: run.id, diskBytes, measuredAt: diskBytes === null ? null : now, merged: toInt(merged), mergedSeenAt, dirty: toInt(dirty), now });
    return this.record(run.id)!;
  }

  /**
   * Checks every run's worktree (the latest run of each worktree: an older run of the
   * same ticket shares it) and removes the due ones, unless `dryRun`.
   */
  async prune(options: { dryRun?: boolean; signal?: AbortSignal } = {}): Promise<PruneOutcome[]> {
    const outcomes: PruneOutcome[] = [];
    for (const run of latestPerWorktree(this.options.runs.list())) {
      if (this.record(run.id)?.removedAt) continue;
      const record = await this.check(run, options.signal);
      const retention = this.view(run).retention!;
      const base = { runId: run.id, ticketId: run.ticketId, worktreePath: run.worktreePath, diskBytes: record.diskBytes, retention };
      if (retention.decision !== 'remove') {
        if (retention.decision !== 'removed') outcomes.push({ ...base, action: 'kept' });
        continue;
      }
      if (options.dryRun) {
        outcomes.push({ ...base, action: 'would_remove' });
        continue;
      }
      try {
        await this.options.removeWorktree(run.worktreePath);
        this.options.db.prepare('UPDATE symphony_worktree_retention SET removed_at = ?, disk_bytes = NULL WHERE run_id = ?').run(Date.now(), run.id);
        this.options.log.info({ runId: run.id, worktreePath: run.worktreePath, why: retention.why }, 'removed a finished run\'s worktree');
        outcomes.push({ ...base, action: 'removed' });
      } catch (error) {
        outcomes.push({ ...base, action: 'failed', error: (error as Error).message });
      }
    }
    return outcomes;
  }

  /** Measures (and, when the setting allows, prunes) soon after start and then every few minutes. */
  start(): void {
    if (this.timer || this.closed) return;
    const schedule = (ms: number) => {
      this.timer = setTimeout(() => {
        this.checking ??= this.sweep().finally(() => (this.checking = null));
        if (!this.closed) schedule(CHECK_EVERY_MS);
      }, ms);
      this.timer.unref();
    };
    schedule(FIRST_CHECK_MS);
  }

  /** A run just ended: its worktree's size and state are measured again. */
  refresh(run: RunRow): void {
    void this.check(run).catch((error: unknown) => this.options.log.debug({ err: (error as Error).message, runId: run.id }, 'worktree check failed'));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.checking;
  }

  private async sweep(): Promise<void> {
    try {
      if (this.auto()) await this.prune();
      else for (const run of latestPerWorktree(this.options.runs.list())) if (!this.record(run.id)?.removedAt) await this.check(run);
    } catch (error) {
      this.options.log.warn({ err: (error as Error).message }, 'worktree retention sweep failed');
    }
  }
}

function toInt(value: boolean | null): number | null {
  return value === null ? null : value ? 1 : 0;
}

/** Runs newest first; one per worktree folder (a later run of a ticket reuses its worktree). */
export function latestPerWorktree(runs: RunRow[]): RunRow[] {
  const seen = new Set<string>();
  return runs.filter((run) => (seen.has(run.worktreePath) ? false : (seen.add(run.worktreePath), true)));
}

/**
 * Whether `branch` was merged into the default branch: it has commits of its own (its tip
 * is not where it was created, from the branch's reflog) and the tip is an ancestor of
 * origin/HEAD (else origin/main, main). A branch with no commits is never "merged" (it
 * would trivially be an ancestor); without a reflog the answer is "not merged" (keep).
 */
export async function branchMerged(git: GitRunner, repoPath: string, branch: string, signal?: AbortSignal): Promise<boolean | null> {
  const ref = `refs/heads/${branch}`;
  const tip = await git.raw(repoPath, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], 'rev-parse', { signal }).catch(() => null);
  if (!tip || tip.exitCode !== 0) return null;
  const reflog = await git.raw(repoPath, ['reflog', 'show', '--format=%H', ref, '--'], 'reflog', { signal }).catch(() => null);
  const created = reflog?.exitCode === 0 ? reflog.stdout.trim().split('\n').filter(Boolean).at(-1) : undefined;
  if (!created || created === tip.stdout.trim()) return false;
  const target = await defaultBranchRef(git, repoPath, signal);
  if (!target) return null;
  const merged = await git.raw(repoPath, ['merge-base', '--is-ancestor', ref, target], 'merge-base', { signal }).catch(() => null);
  return merged && (merged.exitCode === 0 || merged.exitCode === 1) ? merged.exitCode === 0 : null;
}

async function defaultBranchRef(git: GitRunner, repoPath: string, signal?: AbortSignal): Promise<string | null> {
  const head = await git.raw(repoPath, ['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD'], 'symbolic-ref', { signal }).catch(() => null);
  if (head?.exitCode === 0 && head.stdout.trim()) return head.stdout.trim();
  for (const candidate of ['refs/remotes/origin/main', 'refs/remotes/origin/master', 'refs/heads/main', 'refs/heads/master']) {
    const found = await git.raw(repoPath, ['rev-parse', '--verify', '--quiet', candidate], 'rev-parse', { signal }).catch(() => null);
    if (found?.exitCode === 0) return candidate;
  }
  return null;
}

async function worktreeDirty(git: GitRunner, worktreePath: string, signal?: AbortSignal): Promise<boolean | null> {
  const status = await git.raw(worktreePath, ['status', '--porcelain', '--untracked-files=all'], 'status', { signal }).catch(() => null);
  return status && status.exitCode === 0 ? status.stdout.trim() !== '' : null;
}
