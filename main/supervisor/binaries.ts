// Where claude, codex, gh, git and python3 live: the user's override (settings key
// `binaryPaths`), else our PATH, else the login shell's PATH. An app started from a
// desktop launcher does not get the user's shell PATH, the most common reason such apps
// cannot find these CLIs; asking `$SHELL -lic` once (cached) fixes that. A gateway starts
// that probe in the background as it starts serving; it gets up to 10 s (nvm, oh-my-zsh and
// the like take seconds), and whoever needs a CLI that is not on our own PATH (an agent
// start, /health-check) waits for the probe in flight instead of calling the CLI missing.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import type { SettingsStore } from '../store/settings.js';

export const MANAGED_BINARIES = ['claude', 'codex', 'gh', 'git', 'python3'] as const;
export type BinaryName = (typeof MANAGED_BINARIES)[number];
export type BinarySource = 'override' | 'path' | 'login-shell' | 'missing';

export const BINARY_PATHS_KEY = 'binaryPaths';

export interface ResolvedBinary {
  name: BinaryName;
  path: string | null;
  source: BinarySource;
  /** Why an override was not used, when it was set but unusable. */
  note?: string;
  /** Not found yet, and the login-shell probe is still running (only with `loginShellWaitMs`). */
  probing?: true;
}

export interface DescribedBinary extends ResolvedBinary {
  version: string | null;
}

/** The slice of Supervisor.run the resolver needs (injected: the supervisor resolves through us). */
export type VersionRunner = (
  file: string,
  args: string[],
  options: { timeoutMs: number },
) => Promise<{ exitCode: number | null; stdout: string; stderr: string; timedOut: boolean }>;

export interface BinaryResolverOptions {
  settings?: SettingsStore;
  run: VersionRunner;
  log: Logger;
  /** Searched before PATH (tests put node_modules/.bin here). */
  extraSearchDirs?: readonly string[];
  /** How long the login shell may take (default 10 s). */
  loginShellTimeoutMs?: number;
  /** A probe that found no PATH is asked again after this long (default 5 min). */
  loginShellRetryMs?: number;
  versionTimeoutMs?: number;
}

export const LOGIN_SHELL_TIMEOUT_MS = 10_000;
const LOGIN_SHELL_RETRY_MS = 5 * 60_000;

const PROBING = Symbol('probing');
const PATH_START = '__PATH_START__';
const PATH_END = '__PATH_END__';

export function isManagedBinary(name: string): name is BinaryName {
  return (MANAGED_BINARIES as readonly string[]).includes(name);
}

export class BinaryResolver {
  private loginShellPathPromise: Promise<string | null> | null = null;
  private loginShellFailedAt: number | null = null;
  /** How many times the login shell was asked (for tests and the log). */
  loginShellProbes = 0;

  constructor(private readonly options: BinaryResolverOptions) {}

  /** The stored overrides; anything malformed in the setting is ignored (and logged), never thrown. */
  overrides(): Partial<Record<BinaryName, string>> {
    let stored: unknown;
    try {
      stored = this.options.settings?.get<unknown>(BINARY_PATHS_KEY);
    } catch (error) {
      this.options.log.warn({ err: (error as Error).message }, 'binaryPaths setting unreadable; ignoring it');
      return {};
    }
    if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return {};
    const overrides: Partial<Record<BinaryName, string>> = {};
    for (const [name, value] of Object.entries(stored)) {
      if (isManagedBinary(name) && typeof value === 'string' && isAbsolute(value)) overrides[name] = value;
    }
    return overrides;
  }

  /**
   * Where `name` is. Off our PATH it waits for the login-shell probe, up to the probe's own
   * limit, or only `loginShellWaitMs` (a readiness check with a budget of its own): past that
   * the answer is "missing" with `probing: true`, which is "not known yet", not "not installed".
   */
  async resolve(name: BinaryName, options: { loginShellWaitMs?: number } = {}): Promise<ResolvedBinary> {
    const override = this.overrides()[name];
    let note: string | undefined;
    if (override) {
      if (isExecutableFile(override)) return { name, path: override, source: 'override' };
      note = `override ${override} is not an executable file; using the search path`;
      this.options.log.warn({ binary: name }, note);
    }
    const onPath = findOnPath(name, [...(this.options.extraSearchDirs ?? []), ...splitPath(process.env.PATH)]);
    if (onPath) return { name, path: onPath, source: 'path', note };
    const loginPath = await this.loginShellPathWithin(options.loginShellWaitMs);
    if (loginPath === PROBING) return { name, path: null, source: 'missing', note, probing: true };
    const onLoginPath = loginPath ? findOnPath(name, splitPath(loginPath)) : null;
    if (onLoginPath) return { name, path: onLoginPath, source: 'login-shell', note };
    return { name, path: null, source: 'missing', note };
  }

