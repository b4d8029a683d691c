// What an agent may touch: every agent start (chats, ticket runs, reviews, learnings)
// names a level and a root; this module turns that into the layers below the agent:
//   1. the filesystem view of the whole process tree (os-sandbox.ts: bubblewrap / sandbox-exec),
//   2. the CLI's own command sandbox inside it (claude.ts / codex.ts read `cliSandbox`, `tempDir`, `roots`),
//   3. the check of every tool call the CLI asks about (checkTool: paths through the guard,
//      then the caller's approver for anything that is not a read inside the roots).
// No route or domain module builds CLI flags itself.
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { FailedDependency } from '../errors.js';
import type { AgentEnvironment } from './agent-env.js';
import type { AgentSlots, SlotRequest } from './agent-slots.js';
import { WorkspaceGuard } from '../files/workspace.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import {
  bubblewrapArgs, findOnPath, gitCommonDir, installPaths, osSandboxKind, seatbeltArgs, seenInView, SHIM_DIR_IN_VIEW,
  type OsSandboxKind, type SandboxLayout,
} from './os-sandbox.js';

/** `read`: look at files inside the root. `write`: edit inside the root and run commands. */
export type ConfinementLevel = 'read' | 'write';

export interface AgentConfinement {
  level: ConfinementLevel;
  /** The one folder the agent works in (usually its cwd). */
  root: string;
  /** Further folders the agent may read but never write (e.g. a ticket chat's context repos). */
  readRoots?: string[];
  /** Further folders a `write` agent may also write (a cloud loop's work folder under the data
   *  dir, beside its worktree root); read-only for a `read` agent. */
  writeRoots?: string[];
  /** Load the folder's own project configuration (hooks, MCP servers, settings): only for a
   *  repository the user marked trusted; never for archives, PR branches or uploads. */
  trustProjectConfig?: boolean;
  /** Whose request starts the agent: a remote caller's starts are capped (agent-slots.ts) and may wait for a slot. */
  caller?: SlotRequest;
  /** Every write and command waits for the turn's approver (the policy asks this caller about
   *  tool calls): a CLI that could write inside its own sandbox unasked (codex) keeps that
   *  sandbox read-only, so each write comes as an approval request. */
  approveWrites?: boolean;
}

export function isReadOnly(confinement: AgentConfinement): boolean {
  return confinement.level === 'read';
}

/** The stored setting that turns the OS sandbox layers off: `{ enabled: false }` (default on). */
export const CONFINEMENT_SETTING = 'agentConfinement';

export function setConfinementEnabled(settings: { set(key: string, value: unknown): void }, enabled: boolean): void {
  settings.set(CONFINEMENT_SETTING, { enabled });
}

/** Reads the off switch (the gateway and every run host read it at each agent start). */
export function confinementEnabled(settings: { get<T>(key: string): T | undefined }): boolean {
  return settings.get<{ enabled?: boolean }>(CONFINEMENT_SETTING)?.enabled !== false;
}

/** How the paths an agent's tools name are judged (the gateway's WorkspaceGuard). */
export type AgentPathGuard = Pick<WorkspaceGuard, 'resolveWithin' | 'secretsInside'>;

export interface ConfinerOptions {
  /** False when the user turned confinement off in settings (read at every start). */
  enabled?: () => boolean;
  guard?: AgentPathGuard;
  log?: Logger;
  platform?: NodeJS.Platform;
  /** Where per-run temp folders are made (default: the OS temp folder). */
  tempParent?: string;
  /** Finds a program the sandbox layers need (default: PATH and the system folders). */
  programs?: (name: string) => string | null;
  /** The user's agent environment (allowlist and values), read at every start; default: only the provider's own env. */
  environment?: Pick<AgentEnvironment, 'forCli'>;
  /** Repositories the user marked trusted for their own project settings (Repositories screen); default none. */
  trustedRoots?: () => readonly string[];
  /** The concurrent-agent cap of remote callers (the gateway's, with its setting); default: none. */
  slots?: AgentSlots;
  /** Runs the real `npm root -g` once, for claude's `npm` shim (see npmShim); default: no shim. */
  processes?: Pick<Supervisor, 'run'>;
}

/** What a CLI needs from the view: its environment, config folders, and programs its own sandbox runs. */
export interface CliLayout {
  cli: 'claude' | 'codex';
  /** The provider's own settings (tests: the mock model API); they win over the user's agent environment. */
  env: Readonly<Record<string, string>>;
}

