// A cloud loop as one SQLite row, written by the gateway (start, host identity, a stop
// request, the finalisation of a loop whose host died) and by the loop's host (running,
// its outcome) on the same database (WAL). A loop ends exactly once: `finish` moves a live
// row to its end and queues its last calls to the cloud in one transaction, so a host and
// a gateway that both try can never both report it.
import type { LoopCommand } from '../../../shared/schemas/loops.js';
import { migrate, type Db } from '../../store/database.js';
import { liveLoopsLaunchedBy } from '../../store/live-launches.js';
import type { ProcessIdentity } from '../../supervisor/supervisor.js';
import { insertOutboxCall, type OutboxCall } from './outbox.js';

export type LoopStatus = 'initializing' | 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted' | 'stopped';

/** Why the gateway asked the host to stop: the user's kill, or the cloud's 410. */
export type StopRequest = 'cancelled' | 'gone';

export interface LoopRow {
  loopId: string;
  command: LoopCommand;
  status: LoopStatus;
  repoPath: string | null;
  worktreePath: string;
  workDir: string;
  /** The loop host's pid (the route's `pid`). */
  pid: number | null;
  host: ProcessIdentity | null;
  stopRequest: StopRequest | null;
  startedAt: number;
  endedAt: number | null;
  lastError: string | null;
  /** callerKey of whoever started it (the relay, for the cloud's loops): a remote caller's live loops count against its agent cap. */
  launchedBy: string | null;
}

interface DbRow {
  loop_id: string;
  command: LoopCommand;
  status: LoopStatus;
  repo_path: string | null;
  worktree_path: string;
  work_dir: string;
  pid: number | null;
  host_start_time: number | null;
  host_boot_id: string | null;
  stop_request: StopRequest | null;
  started_at: number;
  ended_at: number | null;
  last_error: string | null;
  launched_by: string | null;
}

const toRow = (r: DbRow): LoopRow => ({
  loopId: r.loop_id, command: r.command, status: r.status, repoPath: r.repo_path, worktreePath: r.worktree_path, workDir: r.work_dir,
  pid: r.pid, host: r.pid ? { pid: r.pid, procStartTime: r.host_start_time, bootId: r.host_boot_id } : null,
  stopRequest: r.stop_request, startedAt: r.started_at, endedAt: r.ended_at, lastError: r.last_error, launchedBy: r.launched_by,
});

export const LIVE_LOOP: readonly LoopStatus[] = ['initializing', 'running'];

export interface FinalCall {
  call: OutboxCall;
  body?: unknown;
  /** The loop's last word (completed or error): its token goes once this is settled. */
  final?: boolean;
}

export class LoopStore {
  constructor(private readonly db: Db) {}

  /** The table (the gateway calls this; a host opens a database the gateway made). */
  static migrate(db: Db): void {
    migrate(db, 'loops', [
      `CREATE TABLE loops (
        loop_id TEXT PRIMARY KEY,
        command TEXT NOT NULL,
        status TEXT NOT NULL,
        repo_path TEXT,
        worktree_path TEXT NOT NULL,
        work_dir TEXT NOT NULL,
        pid INTEGER,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        last_error TEXT
      )`,
      `ALTER TABLE loops ADD COLUMN host_start_time INTEGER;
       ALTER TABLE loops ADD COLUMN host_boot_id TEXT;
       ALTER TABLE loops ADD COLUMN stop_request TEXT;`,
      `ALTER TABLE loops ADD COLUMN launched_by TEXT;`,
    ]);
  }

  /** Live loops `key` started, straight from the database (any process's hosts): 0 where the table or column is not there yet. */
  static liveLaunchedBy(db: Db, key: string): number {
    return liveLoopsLaunchedBy(db, key);
  }

  get(loopId: string): LoopRow | undefined {
    const row = this.db.prepare('SELECT * FROM loops WHERE loop_id = ?').get(loopId) as DbRow | undefined;
    return row ? toRow(row) : undefined;
  }

  list(): LoopRow[] {
    return (this.db.prepare('SELECT * FROM loops ORDER BY started_at DESC LIMIT 200').all() as DbRow[]).map(toRow);
  }

  live(): LoopRow[] {
    return (this.db.prepare("SELECT * FROM loops WHERE status IN ('initializing', 'running')").all() as DbRow[]).map(toRow);
  }

  /** A new loop (or a finished one started again under its id), initializing, with no host yet. */
  create(loop: Pick<LoopRow, 'loopId' | 'command' | 'repoPath' | 'worktreePath' | 'workDir'> & { launchedBy?: string | null }): void {
    this.db
      .prepare(`INSERT INTO loops (loop_id, command, status, repo_path, worktree_path, work_dir, started_at, launched_by) VALUES (?, ?, 'initializing', ?, ?, ?, ?, ?)
        ON CONFLICT(loop_id) DO UPDATE SET command = excluded.command, status = 'initializing', repo_path = excluded.repo_path, worktree_path = excluded.worktree_path,
        work_dir = excluded.work_dir, pid = NULL, host_start_time = NULL, host_boot_id = NULL, stop_request = NULL, started_at = excluded.started_at, ended_at = NULL, last_error = NULL,
        launched_by = excluded.launched_by`)
      .run(loop.loopId, loop.command, loop.repoPath, loop.worktreePath, loop.workDir, Date.now(), loop.launchedBy ?? null);
  }

  setHost(loopId: string, host: ProcessIdentity): void {
    this.db.prepare('UPDATE loops SET pid = ?, host_start_time = ?, host_boot_id = ? WHERE loop_id = ?').run(host.pid, host.procStartTime, host.bootId, loopId);
  }

  /** The host's agent started. */
  markRunning(loopId: string): void {
    this.db.prepare("UPDATE loops SET status = 'running' WHERE loop_id = ? AND status = 'initializing'").run(loopId);
  }

  requestStop(loopId: string, why: StopRequest): void {
    this.db.prepare('UPDATE loops SET stop_request = COALESCE(stop_request, ?) WHERE loop_id = ?').run(why, loopId);
  }

  /** Ends a live loop and queues its last calls, atomically; false when it had ended already. */
  finish(loopId: string, status: LoopStatus, error: string | null, calls: FinalCall[]): boolean {
    return this.db.transaction(() => {
      const moved = this.db
        .prepare("UPDATE loops SET status = ?, ended_at = ?, last_error = ? WHERE loop_id = ? AND status IN ('initializing', 'running')")
        .run(status, Date.now(), error, loopId).changes === 1;
      if (moved) for (const call of calls) insertOutboxCall(this.db, loopId, call.call, call.body, { final: call.final });
      return moved;
    }).immediate();
  }
}
