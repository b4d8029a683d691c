// Paired sessions. Only a hash of each session token is stored; sessions survive a
// restart, expire absolutely and when idle, and are revoked from the desktop.
import type { Statement } from 'better-sqlite3';
import { ForeignWrites, migrate, type Db } from '../store/database.js';
import { hashToken, LastTokenHash, newId, newToken } from './tokens.js';

export type SessionKind = 'origin' | 'renderer';

export interface Session {
  id: string;
  origin: string;
  kind: SessionKind;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
}

export interface SessionPolicy {
  defaultTtlMs: number;
  idleTimeoutMs: number;
}

const DEFAULT_POLICY: SessionPolicy = { defaultTtlMs: 12 * 3600_000, idleTimeoutMs: 2 * 3600_000 };
/** Write last_used_at at most this often: one request must not mean one disk write. */
const TOUCH_INTERVAL_MS = 30_000;

interface Row {
  id: string;
  token_hash: string;
  origin: string;
  kind: SessionKind;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  /** The row as a Session, made on its first request and kept in step (not a column). */
  view?: Session;
}

const toSession = (row: Row): Session => ({
  id: row.id,
  origin: row.origin,
  kind: row.kind,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  expiresAt: row.expires_at,
});

/**
 * Every live session is mirrored in memory by token hash, so a request's lookup (and the
 * CORS check's "does this origin have a session") never touches SQLite. Writes go to both;
 * another process's writes (a CLI command) are picked up within a second.
 */
export class SessionStore {
  private readonly policy: SessionPolicy;
  private readonly sql: Record<'insert' | 'all' | 'delete' | 'touch' | 'prune', Statement>;
  private readonly foreign: ForeignWrites;
  private byHash = new Map<string, Row>();
  /** The session hasLiveOrigin found last: a page sends the same Origin on every request. */
  private lastLive: Row | undefined;
  /** Likewise the same token: its hash is not made again (the lookup and its checks are). */
  private readonly tokenHash = new LastTokenHash();

  constructor(
    private readonly db: Db,
    policy: Partial<SessionPolicy> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.policy = { ...DEFAULT_POLICY, ...policy };
    migrate(db, 'sessions', [
      `CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        origin TEXT NOT NULL,
        kind TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_origin ON sessions (origin);`,
    ]);
    this.sql = {
      insert: db.prepare(
        'INSERT INTO sessions (id, token_hash, origin, kind, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      all: db.prepare('SELECT * FROM sessions'),
      delete: db.prepare('DELETE FROM sessions WHERE id = ?'),
      touch: db.prepare('UPDATE sessions SET last_used_at = ? WHERE id = ?'),
      prune: db.prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_used_at <= ?'),
    };
    this.foreign = new ForeignWrites(db);
    this.reload();
  }

  create(origin: string, kind: SessionKind, ttlMs = this.policy.defaultTtlMs): Session & { token: string } {
    const token = newToken();
    const now = this.now();
    const row: Row = { id: newId('ses'), token_hash: hashToken(token), origin, kind, created_at: now, last_used_at: now, expires_at: now + ttlMs };
    this.sql.insert.run(row.id, row.token_hash, origin, kind, now, now, row.expires_at);
    this.byHash.set(row.token_hash, row);
    return { ...toSession(row), token };
  }

  /**
   * The live session a token belongs to, or null; refreshes its idle clock. One object per
   * session, not one per request: read it, do not change it.
   */
  authenticate(token: string): Session | null {
    const row = this.rows().get(this.tokenHash.of(token));
    if (!row) return null;
    const now = this.now();
    if (!this.isLive(row, now)) {
      this.forget(row);
      return null;
    }
    if (now - row.last_used_at >= TOUCH_INTERVAL_MS) {
      this.sql.touch.run(now, row.id);
      row.last_used_at = now;
      if (row.view) row.view.lastUsedAt = now;
    }
    return (row.view ??= toSession(row));
  }

  list(): Session[] {
    const now = this.now();
    this.sql.prune.run(now, now - this.policy.idleTimeoutMs);
    this.reload();
    return [...this.byHash.values()].sort((a, b) => b.last_used_at - a.last_used_at).map(toSession);
  }

  revoke(id: string): boolean {
    const row = [...this.rows().values()].find((r) => r.id === id);
    const deleted = this.sql.delete.run(id).changes > 0;
    if (row) this.byHash.delete(row.token_hash);
    return deleted;
  }

  hasLiveOrigin(origin: string): boolean {
    const now = this.now();
    const rows = this.rows();
    // The one found last answers while it is still ours (not revoked, not reloaded) and live.
    const last = this.lastLive;
    if (last && last.origin === origin && rows.get(last.token_hash) === last && this.isLive(last, now)) return true;
    for (const row of rows.values()) {
      if (row.origin === origin && this.isLive(row, now)) {
        this.lastLive = row;
        return true;
      }
    }
    return false;
  }

  private rows(): Map<string, Row> {
    if (this.foreign.changed()) this.reload();
    return this.byHash;
  }

  private reload(): void {
    this.byHash = new Map((this.sql.all.all() as Row[]).map((row) => [row.token_hash, row]));
  }

  private forget(row: Row): void {
    this.sql.delete.run(row.id);
    this.byHash.delete(row.token_hash);
  }

  private isLive(row: Row, now: number): boolean {
    return row.expires_at > now && now - row.last_used_at < this.policy.idleTimeoutMs;
  }
}