/** Tools that only read; every other tool is a change (and asks a paired origin). */
const READ_TOOLS = new Set(['Read', 'Grep', 'Glob', 'LS', 'NotebookRead']);
/** Input fields that name a file or folder, per tool family. */
const PATH_FIELDS = ['file_path', 'notebook_path', 'path'];

export type ToolVerdict =
  | { allowed: false; reason: string }
  /** `read`: a read inside the roots, allowed as is; `write`: the caller's approver decides. */
  | { allowed: true; access: 'read' | 'write' };

export interface ConfinementStatus {
  enabled: boolean;
  osSandbox: OsSandboxKind;
  /** Programs the sandbox layers need that this machine lacks. */
  missing: string[];
  /** What the layers do not cover, said where the user sees confinement (health check, Agents screen, `config`). */
  limitations: string[];
}

/**
 * codex 0.171 asks to run a command only when the model asks to leave codex's sandbox
 * (`require_escalated`), and an approved command then runs outside it: `approval_policy
 * "untrusted"` (ask, then run sandboxed) is refused as no longer supported, and execpolicy
 * `prompt` rules keep the sandbox but name command prefixes, never "every write".
 */
function limitationsOf(enabled: boolean, osSandbox: OsSandboxKind): string[] {
  if (!enabled) return [];
  return [
    osSandbox === 'none'
      ? "codex: a command you approve runs outside codex's own sandbox, and this system has no OS sandbox around it."
      : "codex: a command you approve runs outside codex's own sandbox (codex 0.171 can only ask to leave it); the OS sandbox still holds: it can write only the working folder and the run's temp folder.",
  ];
}

export class Confiner {
  private readonly log: Logger;
  private readonly platform: NodeJS.Platform;
  private readonly guard: AgentPathGuard;
  private readonly programs: (name: string) => string | null;
  /** The global npm root, learned once per gateway process at the first sandboxed claude start (null: no npm). */
  private npmRoot?: Promise<string | null>;

  constructor(private readonly options: ConfinerOptions = {}) {
    this.log = (options.log ?? pino({ level: 'silent' })).child({ component: 'confinement' });
    this.platform = options.platform ?? process.platform;
    this.guard = options.guard ?? standaloneGuard();
    this.programs = options.programs ?? findProgram;
  }

  enabled(): boolean {
    return this.options.enabled?.() ?? true;
  }

  private isTrusted(root: string): boolean {
    return (this.options.trustedRoots?.() ?? []).some((repo) => {
      const real = realOrNull(repo);
      return real !== null && (root === real || root.startsWith(`${real}/`));
    });
  }

  /** For /health-check and the settings screen. */
  status(): ConfinementStatus {
    const osSandbox = osSandboxKind(this.platform);
    const enabled = this.enabled();
    return { enabled, osSandbox, missing: enabled ? missingPrograms(osSandbox, ['claude', 'codex'], this.programs) : [], limitations: limitationsOf(enabled, osSandbox) };
  }

  /**
   * Builds one agent start's confinement: checks the layers can start (a clear error naming
   * what to install, never a silent fallback), makes the per-run temp folder, logs the profile.
   */
  async prepare(confinement: AgentConfinement, cli: CliLayout): Promise<PreparedConfinement> {
    // First, before anything awaits: a start that must wait says so (or is refused) at once.
    const release = await (this.options.slots?.acquire(confinement.caller) ?? Promise.resolve(() => {}));
    try {
      const prepared = await this.confine(confinement, cli);
      prepared.onDispose(release);
      return prepared;
    } catch (error) {
      release();
      throw error;
    }
  }

