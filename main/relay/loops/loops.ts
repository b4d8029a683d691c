// Loops the cloud starts on this desktop (POST /symphony/loop): the repository and work
// folder, one agent turn confined (`write`) to that folder, and everything the cloud must
// hear (started, output, artifacts, completed or error, heartbeats) through the outbox.
// A loop found running at start belonged to a process that died: it is reported to the
// cloud as stopped, after whatever the outbox still held for it.
// The agent runs as one provider turn here; it moves onto the ticket-run engine's host
// (main/symphony/) once that can run a loop's prompt in a given worktree.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { NormalizedEvent } from '../../../shared/events.js';
import type { LoopBody, LoopCommand } from '../../../shared/schemas/loops.js';
import { BadRequest, Conflict, NotFound } from '../../errors.js';
import type { WorkspaceGuard } from '../../files/workspace.js';
import type { RepoRegistry } from '../../git/repos.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import type { ProviderId, Turn, TurnOptions } from '../../providers/types.js';
import { migrate, type Db } from '../../store/database.js';
import type { TicketWorktrees } from '../../symphony/ticket-worktree.js';
import { REFRESH_BEFORE_EXP_MS, tokenExpiry, type LoopCloud } from './cloud-api.js';
import { COMMANDS, inputFiles, loopPrompt, readArtifacts } from './loop-commands.js';
import type { LoopOutbox } from './outbox.js';

export const HEARTBEAT_MS = 30 * 60_000;
export const OUTPUT_EVERY_MS = 5_000;
const REFRESH_CHECK_MS = 5 * 60_000;
const SUMMARY_CHARS = 200;

export type LoopStatus = 'initializing' | 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted' | 'stopped';

export interface LoopRow {
  loopId: string;
  command: LoopCommand;
  status: LoopStatus;
  repoPath: string | null;
  worktreePath: string;
  workDir: string;
  pid: number | null;
  startedAt: number;
  endedAt: number | null;
  lastError: string | null;
}

interface DbRow {
  loop_id: string;
  command: LoopCommand;
  status: LoopStatus;
  repo_path: string | null;
  worktree_path: string;
  work_dir: string;
  pid: number | null;
  started_at: number;
  ended_at: number | null;
  last_error: string | null;
}

const toRow = (r: DbRow): LoopRow => ({
  loopId: r.loop_id, command: r.command, status: r.status, repoPath: r.repo_path, worktreePath: r.worktree_path,
  workDir: r.work_dir, pid: r.pid, startedAt: r.started_at, endedAt: r.ended_at, lastError: r.last_error,
});

const LIVE: LoopStatus[] = ['initializing', 'running'];

/** `artifactSlug` or the loop id, lower-cased, `[^a-z0-9-]` → `-`, at most 50 characters. */
export function loopSlug(body: Pick<LoopBody, 'artifactSlug' | 'loopId'>): string {
  return (body.artifactSlug || body.loopId).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 50).replace(/^-+/, '') || body.loopId;
}

export interface LoopServiceOptions {
  db: Db;
  cloud: LoopCloud;
  outbox: LoopOutbox;
  providers: ProviderRegistry;
  repos: RepoRegistry;
  worktrees: TicketWorktrees;
  workspace: Pick<WorkspaceGuard, 'resolve'>;
  log: Logger;
  heartbeatMs?: number;
  outputEveryMs?: number;
  /** Where scratch work folders go (default: the OS temp dir). */
  scratchDir?: string;
}

interface LiveLoop {
  turn: Turn | null;
  cancelled: boolean;
  gone: boolean;
  timers: Array<ReturnType<typeof setInterval>>;
}

export class LoopService {
  private readonly live = new Map<string, LiveLoop>();

  constructor(private readonly options: LoopServiceOptions) {
    migrate(options.db, 'loops', [
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
    ]);
  }

  list(): LoopRow[] {
    return (this.options.db.prepare('SELECT * FROM loops ORDER BY started_at DESC LIMIT 200').all() as DbRow[]).map(toRow);
  }

  get(loopId: string): LoopRow | undefined {
    const row = this.options.db.prepare('SELECT * FROM loops WHERE loop_id = ?').get(loopId) as DbRow | undefined;
    return row ? toRow(row) : undefined;
  }

