// One supervised long-lived child: its own process group, output split into lines for
// one live reader plus a ring and a capped log file, a hard timeout and an idle watchdog,
// stdin on demand, and a kill() that resolves once the whole tree is gone. Exit, crash,
// timeout and kill all end in the same place (finish), once.
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { ResultPromise } from 'execa';
import type { Logger } from 'pino';
import { LineQueue } from './line-queue.js';
import { LineRing, LineSplitter, type CappedLogFile, type OutputLine, type OutputStream } from './output.js';
import { isTreeGone, killTree } from './tree-kill.js';
import { SpawnFailure } from './spawn-failure.js';

export type ChildState = 'running' | 'exited' | 'killed' | 'timed_out' | 'idle_timeout' | 'failed';
export type StopReason = 'killed' | 'timed_out' | 'idle_timeout';

export interface ChildSpec {
  /** An absolute path, a name on the child's PATH, or one of the managed binaries (claude, codex, gh, git, python3). */
  command: string;
  args: readonly string[];
  cwd: string;
  /** Added to the clean base environment. */
  env?: Record<string, string>;
  stdin: 'pipe' | 'ignore';
  /** Hard limit on the child's life. */
  timeoutMs?: number;
  /** Killed when neither output nor input happened for this long. */
  idleTimeoutMs?: number;
  /** Shown in the process list and the log file name. */
  label: string;
  /** Who started it (e.g. `chat:SESSION_ID`), so that its owner can be told after a reap. */
  owner?: string;
  /** SIGTERM → SIGKILL grace for this child; the supervisor's default otherwise. */
  graceMs?: number;
  /**
   * Runs the resolved program inside another (an OS sandbox): given the program's path and
   * args (and the environment it gets), the command and args actually spawned. The process
   * list still shows `command args`.
   */
  wrap?: (file: string, args: readonly string[], env: Readonly<Record<string, string>>) => { command: string; args: string[] };
}

export interface ChildExit {
  exitCode: number | null;
  signal: string | null;
  state: ChildState;
}

/** What the supervisor hands a child: everything that is not about the child itself. */
export interface ChildContext {
  id: string;
  /** The resolved command and the environment it gets (already cleaned). */
  file: string;
  /** What is spawned when it differs from spec.args (a wrapper's argv). */
  spawnArgs?: readonly string[];
  env: Record<string, string>;
  log: Logger;
  logFile: CappedLogFile | null;
  graceMs: number;
  ringLines: number;
  onEnd: (child: SupervisedChild, exit: ChildExit) => void;
  /** execa, loaded by the caller (it loads on the first spawn: see execa.ts). */
  execa: (typeof import('execa'))['execa'];
}

/** After the tree is gone the pipes hold at most their buffers; only a stuck process keeps them open longer. */
const DRAIN_LIMIT_MS = 5_000;

export class SupervisedChild {
  readonly id: string;
  readonly pid: number;
  readonly label: string;
  readonly owner: string | null;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly startedAt: Date;
  readonly exited: Promise<ChildExit>;

  private currentState: ChildState = 'running';
  private stopReason: StopReason | null = null;
  private killing: Promise<void> | null = null;
  private hasExited = false;
  private inputEnded: boolean;
  private readonly subprocess: ResultPromise;
  private readonly ring: LineRing;
  private readonly queue: LineQueue;
  private readonly log: Logger;
  private readonly timers: { hard?: NodeJS.Timeout; idle?: NodeJS.Timeout } = {};

  /** Spawns at once; throws when the OS cannot start the command (pid missing). */
  constructor(
    spec: ChildSpec,
    private readonly context: ChildContext,
  ) {
    this.id = context.id;
    this.label = spec.label;
    this.owner = spec.owner ?? null;
    this.command = spec.command;
    this.args = [...spec.args];
    this.cwd = spec.cwd;
    this.startedAt = new Date();
    this.inputEnded = spec.stdin !== 'pipe';
    this.subprocess = context.execa(context.file, context.spawnArgs ?? spec.args, {
      cwd: spec.cwd,
      env: context.env,
      extendEnv: false,
      shell: false,
      detached: true,
      cleanup: false,
      stdin: spec.stdin,
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
    });
    if (this.subprocess.pid === undefined) throw new SpawnFailure(spec.command, this.subprocess);
    this.pid = this.subprocess.pid;
    this.log = context.log.child({ childId: this.id, pid: this.pid, label: this.label });
    this.ring = new LineRing(context.ringLines);
    this.queue = new LineQueue((paused) => this.setPipesPaused(paused));
    this.subprocess.stdin?.on('error', (error) => this.log.debug({ err: error.message }, 'stdin closed by the child'));
    this.readLines(this.subprocess.stdout!, 'stdout');
    this.readLines(this.subprocess.stderr!, 'stderr');
    // The argv is not written: a prompt may ride in it (the process list shows it while the child runs).
    this.context.logFile?.write(`# ${this.id}:${this.pid} started ${this.startedAt.toISOString()} ${spec.command} (${this.args.length} arguments)`);
    this.log.info({ command: spec.command, args: this.args.map(shorten), cwd: spec.cwd }, 'child started');
    this.armTimers(spec);
    this.exited = this.waitForEnd();
  }

