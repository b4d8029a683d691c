// One SQLite file (WAL) for everything; each table family owns its migrations,
// so modules can evolve their tables without a central list.
import Database from 'better-sqlite3';
import { ensurePrivateFile, tightenIfPresent } from '../config/private-files.js';

export type Db = Database.Database;

export function openDatabase(file: string): Db {
  // SQLite gives its -wal and -shm the database file's mode: a 0600 database keeps them 0600.
  if (file !== ':memory:') {
    ensurePrivateFile(file);
    for (const suffix of ['-wal', '-shm', '-journal']) tightenIfPresent(file + suffix);
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Waits for another process's write lock. Transactions that read and then write begin
  // IMMEDIATE (`.immediate()`): a deferred one that read an old snapshot is refused at
  // once with "database is locked" when another process committed meanwhile (database.test.ts).
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    family TEXT PRIMARY KEY,
    version INTEGER NOT NULL
  )`);
  return db;
}

/**
 * Applies the steps of one table family that have not run yet, each in its own
 * transaction with the version bump, so a crash never leaves a half-migrated family.
 * Steps are append-only: never edit or reorder a released step.
 */
export function migrate(db: Db, family: string, steps: readonly string[]): void {
  const row = db.prepare('SELECT version FROM schema_migrations WHERE family = ?').get(family) as
    | { version: number }
    | undefined;
  const current = row?.version ?? 0;
  for (let version = current + 1; version <= steps.length; version++) {
    db.transaction(() => {
      db.exec(steps[version - 1]);
      db.prepare(
        'INSERT INTO schema_migrations (family, version) VALUES (?, ?) ON CONFLICT(family) DO UPDATE SET version = excluded.version',
      ).run(family, version);
    }).immediate();
  }
}

/**
 * One row of a query on a table family this process may not have migrated yet (a lazy
 * domain not loaded): undefined where the table or column does not exist.
 */
export function getIfMigrated<T>(db: Db, sql: string, ...params: unknown[]): T | undefined {
  try {
    return db.prepare(sql).get(...params) as T | undefined;
  } catch (error) {
    if (/no such (table|column)/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/**
 * Whether another connection (a CLI command, a run host) committed since the last look.
 * It asks SQLite (`PRAGMA data_version`) at most once per `intervalMs`, so an in-memory
 * cache stays fresh without a query on every request. A timer says when the interval is up
 * (restarted after each look, never a new one): reading a clock on every request boxed a
 * number each time (the session path asks three times a request).
 */
export class ForeignWrites {
  private readonly version: Database.Statement;
  private seen: unknown;
  private due = false;
  private readonly timer: NodeJS.Timeout;

  constructor(db: Db, intervalMs = 1000) {
    this.version = db.prepare('PRAGMA data_version').pluck();
    this.seen = this.version.get();
    this.timer = setTimeout(() => (this.due = true), intervalMs).unref();
  }

  /** `now`: ask SQLite whatever the interval (a screen that shows the settings must show the latest). */
  changed(now = false): boolean {
    if (!now && !this.due) return false;
    this.due = false;
    this.timer.refresh();
    const version = this.version.get();
    if (version === this.seen) return false;
    this.seen = version;
    return true;
  }
}
