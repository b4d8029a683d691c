// A ticket's dev server: detect how to start it, install and start it in the ticket's
// worktree as supervised children (argv, never a shell), give it a free port from the
// range, watch it come up on loopback, and stop it again. Only servers this service
// started are ever stopped; a foreign process, even on "our" port, is reported and left.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readSync, closeSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { BadRequest, Conflict, FailedDependency, NotFound } from '../errors.js';
import type { SettingsStore } from '../store/settings.js';
import type { Db } from '../store/database.js';
import { CappedLogFile, LineRing } from '../supervisor/output.js';
import type { ChildSpec, RunOptions, RunResult, SupervisedChild } from '../supervisor/supervisor.js';
import { displayCommand, parseCommandLine, PORT_PLACEHOLDER, withPort } from './argv.js';
import { base, COMPOSE_FILES, detect, type DeployConfig, type Detection } from './detect.js';
import { allocatePort, isPortHeld, loopbackUrl, probe, type PortRange } from './net.js';
import { DeployStore, LIVE_PHASES, type Deployment, type DeploymentPhase, type StoredConfig } from './store.js';

export type DeployStatus = 'running' | 'completed' | 'failed' | 'not-started';

export interface DeployProcesses {
  start(spec: ChildSpec): Promise<SupervisedChild>;
  run(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}

/** Issue 11's ticket worktrees: where a ticket's worktree is, when it has one. */
export interface TicketWorktreeFinder {
  find(repoPath: string, ticketId: string, signal?: AbortSignal): Promise<{ path: string } | null>;
}

export interface DeployServiceOptions {
  db: Db;
  settings: SettingsStore;
  processes: DeployProcesses;
  /** realpath of an allowed user path, else 403 (the WorkspaceGuard). */
  resolvePath: (userPath: string) => Promise<string>;
  worktrees?: TicketWorktreeFinder;
  dataDir: string;
  log: Logger;
  /** How often and how long to wait for a started server to answer. */
  healthIntervalMs?: number;
  healthTimeoutMs?: number;
}

export interface ConfigEdit {
  command?: string;
  argv?: string[];
  installCommand?: string | null;
  installArgv?: string[] | null;
  teardownCommand?: string | null;
  teardownArgv?: string[] | null;
  port?: number;
  portFlag?: string | null;
  healthEndpoint?: string;
  copyEnvLocal?: boolean;
}

interface LiveDeployment {
  record: Deployment;
  config: DeployConfig;
  child: SupervisedChild | null;
  ring: LineRing;
  logFile: CappedLogFile;
  stopping: boolean;
  step: 'install' | 'start';
}

export const DEFAULT_PORT_RANGE: PortRange = { from: 4100, to: 4199 };
const PORT_RANGE_KEY = 'deploy.portRange';
const LOG_MAX_BYTES = 1024 * 1024;
const LOG_TAIL_LINES = 200;
const LOG_TAIL_BYTES = 64 * 1024;
const ENV_LOCAL = /^\.env(\..+)?\.local$/;

export class DeployService {
  readonly store: DeployStore;
  private readonly live = new Map<string, LiveDeployment>();
  private readonly starting = new Set<string>();
  private readonly log: Logger;
  private readonly logDir: string;

  constructor(private readonly options: DeployServiceOptions) {
    this.store = new DeployStore(options.db);
    this.log = options.log.child({ component: 'deploy' });
    this.logDir = path.join(options.dataDir, 'deploy', 'logs');
    const interrupted = this.store.markInterrupted();
    if (interrupted) this.log.warn({ interrupted }, 'dev servers of an earlier gateway were marked interrupted');
  }

  // ---- configuration ---------------------------------------------------------------

  async detect(repoPath: string): Promise<{ detected: boolean; config?: DeployConfig; source?: string; problems: string[] }> {
    const repo = await this.options.resolvePath(repoPath);
    const stored = this.store.getConfig(repo);
    if (stored?.source === 'user' && stored.config) return { detected: true, config: stored.config, source: 'user', problems: [] };
    const found = await this.detectIn(repo);
    if (found.config) this.store.saveConfig(repo, { config: found.config, source: 'detected' });
    return found.config ? { detected: true, config: found.config, source: 'detected', problems: found.problems } : { detected: false, problems: found.problems };
  }

