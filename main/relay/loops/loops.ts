// Loops the cloud starts on this desktop (POST /symphony/loop): the repository and work
// folder, then the agent in a detached run host (the run engine's host, main/symphony/
// run-host.ts, with a loop job), which outlives the gateway and writes what the cloud must
// hear into the outbox. The gateway delivers the outbox, sends heartbeats and refreshes
// the token, and watches the host: after a restart a live host is reattached, and a loop
// whose host died is finalised to the cloud with `error` (never left to its 2-hour reaper).
// The work folder is under the data dir (`loops/<id>/work`), never inside the worktree.
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { LoopBody } from '../../../shared/schemas/loops.js';
import { BadRequest, Conflict, NotFound } from '../../errors.js';
import type { WorkspaceGuard } from '../../files/workspace.js';
import type { AgentSlots } from '../../providers/agent-slots.js';
import type { RepoRegistry } from '../../git/repos.js';
import type { ProviderId } from '../../providers/types.js';
import type { Db } from '../../store/database.js';
import type { ProcessIdentity, Supervisor } from '../../supervisor/supervisor.js';
import type { RunService } from '../../symphony/runs.js';
import type { TicketWorktrees } from '../../symphony/ticket-worktree.js';
import { REFRESH_BEFORE_EXP_MS, tokenExpiry, type LoopCloud } from './cloud-api.js';
import { COMMANDS, inputFiles, loopPrompt } from './loop-commands.js';
import type { LoopHostJob } from './loop-host.js';
import { LIVE_LOOP, LoopStore, type LoopRow } from './loop-store.js';
import type { LoopOutbox } from './outbox.js';

export type { LoopRow, LoopStatus } from './loop-store.js';

export const HEARTBEAT_MS = 30 * 60_000;
export const OUTPUT_EVERY_MS = 5_000;
const REFRESH_CHECK_MS = 5 * 60_000;
/** How often the gateway looks at its loops' hosts and at what they queued. */
const WATCH_MS = 1_000;
const KILL_GRACE_MS = 5_000;

/** `artifactSlug` or the loop id, lower-cased, `[^a-z0-9-]` → `-`, at most 50 characters. */
export function loopSlug(body: Pick<LoopBody, 'artifactSlug' | 'loopId'>): string {
  return (body.artifactSlug || body.loopId).toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 50).replace(/^-+/, '') || body.loopId;
}

export interface LoopServiceOptions {
  db: Db;
  dataDir: string;
  cloud: LoopCloud;
  outbox: LoopOutbox;
  supervisor: Pick<Supervisor, 'isAlive' | 'signal' | 'killIdentity' | 'reapOrphans'>;
  /** The run engine's host: the same detached process kind, given a loop job. */
  hosts: Pick<RunService, 'startHost' | 'hostEnvironment'>;
  repos: RepoRegistry;
  worktrees: TicketWorktrees;
  workspace: Pick<WorkspaceGuard, 'resolve'>;
  log: Logger;
  /** The agent cap: a remote caller's loop start at its limit is 429 (its live loops count there through `launchedBy`). */
  slots?: Pick<AgentSlots, 'reserve' | 'recheck'>;
  heartbeatMs?: number;
  outputEveryMs?: number;
  watchMs?: number;
}

/** A loop whose host this gateway watches (started here, or reattached at start). */
interface Watched {
  timers: Array<ReturnType<typeof setInterval>>;
}

export class LoopService {
  private readonly store: LoopStore;
  private readonly watched = new Map<string, Watched>();
  /** Loops between the request and their host's start (a kill then is 409). */
  private readonly starting = new Set<string>();
  private watchTimer: ReturnType<typeof setInterval> | undefined;
  private checking = false;
  private closed = false;

  constructor(private readonly options: LoopServiceOptions) {
    LoopStore.migrate(options.db);
    this.store = new LoopStore(options.db);
  }

  list(): LoopRow[] {
    return this.store.list();
  }

  get(loopId: string): LoopRow | undefined {
    return this.store.get(loopId);
  }