  get state(): ChildState {
    return this.currentState;
  }

  /** Live lines for one reader, from the start; iterate right after start() to miss nothing. */
  lines(): AsyncIterable<OutputLine> {
    return { [Symbol.asyncIterator]: () => this.queue[Symbol.asyncIterator]() };
  }

  /** Recent lines, oldest first (bounded: the ring keeps the last few hundred). */
  tail(n?: number): OutputLine[] {
    return this.ring.tail(n);
  }

  /** Writes to stdin, waiting for the pipe to drain when it is full. */
  async write(text: string): Promise<void> {
    const stdin = this.subprocess.stdin;
    if (!stdin || this.inputEnded || this.currentState !== 'running') throw new Error(`stdin of ${this.label} is not open`);
    this.touch();
    if (!stdin.write(text)) await Promise.race([once(stdin, 'drain'), once(stdin, 'close')]);
  }

  endInput(): void {
    if (this.inputEnded) return;
    this.inputEnded = true;
    this.subprocess.stdin?.end();
  }

  /** Kills the whole tree; resolves when it is gone. Safe to call again (same outcome). */
  kill(reason: StopReason = 'killed'): Promise<ChildExit> {
    if (this.currentState !== 'running' || this.hasExited) return this.exited;
    this.stopReason ??= reason;
    this.killing ??= this.killWholeTree();
    return this.killing.then(() => this.exited);
  }

  private async killWholeTree(): Promise<void> {
    this.log.info({ reason: this.stopReason }, 'killing child tree');
    this.queue.releasePressure();
    const result = await killTree(this.pid, this.context.graceMs);
    this.log.info({ forced: result.forced, ms: Math.round(result.durationMs), survivors: result.survivors }, 'child tree killed');
  }

  private readLines(stream: Readable, name: OutputStream): void {
    const splitter = new LineSplitter((line) => this.onLine({ stream: name, line }));
    stream.on('data', (chunk: Buffer) => splitter.push(chunk));
    stream.on('end', () => splitter.end());
    stream.on('error', (error) => this.log.warn({ err: error.message, stream: name }, 'output stream error'));
  }

  private onLine(entry: OutputLine): void {
    this.touch();
    this.ring.push(entry);
    this.context.logFile?.write(`${this.id}:${this.pid} ${entry.stream === 'stdout' ? 'out' : 'err'} ${entry.line}`);
    this.queue.push(entry);
  }

  private setPipesPaused(paused: boolean): void {
    for (const stream of [this.subprocess.stdout, this.subprocess.stderr]) {
      if (paused) stream?.pause();
      else stream?.resume();
    }
  }

  private armTimers(spec: ChildSpec): void {
    if (spec.timeoutMs) this.timers.hard = setTimeout(() => void this.kill('timed_out'), spec.timeoutMs);
    if (spec.idleTimeoutMs) {
      const idleMs = spec.idleTimeoutMs;
      this.touch = () => {
        clearTimeout(this.timers.idle);
        if (this.currentState === 'running') this.timers.idle = setTimeout(() => void this.kill('idle_timeout'), idleMs);
      };
      this.touch();
    }
  }

  /** Restarts the idle watchdog (replaced in armTimers when the spec has one). */
  private touch: () => void = () => undefined;

  /** The one cleanup path: exit (own or forced), then leftovers killed, pipes drained, records closed. */
  private async waitForEnd(): Promise<ChildExit> {
    const [exitCode, signal] = (await once(this.subprocess, 'exit')) as [number | null, NodeJS.Signals | null];
    this.hasExited = true;
    if (!this.stopReason && !isTreeGone(this.pid)) {
      // The child exited but left processes in its group: they would be orphans.
      const result = await killTree(this.pid, this.context.graceMs);
      this.log.warn({ ms: Math.round(result.durationMs) }, 'child exited leaving processes behind; killed them');
    }
    await this.killing;
    this.queue.releasePressure();
    await Promise.race([this.subprocess.catch(() => undefined), sleep(DRAIN_LIMIT_MS)]);
    this.subprocess.stdout?.destroy();
    this.subprocess.stderr?.destroy();
    return this.finish(exitCode, signal);
  }

  private finish(exitCode: number | null, signal: NodeJS.Signals | null): ChildExit {
    clearTimeout(this.timers.hard);
    clearTimeout(this.timers.idle);
    this.currentState = this.stopReason ?? (signal && exitCode === null ? 'failed' : 'exited');
    const exit: ChildExit = { exitCode, signal, state: this.currentState };
    this.queue.end();
    this.context.logFile?.write(`# ${this.id}:${this.pid} ended ${new Date().toISOString()} ${JSON.stringify(exit)}`);
    this.context.logFile?.close();
    this.log.info({ ...exit, ms: Date.now() - this.startedAt.getTime() }, 'child ended');
    this.context.onEnd(this, exit);
    return exit;
  }
}

function shorten(arg: string): string {
  return arg.length > 200 ? `${arg.slice(0, 200)}…` : arg;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