  /** Loops a dead process left as running: told to the cloud as stopped (after what the outbox still holds). */
  recover(): string[] {
    const stale = (this.options.db.prepare("SELECT * FROM loops WHERE status IN ('initializing', 'running')").all() as DbRow[]).map(toRow);
    for (const loop of stale.filter((l) => !this.live.has(l.loopId))) {
      this.setStatus(loop.loopId, 'interrupted', 'The desktop stopped while the loop ran; its agent did not survive.');
      this.options.outbox.enqueue(
        loop.loopId,
        'events',
        { type: 'error', code: 'PROCESS_STOPPED', message: 'The desktop gateway stopped while the loop ran; the agent was stopped.', loopId: loop.loopId, timestamp: new Date().toISOString() },
        { final: true },
      );
    }
    this.options.outbox.kick();
    return stale.map((l) => l.loopId);
  }

  async start(body: LoopBody, approver: TurnOptions['onApproval'], signal?: AbortSignal): Promise<{ success: true; loopId: string; pid: number | null; worktreePath: string }> {
    const existing = this.get(body.loopId);
    if (this.live.has(body.loopId) || (existing && LIVE.includes(existing.status))) throw new Conflict('Loop is already running on this machine', 'loop_running');
    const spec = COMMANDS[body.command];
    if (spec.needsParent && !body.parentLoopId) throw new BadRequest(`parentLoopId is required for ${body.command}`, { field: 'parentLoopId' }, 'parent_loop_required');
    const provider: ProviderId = body.harness === 'codex' ? 'codex' : 'claude';
    if (body.harness && body.harness !== 'claude' && body.harness !== 'codex') throw new BadRequest(`The ${body.harness} harness is not available on this desktop.`, { field: 'harness' }, 'unsupported_harness');
    const repoPath = await this.repository(body, spec.inWorktree, signal);
    const live: LiveLoop = { turn: null, cancelled: false, gone: false, timers: [] };
    this.live.set(body.loopId, live);
    try {
      const { worktreePath, workDir } = await this.workFolder(body, repoPath, spec.inWorktree, signal);
      const files = inputFiles(body.artifacts, body.prompt);
      for (const [name, content] of Object.entries(files)) writeFileSync(path.join(workDir, name), content, { mode: 0o600 });
      await this.options.cloud.saveToken(body.loopId, body.closedLoopAuthToken);
      this.options.db
        .prepare(`INSERT INTO loops (loop_id, command, status, repo_path, worktree_path, work_dir, started_at) VALUES (?, ?, 'initializing', ?, ?, ?, ?)
          ON CONFLICT(loop_id) DO UPDATE SET command = excluded.command, status = 'initializing', repo_path = excluded.repo_path, worktree_path = excluded.worktree_path,
          work_dir = excluded.work_dir, pid = NULL, started_at = excluded.started_at, ended_at = NULL, last_error = NULL`)
        .run(body.loopId, body.command, repoPath, worktreePath, workDir, Date.now());
      this.options.outbox.enqueue(body.loopId, 'events', { type: 'started', timestamp: new Date().toISOString() });
      const root = spec.inWorktree ? worktreePath : workDir;
      const controller = new AbortController();
      const turn = await this.options.providers.get(provider).startTurn({
        prompt: loopPrompt(body.command, workDir, Object.keys(files), body.prompt),
        cwd: root,
        confinement: { level: 'write', root },
        permissionMode: 'acceptEdits',
        resumeSessionId: body.parentSessionId ?? undefined,
        signal: controller.signal,
        onApproval: approver,
        owner: `loop:${body.loopId}`,
      });
      live.turn = turn;
      this.options.db.prepare("UPDATE loops SET status = 'running', pid = ? WHERE loop_id = ?").run(turn.pid, body.loopId);
      this.startTimers(body.loopId, live);
      void this.follow(body, live, turn, workDir, worktreePath, spec.inWorktree ? `symphony/${loopSlug(body)}` : null);
      return { success: true, loopId: body.loopId, pid: turn.pid, worktreePath };
    } catch (error) {
      this.stopTimers(live);
      this.live.delete(body.loopId);
      if (this.get(body.loopId)) {
        this.end(body.loopId, 'failed', (error as Error).message, { type: 'error', code: 'SPAWN_FAILED', message: (error as Error).message.slice(0, 2000) });
      }
      throw error;
    }
  }

