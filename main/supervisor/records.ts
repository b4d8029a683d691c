// Every live child is written down in SQLite, with what identifies its process beyond the
// PID (the kernel's start time and the boot it belongs to) and which gateway process owns
// it, so that a gateway started after a crash can find and stop what the dead one left.
import { migrate, type Db } from '../store/database.js';

export interface ProcessRecord {
  id: string;
  pid: number;
  pgid: number;
  command: string;
  args: string[];
  cwd: string | null;
  label: string;
  owner: string | null;
  startedAt: number;
  /** Linux: /proc/<pid>/stat start time (clock ticks after boot); elsewhere ps's (epoch seconds); null where unknown. */
  procStartTime: number | null;
  bootId: string | null;
  supervisorId: string;
  hostPid: number;
  hostStartTime: number | null;
  state: string;
  exitCode: number | null;
  signal: string | null;
  endedAt: number | null;
}

interface Row {
  id: string;
  pid: number;
  pgid: number;
  command: string;
  args: string;
  cwd: string | null;
  label: string;
  owner: string | null;
  started_at: number;
  proc_start_time: number | null;
  boot_id: string | null;
  supervisor_id: string;
  host_pid: number;
  host_start_time: number | null;
  state: string;
  exit_code: number | null;
  signal: string | null;
  ended_at: number | null;
}

const KEEP_ENDED_MS = 7 * 24 * 3_600_000;

export class ProcessRecords {
  constructor(private readonly db: Db) {
    migrate(db, 'processes', [
      `CREATE TABLE processes (
        id TEXT PRIMARY KEY,
        pid INTEGER NOT NULL,
        pgid INTEGER NOT NULL,
        command TEXT NOT NULL,
        args TEXT NOT NULL,
        cwd TEXT,
        label TEXT NOT NULL,
        owner TEXT,
        started_at INTEGER NOT NULL,
        proc_start_time INTEGER,
        boot_id TEXT,
        supervisor_id TEXT NOT NULL,
        host_pid INTEGER NOT NULL,
        host_start_time INTEGER,
        state TEXT NOT NULL,
        exit_code INTEGER,
        signal TEXT,
        ended_at INTEGER
      );
      CREATE INDEX processes_state ON processes (state);`,
    ]);
  }

  insert(record: ProcessRecord): void {
    this.db
      .prepare(
        `INSERT INTO processes (id, pid, pgid, command, args, cwd, label, owner, started_at, proc_start_time, boot_id,
           supervisor_id, host_pid, host_start_time, state, exit_code, signal, ended_at)
         VALUES (@id, @pid, @pgid, @command, @args, @cwd, @label, @owner, @startedAt, @procStartTime, @bootId,
           @supervisorId, @hostPid, @hostStartTime, @state, @exitCode, @signal, @endedAt)`,
      )
      .run({ ...record, args: JSON.stringify(record.args) });
  }

  finish(id: string, end: { state: string; exitCode?: number | null; signal?: string | null }): void {
    this.db
      .prepare('UPDATE processes SET state = ?, exit_code = ?, signal = ?, ended_at = ? WHERE id = ?')
      .run(end.state, end.exitCode ?? null, end.signal ?? null, Date.now(), id);
  }

  /** Where the start time is only known later (ps on macOS). */
  setStartTime(id: string, procStartTime: number | null): void {
    this.db.prepare('UPDATE processes SET proc_start_time = ? WHERE id = ?').run(procStartTime, id);
  }

  /** Short-lived run() children are only worth keeping while they run. */
  remove(id: string): void {
    this.db.prepare('DELETE FROM processes WHERE id = ?').run(id);
  }

  running(): ProcessRecord[] {
    const rows = this.db.prepare(`SELECT * FROM processes WHERE state = 'running' ORDER BY started_at`).all() as Row[];
    return rows.map(fromRow);
  }

  get(id: string): ProcessRecord | undefined {
    const row = this.db.prepare('SELECT * FROM processes WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  pruneEnded(now = Date.now()): void {
    this.db.prepare(`DELETE FROM processes WHERE state != 'running' AND ended_at < ?`).run(now - KEEP_ENDED_MS);
  }
}

function fromRow(row: Row): ProcessRecord {
  return {
    id: row.id,
    pid: row.pid,
    pgid: row.pgid,
    command: row.command,
    args: parseArgs(row.args),
    cwd: row.cwd,
    label: row.label,
    owner: row.owner,
    startedAt: row.started_at,
    procStartTime: row.proc_start_time,
    bootId: row.boot_id,
    supervisorId: row.supervisor_id,
    hostPid: row.host_pid,
    hostStartTime: row.host_start_time,
    state: row.state,
    exitCode: row.exit_code,
    signal: row.signal,
    endedAt: row.ended_at,
  };
}

function parseArgs(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.map(String) : [];
  } catch {
    return [];
  }
}
