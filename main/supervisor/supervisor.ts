// The only door to child processes. Short commands go through run(); long-lived ones
// (agent CLIs, dev servers) through start(), which returns a SupervisedChild. Every live
// child is in the registry (list, kill, stopAll) and in SQLite (reapOrphans after a crash).
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { pino, type Logger } from 'pino';
import { FailedDependency, NotFound, ServiceUnavailable, Unprocessable } from '../errors.js';
import type { Db } from '../store/database.js';
import type { SettingsStore } from '../store/settings.js';
import { BinaryResolver, isExecutableFile, isManagedBinary } from './binaries.js';
import { SupervisedChild, type ChildExit, type ChildSpec, type ChildState } from './child.js';
import { SpawnFailure } from './spawn-failure.js';
import { isSameProcessAlive, killDetached, signalDetached, spawnDetached, type DetachedChild, type ProcessIdentity } from './detached.js';
import { cleanEnv } from './env.js';
import { reapOrphans, type ReapedProcess } from './orphans.js';
import { CappedLogFile, pruneLogDir, type OutputLine } from './output.js';
import { bootId, hasProcfs, readProcStat } from './procfs.js';
import { ProcessRecords } from './records.js';
import { runToCompletion, type RunOptions, type RunResult } from './run.js';
import { startTimeNow, startTimeOf } from './start-time.js';
import { DEFAULT_GRACE_MS, killTree } from './tree-kill.js';
import { loadExeca } from './execa.js';

export type { RunOptions, RunResult } from './run.js';
export type { ChildExit, ChildSpec, ChildState } from './child.js';
export { SupervisedChild } from './child.js';
export type { DetachedChild, ProcessIdentity } from './detached.js';

export interface DetachedStartSpec {
  command: string;
  args: readonly string[];
  cwd: string;
  env?: Record<string, string>;
  /** Handed over on stdin (then closed): the job, with anything that must stay out of argv and env. */
  input: string;
  /** stdout/stderr are appended here. */
  logFile: string;
}

export interface SupervisorOptions {
  /** Process records for orphan reaping; without it nothing survives a crash to be reaped. */
  db?: Db;
  /** Binary path overrides (`binaryPaths`). */
  settings?: SettingsStore;
  /** Child log files go to <dataDir>/logs/processes/; without it children log to the ring only. */
  dataDir?: string;
  log?: Logger;
  /** SIGTERM → SIGKILL grace (default 3 s). */
  graceMs?: number;
  /** Searched before PATH when resolving claude, codex, gh, git, python3 (tests: node_modules/.bin). */
  extraSearchDirs?: readonly string[];
  ringLines?: number;
  logFileMaxBytes?: number;
  loginShellTimeoutMs?: number;
  loginShellRetryMs?: number;
}

export interface ProcessInfo {
  id: string;
  pid: number;
  label: string;
  owner: string | null;
  command: string;
  args: readonly string[];
  cwd: string | null;
  startedAt: string;
  state: ChildState;
  tail: OutputLine[];
}

export interface ReapReport {
  reaped: number;
  processes: ReapedProcess[];
}

export type ReapListener = (reaped: ReapedProcess[]) => void | Promise<void>;

/** A live process of either kind, as the registry sees it. */
interface LiveProcess {
  info(): ProcessInfo;
  kill(): Promise<unknown>;
}

const LOG_FILES_KEPT = 200;
const LOG_PRUNE_EVERY = 50;
/** Identifies this gateway process in the records (with its PID) so a live one is never reaped. */
const HOST_START_TIME = readProcStat(process.pid)?.startTime ?? null;
const LIST_TAIL_LINES = 20;

export class Supervisor {
  readonly binaries: BinaryResolver;
  private readonly id = randomUUID();
  private readonly log: Logger;
  private readonly records: ProcessRecords | null;
  private readonly live = new Map<string, LiveProcess>();
  private readonly reapListeners: ReapListener[] = [];
  private readonly logDir: string | null;
  private readonly graceMs: number;
  private stopping = false;
  private startsSincePrune = 0;

  constructor(private readonly options: SupervisorOptions = {}) {
    this.log = (options.log ?? pino({ level: 'silent' })).child({ component: 'supervisor' });
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.records = options.db ? new ProcessRecords(options.db) : null;
    this.safely('prune process records', () => this.records?.pruneEnded());
    this.logDir = options.dataDir ? join(options.dataDir, 'logs', 'processes') : null;
    if (this.logDir) pruneLogDir(this.logDir, LOG_FILES_KEPT);
    this.binaries = new BinaryResolver({
      settings: options.settings,
      extraSearchDirs: options.extraSearchDirs,
      log: this.log,
      loginShellTimeoutMs: options.loginShellTimeoutMs,
      loginShellRetryMs: options.loginShellRetryMs,
      run: (file, args, runOptions) => this.run(file, args, runOptions),
    });
  }

