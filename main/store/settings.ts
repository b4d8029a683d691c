// Key-value settings kept in SQLite as JSON (api origin, allowed origins, workspace
// root, binary path overrides, ...). Each caller validates what it reads.
// Values are held in memory (frozen, so no caller can change a cached value by accident):
// a request that reads a setting never touches SQLite. Another process's writes (a CLI
// command on the same data dir) are picked up within a second; `onChange` tells owners
// of derived caches (e.g. the parsed allowed origins) to drop them.
import type { Statement } from 'better-sqlite3';
import { ForeignWrites, migrate, type Db } from './database.js';

type Listener = (key: string | null) => void;

/** One cache per connection: every SettingsStore on the same database sees the same values. */
interface Shared {
  sql: Record<'all' | 'upsert' | 'delete', Statement>;
  foreign: ForeignWrites;
  listeners: Set<Listener>;
  values: Map<string, unknown>;
}

const byDatabase = new WeakMap<Db, Shared>();

function shared(db: Db): Shared {
  let state = byDatabase.get(db);
  if (!state) {
    migrate(db, 'settings', [
      `CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)`,
    ]);
    state = {
      sql: {
        all: db.prepare('SELECT key, value FROM settings'),
        upsert: db.prepare(
          'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
        ),
        delete: db.prepare('DELETE FROM settings WHERE key = ?'),
      },
      foreign: new ForeignWrites(db),
      listeners: new Set(),
      values: new Map(),
    };
    byDatabase.set(db, state);
    load(state);
  }
  return state;
}

function load(state: Shared): void {
  const rows = state.sql.all.all() as Array<{ key: string; value: string }>;
  state.values = new Map(rows.map((row) => [row.key, deepFreeze(JSON.parse(row.value))]));
}

export class SettingsStore {
  private readonly state: Shared;

  constructor(db: Db) {
    this.state = shared(db);
  }

  get<T>(key: string): T | undefined {
    this.reloadIfChanged(false);
    return this.state.values.get(key) as T | undefined;
  }

  /** Another process's change seen at once, not within the hot path's second (the settings view: `config` then the screen). */
  refresh(): void {
    this.reloadIfChanged(true);
  }

  private reloadIfChanged(now: boolean): void {
    if (this.state.foreign.changed(now)) {
      load(this.state);
      this.emit(null);
    }
  }

  set(key: string, value: unknown): void {
    const text = JSON.stringify(value);
    this.state.sql.upsert.run(key, text, Date.now());
    this.state.values.set(key, deepFreeze(JSON.parse(text)));
    this.emit(key);
  }

  delete(key: string): void {
    this.state.sql.delete.run(key);
    this.state.values.delete(key);
    this.emit(key);
  }

  /** `key` is null when another process changed settings (any key may have moved). */
  onChange(listener: Listener): () => void {
    this.state.listeners.add(listener);
    return () => this.state.listeners.delete(listener);
  }

  private emit(key: string | null): void {
    for (const listener of this.state.listeners) listener(key);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