  async describe(name: BinaryName): Promise<DescribedBinary> {
    const resolved = await this.resolve(name);
    return { ...resolved, version: resolved.path ? await this.version(resolved.path) : null };
  }

  /** First line `--version` prints, or null when the program does not answer in time or fails. */
  async version(file: string, timeoutMs = this.options.versionTimeoutMs ?? 5_000): Promise<string | null> {
    try {
      const result = await this.options.run(file, ['--version'], { timeoutMs });
      if (result.timedOut || result.exitCode !== 0) return null;
      const line = `${result.stdout}\n${result.stderr}`.split('\n').find((text) => text.trim() !== '');
      return line?.trim() ?? null;
    } catch {
      return null;
    }
  }

  private async loginShellPathWithin(waitMs: number | undefined): Promise<string | null | typeof PROBING> {
    const probe = this.loginShellPath();
    if (waitMs === undefined) return probe;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<typeof PROBING>((resolve) => (timer = setTimeout(() => resolve(PROBING), waitMs)));
    try {
      return await Promise.race([probe, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts the login-shell probe in the background (once; a later call shares it). */
  probeLoginShell(): void {
    void this.loginShellPath();
  }

  /**
   * The PATH an interactive login shell sets up: null when there is none or it failed. The
   * answer is cached; a failure (a shell slower than the timeout, a broken rc file) is asked
   * again at most every few minutes, never on every lookup.
   */
  loginShellPath(): Promise<string | null> {
    const retryMs = this.options.loginShellRetryMs ?? LOGIN_SHELL_RETRY_MS;
    if (this.loginShellFailedAt !== null && Date.now() - this.loginShellFailedAt >= retryMs) {
      this.loginShellFailedAt = null;
      this.loginShellPathPromise = null;
    }
    this.loginShellPathPromise ??= this.askLoginShell().then((path) => {
      if (path === null) this.loginShellFailedAt = Date.now();
      return path;
    });
    return this.loginShellPathPromise;
  }

  private async askLoginShell(): Promise<string | null> {
    const shell = process.env.SHELL;
    if (process.platform === 'win32' || !shell || !isAbsolute(shell)) return null;
    this.loginShellProbes++;
    // rc files may print banners: the markers pick PATH out of whatever else comes.
    const script = `printf '%s%s%s' '${PATH_START}' "$PATH" '${PATH_END}'`;
    const timeoutMs = this.options.loginShellTimeoutMs ?? LOGIN_SHELL_TIMEOUT_MS;
    const started = Date.now();
    try {
      const result = await this.options.run(shell, ['-lic', script], { timeoutMs });
      const match = new RegExp(`${PATH_START}(.*?)${PATH_END}`, 's').exec(result.stdout);
      const tookMs = Date.now() - started;
      if (!match) {
        this.options.log.warn(
          { shell, timedOut: result.timedOut, tookMs },
          result.timedOut ? `the login shell did not report a PATH within ${timeoutMs} ms; CLIs not on our PATH look missing until it is asked again` : 'the login shell did not report a PATH',
        );
      } else {
        this.options.log.info({ shell, tookMs }, 'login shell PATH read');
      }
      return match?.[1] || null;
    } catch (error) {
      this.options.log.info({ shell, err: (error as Error).message }, 'login shell PATH lookup failed');
      return null;
    }
  }
}

export function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function splitPath(value: string | undefined): string[] {
  return (value ?? '').split(delimiter).filter((dir) => isAbsolute(dir));
}

function findOnPath(name: string, dirs: readonly string[]): string | null {
  const extensions = process.platform === 'win32' ? ['', ...(process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';')] : [''];
  for (const dir of dirs) {
    for (const extension of extensions) {
      const candidate = join(dir, name + extension);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return null;
}