  /**
   * At start (the serving process only): loops whose host still runs are reattached; the
   * others are told to the cloud as stopped, after whatever the outbox still held for them.
   */
  async recover(): Promise<{ reattached: string[]; interrupted: string[] }> {
    const reattached: string[] = [];
    const interrupted: string[] = [];
    for (const loop of this.store.live()) {
      if (this.watched.has(loop.loopId)) continue;
      if (loop.host && (await this.options.supervisor.isAlive(loop.host))) {
        this.watch(loop.loopId);
        reattached.push(loop.loopId);
      } else if (this.hostDied(loop.loopId, 'The desktop stopped while the loop ran, and its host did not survive.')) interrupted.push(loop.loopId);
    }
    if (reattached.length || interrupted.length) this.options.log.info({ reattached, interrupted }, 'cloud loops after restart');
    if (interrupted.length) await this.options.supervisor.reapOrphans();
    this.options.outbox.kick();
    return { reattached, interrupted };
  }

  /** `caller`: auth/caller.ts callerKey of who starts it (its agent cap counts the loop); absent for a start from code. */
  async start(body: LoopBody, signal?: AbortSignal, caller?: string): Promise<{ success: true; loopId: string; pid: number | null; worktreePath: string }> {
    const existing = this.get(body.loopId);
    if (this.starting.has(body.loopId) || (existing && LIVE_LOOP.includes(existing.status))) throw new Conflict('Loop is already running on this machine', 'loop_running');
    const spec = COMMANDS[body.command];
    if (spec.needsParent && !body.parentLoopId) throw new BadRequest(`parentLoopId is required for ${body.command}`, { field: 'parentLoopId' }, 'parent_loop_required');
    if (body.harness && body.harness !== 'claude' && body.harness !== 'codex') throw new BadRequest(`The ${body.harness} harness is not available on this desktop.`, { field: 'harness' }, 'unsupported_harness');
    const provider: ProviderId = body.harness === 'codex' ? 'codex' : 'claude';
    const repoPath = await this.repository(body, spec.inWorktree);
    // At the caller's cap this is 429; the slot is held until the loop's row (live, launchedBy) counts.
    const release = this.options.slots?.reserve(caller ?? null) ?? (() => {});
    this.starting.add(body.loopId);
    try {
      const { worktreePath, workDir } = await this.workFolder(body, repoPath, spec.inWorktree, signal);
      const files = inputFiles(body.artifacts, body.prompt);
      for (const [name, content] of Object.entries(files)) writeFileSync(path.join(workDir, name), content, { mode: 0o600 });
      await this.options.cloud.saveToken(body.loopId, body.closedLoopAuthToken);
      this.store.create({ loopId: body.loopId, command: body.command, repoPath, worktreePath, workDir, launchedBy: caller ?? null });
      this.options.outbox.enqueue(body.loopId, 'events', { type: 'started', timestamp: new Date().toISOString() });
      const root = spec.inWorktree ? worktreePath : workDir;
      const loop: LoopHostJob = {
        loopId: body.loopId, command: body.command, provider, prompt: loopPrompt(body.command, workDir, Object.keys(files), body.prompt), root, workDir,
        resumeSessionId: body.parentSessionId ?? null, branchName: spec.inWorktree ? `symphony/${loopSlug(body)}` : null,
        outputEveryMs: this.options.outputEveryMs ?? OUTPUT_EVERY_MS,
      };
      let host;
      try {
        host = await this.options.hosts.startHost({ runId: body.loopId, ...(await this.options.hosts.hostEnvironment()), loop }, root, path.join(path.dirname(workDir), 'host.log'));
      } catch (error) {
        const message = `The loop host did not start: ${(error as Error).message}`;
        this.store.finish(body.loopId, 'failed', message, [{ call: 'events', body: { type: 'error', code: 'SPAWN_FAILED', message: message.slice(0, 2000), loopId: body.loopId, timestamp: new Date().toISOString() }, final: true }]);
        this.options.outbox.kick();
        throw error;
      }
      this.store.setHost(body.loopId, host);
      void host.exited.then(() => this.check(body.loopId));
      this.watch(body.loopId);
      return { success: true, loopId: body.loopId, pid: host.pid, worktreePath };
    } finally {
      this.starting.delete(body.loopId);
      release();
    }
  }