  /** Detects again, replacing what is stored (an edited config too); nothing found clears it. */
  async redetect(repoPath: string): Promise<{ redetected: boolean; config?: DeployConfig; problems: string[] }> {
    const repo = await this.options.resolvePath(repoPath);
    const found = await this.detectIn(repo);
    this.store.saveConfig(repo, { config: found.config, source: 'detected' });
    return found.config ? { redetected: true, config: found.config, problems: found.problems } : { redetected: false, problems: found.problems };
  }

  async getConfig(repoPath: string): Promise<StoredConfig & { portRange: PortRange }> {
    const repo = await this.options.resolvePath(repoPath);
    const stored = this.store.getConfig(repo) ?? { repoPath: repo, config: null, source: 'detected' as const, detectedAt: null, copyEnvLocal: false, updatedAt: new Date(0).toISOString() };
    return { ...stored, portRange: this.portRange() };
  }

  /** The user's edit: command lines are parsed once into argv here (shell syntax refused). */
  async editConfig(repoPath: string, edit: ConfigEdit): Promise<StoredConfig & { portRange: PortRange }> {
    const repo = await this.options.resolvePath(repoPath);
    const stored = this.store.getConfig(repo);
    const touchesCommand = Object.keys(edit).some((key) => key !== 'copyEnvLocal');
    let config = stored?.config ?? null;
    if (touchesCommand) {
      const start = edit.argv ? { argv: edit.argv, env: {} } : edit.command !== undefined ? parseCommandLine(edit.command, 'command') : null;
      const previous = config;
      if (!start && !previous) throw new BadRequest('Give the command that starts the dev server (command or argv).', { field: 'command' }, 'command_required');
      const install = argvEdit(edit.installArgv, edit.installCommand, 'installCommand', previous?.installArgv ?? null);
      const teardown = argvEdit(edit.teardownArgv, edit.teardownCommand, 'teardownCommand', previous?.teardownArgv ?? null);
      config = base({
        type: start ? 'custom' : previous!.type,
        framework: previous?.framework ?? null,
        packageManager: previous?.packageManager ?? null,
        port: edit.port ?? previous?.port ?? 3000,
        portFlag: edit.portFlag !== undefined ? edit.portFlag : start ? null : (previous?.portFlag ?? null),
        healthEndpoint: edit.healthEndpoint ?? previous?.healthEndpoint,
        argv: start?.argv ?? previous!.argv,
        env: start?.env ?? previous!.env,
        installArgv: install,
        teardownArgv: teardown,
        additionalPorts: previous?.additionalPorts,
        services: previous?.services,
        notes: start ? ['Entered by the user.'] : previous!.notes,
      });
    }
    const saved = this.store.saveConfig(repo, {
      ...(touchesCommand ? { config, source: 'user' as const } : {}),
      copyEnvLocal: edit.copyEnvLocal,
    });
    return { ...saved, portRange: this.portRange() };
  }

  portRange(): PortRange {
    const value = this.options.settings.get<PortRange>(PORT_RANGE_KEY);
    return value && Number.isInteger(value.from) && Number.isInteger(value.to) && value.from <= value.to ? value : DEFAULT_PORT_RANGE;
  }

  setPortRange(range: PortRange): PortRange {
    if (range.from > range.to) throw new BadRequest('portRange.from must not be above portRange.to.', { field: 'portRange' }, 'bad_port_range');
    this.options.settings.set(PORT_RANGE_KEY, range);
    return range;
  }

  async extractInfo(repoPath: string, ticketId?: string): Promise<{ url: string | null; port: number | null }> {
    const repo = await this.options.resolvePath(repoPath);
    const deployment = ticketId ? this.current(repo, ticketId) : null;
    if (deployment?.url) return { url: deployment.url, port: deployment.port };
    const config = this.store.getConfig(repo)?.config ?? (await this.detectIn(repo)).config;
    return config ? { url: `http://localhost:${config.port}`, port: config.port } : { url: null, port: null };
  }