  private async confine(confinement: AgentConfinement, cli: CliLayout): Promise<PreparedConfinement> {
    const enabled = this.enabled();
    const osSandbox = enabled ? osSandboxKind(this.platform) : 'none';
    if (enabled) {
      const missing = missingPrograms(osSandbox, [cli.cli], this.programs);
      if (missing.length) throw sandboxUnavailable(missing);
    }
    const root = realpathSync(confinement.root);
    const readRoots = (confinement.readRoots ?? []).map((dir) => realpathSync(dir));
    const writeRoots = (confinement.writeRoots ?? []).map((dir) => realpathSync(dir));
    // A caller that knows the folder holds foreign content (archives, PR branches) says false;
    // otherwise a folder is trusted only inside a repository the user marked trusted.
    const trustProjectConfig = confinement.trustProjectConfig ?? this.isTrusted(root);
    const env = { ...(await this.options.environment?.forCli(cli.cli)), ...cli.env };
    const home = env.HOME ?? homedir();
    const configPaths = configPathsOf({ cli: cli.cli, env }, home);
    for (const dir of configPaths.dirs) mkdirSync(dir, { recursive: true });
    const config = [...configPaths.dirs, ...configPaths.files];
    const masked = (await Promise.all([root, ...writeRoots, ...readRoots].map((dir) => this.guard.secretsInside(dir))))
      .flat()
      .filter((path) => !config.some((kept) => kept === path || kept.startsWith(`${path}/`) || path.startsWith(`${kept}/`)));
    const npmRoot = enabled && osSandbox === 'bubblewrap' && cli.cli === 'claude' ? await this.globalNpmRoot() : null;
    const tempDir = realpathSync(mkdtempSync(join(this.options.tempParent ?? tmpdir(), `symphony-agent-${cli.cli}-`)));
    const { caller: _, ...profileOnly } = confinement;
    const prepared = new PreparedConfinement(
      { ...profileOnly, root, readRoots, writeRoots, trustProjectConfig },
      {
        root, writable: confinement.level === 'write', readRoots, writeRoots, tempDir, home, configPaths: config, installPaths: [], masked,
        gitCommonDirs: [root, ...readRoots].map(gitCommonDir).filter((dir): dir is string => dir !== null),
      },
      enabled ? osSandbox : 'off',
      this.guard,
      this.programs,
      env,
      npmRoot,
    );
    // Names only: values (API keys among them) never reach a log.
    const profile = { cli: cli.cli, level: confinement.level, root, readRoots, writeRoots, osSandbox: prepared.osSandbox, cliSandbox: prepared.cliSandbox, trustProjectConfig, envNames: Object.keys(env).sort() };
    if (enabled) this.log.info(profile, 'agent start confined');
    else this.log.warn(profile, 'agent start NOT confined: confinement is turned off in settings');
    return prepared;
  }

  private globalNpmRoot(): Promise<string | null> {
    this.npmRoot ??= this.learnNpmRoot();
    return this.npmRoot;
  }

  /** The real `npm root -g` as the view would answer it: from `/`, with an empty home (a user's ~/.npmrc is not seen there). */
  private async learnNpmRoot(): Promise<string | null> {
    if (!this.options.processes) return null;
    const home = mkdtempSync(join(this.options.tempParent ?? tmpdir(), 'symphony-npm-home-'));
    try {
      const result = await this.options.processes.run('npm', ['root', '-g'], { cwd: '/', env: { HOME: home }, timeoutMs: 30_000 });
      const root = result.stdout.trim();
      if (result.exitCode === 0 && isAbsolute(root) && !root.includes('\n')) return root;
      this.log.info({ exitCode: result.exitCode }, "`npm root -g` failed: claude starts without the npm shim");
    } catch (error) {
      this.log.info({ err: (error as Error).message }, 'npm not found: claude starts without the npm shim');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    return null;
  }
}

export class PreparedConfinement {
  /** The folders the agent may read: its root first. */
  readonly roots: string[];

  constructor(
    readonly confinement: AgentConfinement,
    private readonly layout: SandboxLayout,
    /** `off`: the user turned confinement off; `none`: this OS has no outer layer (Windows). */
    readonly osSandbox: OsSandboxKind | 'off',
    private readonly guard: AgentPathGuard,
    private readonly programs: (name: string) => string | null = findProgram,
    /** The agent environment this start was prepared with (see agent-env.ts). */
    private readonly agentEnv: Readonly<Record<string, string>> = {},
    /** The cached global npm root for claude's `npm` shim; null: no shim. */
    private readonly npmRoot: string | null = null,
  ) {
    this.roots = [layout.root, ...(layout.writeRoots ?? []), ...layout.readRoots];
  }

  /** The folders a `write` agent may change: its root, then any further write roots. */
  get writableRoots(): string[] {
    return this.level === 'write' ? [this.layout.root, ...(this.layout.writeRoots ?? [])] : [];
  }

  get level(): ConfinementLevel {
    return this.confinement.level;
  }

  get root(): string {
    return this.layout.root;
  }

  /** The per-run temp folder on the host. */
  get tempDir(): string {
    return this.layout.tempDir;
  }

  /** The CLI's own config folders and files (bound for the CLI; its commands must not read them: credentials). */
  get configPaths(): readonly string[] {
    return this.layout.configPaths;
  }

  /** Whether the CLI's own command sandbox is on (off only when the user turned confinement off). */
  get cliSandbox(): boolean {
    return this.osSandbox !== 'off';
  }

