// The web app's list of tickets being worked on (symphony/sessions): which repository,
// worktree and context repositories each uses. One row per (caller, ticket) in SQLite;
// every path is checked by the workspace guard, and a session whose worktree is gone
// is dropped when listed.
import { stat } from 'node:fs/promises';
import type { PathGuard } from '../git/types.js';
import { migrate, type Db } from '../store/database.js';
import { ticketSlug } from './ticket-worktree.js';

export interface TicketSession {
  ticketId: string;
  repoPath: string;
  worktreePath: string;
  pid?: number;
  contextRepoPaths?: string[];
  baseBranch?: string;
  parentTicketId?: string;
  loopId?: string;
  artifactId?: string;
  documentId?: string;
  startedAt: string;
  lastAccessedAt: string;
}

export type TicketSessionInput = Omit<TicketSession, 'startedAt' | 'lastAccessedAt'> & { startedAt?: string; lastAccessedAt?: string };

interface Row {
  ticket_id: string;
  data: string;
  worktree_path: string;
}

export class TicketSessions {
  constructor(private readonly deps: { db: Db; guard: PathGuard }) {
    migrate(deps.db, 'ticket_sessions', [
      `CREATE TABLE ticket_sessions (
        caller TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        worktree_path TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (caller, ticket_id)
      );`,
    ]);
  }

  /** The caller's sessions, newest first; those whose worktree no longer exists are removed. */
  async list(caller: string): Promise<TicketSession[]> {
    const rows = this.sql('SELECT ticket_id, data, worktree_path FROM ticket_sessions WHERE caller = ? ORDER BY updated_at DESC').all(caller) as Row[];
    const alive = await Promise.all(rows.map((row) => stat(row.worktree_path).then((s) => s.isDirectory(), () => false)));
    const gone = rows.filter((_, i) => !alive[i]);
    if (gone.length) {
      this.deps.db.transaction(() => {
        for (const row of gone) this.sql('DELETE FROM ticket_sessions WHERE caller = ? AND ticket_id = ?').run(caller, row.ticket_id);
      }).immediate();
    }
    return rows.filter((_, i) => alive[i]).map((row) => JSON.parse(row.data) as TicketSession);
  }

  /** Inserts or replaces the caller's session of `ticketId`, keeping its first `startedAt`. Paths outside the workspace: 403. */
  async upsert(caller: string, input: TicketSessionInput): Promise<void> {
    ticketSlug(input.ticketId);
    if (input.parentTicketId !== undefined) ticketSlug(input.parentTicketId, 'parentTicketId');
    const [repoPath, worktreePath, contextRepoPaths] = await Promise.all([
      this.deps.guard.resolve(input.repoPath),
      this.deps.guard.resolve(input.worktreePath),
      input.contextRepoPaths && Promise.all(input.contextRepoPaths.map((p) => this.deps.guard.resolve(p))),
    ]);
    const previous = this.sql('SELECT data FROM ticket_sessions WHERE caller = ? AND ticket_id = ?').get(caller, input.ticketId) as
      | { data: string }
      | undefined;
    const now = new Date().toISOString();
    const session: TicketSession = {
      ...input,
      repoPath,
      worktreePath,
      ...(contextRepoPaths ? { contextRepoPaths } : {}),
      startedAt: previous ? (JSON.parse(previous.data) as TicketSession).startedAt : (input.startedAt ?? now),
      lastAccessedAt: input.lastAccessedAt ?? now,
    };
    this.sql(
      `INSERT INTO ticket_sessions (caller, ticket_id, worktree_path, data, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (caller, ticket_id) DO UPDATE SET worktree_path = excluded.worktree_path, data = excluded.data, updated_at = excluded.updated_at`,
    ).run(caller, input.ticketId, worktreePath, JSON.stringify(session), Date.now());
  }

  remove(caller: string, ticketId: string): boolean {
    return this.sql('DELETE FROM ticket_sessions WHERE caller = ? AND ticket_id = ?').run(caller, ticketId).changes > 0;
  }

  private sql(text: string) {
    return this.deps.db.prepare(text);
  }
}
