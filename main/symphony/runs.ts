// Ticket runs as the gateway sees them: launch (new, resume, accept the plan), status,
// kill, logs, plan and judges. The loop itself runs in a detached run host per run (see
// run-host.ts), so this service starts hosts, watches them, and reattaches to the live
// ones after a restart: a host is identified by PID + kernel start time + boot id, and
// only such a host of OUR runs is ever signalled. A run whose host is gone while the run
// was live becomes INTERRUPTED, and launching its ticket again resumes it.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { callerKey } from '../auth/caller.js';
import { BadRequest, Conflict, NotFound } from '../errors.js';
import type { AgentSlots } from '../providers/agent-slots.js';
import type { ProviderId } from '../providers/types.js';
import type { SettingsStore } from '../store/settings.js';
import type { Db } from '../store/database.js';
import type { ProcessIdentity, Supervisor } from '../supervisor/supervisor.js';
import { commandArgv, detectCommandJudges } from './judges.js';
import type { RunHostJob, RunProviderConfigs } from './run-host.js';
import { PRD_FILE } from './run-loop.js';
import { appendRunEvent, eventsFile, followLog, logSize, readLogTail, sleep, type RunEvent } from './run-log.js';
import { prdMarkdown, type PromptSectionProvider } from './run-prompts.js';
import { RESTING, RunStore, type CommandJudgeSpec, type LlmJudgeSpec, type PrOpenState, type RunOptions, type RunRow, type RunStatus, type Ticket } from './run-store.js';
import { ticketSlug, type TicketWorktrees } from './ticket-worktree.js';
import type { WorktreeRetention } from './worktree-retention.js';

export const RUN_SETTINGS = {
  /** `{ [repoPath]: [{ name, command, required? }] }`: a repository's own judges instead of the detected ones. */
  judges: 'runs.judges',
  maxIterations: 'runs.maxIterations',
  stallTimeoutMs: 'runs.stallTimeoutMs',
  judgeTimeoutMs: 'runs.judgeTimeoutMs',
  backoffBaseMs: 'runs.backoffBaseMs',
  budgetTokens: 'runs.budgetTokens',
  budgetUsd: 'runs.budgetUsd',
} as const;

const DEFAULT_MAX_ITERATIONS = 20;
const HOST_WATCH_MS = 2_000;
const KILL_GRACE_MS = 5_000;
const LIVE: RunStatus[] = ['STARTING', 'IN_PROGRESS'];

export interface LaunchInput {
  ticketIdentifier: string;
  repoPath: string;
  baseBranch?: string;
  ticket?: Ticket;
  provider?: ProviderId;
  model?: string;
  maxIterations?: number;
  autoApprovePlan?: boolean;
  /** Per launch: command lines replacing the detected judges. */
  judges?: Array<{ name: string; command: string; required?: boolean }>;
  llmJudge?: LlmJudgeSpec | boolean;
  /** A run driven by its own prompt (cloud loops): no ticket plan unless asked. */
  prompt?: string;
  skipPlan?: boolean;
  followPr?: boolean;
  /** Open the run's pull request when it completes with every required judge passing (asked as `caller`, policy git_pr). */
  openPr?: boolean;
  /** Who launched (the route's caller): the PR opening goes through the approval policy as them. */
  caller?: PrOpenState['by'];
  parentTicketId?: string;
}

export interface LaunchResult {
  success: true;
  runId: string;
  ticketId: string;
  branchName: string;
  worktreePath: string;
  pid: number | null;
  logFile: string;
  prdFile: string;
  baseBranch: string | null;
  parentTicketId: string | null;
  status: RunStatus;
  alreadyRunning?: boolean;
  resumed?: boolean;
}

export interface RunServiceOptions {
  db: Db;
  dbFile: string;
  dataDir: string;
  settings: SettingsStore;
  supervisor: Supervisor;
  ticketWorktrees: TicketWorktrees;
  log: Logger;
  binarySearchDirs?: string[];
  providerConfigs: RunProviderConfigs;
  /** The agent environment's part a run host cannot read itself (AgentEnvironment.handover). */
  agentEnv?: () => Promise<RunHostJob['agentEnv']>;
  /** Worktree sizes and removal of finished runs' worktrees (their facts shown in status). */
  retention: WorktreeRetention;
  /** The agent cap: a remote caller's launch at its limit is 429 (its live runs count there through `launchedBy`). */
  slots?: Pick<AgentSlots, 'reserve'>;
}