  /** Runs a command to completion; never throws for a non-zero exit. */
  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.refuseWhileStopping();
    const { file, env } = await this.prepare(command, options.env);
    const id = randomUUID();
    const startedAt = new Date();
    let pid = 0;
    let ended = () => {};
    const finished = new Promise<void>((resolve) => (ended = resolve));
    const result = await runToCompletion(file, args, env, options, {
      graceMs: this.graceMs,
      onSpawn: (spawnedPid) => {
        pid = spawnedPid;
        const info = (): ProcessInfo => ({
          id, pid, label: command, owner: null, command, args, cwd: options.cwd ?? null,
          startedAt: startedAt.toISOString(), state: 'running', tail: [],
        });
        // Killing a run resolves once its bookkeeping is done too (stopAll closes the database next).
        this.live.set(id, { info, kill: () => killTree(pid, this.graceMs).then(() => finished) });
        this.record(id, pid, { command, args, cwd: options.cwd ?? null, label: command }, startedAt);
      },
      onEnd: () => {
        this.live.delete(id);
        this.safely('remove process record', () => this.records?.remove(id));
        ended();
      },
    });
    if (result.timedOut || result.truncated) {
      this.log.warn({ childId: id, pid, command, timedOut: result.timedOut, truncated: result.truncated }, 'run stopped early; tree killed');
    }
    return result;
  }

  /** Starts a long-lived child; iterate child.lines() right away to read its output live. */
  async start(spec: ChildSpec): Promise<SupervisedChild> {
    this.refuseWhileStopping();
    if (!isDirectory(spec.cwd)) throw new Unprocessable(`Working directory does not exist: ${spec.cwd}`, 'cwd_missing');
    const resolved = await this.prepare(spec.command, spec.env);
    const wrapped = spec.wrap?.(resolved.file, spec.args, resolved.env);
    const { file, env } = wrapped ? { file: wrapped.command, env: resolved.env } : resolved;
    const id = randomUUID();
    const logFile = this.logDir ? this.openLogFile(spec.label, id) : null;
    if (this.logDir && ++this.startsSincePrune >= LOG_PRUNE_EVERY) {
      this.startsSincePrune = 0;
      pruneLogDir(this.logDir, LOG_FILES_KEPT);
    }
    const { execa } = await loadExeca();
    let child: SupervisedChild;
    try {
      child = new SupervisedChild(spec, {
        id,
        file,
        spawnArgs: wrapped?.args,
        env,
        log: this.log,
        logFile,
        graceMs: spec.graceMs ?? this.graceMs,
        ringLines: this.options.ringLines ?? 200,
        onEnd: (ended, exit) => this.onChildEnd(ended, exit),
        execa,
      });
    } catch (error) {
      logFile?.close();
      throw await this.spawnFailed(spec.command, error);
    }
    this.live.set(id, {
      info: () => ({
        id, pid: child.pid, label: child.label, owner: child.owner, command: child.command, args: child.args, cwd: child.cwd,
        startedAt: child.startedAt.toISOString(), state: child.state, tail: child.tail(LIST_TAIL_LINES),
      }),
      kill: () => child.kill(),
    });
    this.record(id, child.pid, spec, child.startedAt);
    return child;
  }

  /**
   * Starts a child that outlives this gateway (a ticket run's host): own session and
   * process group, never killed by stopAll, never reaped as an orphan. Its owner keeps
   * the returned identity and signals it only through the methods below.
   */
  async startDetached(spec: DetachedStartSpec): Promise<DetachedChild> {
    this.refuseWhileStopping();
    if (!isDirectory(spec.cwd)) throw new Unprocessable(`Working directory does not exist: ${spec.cwd}`, 'cwd_missing');
    const { file, env } = await this.prepare(spec.command, spec.env);
    try {
      const child = await spawnDetached({ file, args: spec.args, cwd: spec.cwd, env, input: spec.input, logFile: spec.logFile });
      this.log.info({ pid: child.pid, command: spec.command }, 'detached child started');
      return child;
    } catch (error) {
      throw await this.spawnFailed(spec.command, error);
    }
  }

  /** A 424 that says what the OS said (E2BIG, ENOENT, EACCES) and what it means, logged with it. */
  private async spawnFailed(command: string, error: unknown): Promise<FailedDependency> {
    const { code, message } = error instanceof SpawnFailure ? await error.reason() : { code: null, message: (error as Error).message };
    this.log.warn({ command, cause: code, err: message }, 'a child could not be started');
    return new FailedDependency(message, 'spawn_failed', { command, cause: code });
  }

  /** Whether the very process named (PID + start time + boot) still runs. */
  isAlive(identity: ProcessIdentity): Promise<boolean> {
    return isSameProcessAlive(identity);
  }

  /** SIGTERM to a detached child's group, only when it is still that process. */
  signal(identity: ProcessIdentity, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
    return signalDetached(identity, signal);
  }

  /** Kills a detached child's whole tree (TERM, grace, KILL), only when it is still that process. */
  async killIdentity(identity: ProcessIdentity, graceMs = this.graceMs): Promise<boolean> {
    return (await killDetached(identity, graceMs)) !== false;
  }

  list(): ProcessInfo[] {
    return [...this.live.values()].map((entry) => entry.info());
  }

  /** Kills one live process tree by id; resolves when it is gone. */
  async kill(id: string): Promise<void> {
    const entry = this.live.get(id);
    if (!entry) throw new NotFound(`No running process with id ${id}`, 'process_not_found');
    await entry.kill();
  }

  /** For quit: refuses new children, kills every tree, waits until all are gone. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.live.values()].map((entry) => entry.kill()));
  }

  /**
   * At startup: stops what a crashed gateway left running (verified by start time, so a
   * reused PID is never touched), marks those records `orphaned_reaped`, and tells the
   * listeners (e.g. chat sessions mark the turns of `owner` interrupted).
   */
  async reapOrphans(): Promise<ReapReport> {
    if (!this.records) return { reaped: 0, processes: [] };
    const processes = await reapOrphans(this.records, this.id, this.graceMs, this.log);
    for (const listener of this.reapListeners) {
      try {
        await listener(processes);
      } catch (error) {
        this.log.error({ err: (error as Error).message }, 'a reap listener failed');
      }
    }
    return { reaped: processes.filter((p) => p.killed).length, processes };
  }

  /** Called with every record reapOrphans closed (killed or already gone). */
  onReaped(listener: ReapListener): void {
    this.reapListeners.push(listener);
  }

  /** Resolves the program (managed binaries through settings/PATH/login shell) and builds its environment. */
  private async prepare(command: string, extraEnv?: Record<string, string>): Promise<{ file: string; env: Record<string, string> }> {
    const env = cleanEnv(extraEnv);
    if (isAbsolute(command) || command.includes('/')) return { file: command, env };
    if (isManagedBinary(command)) {
      const resolved = await this.binaries.resolve(command);
      if (!resolved.path) {
        throw new FailedDependency(`${command} was not found. Install it or set its path in Settings → Binary paths.`, 'binary_missing', { binary: command });
      }
      if (resolved.source === 'login-shell') await this.useLoginShellPath(env, extraEnv);
      return { file: resolved.path, env };
    }
    const onPath = findIn(env.PATH, command);
    if (onPath) return { file: onPath, env };
    const onLoginPath = findIn((await this.binaries.loginShellPath()) ?? undefined, command);
    if (!onLoginPath) throw new FailedDependency(`${command} was not found on PATH.`, 'binary_missing', { binary: command });
    await this.useLoginShellPath(env, extraEnv);
    return { file: onLoginPath, env };
  }

  /** A program found through the login shell's PATH likely needs that PATH for its own helpers. */
  private async useLoginShellPath(env: Record<string, string>, extraEnv?: Record<string, string>): Promise<void> {
    const loginPath = await this.binaries.loginShellPath();
    if (loginPath && !extraEnv?.PATH) env.PATH = loginPath;
  }

  private onChildEnd(child: SupervisedChild, exit: ChildExit): void {
    this.live.delete(child.id);
    this.safely('close process record', () => this.records?.finish(child.id, exit));
  }

  private record(id: string, pid: number, spec: Pick<ChildSpec, 'command' | 'args' | 'label' | 'owner'> & { cwd: string | null }, startedAt: Date): void {
    this.safely('write process record', () =>
      this.records?.insert({
        id,
        pid,
        pgid: pid,
        command: spec.command,
        args: [...spec.args],
        cwd: spec.cwd,
        label: spec.label,
        owner: spec.owner ?? null,
        startedAt: startedAt.getTime(),
        procStartTime: startTimeNow(pid),
        bootId: bootId(),
        supervisorId: this.id,
        hostPid: process.pid,
        hostStartTime: HOST_START_TIME,
        state: 'running',
        exitCode: null,
        signal: null,
        endedAt: null,
      }),
    );
    if (!hasProcfs && process.platform !== 'win32') {
      void startTimeOf(pid).then((time) => this.safely('record start time', () => this.records?.setStartTime(id, time)));
    }
  }

  private openLogFile(label: string, id: string): CappedLogFile | null {
    const safeLabel = label.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40) || 'child';
    try {
      return new CappedLogFile(join(this.logDir!, `${safeLabel}-${id}.log`), this.options.logFileMaxBytes);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'cannot open a child log file; logging to the ring only');
      return null;
    }
  }

  /** Bookkeeping must never break supervision: a failing write is logged, the child lives on. */
  private safely(what: string, action: () => void): void {
    try {
      action();
    } catch (error) {
      this.log.error({ err: (error as Error).message }, `${what} failed`);
    }
  }

  private refuseWhileStopping(): void {
    if (this.stopping) throw new ServiceUnavailable('The gateway is shutting down.', 'shutting_down');
  }
}

function findIn(path: string | undefined, command: string): string | null {
  const dirs = (path ?? '').split(delimiter).filter((dir) => isAbsolute(dir));
  return dirs.map((dir) => join(dir, command)).find((file) => isExecutableFile(file)) ?? null;
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