  /** The CLI's environment on top of the supervisor's clean one: the agent environment, and its temp folder as the view names it. */
  get env(): Record<string, string> {
    return { ...this.agentEnv, TMPDIR: this.osSandbox === 'bubblewrap' ? '/tmp' : this.layout.tempDir };
  }

  /** For ChildSpec.wrap: runs the resolved CLI inside the filesystem view (undefined when there is none). */
  wrapper(
    cwd: string,
    childPath: string | undefined,
  ): ((file: string, args: readonly string[], env?: Readonly<Record<string, string>>) => { command: string; args: string[] }) | undefined {
    if (this.osSandbox !== 'bubblewrap' && this.osSandbox !== 'sandbox-exec') return undefined;
    const kind = this.osSandbox;
    return (file, args, env) => {
      const path = env?.PATH ?? childPath;
      const install = installPaths(file, path);
      const layout = { ...this.layout, installPaths: install.paths };
      if (kind === 'bubblewrap') {
        return { command: this.programs('bwrap') ?? 'bwrap', args: bubblewrapArgs({ ...layout, ...this.npmShim(path, install.paths) }, install.real, args, cwd) };
      }
      return { command: '/usr/bin/sandbox-exec', args: seatbeltArgs(layout, install.real, args) };
    };
  }

  /**
   * claude's sandbox runs `/bin/sh -c "npm root -g"` at every start (its sandbox-runtime looks
   * for a Java proxy agent in the global npm folder; no setting skips it): a whole npm start,
   * ~0.3 s of CPU. A POSIX sh `npm` first on the view's PATH, in a read-only per-run folder,
   * answers exactly `npm root -g` / `npm root --global` with the root the gateway learned once,
   * and execs the real npm (a system one, seen in the view) with every other argument list
   * unchanged. Paths are read from files, never spliced into the script.
   */
  private npmShim(path: string | undefined, install: readonly string[]): Pick<SandboxLayout, 'shimDir' | 'path'> {
    const npm = this.npmRoot ? findOnPath('npm', path) : null;
    if (!npm || npm.includes('\n') || !seenInView(npm, install) || !seenInView(realpathSync(npm), install)) return {};
    const shimDir = join(this.layout.tempDir, '.symphony-bin');
    if (!existsSync(shimDir)) {
      mkdirSync(shimDir, { mode: 0o755 });
      writeFileSync(join(shimDir, 'npm-root'), `${this.npmRoot}\n`, { mode: 0o444 });
      writeFileSync(join(shimDir, 'npm-path'), `${npm}\n`, { mode: 0o444 });
      writeFileSync(join(shimDir, 'npm'), npmShimScript(`${SHIM_DIR_IN_VIEW}/npm-root`, `${SHIM_DIR_IN_VIEW}/npm-path`), { mode: 0o555 });
    }
    return { shimDir, path: `${SHIM_DIR_IN_VIEW}:${path}` };
  }

  /**
   * A tool call the CLI asks about: in a `read` profile only reading tools; every path the
   * input names must resolve inside the roots (writes: the root) and outside the secret
   * folders. A read that passes needs nobody; anything else goes to the caller's approver.
   */
  async checkTool(toolName: string, input: unknown, cwd: string): Promise<ToolVerdict> {
    const reads = READ_TOOLS.has(toolName);
    if (this.level === 'read' && !reads) return { allowed: false, reason: `This agent may only read files; ${toolName} is not allowed.` };
    for (const path of namedPaths(input)) {
      const absolute = isAbsolute(path) ? path : resolve(cwd, path);
      try {
        await this.guard.resolveWithin(absolute, reads ? this.roots : this.writableRoots);
      } catch (error) {
        return { allowed: false, reason: `${toolName} on ${path} refused: ${(error as Error).message}` };
      }
    }
    return { allowed: true, access: reads ? 'read' : 'write' };
  }

  private readonly disposers: Array<() => void> = [];

  /** Runs `action` when the start is disposed (its concurrent-agent slot is given back). */
  onDispose(action: () => void): void {
    this.disposers.push(action);
  }

