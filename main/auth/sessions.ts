// Paired sessions. Only a hash of each session token is stored; sessions survive a
// restart, expire absolutely and when idle, and are revoked from the desktop.
import { migrate, type Db } from '../store/database.js';
import { hashToken, newId, newToken } from './tokens.js';

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
  origin: string;
  kind: SessionKind;
  created_at: number;
  last_used_at: number;
  expires_at: number;
}

const toSession = (row: Row): Session => ({
  id: row.id,
  origin: row.origin,
  kind: row.kind,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  expiresAt: row.expires_at,
});

export class SessionStore {
  private readonly policy: SessionPolicy;

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
  }

  create(origin: string, kind: SessionKind, ttlMs = this.policy.defaultTtlMs): Session & { token: string } {
    const token = newToken();
    const now = this.now();
    const session: Session = { id: newId('ses'), origin, kind, createdAt: now, lastUsedAt: now, expiresAt: now + ttlMs };
    this.db
      .prepare(
        'INSERT INTO sessions (id, token_hash, origin, kind, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(session.id, hashToken(token), origin, kind, now, now, session.expiresAt);
    return { ...session, token };
  }

  /** The live session a token belongs to, or null; refreshes its idle clock. */
  authenticate(token: string): Session | null {
    const row = this.db.prepare('SELECT * FROM sessions WHERE token_hash = ?').get(hashToken(token)) as Row | undefined;
    if (!row) return null;
    const now = this.now();
    if (!this.isLive(row, now)) {
      this.db.prepare('DELETE FROM sessions WHERE id = ?').run(row.id);
      return null;
    }
    if (now - row.last_used_at >= TOUCH_INTERVAL_MS) {
      this.db.prepare('UPDATE sessions SET last_used_at = ? WHERE id = ?').run(now, row.id);
      row.last_used_at = now;
    }
    return toSession(row);
  }

  list(): Session[] {
    this.prune();
    const rows = this.db.prepare('SELECT * FROM sessions ORDER BY last_used_at DESC').all() as Row[];
    return rows.map(toSession);
  }

  revoke(id: string): boolean {
    return this.db.prepare('DELETE FROM sessions WHERE id = ?').run(id).changes > 0;
  }

  hasLiveOrigin(origin: string): boolean {
    const now = this.now();
    const rows = this.db.prepare('SELECT * FROM sessions WHERE origin = ?').all(origin) as Row[];
    return rows.some((row) => this.isLive(row, now));
  }

  private isLive(row: Row, now: number): boolean {
    return row.expires_at > now && now - row.last_used_at < this.policy.idleTimeoutMs;
  }

  private prune(): void {
    const now = this.now();
    this.db
      .prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_used_at <= ?')
      .run(now, now - this.policy.idleTimeoutMs);
  }
}
