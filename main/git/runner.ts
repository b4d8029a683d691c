// Every git invocation goes through here: the supervisor (no shell), a timeout on
// every call, an output cap, an environment that never waits for a prompt, and config
// overrides so that a repository's own config cannot make us run its commands.
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { AppError, isAppError, Unprocessable } from '../errors.js';
import type { RunOptions, RunResult, Supervisor } from '../supervisor/supervisor.js';
import { gitError, toolMissing } from './errors.js';

export type ProcessRunner = Pick<Supervisor, 'run'>;

export const LOCAL_TIMEOUT_MS = 30_000;
export const NETWORK_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_BUFFER = 16 * 1024 * 1024;

// No terminal prompts (a push needing a password must fail, not hang), messages in
// English so errors.ts can recognise them, and no optional index locks for reads.
const GIT_ENV: Record<string, string> = {
  GIT_TERMINAL_PROMPT: '0',
  GCM_INTERACTIVE: 'never',
  LC_ALL: 'C',
  LANG: 'C',
  GIT_OPTIONAL_LOCKS: '0',
};

// What git and gh need from our environment to reach the user's own credentials and
// network, which the supervisor's clean environment leaves out: the SSH agent (push over
// SSH), the session bus (gh and git credential helpers keep tokens in the keyring), and
// the proxy settings. Passed by value, only when set.
const PASSED_THROUGH = [
  'SSH_AUTH_SOCK',
  'SSH_AGENT_PID',
  'DBUS_SESSION_BUS_ADDRESS',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
];

// No prompts, no pager, no update notices, no colour: gh must answer and exit.
const GH_ENV: Record<string, string> = {
  GH_PROMPT_DISABLED: '1',
  GH_NO_UPDATE_NOTIFIER: '1',
  GH_SPINNER_DISABLED: '1',
  GH_PAGER: 'cat',
  NO_COLOR: '1',
  LC_ALL: 'C',
};

/**
 * gh's own login, when the user's gh works from the environment rather than `gh auth login`:
 * passed to gh and to nothing else (the supervisor's clean environment drops any *_TOKEN, so
 * claude, codex, git, judges and dev servers never see them).
 */
const GH_LOGIN = ['GH_TOKEN', 'GITHUB_TOKEN', 'GH_ENTERPRISE_TOKEN', 'GITHUB_ENTERPRISE_TOKEN', 'GH_HOST'];

/** The environment of every gh call: ours for gh, the user's network and agent, and gh's own login variables. */
export function ghEnv(): Record<string, string> {
  const login: Record<string, string> = {};
  for (const name of GH_LOGIN) {
    const value = process.env[name];
    if (value) login[name] = value;
  }
  return { ...toolEnv(GH_ENV), ...login };
}

export function toolEnv(own: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return { ...env, ...own };
}

export interface GitCallOptions {
  /** Run the repository's hooks (core.hooksPath, .git/hooks): only writes the user makes on purpose, commit and push. */
  runUserHooks?: boolean;
  timeoutMs?: number;
  maxBuffer?: number;
  signal?: AbortSignal;
  input?: string;
}

/** Throws when the child never ran properly (missing binary, aborted, timed out). */
export function checkStarted(tool: 'git' | 'gh', operation: string, result: RunResult, signal?: AbortSignal): void {
  if (signal?.aborted) throw new AppError(499, 'client_closed_request', `${tool} ${operation} was cancelled.`);
  if (result.timedOut) throw gitError(operation, result);
  if (result.exitCode === null && !result.truncated) throw toolMissing(tool);
}

/**
 * What `-c` overrides every call gets. A repository's .git/config (an unpacked archive,
 * a folder someone else prepared) can name programs git runs on its own: fsmonitor on
 * every status, hooks on checkout/merge, the ext:: transport. Diffs add --no-ext-diff
 * and --no-textconv themselves (diff.ts).
 */
export function hardeningArgs(emptyHooksDir: string, runUserHooks = false): string[] {
  return [
    '-c', 'core.fsmonitor=false',
    '-c', 'protocol.ext.allow=never',
    ...(runUserHooks ? [] : ['-c', `core.hooksPath=${emptyHooksDir}`]),
  ];
}

// What a repository's own config (.git/config, config.worktree and their includes) may name
// that git would run: filter drivers on status/diff/checkout, an ssh command and credential
// helpers on fetch/pull. For every call but the user's own commit and push (which run their
// hooks, so they keep their repository's config whole) these are neutralised: a filter
// driver the repository defines becomes the identity (`cat`, no long-running process), and
// an ssh command or credential helpers it sets are replaced by the user's own (global or
// system) ones, else plain `ssh` and no helper. The user's global config is theirs and stays.
const REPO_CONFIG_KEYS = String.raw`^(filter\..*\.(clean|smudge|process)|core\.sshcommand|credential\..*helper)$`;