  // ---- start -------------------------------------------------------------------------

  async start(input: { ticketId: string; repoPath: string; worktreePath?: string }, signal?: AbortSignal) {
    const repo = await this.options.resolvePath(input.repoPath);
    const key = keyOf(repo, input.ticketId);
    const running = this.live.get(key);
    if (running && LIVE_PHASES.has(running.record.phase)) return { ...this.startReply(running, repo), alreadyRunning: true };
    if (this.starting.has(key)) throw new Conflict(`The dev server of ${input.ticketId} is being started already.`, 'deploy_starting');
    this.starting.add(key);
    try {
      const worktree = await this.worktreeOf(repo, input.ticketId, input.worktreePath, signal);
      const stored = this.store.getConfig(repo);
      let config = stored?.config?.argv.length ? stored.config : null;
      let problems: string[] = [];
      if (!config) {
        const inWorktree = await this.detectIn(worktree);
        const found = inWorktree.config || worktree === repo ? inWorktree : await this.detectIn(repo);
        config = found.config;
        problems = found.problems;
        if (config) this.store.saveConfig(repo, { config, source: 'detected' });
      }
      if (!config) {
        throw new BadRequest('No way to start a dev server was found: set a start command for this repository.', { problems }, 'no_deploy_config');
      }
      if (!config.runnable) throw new FailedDependency(config.notes.at(-1) ?? 'This project cannot be started here.', 'deploy_not_runnable');
      const port = config.type === 'compose' ? config.port : await this.freePort();
      const copied = stored?.copyEnvLocal ? copyEnvLocal(repo, worktree) : [];
      const logFile = this.freshLogFile(repo, input.ticketId);
      const live: LiveDeployment = {
        record: {
          ticketId: input.ticketId, repoPath: repo, worktreePath: worktree, port,
          phase: config.installArgv ? 'installing' : 'starting', pid: null, url: null, error: null,
          command: displayCommand(serverArgv(config, port), config.env), logFile: logFile.file,
          installLines: 0, lastLine: null, exitCode: null, startedAt: new Date().toISOString(), endedAt: null,
        },
        config, child: null, ring: new LineRing(LOG_TAIL_LINES), logFile, stopping: false, step: config.installArgv ? 'install' : 'start',
      };
      this.live.set(key, live);
      if (copied.length) this.note(live, `copied ${copied.join(', ')} from the repository into the worktree`);
      try {
        live.child = await this.spawn(live, live.step);
      } catch (error) {
        this.end(live, live.step === 'install' ? 'install_failed' : 'exited', (error as Error).message);
        throw error;
      }
      this.save(live);
      void this.follow(live).catch((error: unknown) => {
        this.log.error({ err: (error as Error).message, ticketId: live.record.ticketId }, 'deploy pipeline failed');
        this.end(live, 'exited', (error as Error).message);
      });
      return { ...this.startReply(live, repo), alreadyRunning: false, copiedEnvFiles: copied };
    } finally {
      this.starting.delete(key);
    }
  }

  private startReply(live: LiveDeployment, repo: string) {
    return {
      success: true as const,
      pid: live.child?.pid ?? null,
      port: live.record.port,
      url: `http://localhost:${live.record.port}`,
      logFile: live.record.logFile,
      deployCommand: live.record.command,
      deployType: live.config.type,
      repoName: path.basename(repo),
      status: toStatus(live.record.phase),
      phase: live.record.phase,
    };
  }

  /** Install (when there is a step for it), then the server, then wait for it to answer. */
  private async follow(live: LiveDeployment): Promise<void> {
    if (live.step === 'install') {
      const exit = await this.pump(live);
      if (live.stopping) return;
      if (exit.exitCode !== 0) {
        this.end(live, 'install_failed', `The install step (${live.config.installCommand}) exited with ${exit.exitCode ?? exit.signal ?? exit.state}.`, exit.exitCode);
        return;
      }
      live.step = 'start';
      live.record.phase = 'starting';
      live.child = await this.spawn(live, 'start');
      this.save(live);
    }
    const exited = this.pump(live);
    const ready = this.waitUntilAnswering(live, exited);
    const exit = await exited;
    await ready;
    if (live.stopping) return;
    this.end(live, 'exited', `The dev server exited with ${exit.exitCode ?? exit.signal ?? exit.state}.`, exit.exitCode);
  }