  /** POST /symphony/loop/kill: 404 unknown, 409 while initializing, else its host is stopped (→ error CANCELLED). */
  async kill(loopId: string): Promise<{ success: true; message: string }> {
    if (this.starting.has(loopId)) throw new Conflict('Loop is still initializing, retry shortly', 'loop_initializing');
    const row = this.get(loopId);
    if (!row || !LIVE_LOOP.includes(row.status)) throw new NotFound('No running process found for this loop', 'loop_not_found');
    if (!row.host) throw new Conflict('Loop is still initializing, retry shortly', 'loop_initializing');
    this.store.requestStop(loopId, 'cancelled');
    await this.stopHost(row.host, loopId);
    // The host reports the cancel itself; one killed before it could (still starting, or hard) is reported here.
    this.hostDied(loopId, 'The loop was cancelled.');
    this.check(loopId);
    return { success: true, message: 'Loop process terminated' };
  }

  /** The cloud answered 410: it has finished with the loop, so the agent stops and nothing more is sent. */
  cloudGone(loopId: string): void {
    const row = this.get(loopId);
    if (!row || !LIVE_LOOP.includes(row.status)) return;
    this.store.requestStop(loopId, 'gone');
    void (async () => {
      if (row.host) await this.stopHost(row.host, loopId);
      this.hostDied(loopId, 'The cloud ended the loop (410).');
      this.check(loopId);
      await this.options.cloud.forgetToken(loopId);
    })().catch((error: unknown) => this.options.log.warn({ err: error, loopId }, 'could not stop a loop the cloud ended'));
  }

  /** On quit with `--stop-runs-on-exit`: every live loop cancelled. Otherwise their hosts keep going. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.watched.keys()].map((loopId) => this.kill(loopId).catch(() => undefined)));
  }

  /** The gateway stops watching; the hosts keep working, and the next gateway reattaches them. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchTimer);
    for (const loopId of [...this.watched.keys()]) this.unwatch(loopId);
  }

  /** SIGTERM to the host (it stops its turn and reports), then its whole tree if it lingers. */
  private async stopHost(host: ProcessIdentity, loopId: string): Promise<void> {
    const { supervisor } = this.options;
    if (!(await supervisor.isAlive(host))) return;
    await supervisor.signal(host, 'SIGTERM');
    const deadline = Date.now() + KILL_GRACE_MS;
    while (Date.now() < deadline && (await supervisor.isAlive(host))) await new Promise((resolve) => setTimeout(resolve, 50));
    if (await supervisor.isAlive(host)) {
      this.options.log.warn({ loopId, pid: host.pid }, 'the loop host did not stop in time; killing its tree');
      await supervisor.killIdentity(host, 1_000);
      await supervisor.reapOrphans();
    }
  }

  /**
   * A live loop with no host any more, finalised: as the stop asked for (a kill: CANCELLED;
   * the cloud's 410: nothing more to say), else to the cloud with `error PROCESS_STOPPED`.
   */
  private hostDied(loopId: string, why: string): boolean {
    const stop = this.get(loopId)?.stopRequest ?? null;
    if (stop === 'gone') return this.store.finish(loopId, 'stopped', 'The cloud ended the loop (410).', []);
    const [status, code, message] = stop === 'cancelled' ? (['cancelled', 'CANCELLED', 'The loop was cancelled.'] as const) : (['interrupted', 'PROCESS_STOPPED', why] as const);
    return this.store.finish(loopId, status, message, [
      { call: 'events', body: { type: 'error', code, message, loopId, timestamp: new Date().toISOString() }, final: true },
    ]);
  }