  /** Removes the per-run temp folder and gives the slot back; once. */
  dispose(): void {
    try {
      rmSync(this.layout.tempDir, { recursive: true, force: true });
    } finally {
      for (const action of this.disposers.splice(0)) action();
    }
  }
}

/** The `npm` shim (see PreparedConfinement.npmShim): no fork for `root -g`, the real npm for the rest. */
function npmShimScript(rootFile: string, npmFile: string): string {
  return [
    '#!/bin/sh',
    "# Symphony's npm shim for claude's sandbox start: `npm root -g` from the gateway's cached answer, the real npm otherwise.",
    'if [ "$#" -eq 2 ] && [ "$1" = root ] && { [ "$2" = -g ] || [ "$2" = --global ]; }; then',
    `  IFS= read -r root < '${rootFile}' && printf '%s\\n' "$root"`,
    '  exit',
    'fi',
    `IFS= read -r npm < '${npmFile}' || exit 127`,
    'exec "$npm" "$@"',
    '',
  ].join('\n');
}

/** When the sandbox helper dies before the CLI said anything, the message says what to do. */
export function sandboxFailureHint(stderr: string): string | null {
  const line = stderr.split('\n').find((text) => text.startsWith('bwrap:'));
  if (!line) return null;
  return (
    `The agent sandbox (bubblewrap) could not start: ${line}. bubblewrap needs user namespaces ` +
    '(on Ubuntu 24.04 allow them for bwrap through AppArmor, or install bwrap setuid); ' +
    'or turn agent confinement off in Settings (not recommended).'
  );
}

function configPathsOf(cli: CliLayout, home: string): { dirs: string[]; files: string[] } {
  if (cli.cli === 'claude') {
    const configDir = cli.env.CLAUDE_CONFIG_DIR ?? join(home, '.claude');
    return { dirs: [configDir], files: [join(home, '.claude.json')] };
  }
  return { dirs: [cli.env.CODEX_HOME ?? join(home, '.codex')], files: [] };
}

/** Programs each layer needs: the outer view's, and claude's native sandbox's (bubblewrap and socat on Linux). */
function missingPrograms(osSandbox: OsSandboxKind, clis: ReadonlyArray<CliLayout['cli']>, find: (name: string) => string | null): string[] {
  const needed = new Set<string>();
  if (osSandbox === 'bubblewrap') needed.add('bwrap');
  if (osSandbox === 'bubblewrap' && clis.includes('claude')) needed.add('socat');
  if (osSandbox === 'sandbox-exec') needed.add('sandbox-exec');
  return [...needed].filter((name) => !find(name));
}

const SYSTEM_PATH = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'].join(':');

function findProgram(name: string): string | null {
  return findOnPath(name, `${process.env.PATH ?? ''}:${SYSTEM_PATH}`);
}

const PACKAGES: Record<string, string> = {
  bwrap: 'bubblewrap (Debian/Ubuntu: `sudo apt install bubblewrap`; Fedora: `sudo dnf install bubblewrap`; Arch: `sudo pacman -S bubblewrap`)',
  socat: 'socat (Debian/Ubuntu: `sudo apt install socat`; Fedora: `sudo dnf install socat`; Arch: `sudo pacman -S socat`)',
  'sandbox-exec': 'sandbox-exec (part of macOS: /usr/bin/sandbox-exec is missing)',
};

/** What to install for the programs the sandbox lacks (the start error and the /health-check row). */
export function sandboxInstallHint(missing: readonly string[]): string {
  return `Install ${missing.map((name) => PACKAGES[name] ?? name).join(', and ')}`;
}

function sandboxUnavailable(missing: string[]): FailedDependency {
  return new FailedDependency(
    `Agents run inside an OS sandbox, and ${missing.map((name) => `\`${name}\``).join(' and ')} ` +
      `${missing.length > 1 ? 'were' : 'was'} not found. ${sandboxInstallHint(missing)}; ` +
      'or turn agent confinement off in Settings (not recommended: agents then see your whole home folder).',
    'sandbox_unavailable',
    { missing },
  );
}

function namedPaths(input: unknown): string[] {
  if (!input || typeof input !== 'object') return [];
  const record = input as Record<string, unknown>;
  return PATH_FIELDS.map((field) => record[field]).filter((value): value is string => typeof value === 'string' && value !== '');
}

/** Without the gateway's guard (tests, tools): the same secret-folder list, no workspace root. */
function standaloneGuard(): AgentPathGuard {
  const values = new Map<string, unknown>();
  return new WorkspaceGuard({
    settings: { get: <T>(key: string) => values.get(key) as T, set: (key, value) => values.set(key, value), delete: (key) => values.delete(key) },
    listRepoRoots: () => [],
  });
}

function realOrNull(dir: string): string | null {
  try {
    return realpathSync(dir);
  } catch {
    return null;
  }
}