/** The `-c` overrides for what the repository-scope entries of `git config --show-scope` name. */
export function repoConfigOverrides(listing: string): string[] {
  const entries = listing.split('\n').filter(Boolean).map((line) => {
    const [scope, rest = ''] = line.split('\t');
    const space = rest.indexOf(' ');
    return { scope, key: (space < 0 ? rest : rest.slice(0, space)).toLowerCase(), value: space < 0 ? '' : rest.slice(space + 1) };
  });
  const fromRepo = (scope: string) => scope === 'local' || scope === 'worktree';
  const args: string[] = [];
  const done = new Set<string>();
  for (const { scope, key } of entries) {
    if (!fromRepo(scope) || done.has(key)) continue;
    done.add(key);
    const userValues = entries.filter((e) => e.key === key && !fromRepo(e.scope)).map((e) => e.value);
    if (key.startsWith('filter.')) {
      args.push('-c', `${key}=${key.endsWith('.process') ? '' : 'cat'}`);
    } else if (key === 'core.sshcommand') {
      args.push('-c', `core.sshCommand=${userValues.at(-1) ?? 'ssh'}`);
    } else {
      // An empty value resets the helper list; then the user's own helpers, in order.
      args.push('-c', `${key}=`, ...userValues.flatMap((value) => ['-c', `${key}=${value}`]));
    }
  }
  return args;
}

interface RepoConfigCache {
  configFile: string;
  stamp: string;
  overrides: string[];
}

export interface GitRunnerOptions {
  /** An empty folder to point core.hooksPath at (default: a fresh one under the temp dir). */
  emptyHooksDir?: string;
}

export class GitRunner {
  private readonly emptyHooksDir: string;
  private readonly repoConfig = new Map<string, RepoConfigCache>();

  constructor(
    private readonly processes: ProcessRunner,
    options: GitRunnerOptions = {},
  ) {
    this.emptyHooksDir = options.emptyHooksDir ?? mkdtempSync(join(tmpdir(), 'symphony-no-hooks-'));
  }

  /** Runs git and returns the result whatever the exit code (for commands where non-zero is an answer). */
  async raw(cwd: string, args: readonly string[], operation: string, options: GitCallOptions = {}): Promise<RunResult> {
    const runOptions: RunOptions = {
      cwd,
      timeoutMs: options.timeoutMs ?? LOCAL_TIMEOUT_MS,
      maxBuffer: options.maxBuffer ?? DEFAULT_MAX_BUFFER,
      signal: options.signal,
      input: options.input,
      env: toolEnv(GIT_ENV),
    };
    let result: RunResult;
    try {
      const repoOverrides = options.runUserHooks ? [] : await this.repoConfigOverrides(cwd, runOptions);
      result = await this.processes.run('git', [...hardeningArgs(this.emptyHooksDir, options.runUserHooks), ...repoOverrides, ...args], runOptions);
    } catch (error) {
      if (isAppError(error) && error.code === 'binary_missing') throw toolMissing('git');
      throw error;
    }
    checkStarted('git', operation, result, options.signal);
    return result;
  }

  /**
   * The overrides for the repository at `cwd`, listed again only when its config file
   * changed (a stat per call).
   */
  private async repoConfigOverrides(cwd: string, runOptions: RunOptions): Promise<string[]> {
    const cached = this.repoConfig.get(cwd);
    if (cached && stampOf(cached.configFile) === cached.stamp) return cached.overrides;
    const hardening = hardeningArgs(this.emptyHooksDir);
    const options = { ...runOptions, input: undefined, maxBuffer: 1024 * 1024 };
    const common = await this.processes.run('git', [...hardening, 'rev-parse', '--git-common-dir'], options);
    const dir = common.exitCode === 0 ? common.stdout.trim() : '';
    const configFile = dir ? join(isAbsolute(dir) ? dir : join(cwd, dir), 'config') : null;
    const stamp = stampOf(configFile);
    const listing = configFile
      ? await this.processes.run('git', [...hardening, 'config', '--show-scope', '--includes', '--get-regexp', REPO_CONFIG_KEYS], options)
      : null;
    const overrides = listing && listing.exitCode === 0 ? repoConfigOverrides(listing.stdout) : [];
    // Not a repository (yet): asked again next time, so a `git init` is seen at once.
    if (!configFile) return overrides;
    if (this.repoConfig.size > 500) this.repoConfig.clear();
    this.repoConfig.set(cwd, { configFile, stamp, overrides });
    return overrides;
  }

  /** Runs git and returns stdout; a non-zero exit becomes the mapped error. */
  async run(cwd: string, args: readonly string[], operation: string, options: GitCallOptions = {}): Promise<string> {
    const result = await this.raw(cwd, args, operation, options);
    // Half an answer read as a whole one would be wrong (a status missing files):
    // callers that can use a cut output (diffs) call raw() and say `truncated`.
    if (result.truncated) {
      throw new Unprocessable(`git ${operation} produced more output than the gateway reads.`, 'git_output_too_large', {
        hint: 'The repository is too large for this view; narrow it down (a path, a base branch) if the route allows.',
      });
    }
    if (result.exitCode !== 0) throw gitError(operation, result);
    return result.stdout;
  }

  /** True when git exits 0 (for yes/no questions such as "does this ref exist"). */
  async succeeds(cwd: string, args: readonly string[], operation: string, signal?: AbortSignal): Promise<boolean> {
    const result = await this.raw(cwd, args, operation, { signal });
    return result.exitCode === 0;
  }
}

function stampOf(file: string | null): string {
  if (!file) return 'none';
  try {
    const stat = statSync(file);
    return `${stat.mtimeMs}:${stat.size}`;
  } catch {
    return 'missing';
  }
}
