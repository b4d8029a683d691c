// Key-value settings kept in SQLite as JSON (api origin, allowed origins, workspace
// root, binary path overrides, ...). Each caller validates what it reads.
// Values are held in memory (frozen, so no caller can change a cached value by accident):
// a request that reads a setting never touches SQLite. Another process's writes (a CLI
// command on the same data dir) are picked up within a second; `onChange` tells owners
// of derived caches (e.g. the parsed allowed origins) to drop them.
import type { Statement } from 'better-sqlite3';
import { ForeignWrites, migrate, type Db } from './database.js';

type Listener = (key: string | null) => void;

export class SettingsStore {
  private readonly sql: Record<'all' | 'upsert' | 'delete', Statement>;
  private readonly foreign: ForeignWrites;
  private readonly listeners = new Set<Listener>();
  private values = new Map<string, unknown>();

  constructor(private readonly db: Db) {
    migrate(db, 'settings', [
      `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)`,
    ]);
    this.sql = {
      all: db.prepare('SELECT key, value FROM settings'),
      upsert: db.prepare(
        'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      ),
      delete: db.prepare('DELETE FROM settings WHERE key = ?'),
    };
    this.foreign = new ForeignWrites(db);
    this.reload();
  }

  get<T>(key: string): T | undefined {
    if (this.foreign.changed()) {
      this.reload();
      this.emit(null);
    }
    return this.values.get(key) as T | undefined;
  }

  set(key: string, value: unknown): void {
    const text = JSON.stringify(value);
    this.sql.upsert.run(key, text, Date.now());
    this.values.set(key, deepFreeze(JSON.parse(text)));
    this.emit(key);
  }

  delete(key: string): void {
    this.sql.delete.run(key);
    this.values.delete(key);
    this.emit(key);
  }

  /** `key` is null when another process changed settings (any key may have moved). */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private reload(): void {
    const rows = this.sql.all.all() as Array<{ key: string; value: string }>;
    this.values = new Map(rows.map((row) => [row.key, deepFreeze(JSON.parse(row.value))]));
  }

  private emit(key: string | null): void {
    for (const listener of this.listeners) listener(key);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