const LLM_DEFAULT: LlmJudgeSpec = {
  metrics: [
    { name: 'correctness', threshold: 0.7, description: 'the change does what the ticket asks, without bugs' },
    { name: 'completeness', threshold: 0.7, description: 'every part of the ticket is covered' },
  ],
};

export class RunService {
  readonly store: RunStore;
  readonly retention: WorktreeRetention;
  private readonly launching = new Set<string>();
  private readonly sectionProviders: PromptSectionProvider[] = [];
  private readonly endListeners: Array<(run: RunRow) => void> = [];
  private watchTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private hostEntry = hostScript();

  constructor(private readonly options: RunServiceOptions) {
    this.store = new RunStore(options.db);
    this.retention = options.retention;
  }

  /** Tests and benchmarks: a host entry of their own (one that adds the fake provider). */
  setHostScript(file: string): void {
    this.hostEntry = file;
  }

  /** Model-API settings the run hosts give the CLIs (tests: the mock model API). */
  setProviderConfigs(configs: RunProviderConfigs): void {
    this.options.providerConfigs = configs;
  }

  /**
   * THE place where other features add context to a run's prompts (e.g. learnings'
   * `promptSection(repoPath)`): called at every launch, sections go into every prompt.
   */
  addPromptSections(provider: PromptSectionProvider): void {
    this.sectionProviders.push(provider);
  }

  /** Told whenever a host ends (the run rests): notifications, PR following. */
  onRunEnded(listener: (run: RunRow) => void): void {
    this.endListeners.push(listener);
  }

  /** At startup: live runs whose host still runs are reattached; the others are INTERRUPTED. */
  async reattach(): Promise<{ reattached: string[]; interrupted: string[] }> {
    const reattached: string[] = [];
    const interrupted: string[] = [];
    for (const run of this.store.active()) {
      if (run.host && (await this.options.supervisor.isAlive(run.host))) reattached.push(run.id);
      else if (this.interrupt(run, 'The run host was not running when the gateway started (the machine or the host went down).')) interrupted.push(run.id);
    }
    if (reattached.length || interrupted.length) this.options.log.info({ reattached, interrupted }, 'ticket runs after restart');
    // What a dead host left running (its agent CLI, in its own group) is stopped now.
    if (interrupted.length) await this.options.supervisor.reapOrphans();
    this.watch();
    return { reattached, interrupted };
  }