  /** POST /symphony/loop/kill: 404 unknown, 409 while initializing, else the turn is stopped (→ error CANCELLED). */
  async kill(loopId: string): Promise<{ success: true; message: string }> {
    const live = this.live.get(loopId);
    const row = this.get(loopId);
    if (!live || !row || !LIVE.includes(row.status)) throw new NotFound('No running process found for this loop', 'loop_not_found');
    if (!live.turn) throw new Conflict('Loop is still initializing, retry shortly', 'loop_initializing');
    live.cancelled = true;
    await live.turn.kill();
    return { success: true, message: 'Loop process terminated' };
  }

  /** The cloud answered 410: it has finished with the loop, so the agent stops and nothing more is sent. */
  cloudGone(loopId: string): void {
    const live = this.live.get(loopId);
    if (!live?.turn) return;
    live.gone = true;
    void live.turn.kill();
  }

  async close(): Promise<void> {
    for (const live of this.live.values()) {
      this.stopTimers(live);
      await live.turn?.kill();
    }
  }

  private async repository(body: LoopBody, required: boolean, signal?: AbortSignal): Promise<string | null> {
    if (body.localRepoPath) return this.options.workspace.resolve(body.localRepoPath);
    if (body.repo?.fullName) {
      const repo = this.options.repos.list().find((r) => r.fullName?.toLowerCase() === body.repo!.fullName.toLowerCase());
      // Never a silent clone: the user manages which repositories agents may touch.
      if (!repo) throw new NotFound(`Repository not found locally: ${body.repo.fullName}`, 'repo_not_found', { fullName: body.repo.fullName });
      return repo.path;
    }
    void signal;
    if (required) throw new BadRequest(`${body.command} needs repo.fullName or localRepoPath`, { field: 'repo' }, 'repo_required');
    return null;
  }

  private async workFolder(body: LoopBody, repoPath: string | null, inWorktree: boolean, signal?: AbortSignal): Promise<{ worktreePath: string; workDir: string }> {
    if (inWorktree && repoPath) {
      const slug = loopSlug(body);
      const worktree = await this.options.worktrees.ensure(
        { repoPath, ticketId: `loop-${slug}`, branchName: `symphony/${slug}`, baseBranch: body.repo?.branch ?? undefined },
        signal,
      );
      const workDir = path.join(worktree.path, '.closedloop-ai', 'work');
      mkdirSync(workDir, { recursive: true, mode: 0o700 });
      return { worktreePath: worktree.path, workDir };
    }
    const workDir = path.join(this.options.scratchDir ?? tmpdir(), `symphony-${body.command.toLowerCase()}-${body.loopId.slice(0, 8)}`);
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    return { worktreePath: workDir, workDir };
  }

  private startTimers(loopId: string, live: LiveLoop): void {
    const heartbeat = setInterval(() => this.options.outbox.enqueueHeartbeat(loopId), this.options.heartbeatMs ?? HEARTBEAT_MS);
    const refresh = setInterval(() => void this.refreshIfDue(loopId), Math.min(REFRESH_CHECK_MS, this.options.heartbeatMs ?? HEARTBEAT_MS));
    for (const timer of [heartbeat, refresh]) timer.unref();
    live.timers.push(heartbeat, refresh);
  }

  private stopTimers(live: LiveLoop): void {
    for (const timer of live.timers) clearInterval(timer);
    live.timers = [];
  }

  private async refreshIfDue(loopId: string): Promise<void> {
    const token = await this.options.cloud.token(loopId);
    const exp = token ? tokenExpiry(token) : null;
    if (exp !== null && exp - REFRESH_BEFORE_EXP_MS < Date.now()) await this.options.cloud.refresh(loopId);
  }

