// Deploy state in SQLite: each repository's deploy config (detected or edited by the user,
// with its per-repo switches) and each ticket's latest deployment, so status answers
// after a restart and a restart can close the books on servers that died with the gateway.
import { migrate, type Db } from '../store/database.js';
import type { DeployConfig } from './detect.js';

export interface StoredConfig {
  repoPath: string;
  config: DeployConfig | null;
  /** `detected`, or `user` once edited (redetect then replaces it only when asked). */
  source: 'detected' | 'user';
  detectedAt: string | null;
  /** Copy `.env*.local` from the repository into the worktree before starting. */
  copyEnvLocal: boolean;
  updatedAt: string;
}

export type DeploymentPhase = 'installing' | 'starting' | 'ready' | 'install_failed' | 'exited' | 'health_failed' | 'stopped' | 'interrupted';

export interface Deployment {
  ticketId: string;
  repoPath: string;
  worktreePath: string;
  port: number;
  phase: DeploymentPhase;
  /** The pid of the child running now (install or server), null when none. */
  pid: number | null;
  url: string | null;
  error: string | null;
  command: string;
  logFile: string;
  /** Progress of the install step: lines printed and the last one. */
  installLines: number;
  lastLine: string | null;
  exitCode: number | null;
  startedAt: string;
  endedAt: string | null;
}

interface ConfigRow {
  repo_path: string;
  config: string | null;
  source: 'detected' | 'user';
  detected_at: number | null;
  copy_env_local: number;
  updated_at: number;
}

interface DeploymentRow {
  ticket_id: string;
  repo_path: string;
  worktree_path: string;
  port: number;
  phase: DeploymentPhase;
  pid: number | null;
  url: string | null;
  error: string | null;
  command: string;
  log_file: string;
  install_lines: number;
  last_line: string | null;
  exit_code: number | null;
  started_at: number;
  ended_at: number | null;
}

export const LIVE_PHASES: ReadonlySet<DeploymentPhase> = new Set(['installing', 'starting', 'ready']);

export class DeployStore {
  constructor(private readonly db: Db) {
    migrate(db, 'deploy', [
      `CREATE TABLE deploy_configs (
        repo_path TEXT PRIMARY KEY,
        config TEXT,
        source TEXT NOT NULL CHECK (source IN ('detected', 'user')),
        detected_at INTEGER,
        copy_env_local INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE deployments (
        repo_path TEXT NOT NULL,
        ticket_id TEXT NOT NULL,
        worktree_path TEXT NOT NULL,
        port INTEGER NOT NULL,
        phase TEXT NOT NULL,
        pid INTEGER,
        url TEXT,
        error TEXT,
        command TEXT NOT NULL,
        log_file TEXT NOT NULL,
        install_lines INTEGER NOT NULL DEFAULT 0,
        last_line TEXT,
        exit_code INTEGER,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        PRIMARY KEY (repo_path, ticket_id)
      );`,
    ]);
  }

  getConfig(repoPath: string): StoredConfig | null {
    const row = this.db.prepare('SELECT * FROM deploy_configs WHERE repo_path = ?').get(repoPath) as ConfigRow | undefined;
    return row ? toConfig(row) : null;
  }

  saveConfig(repoPath: string, change: { config?: DeployConfig | null; source?: 'detected' | 'user'; copyEnvLocal?: boolean }): StoredConfig {
    const now = Date.now();
    const existing = this.getConfig(repoPath);
    const config = change.config !== undefined ? change.config : (existing?.config ?? null);
    const source = change.source ?? existing?.source ?? 'detected';
    const detectedAt = change.config !== undefined && source === 'detected' ? now : existing?.detectedAt ? Date.parse(existing.detectedAt) : null;
    this.db
      .prepare(
        `INSERT INTO deploy_configs (repo_path, config, source, detected_at, copy_env_local, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(repo_path) DO UPDATE SET config = excluded.config, source = excluded.source, detected_at = excluded.detected_at,
           copy_env_local = excluded.copy_env_local, updated_at = excluded.updated_at`,
      )
      .run(repoPath, config ? JSON.stringify(config) : null, source, detectedAt, Number(change.copyEnvLocal ?? existing?.copyEnvLocal ?? false), now);
    return this.getConfig(repoPath)!;
  }

  getDeployment(repoPath: string, ticketId: string): Deployment | null {
    const row = this.db.prepare('SELECT * FROM deployments WHERE repo_path = ? AND ticket_id = ?').get(repoPath, ticketId) as DeploymentRow | undefined;
    return row ? toDeployment(row) : null;
  }

  /** The latest deployment of a ticket in any repository (status by ticket id alone). */
  latestForTicket(ticketId: string): Deployment | null {
    const row = this.db.prepare('SELECT * FROM deployments WHERE ticket_id = ? ORDER BY started_at DESC LIMIT 1').get(ticketId) as DeploymentRow | undefined;
    return row ? toDeployment(row) : null;
  }

  putDeployment(d: Deployment): void {
    this.db
      .prepare(
        `INSERT INTO deployments (repo_path, ticket_id, worktree_path, port, phase, pid, url, error, command, log_file, install_lines, last_line, exit_code, started_at, ended_at)
         VALUES (@repoPath, @ticketId, @worktreePath, @port, @phase, @pid, @url, @error, @command, @logFile, @installLines, @lastLine, @exitCode, @startedAt, @endedAt)
         ON CONFLICT(repo_path, ticket_id) DO UPDATE SET worktree_path = excluded.worktree_path, port = excluded.port, phase = excluded.phase,
           pid = excluded.pid, url = excluded.url, error = excluded.error, command = excluded.command, log_file = excluded.log_file,
           install_lines = excluded.install_lines, last_line = excluded.last_line, exit_code = excluded.exit_code,
           started_at = excluded.started_at, ended_at = excluded.ended_at`,
      )
      .run({ ...d, startedAt: Date.parse(d.startedAt), endedAt: d.endedAt ? Date.parse(d.endedAt) : null });
  }

  /** Deployments recorded as live that no child of this gateway is behind (after a restart). */
  markInterrupted(): number {
    return this.db
      .prepare(`UPDATE deployments SET phase = 'interrupted', pid = NULL, ended_at = ?, error = 'The gateway restarted; the dev server was stopped with it.'
                WHERE phase IN ('installing', 'starting', 'ready')`)
      .run(Date.now()).changes;
  }
}

function toConfig(row: ConfigRow): StoredConfig {
  return {
    repoPath: row.repo_path,
    config: row.config ? (JSON.parse(row.config) as DeployConfig) : null,
    source: row.source,
    detectedAt: row.detected_at ? new Date(row.detected_at).toISOString() : null,
    copyEnvLocal: Boolean(row.copy_env_local),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

function toDeployment(row: DeploymentRow): Deployment {
  return {
    ticketId: row.ticket_id,
    repoPath: row.repo_path,
    worktreePath: row.worktree_path,
    port: row.port,
    phase: row.phase,
    pid: row.pid,
    url: row.url,
    error: row.error,
    command: row.command,
    logFile: row.log_file,
    installLines: row.install_lines,
    lastLine: row.last_line,
    exitCode: row.exit_code,
    startedAt: new Date(row.started_at).toISOString(),
    endedAt: row.ended_at ? new Date(row.ended_at).toISOString() : null,
  };
}