  private watch(loopId: string): void {
    if (this.closed || this.watched.has(loopId)) return;
    const every = this.options.heartbeatMs ?? HEARTBEAT_MS;
    const heartbeat = setInterval(() => this.options.outbox.enqueueHeartbeat(loopId), every);
    const refresh = setInterval(() => void this.refreshIfDue(loopId), Math.min(REFRESH_CHECK_MS, every));
    for (const timer of [heartbeat, refresh]) timer.unref();
    this.watched.set(loopId, { timers: [heartbeat, refresh] });
    if (!this.watchTimer) {
      this.watchTimer = setInterval(() => void this.checkAll(), this.options.watchMs ?? WATCH_MS);
      this.watchTimer.unref();
    }
  }

  private unwatch(loopId: string): void {
    const watched = this.watched.get(loopId);
    if (!watched) return;
    for (const timer of watched.timers) clearInterval(timer);
    this.watched.delete(loopId);
  }

  /** What the hosts queued goes out; a loop that ended is no longer watched; a dead host's loop is finalised. */
  private async checkAll(): Promise<void> {
    if (this.checking || this.closed) return;
    this.checking = true;
    try {
      for (const loopId of [...this.watched.keys()]) await this.checkOne(loopId);
      if (this.watched.size === 0) {
        clearInterval(this.watchTimer);
        this.watchTimer = undefined;
      }
    } finally {
      this.checking = false;
      this.options.outbox.kick();
    }
  }

  private check(loopId: string): void {
    void this.checkOne(loopId).finally(() => this.options.outbox.kick());
  }

  private async checkOne(loopId: string): Promise<void> {
    if (this.closed) return;
    const row = this.get(loopId);
    if (!row || !LIVE_LOOP.includes(row.status)) {
      // Its agent slot is free: a queued turn of its caller starts now.
      if (this.watched.has(loopId)) this.options.slots?.recheck();
      this.unwatch(loopId);
      return;
    }
    if (row.host && !(await this.options.supervisor.isAlive(row.host))) {
      // The host may have ended the loop just before it exited: read the row again.
      if (this.hostDied(loopId, 'The loop host exited before the loop finished; see host.log beside the work folder.')) {
        this.options.log.warn({ loopId, pid: row.host.pid }, 'a loop host died');
        await this.options.supervisor.reapOrphans();
      }
      this.unwatch(loopId);
    }
  }

  private async repository(body: LoopBody, required: boolean): Promise<string | null> {
    if (body.localRepoPath) return this.options.workspace.resolve(body.localRepoPath);
    if (body.repo?.fullName) {
      const repo = this.options.repos.list().find((r) => r.fullName?.toLowerCase() === body.repo!.fullName.toLowerCase());
      // Never a silent clone: the user manages which repositories agents may touch.
      if (!repo) throw new NotFound(`Repository not found locally: ${body.repo.fullName}`, 'repo_not_found', { fullName: body.repo.fullName });
      return repo.path;
    }
    if (required) throw new BadRequest(`${body.command} needs repo.fullName or localRepoPath`, { field: 'repo' }, 'repo_required');
    return null;
  }

  /** The loop worktree for PLAN, EXECUTE and REQUEST_CHANGES; the work folder always under the data dir. */
  private async workFolder(body: LoopBody, repoPath: string | null, inWorktree: boolean, signal?: AbortSignal): Promise<{ worktreePath: string; workDir: string }> {
    const folder = path.join(this.options.dataDir, 'loops', body.loopId, 'work');
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    // The agent's view binds folders at their real paths: the prompt must name that one.
    const workDir = realpathSync(folder);
    if (inWorktree && repoPath) {
      const slug = loopSlug(body);
      const worktree = await this.options.worktrees.ensure(
        { repoPath, ticketId: `loop-${slug}`, branchName: `symphony/${slug}`, baseBranch: body.repo?.branch ?? undefined },
        signal,
      );
      return { worktreePath: worktree.path, workDir };
    }
    return { worktreePath: workDir, workDir };
  }

  private async refreshIfDue(loopId: string): Promise<void> {
    const token = await this.options.cloud.token(loopId);
    const exp = token ? tokenExpiry(token) : null;
    if (exp !== null && exp - REFRESH_BEFORE_EXP_MS < Date.now()) await this.options.cloud.refresh(loopId);
  }
}