  /** Reads the turn to its end: output at most every 5 s with the running token totals, then the outcome. */
  private async follow(body: LoopBody, live: LiveLoop, turn: Turn, workDir: string, worktreePath: string, branchName: string | null): Promise<void> {
    const tokens = { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
    let sessionId: string | null = body.parentSessionId ?? null;
    let summary = '';
    let lastOutput = 0;
    let success = false;
    let failure = '';
    const every = this.options.outputEveryMs ?? OUTPUT_EVERY_MS;
    const output = (force = false) => {
      if (!summary || (!force && Date.now() - lastOutput < every)) return;
      lastOutput = Date.now();
      this.options.outbox.enqueue(body.loopId, 'events', { type: 'output', data: { chunk: summary, tokenUsage: { ...tokens } }, timestamp: new Date().toISOString() });
      summary = '';
    };
    try {
      for await (const event of turn.events as AsyncIterable<NormalizedEvent>) {
        if (event.type === 'sessionId') sessionId = event.sessionId;
        else if (event.type === 'usage') {
          tokens.inputTokens += event.inputTokens;
          tokens.outputTokens += event.outputTokens;
          tokens.cacheReadInputTokens += event.cachedInputTokens ?? 0;
        } else if (event.type === 'text' && event.content.trim()) summary = lastLine(summary + event.content);
        else if (event.type === 'tool_use') summary = `[tool] ${event.name}`;
        else if (event.type === 'error') failure = event.message;
        else if (event.type === 'result') success = event.success;
        output();
      }
    } catch (error) {
      failure = (error as Error).message;
    }
    output(true);
    this.stopTimers(live);
    this.live.delete(body.loopId);
    const tokensUsed = { input: tokens.inputTokens, output: tokens.outputTokens, cacheCreationInputTokens: tokens.cacheCreationInputTokens, cacheReadInputTokens: tokens.cacheReadInputTokens };
    if (live.gone) {
      this.setStatus(body.loopId, 'stopped', 'The cloud ended the loop (410).');
      return;
    }
    if (live.cancelled) {
      this.end(body.loopId, 'cancelled', 'Cancelled', { type: 'error', code: 'CANCELLED', message: 'The loop was cancelled.', loopId: body.loopId, sessionId, tokenUsage: tokens });
      return;
    }
    const artifacts = readArtifacts(body.command, workDir);
    const primary = COMMANDS[body.command].primary;
    const metadata = { finishedAt: new Date().toISOString(), command: body.command, sessionId, branchName };
    if (!success || !(primary in artifacts)) {
      const code = success ? 'NO_WORK_PRODUCED' : 'PROCESS_FAILED';
      const message = success ? `The agent finished without writing ${COMMANDS[body.command].artifacts.find((a) => a.key === primary)?.file}.` : failure || 'The agent did not finish successfully.';
      if (body.command === 'EXECUTE') this.options.outbox.enqueue(body.loopId, 'upload-artifacts', { artifacts, metadata });
      this.end(body.loopId, 'failed', message, { type: 'error', code, message: message.slice(0, 2000), loopId: body.loopId, sessionId, branchName, tokenUsage: tokens });
      return;
    }
    // The cloud ingests the upload when `completed` arrives, so the upload goes first.
    this.options.outbox.enqueue(body.loopId, 'upload-artifacts', { artifacts, metadata });
    const execution = (artifacts.executionResult ?? {}) as Record<string, unknown>;
    this.end(body.loopId, 'completed', null, {
      type: 'completed',
      result: {
        exitCode: 0,
        prUrl: typeof execution.pr_url === 'string' && execution.pr_url ? execution.pr_url : null,
        prNumber: typeof execution.pr_number === 'number' && execution.pr_number ? execution.pr_number : null,
        branchName: (typeof execution.branch_name === 'string' && execution.branch_name) || branchName,
        commitSha: typeof execution.commit_sha === 'string' && execution.commit_sha ? execution.commit_sha : null,
        sessionId,
      },
      tokensUsed,
      loopId: body.loopId,
    });
    void worktreePath;
  }

  /** The loop's last word to the cloud (completed or error), after which its token goes. */
  private end(loopId: string, status: LoopStatus, error: string | null, event: Record<string, unknown>): void {
    this.setStatus(loopId, status, error);
    this.options.outbox.enqueue(loopId, 'events', { ...event, timestamp: new Date().toISOString() }, { final: true });
  }

  private setStatus(loopId: string, status: LoopStatus, error: string | null): void {
    this.options.db.prepare('UPDATE loops SET status = ?, ended_at = ?, last_error = ? WHERE loop_id = ?').run(status, LIVE.includes(status) ? null : Date.now(), error, loopId);
  }
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.at(-1) ?? '').slice(0, SUMMARY_CHARS);
}