  async launch(input: LaunchInput, signal?: AbortSignal): Promise<LaunchResult> {
    const slug = ticketSlug(input.ticketIdentifier, 'ticketIdentifier');
    if (input.baseBranch !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9/_.-]{0,199}$/.test(input.baseBranch)) {
      throw new BadRequest("baseBranch must be a branch name ([a-zA-Z0-9/_.-], not starting with '-' or '.').", { field: 'baseBranch' }, 'invalid_ref');
    }
    const repoPath = await this.options.ticketWorktrees.resolveRepo(input.repoPath, signal);
    const lockKey = `${repoPath}\0${slug}`;
    if (this.launching.has(lockKey)) throw new Conflict('Launch already in progress', 'launch_in_progress', { ticketId: input.ticketIdentifier });
    this.launching.add(lockKey);
    try {
      const latest = this.store.latest(repoPath, slug);
      if (latest && LIVE.includes(latest.status) && latest.host && (await this.options.supervisor.isAlive(latest.host))) {
        if (input.ticket) this.writePrd(latest, input.ticket);
        return this.launchResult(latest, { alreadyRunning: true });
      }
      // A new host is an agent more for the launching caller: at its cap this is 429, and the slot is held until the row (live, launchedBy) counts.
      const release = this.options.slots?.reserve(launcherKey(input)) ?? (() => {});
      try {
        if (latest && latest.status !== 'COMPLETED' && latest.discardedAt === null) return await this.resume(latest, input);
        return await this.startNew(repoPath, slug, input, signal);
      } finally {
        release();
      }
    } finally {
      this.launching.delete(lockKey);
    }
  }

  /** Starts a run from code (no HTTP): the engine API for cloud loops and tests. */
  start(input: LaunchInput, signal?: AbortSignal): Promise<LaunchResult> {
    return this.launch(input, signal);
  }

  private async startNew(repoPath: string, slug: string, input: LaunchInput, signal?: AbortSignal): Promise<LaunchResult> {
    const worktree = await this.options.ticketWorktrees.ensure({ repoPath, ticketId: input.ticketIdentifier, baseBranch: input.baseBranch }, signal);
    const workDir = this.options.ticketWorktrees.workFolder(repoPath, input.ticketIdentifier);
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    const base = worktree.baseBranch ?? (await this.currentBase(worktree.path));
    const run = this.store.create({
      ticketId: input.ticketIdentifier, ticketSlug: slug, ticket: input.ticket ?? {}, repoPath, worktreePath: worktree.path,
      branch: worktree.branch, baseBranch: base, workDir, provider: input.provider ?? 'claude', model: input.model ?? null,
      status: 'STARTING', phase: 'Initializing', reason: null, iteration: 0, completedIteration: 0,
      maxIterations: input.maxIterations ?? this.setting<number>(RUN_SETTINGS.maxIterations) ?? DEFAULT_MAX_ITERATIONS, sessionId: null,
      lastError: null, plan: null, planAccepted: false, autoApprovePlan: Boolean(input.autoApprovePlan), currentTaskId: null,
      options: await this.runOptions(repoPath, worktree.path, input), followPr: input.followPr ?? true, prRounds: 0, prNumber: null, prUrl: null,
      pendingFeedback: [], launchedBy: launcherKey(input),
    });
    if (input.openPr) this.store.update(run.id, { prOpen: prOpenRequest(input) });
    this.writePrd(run, input.ticket ?? {}, input.prompt);
    writeFileSync(path.join(workDir, 'launch-metadata.json'), JSON.stringify({ runId: run.id, ticketId: run.ticketId, parentTicketId: input.parentTicketId ?? null, baseBranch: base }, null, 2));
    appendRunEvent(workDir, run.id, 0, 'launched', {
      worktreePath: worktree.path, branch: worktree.branch, baseBranch: base, created: worktree.created,
      // Which extra context the prompts carry (learnings name their pattern ids in the title).
      promptSections: run.options.extraSections.map((section) => section.title),
    });
    return this.launchResult(await this.spawnHost(run), { parentTicketId: input.parentTicketId });
  }

  private async resume(run: RunRow, input: LaunchInput): Promise<LaunchResult> {
    const accepting = run.status === 'AWAITING_USER';
    const changes: Parameters<RunStore['update']>[1] = {
      status: 'STARTING', phase: accepting ? 'Plan accepted' : 'Resuming', lastError: null, endedAt: null, launchedBy: launcherKey(input),
    };
    if (accepting) changes.planAccepted = true;
    // A later launch may ask for the PR (or take the ask back) until it is open.
    if (input.openPr !== undefined && run.prOpen?.state !== 'opened') changes.prOpen = input.openPr ? prOpenRequest(input) : null;
    if (input.maxIterations !== undefined) changes.maxIterations = input.maxIterations;
    else if (run.reason === 'max_iterations_reached') changes.maxIterations = run.maxIterations + DEFAULT_MAX_ITERATIONS;
    this.store.update(run.id, changes);
    if (input.ticket) this.writePrd(run, input.ticket);
    appendRunEvent(run.workDir, run.id, run.iteration, accepting ? 'plan_accepted' : 'resumed', { from: run.status });
    return this.launchResult(await this.spawnHost(this.store.require(run.id)), { resumed: !accepting });
  }

  /**
   * New review comments or failing checks on the run's pull request (PrFollower): one
   * more iteration that addresses `keys`, in the run's session, beyond max iterations.
   */
  async addressFeedback(runId: string, keys: string[]): Promise<RunRow> {
    const run = this.requireRun(runId);
    const lockKey = `${run.repoPath}\0${run.ticketSlug}`;
    if (this.launching.has(lockKey)) throw new Conflict('Launch already in progress', 'launch_in_progress', { ticketId: run.ticketId });
    this.launching.add(lockKey);
    try {
      const round = run.prRounds + 1;
      const moved = this.store.transition(run.id, ['COMPLETED'], {
        status: 'STARTING', phase: 'Addressing review', pendingFeedback: keys, prRounds: round, reason: null, lastError: null, endedAt: null,
      });
      if (!moved) throw new Conflict(`The run is ${this.store.require(run.id).status}, not completed.`, 'run_not_completed');
      appendRunEvent(run.workDir, run.id, run.iteration, 'pr_feedback', { keys, round });
      return await this.spawnHost(this.store.require(run.id));
    } finally {
      this.launching.delete(lockKey);
    }
  }

  /** The user accepted the plan (the Accept button; the web client sends a second launch instead). */
  async acceptPlan(runId: string, caller?: LaunchInput['caller']): Promise<LaunchResult> {
    const run = this.requireRun(runId);
    if (run.status !== 'AWAITING_USER') throw new Conflict(`The run is ${run.status}, not waiting at the plan checkpoint.`, 'not_awaiting_user');
    return this.launch({ ticketIdentifier: run.ticketId, repoPath: run.repoPath, caller });
  }

  /** Starts (or restarts) the run's host; the run row holds its identity. */
  private async spawnHost(run: RunRow): Promise<RunRow> {
    const job: RunHostJob = { runId: run.id, ...(await this.hostEnvironment()) };
    let host;
    try {
      host = await this.startHost(job, run.worktreePath, path.join(run.workDir, 'host.log'));
    } catch (error) {
      this.store.update(run.id, { status: 'FAILED', phase: 'Failed', lastError: `The run host did not start: ${(error as Error).message}`, endedAt: Date.now() });
      throw error;
    }
    this.store.setHost(run.id, host);
    appendRunEvent(run.workDir, run.id, run.iteration, 'host_started', { pid: host.pid });
    void host.exited.then(() => this.hostEnded(run.id, host));
    this.watch();
    return this.store.require(run.id);
  }

  /** One detached run host for a job (a ticket run here; cloud loops start theirs through this too). */
  startHost(job: RunHostJob, cwd: string, logFile: string) {
    return this.options.supervisor.startDetached({
      command: process.execPath, args: [...hostNodeArgs(), this.hostEntry], cwd,
      env: process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}, input: JSON.stringify(job), logFile,
    });
  }

  /** What a host it starts needs besides its job: the database, the CLIs' settings, where binaries are. */
  async hostEnvironment(): Promise<Omit<RunHostJob, 'runId' | 'loop'>> {
    return {
      dataDir: this.options.dataDir, dbFile: this.options.dbFile, providers: this.options.providerConfigs,
      binarySearchDirs: this.options.binarySearchDirs, logLevel: process.env.SYMPHONY_LOG_LEVEL ?? 'info',
      agentEnv: await this.options.agentEnv?.(),
    };
  }

  private hostEnded(runId: string, host: ProcessIdentity): void {
    if (this.closed) return;
    const run = this.store.get(runId);
    if (!run) return;
    // Only while the run still names this host: a resume may have started the next one already.
    if (LIVE.includes(run.status) && run.host?.pid === host.pid) {
      this.interrupt(run, 'The run host exited before the run finished; see host.log in the work folder.');
    }
    const after = this.store.get(runId);
    if (after) for (const listener of this.endListeners) listener(after);
  }

  /** Marks a live run INTERRUPTED (resumable) when nothing works on it any more. */
  private interrupt(run: RunRow, why: string): boolean {
    const moved = this.store.transition(run.id, LIVE, { status: 'INTERRUPTED', phase: 'Interrupted', lastError: why, reason: 'interrupted', endedAt: Date.now() });
    if (moved) {
      this.store.setHost(run.id, null);
      appendRunEvent(run.workDir, run.id, run.iteration, 'status', { status: 'INTERRUPTED', phase: 'Interrupted', lastError: why });
    }
    return moved;
  }

  /** Every few seconds: a live run whose host died (crash, OOM kill) becomes INTERRUPTED. */
  private watch(): void {
    if (this.watchTimer || this.closed) return;
    this.watchTimer = setInterval(() => void this.checkHosts(), HOST_WATCH_MS);
    this.watchTimer.unref();
  }

  private async checkHosts(): Promise<void> {
    for (const run of this.store.active()) {
      if (this.closed) return;
      if (run.status === 'STARTING' && !run.host) continue;
      if (!run.host || !(await this.options.supervisor.isAlive(run.host))) {
        if (this.interrupt(run, 'The run host died while the run was in progress.')) {
          await this.options.supervisor.reapOrphans();
          const after = this.store.get(run.id);
          if (after) for (const listener of this.endListeners) listener(after);
        }
      }
    }
  }

  /** POST /symphony/kill: by ticket, or by the pid of one of OUR run hosts (anything else is 404, never signalled). */
  async kill(input: { ticketId?: string; repoPath?: string; pid?: number }, signal?: AbortSignal): Promise<{ success: true; message: string; pid: number | null; status: RunStatus | null }> {
    let run: RunRow | null;
    if (input.pid !== undefined) {
      run = this.store.byHostPid(input.pid);
      if (!run || !run.host || !(await this.options.supervisor.isAlive(run.host))) {
        throw new NotFound(`No running ticket run of this gateway has pid ${input.pid}.`, 'run_process_not_found', {
          hint: 'Only processes of runs this gateway started can be killed here.',
        });
      }
    } else {
      run = await this.find(input.ticketId!, input.repoPath!, signal);
      if (!run) throw new NotFound(`No run for ticket ${input.ticketId}.`, 'run_not_found');
    }
    return this.stop(run);
  }

  /** Stops a run: SIGTERM to its host (it ends the turn and records STOPPED), then the whole tree if it lingers. */
  async stop(run: RunRow): Promise<{ success: true; message: string; pid: number | null; status: RunStatus | null }> {
    const host = run.host;
    const alive = host ? await this.options.supervisor.isAlive(host) : false;
    if (!alive || !host) {
      this.store.transition(run.id, [...LIVE, 'AWAITING_USER', 'INTERRUPTED'], { status: 'STOPPED', phase: 'Process stopped by user', reason: 'stopped', endedAt: Date.now() });
      this.store.setHost(run.id, null);
      return { success: true, message: 'No process to kill, state marked as stopped', pid: null, status: this.store.require(run.id).status };
    }
    appendRunEvent(run.workDir, run.id, run.iteration, 'kill_requested', { pid: host.pid });
    await this.options.supervisor.signal(host, 'SIGTERM');
    const deadline = Date.now() + KILL_GRACE_MS;
    while (Date.now() < deadline && (await this.options.supervisor.isAlive(host))) await sleep(50);
    if (await this.options.supervisor.isAlive(host)) await this.options.supervisor.killIdentity(host, 1_000);
    // A host killed hard leaves its agent CLI in its own group: the orphan records find it.
    await this.options.supervisor.reapOrphans();
    this.store.transition(run.id, LIVE, { status: 'STOPPED', phase: 'Process stopped by user', reason: 'stopped', endedAt: Date.now() });
    this.store.setHost(run.id, null);
    return { success: true, message: 'Process terminated', pid: host.pid, status: this.store.require(run.id).status };
  }

  /**
   * The user gave up on a run: a launch of its ticket starts afresh, and the retention
   * setting removes its worktree after the kept days (never with uncommitted changes).
   */
  discard(runId: string): RunRow {
    const run = this.requireRun(runId);
    if (LIVE.includes(run.status)) throw new Conflict(`The run is ${run.status}: stop it before discarding it.`, 'run_live');
    if (run.discardedAt === null) {
      this.store.update(run.id, { discardedAt: Date.now() });
      appendRunEvent(run.workDir, run.id, run.iteration, 'discarded', {});
    }
    return this.store.require(run.id);
  }

  /** The ticket's latest run (validates the ticket id and the repository path). */
  async find(ticketId: string, repoPath: string, signal?: AbortSignal): Promise<RunRow | null> {
    const slug = ticketSlug(ticketId);
    const repo = await this.options.ticketWorktrees.resolveRepo(repoPath, signal);
    return this.store.latest(repo, slug);
  }

  requireRun(runId: string): RunRow {
    const run = this.store.get(runId);
    if (!run) throw new NotFound(`No run ${runId}.`, 'run_not_found');
    return run;
  }

  list(): RunRow[] {
    return this.store.list();
  }

  async isHostAlive(run: RunRow): Promise<boolean> {
    return Boolean(run.host) && (await this.options.supervisor.isAlive(run.host!));
  }

  logTail(run: RunRow, lines: number) {
    return readLogTail(run.workDir, lines);
  }

  /** New events of the run's log until it rests (and its host is gone) or the reader leaves. */
  follow(run: RunRow, signal: AbortSignal, fromStart = false): AsyncGenerator<RunEvent> {
    let restingSince: number | null = null;
    return followLog(run.workDir, {
      offset: fromStart ? 0 : logSize(run.workDir),
      signal,
      stop: () => {
        const now = this.store.get(run.id);
        if (!now || !RESTING.has(now.status) || now.host) {
          restingSince = null;
          return false;
        }
        restingSince ??= Date.now();
        return Date.now() - restingSince > 300;
      },
    });
  }

  logFile(run: RunRow): string {
    return eventsFile(run.workDir);
  }

  /** On quit with `--stop-runs-on-exit`: every live run stopped. Otherwise they keep going. */
  async stopAll(): Promise<void> {
    await Promise.all(this.store.active().map((run) => this.stop(run)));
  }

  close(): void {
    this.closed = true;
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = null;
  }

  private async runOptions(repoPath: string, worktreePath: string, input: LaunchInput): Promise<RunOptions> {
    const configured = this.setting<Record<string, Array<{ name: string; command: string; required?: boolean }>>>(RUN_SETTINGS.judges)?.[repoPath];
    const fromInput = input.judges ?? configured;
    const commandJudges: CommandJudgeSpec[] = fromInput
      ? fromInput.map((j, i) => ({ name: j.name, argv: commandArgv(j.command, `judges[${i}].command`), required: j.required ?? true }))
      : detectCommandJudges(worktreePath);
    const extraSections = [];
    for (const provider of this.sectionProviders) {
      try {
        extraSections.push(...(await provider(repoPath)));
      } catch (error) {
        this.options.log.warn({ err: (error as Error).message }, 'a prompt section provider failed; the run goes on without it');
      }
    }
    return {
      commandJudges,
      llmJudge: input.llmJudge === true ? LLM_DEFAULT : input.llmJudge || null,
      judgeTimeoutMs: this.setting<number>(RUN_SETTINGS.judgeTimeoutMs) ?? 10 * 60_000,
      stallTimeoutMs: this.setting<number>(RUN_SETTINGS.stallTimeoutMs) ?? 5 * 60_000,
      backoffBaseMs: this.setting<number>(RUN_SETTINGS.backoffBaseMs) ?? 10_000,
      backoffMaxMs: 5 * 60_000,
      maxApiRetries: 8,
      maxStallRetries: 3,
      budgetTokens: this.setting<number>(RUN_SETTINGS.budgetTokens) ?? null,
      budgetUsd: this.setting<number>(RUN_SETTINGS.budgetUsd) ?? null,
      prompt: input.prompt ?? null,
      skipPlan: Boolean(input.skipPlan),
      extraSections,
    };
  }

  private writePrd(run: RunRow, ticket: Ticket, prompt?: string): void {
    if (Object.keys(ticket).length) this.store.update(run.id, { ticket: { ...run.ticket, ...ticket } });
    writeFileSync(path.join(run.workDir, PRD_FILE), prdMarkdown(run.ticketId, { ...run.ticket, ...ticket }, prompt ?? run.options.prompt), { mode: 0o600 });
  }

  private async currentBase(worktreePath: string): Promise<string | null> {
    const result = await this.options.supervisor.run('git', ['rev-parse', 'HEAD'], { cwd: worktreePath, timeoutMs: 10_000 });
    return result.exitCode === 0 ? result.stdout.trim() : null;
  }

  private setting<T>(key: string): T | undefined {
    return this.options.settings.get<T>(key);
  }

  private launchResult(run: RunRow, extra: { alreadyRunning?: boolean; resumed?: boolean; parentTicketId?: string }): LaunchResult {
    return {
      success: true, runId: run.id, ticketId: run.ticketId, branchName: run.branch, worktreePath: run.worktreePath, pid: run.host?.pid ?? null,
      logFile: eventsFile(run.workDir), prdFile: path.join(run.workDir, PRD_FILE), baseBranch: run.baseBranch, parentTicketId: extra.parentTicketId ?? null,
      status: run.status, ...(extra.alreadyRunning ? { alreadyRunning: true } : {}), ...(extra.resumed ? { resumed: true } : {}),
    };
  }
}

/** Whose agent cap a launch counts against (auth/caller.ts callerKey); null for a launch from code. */
function launcherKey(input: LaunchInput): string | null {
  return input.caller ? callerKey(input.caller) : null;
}

function prOpenRequest(input: LaunchInput): PrOpenState {
  return { by: input.caller ?? { kind: 'token', origin: null, claimedSource: null }, state: 'requested', note: null, at: Date.now() };
}

/** The host's entry beside this file: .ts under tsx (dev, tests), .js in dist/. */
function hostScript(): string {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  return path.join(path.dirname(here), `run-host${ext}`);
}

function hostNodeArgs(): string[] {
  if (path.extname(fileURLToPath(import.meta.url)) !== '.ts') return [];
  return ['--import', import.meta.resolve('tsx')];
}