  private async spawn(live: LiveDeployment, step: 'install' | 'start'): Promise<SupervisedChild> {
    const { config, record } = live;
    const argv = step === 'install' ? config.installArgv! : serverArgv(config, record.port);
    const env = { ...config.env, PORT: String(record.port), BROWSER: 'none', ...(step === 'start' ? { NODE_ENV: 'development' } : {}) };
    this.note(live, `${step === 'install' ? 'installing' : 'starting'}: ${displayCommand(argv)}`);
    const child = await this.options.processes.start({
      command: argv[0], args: argv.slice(1), cwd: record.worktreePath, env, stdin: 'ignore',
      label: `deploy-${step}`, owner: `deploy:${record.ticketId}`,
      ...(step === 'install' ? { timeoutMs: 30 * 60_000 } : {}),
    });
    record.pid = child.pid;
    return child;
  }

  /** Copies the current child's lines to the ring and the log file; resolves with its exit. */
  private async pump(live: LiveDeployment) {
    const child = live.child!;
    const install = live.step === 'install';
    for await (const { stream, line } of child.lines()) {
      live.ring.push({ stream, line });
      live.logFile.write(`${stream === 'stderr' ? '!' : ' '} ${line}`);
      if (install) {
        live.record.installLines++;
        live.record.lastLine = line.slice(0, 500);
      }
    }
    return child.exited;
  }

  private async waitUntilAnswering(live: LiveDeployment, exited: Promise<unknown>): Promise<void> {
    const interval = this.options.healthIntervalMs ?? 500;
    const deadline = Date.now() + (this.options.healthTimeoutMs ?? 120_000);
    let gone = false;
    void exited.then(() => (gone = true));
    const url = new URL(`http://localhost:${live.record.port}${live.config.healthEndpoint || '/'}`);
    while (!gone && !live.stopping) {
      const result = await probe(url, Math.min(3_000, interval * 4));
      // Any HTTP answer below 500 means the server is up (a bare API may 404 on /).
      if (result.statusCode !== null && result.statusCode < 500 && !gone && !live.stopping) {
        live.record.phase = 'ready';
        live.record.url = `http://localhost:${live.record.port}`;
        this.note(live, `answering at ${live.record.url} (HTTP ${result.statusCode})`);
        this.save(live);
        return;
      }
      if (Date.now() > deadline) {
        live.record.phase = 'health_failed';
        live.record.error = `The dev server did not answer on port ${live.record.port} within ${Math.round((this.options.healthTimeoutMs ?? 120_000) / 1000)} s; it is still running (see its log, ${live.record.logFile}, and whether it reads PORT). Stop it, or wait and check again.`;
        this.save(live);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }

  // ---- status ------------------------------------------------------------------------

  async status(ticketId: string, repoPath?: string) {
    const repo = repoPath ? await this.options.resolvePath(repoPath) : null;
    const live = repo ? this.live.get(keyOf(repo, ticketId)) : [...this.live.values()].filter((l) => l.record.ticketId === ticketId).at(-1);
    const record = live?.record ?? (repo ? this.store.getDeployment(repo, ticketId) : this.store.latestForTicket(ticketId));
    if (!record) return { status: 'not-started' as const, phase: null, logs: '', pid: null };
    return {
      status: toStatus(record.phase),
      phase: record.phase,
      logs: live ? live.ring.tail().map((entry) => entry.line).join('\n') : readTail(record.logFile),
      pid: live?.child && live.child.state === 'running' ? live.child.pid : null,
      port: record.port,
      ...(record.url && record.phase === 'ready' ? { deployedUrl: record.url } : {}),
      ...(record.error ? { error: record.error } : {}),
      progress: { step: live?.step ?? null, installLines: record.installLines, lastLine: record.lastLine },
      command: record.command,
      worktreePath: record.worktreePath,
      logFile: record.logFile,
      startedAt: record.startedAt,
      endedAt: record.endedAt,
    };
  }

  /** Is the ticket's port held, and is it one of ours? */
  async checkExisting(input: { repoPath: string; ticketId?: string; worktreePath?: string }) {
    const repo = await this.options.resolvePath(input.repoPath);
    const ours = input.ticketId ? this.current(repo, input.ticketId) : this.liveOf(repo, input.worktreePath).at(0)?.record;
    const port = ours?.port ?? this.store.getConfig(repo)?.config?.port ?? (await this.detectIn(input.worktreePath ? await this.options.resolvePath(input.worktreePath) : repo)).config?.port;
    if (!port) return { active: false, port: null };
    const holder = [...this.live.values()].find((l) => l.record.port === port && LIVE_PHASES.has(l.record.phase));
    if (!(await isPortHeld(port))) return { active: false, port };
    const url = `http://localhost:${port}`;
    return holder
      ? { active: true, url, port, ours: true, ticketId: holder.record.ticketId, pid: holder.child?.pid ?? null, phase: holder.record.phase }
      : { active: true, url, port, ours: false, message: `Port ${port} is held by a process this gateway did not start; it is left alone.` };
  }

  // ---- stop --------------------------------------------------------------------------

  /** Stops the dev server with this pid (or this ticket's), only when this gateway started it. */
  async kill(input: { pid?: number; ticketId?: string; repoPath?: string }) {
    let target: LiveDeployment | undefined;
    if (input.pid !== undefined) {
      target = [...this.live.values()].find((l) => l.child?.pid === input.pid && l.child?.state === 'running');
      if (!target) {
        throw new NotFound(`No dev server this gateway started has pid ${input.pid}; only those can be stopped here.`, 'process_not_ours', { pid: input.pid });
      }
    } else if (input.ticketId) {
      const repo = input.repoPath ? await this.options.resolvePath(input.repoPath) : null;
      target = [...this.live.values()].find((l) => l.record.ticketId === input.ticketId && (!repo || l.record.repoPath === repo) && l.child?.state === 'running');
      if (!target) return { success: false, message: `No dev server of ${input.ticketId} is running.`, pid: null };
    } else {
      throw new BadRequest('Give pid or ticketId.', { field: 'pid' }, 'target_required');
    }
    const pid = target.child!.pid;
    await this.stop(target);
    return { success: true, message: 'Process terminated', pid };
  }

  /** Stops the ticket's server (and our server on a given pid or port), runs the teardown command; reports foreign ports. */
  async teardown(input: { repoPath: string; worktreePath?: string; ticketId?: string; pid?: number; port?: number }) {
    const repo = await this.options.resolvePath(input.repoPath);
    const worktree = input.worktreePath ? await this.options.resolvePath(input.worktreePath) : undefined;
    const targets = new Set<LiveDeployment>();
    for (const live of this.live.values()) {
      const r = live.record;
      if (!live.child || live.child.state !== 'running' || r.repoPath !== repo) continue;
      if ((input.ticketId && r.ticketId === input.ticketId) || (worktree && r.worktreePath === worktree) || (input.pid !== undefined && live.child.pid === input.pid) || (input.port !== undefined && r.port === input.port)) {
        targets.add(live);
      }
    }
    const stopped: Array<{ ticketId: string; pid: number; port: number }> = [];
    for (const live of targets) {
      stopped.push({ ticketId: live.record.ticketId, pid: live.child!.pid, port: live.record.port });
      await this.stop(live);
    }
    const config = this.store.getConfig(repo)?.config;
    let teardown: { command: string; exitCode: number | null; output: string } | null = null;
    if (config?.teardownArgv && (input.ticketId || worktree)) {
      const cwd = worktree ?? [...targets][0]?.record.worktreePath ?? repo;
      const result = await this.options.processes.run(config.teardownArgv[0], config.teardownArgv.slice(1), { cwd, timeoutMs: 120_000, env: { PORT: String(config.port) } });
      teardown = { command: config.teardownCommand ?? '', exitCode: result.exitCode, output: (result.stdout + result.stderr).slice(-4000) };
    }
    const ports = [input.port, ...(config?.type === 'compose' ? [config.port, ...config.additionalPorts] : [])].filter((p): p is number => p !== undefined);
    const foreignPorts: number[] = [];
    for (const port of new Set(ports)) {
      if (stopped.some((s) => s.port === port)) continue;
      if (await isPortHeld(port, 500)) foreignPorts.push(port);
    }
    const success = stopped.length > 0 || teardown?.exitCode === 0;
    return {
      success,
      stopped,
      foreignPorts,
      ...(teardown ? { teardown } : {}),
      ...(success ? {} : { error: 'Nothing this gateway started was running for this request; nothing was stopped.' }),
      ...(foreignPorts.length ? { message: `Port(s) ${foreignPorts.join(', ')} are held by processes this gateway did not start; they were left alone.` } : {}),
    };
  }

  /** Health of a loopback URL (HEAD, redirects reported, never followed). */
  async health(rawUrl: string) {
    const url = loopbackUrl(rawUrl);
    if (!url) {
      return { alive: false, statusCode: null, error: 'Only http(s) URLs on this machine (localhost, 127.0.0.1, [::1]) are checked.', code: 'OUTBOUND_URL_DENIED' };
    }
    const result = await probe(url, 10_000);
    const alive = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 400;
    return { alive, statusCode: result.statusCode, ...(result.error ? { error: result.error } : {}) };
  }

  /** Gateway shutdown: every dev server goes with it. */
  async close(): Promise<void> {
    await Promise.all([...this.live.values()].filter((l) => l.child?.state === 'running').map((l) => this.stop(l)));
  }

  private async stop(live: LiveDeployment): Promise<void> {
    live.stopping = true;
    this.note(live, 'stopping');
    await live.child?.kill();
    this.end(live, 'stopped', null, live.record.exitCode);
  }

  private end(live: LiveDeployment, phase: DeploymentPhase, error: string | null, exitCode: number | null = null): void {
    live.record.phase = phase;
    // A failure names the file with the whole output (the status shows only its tail).
    live.record.error = error && `${error} Its output is in ${live.record.logFile}.`;
    live.record.exitCode = exitCode;
    live.record.pid = null;
    live.record.endedAt = new Date().toISOString();
    if (phase !== 'stopped') this.log.info({ ticketId: live.record.ticketId, phase, error }, 'deployment ended');
    this.note(live, error ?? phase);
    live.logFile.close();
    this.save(live);
  }

  private save(live: LiveDeployment): void {
    try {
      this.store.putDeployment(live.record);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'could not record a deployment');
    }
  }

  private note(live: LiveDeployment, text: string): void {
    live.ring.push({ stream: 'stdout', line: `[symphony] ${text}` });
    live.logFile.write(`# ${new Date().toISOString()} ${text}`);
  }

  private current(repo: string, ticketId: string): Deployment | null {
    return this.live.get(keyOf(repo, ticketId))?.record ?? this.store.getDeployment(repo, ticketId);
  }

  private liveOf(repo: string, worktree?: string): LiveDeployment[] {
    return [...this.live.values()].filter((l) => l.record.repoPath === repo && (!worktree || l.record.worktreePath === worktree) && LIVE_PHASES.has(l.record.phase));
  }

  private async worktreeOf(repo: string, ticketId: string, worktreePath: string | undefined, signal?: AbortSignal): Promise<string> {
    if (worktreePath) {
      const resolved = await this.options.resolvePath(worktreePath);
      if (!statSync(resolved, { throwIfNoEntry: false })?.isDirectory()) throw new NotFound(`The worktree ${worktreePath} does not exist.`, 'worktree_not_found');
      return resolved;
    }
    const found = await this.options.worktrees?.find(repo, ticketId, signal);
    if (!found) throw new NotFound(`Ticket ${ticketId} has no worktree in ${repo}: start a run for it first (or pass worktreePath).`, 'worktree_not_found');
    return found.path;
  }

  private async freePort(): Promise<number> {
    const range = this.portRange();
    const taken = new Set([...this.live.values()].filter((l) => LIVE_PHASES.has(l.record.phase)).map((l) => l.record.port));
    const port = await allocatePort(range, taken);
    if (port === null) throw new Conflict(`No free port between ${range.from} and ${range.to}: stop a dev server or widen the range.`, 'no_free_port');
    return port;
  }

  private async detectIn(dir: string): Promise<Detection> {
    const hasCompose = COMPOSE_FILES.some((f) => existsSync(path.join(dir, f)));
    const dockerAvailable = hasCompose ? await this.dockerAvailable() : false;
    return detect(dir, { dockerAvailable });
  }

  private async dockerAvailable(): Promise<boolean> {
    try {
      const result = await this.options.processes.run('docker', ['compose', 'version'], { timeoutMs: 10_000 });
      return result.exitCode === 0;
    } catch {
      return false;
    }
  }

  private freshLogFile(repo: string, ticketId: string): CappedLogFile {
    mkdirSync(this.logDir, { recursive: true });
    const file = path.join(this.logDir, `${createHash('sha256').update(`${repo}\0${ticketId}`).digest('hex').slice(0, 16)}.log`);
    rmSync(file, { force: true });
    rmSync(file + '.1', { force: true });
    return new CappedLogFile(file, LOG_MAX_BYTES);
  }
}

/** The server's argv with the port filled in, plus the framework's port flag when the command has no $PORT. */
export function serverArgv(config: DeployConfig, port: number): string[] {
  const argv = withPort(config.argv, port);
  if (!config.portFlag || config.argv.some((word) => word.includes(PORT_PLACEHOLDER))) return argv;
  // npm passes script arguments only after `--`; pnpm, yarn and bun pass them as they are.
  const separator = config.packageManager === 'npm' && argv[1] === 'run' ? ['--'] : [];
  return [...argv, ...separator, config.portFlag, String(port)];
}

export function toStatus(phase: DeploymentPhase): DeployStatus {
  if (phase === 'installing' || phase === 'starting') return 'running';
  if (phase === 'ready') return 'completed';
  if (phase === 'install_failed' || phase === 'exited' || phase === 'health_failed') return 'failed';
  return 'not-started';
}

function keyOf(repo: string, ticketId: string): string {
  return `${repo}\0${ticketId}`;
}

function argvEdit(argv: string[] | null | undefined, line: string | null | undefined, field: string, previous: string[] | null): string[] | null {
  if (argv !== undefined) return argv && argv.length ? argv : null;
  if (line !== undefined) return line === null || line.trim() === '' ? null : withEnvRefused(parseCommandLine(line, field), field);
  return previous;
}

function withEnvRefused(parsed: { argv: string[]; env: Record<string, string> }, field: string): string[] {
  if (Object.keys(parsed.env).length) throw new BadRequest(`${field} cannot set environment variables.`, { field }, 'env_not_supported');
  return parsed.argv;
}

/** `.env.local`, `.env.development.local`, ... from the repository root into the worktree. */
function copyEnvLocal(repo: string, worktree: string): string[] {
  if (repo === worktree) return [];
  const copied: string[] = [];
  for (const name of readdirSync(repo)) {
    if (!ENV_LOCAL.test(name) || !statSync(path.join(repo, name)).isFile()) continue;
    copyFileSync(path.join(repo, name), path.join(worktree, name));
    copied.push(name);
  }
  return copied;
}

function readTail(file: string): string {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) return '';
  const length = Math.min(stat.size, LOG_TAIL_BYTES);
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, length, stat.size - length);
  } finally {
    closeSync(fd);
  }
  const text = buffer.toString('utf8');
  return (stat.size > length ? text.slice(text.indexOf('\n') + 1) : text).split('\n').slice(-LOG_TAIL_LINES).join('\n').trimEnd();
}
