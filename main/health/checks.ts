// The readiness rows, in the order the web client shows them. A required row that fails
// blocks loop launches in the client, so `required` means the gateway cannot work
// without it. No `plugin-*` rows (our own run engine replaces the original's plugins) and
// no `*-mcp` rows (the client builds those from `mcpServers`).
import { ghEnv } from '../git/runner.js';
import { sandboxInstallHint, type ConfinementStatus } from '../providers/confinement.js';
import type { BinaryName, ResolvedBinary } from '../supervisor/binaries.js';
import type { RunOptions, RunResult } from '../supervisor/run.js';
import { memoize, type ReadinessCheck, type RowResult } from './readiness.js';

export interface ReadinessDeps {
  resolve: (name: BinaryName, options?: { loginShellWaitMs?: number }) => Promise<ResolvedBinary>;
  /** First line of `--version`, or null. */
  version: (file: string, timeoutMs: number) => Promise<string | null>;
  run: (command: string, args: readonly string[], options: RunOptions) => Promise<RunResult>;
  worktreeSettings: () => { worktreeParentDir: string | null; worktreeParentDirConfirmed: boolean };
  appVersion: string;
  /** The agent sandbox: on or off, and what this machine lacks for it. */
  confinement: () => ConfinementStatus;
}

const VERSION_TTL_MS = 60_000;
const AUTH_TTL_MS = 30_000;
const PROBE_TIMEOUT_MS = 2_500;

interface ToolRow {
  id: string;
  label: string;
  binary: BinaryName;
  required: boolean;
  install: string;
  link: string;
}

const TOOLS: Record<string, ToolRow> = {
  git: { id: 'git', label: 'Git', binary: 'git', required: true, install: 'Install git', link: 'https://git-scm.com/downloads' },
  claude: {
    id: 'claude-cli',
    label: 'Claude Code CLI',
    binary: 'claude',
    required: true,
    install: 'Install Claude Code (`npm install -g @anthropic-ai/claude-code`)',
    link: 'https://docs.anthropic.com/en/docs/claude-code/setup',
  },
  gh: { id: 'gh-cli', label: 'GitHub CLI', binary: 'gh', required: true, install: 'Install the GitHub CLI (gh)', link: 'https://cli.github.com/' },
  codex: {
    id: 'codex',
    label: 'Codex CLI',
    binary: 'codex',
    required: false,
    install: 'Install the Codex CLI (`npm install -g @openai/codex`)',
    link: 'https://github.com/openai/codex',
  },
  python3: { id: 'python3', label: 'Python 3', binary: 'python3', required: true, install: 'Install Python 3', link: 'https://www.python.org/downloads/' },
};

export function defaultReadinessChecks(deps: ReadinessDeps): ReadinessCheck[] {
  const versions = memoize<string | null>(VERSION_TTL_MS);
  const auth = memoize<RunResult>(AUTH_TTL_MS);

  const tool = (row: ToolRow): ReadinessCheck => ({
    id: row.id,
    label: row.label,
    required: row.required,
    run: async () => {
      // Within the check's budget: a slow login shell still being read is "check again", not "not installed".
      const resolved = await deps.resolve(row.binary, { loginShellWaitMs: PROBE_TIMEOUT_MS });
      const fix = `${row.install}, or set its path under Settings → Binary paths, then check again.`;
      if (resolved.probing) {
        return {
          passed: false,
          error: `Still reading your login shell's PATH to find ${row.binary} (the shell is slow to start).`,
          remediation: 'Check again in a few seconds.',
          ...debugFor(row, resolved),
        };
      }
      if (!resolved.path) {
        return { passed: false, error: `${row.binary} was not found.`, remediation: fix, remediationLinks: [{ label: row.label, url: row.link }], ...debugFor(row, resolved) };
      }
      const file = resolved.path;
      const version = await versions(file, () => deps.version(file, PROBE_TIMEOUT_MS));
      if (!version) {
        return { passed: false, error: `${file} did not answer \`--version\`.`, remediation: fix, ...debugFor(row, resolved) };
      }
      return { passed: true, version };
    },
  });

  return [
    tool(TOOLS.git),
    tool(TOOLS.claude),
    tool(TOOLS.gh),
    {
      id: 'gh-auth',
      label: 'GitHub CLI authentication',
      required: true,
      run: async (_query, signal) => {
        const gh = await deps.resolve('gh', { loginShellWaitMs: PROBE_TIMEOUT_MS });
        if (gh.probing) return { passed: false, error: "Still reading your login shell's PATH to find gh.", remediation: 'Check again in a few seconds.' };
        if (!gh.path) return { passed: false, error: 'The GitHub CLI (gh) is not installed.', remediation: 'Install the GitHub CLI, then run `gh auth login`.' };
        const file = gh.path;
        // Only a success is remembered: after `gh auth login` the next check sees it.
        const result = await auth(file, async () => {
          const status = await deps.run('gh', ['auth', 'status'], { timeoutMs: PROBE_TIMEOUT_MS, signal, env: ghEnv() });
          if (status.exitCode !== 0) throw Object.assign(new Error('not logged in'), { status });
          return status;
        }).catch((error: { status?: RunResult }) => error.status ?? Promise.reject(error));
        if (result.exitCode === 0) return { passed: true };
        return {
          passed: false,
          error: result.timedOut ? '`gh auth status` did not answer in time.' : 'The GitHub CLI is not logged in.',
          remediation: 'Run `gh auth login` in a terminal, then check again.',
        };
      },
    },
    {
      id: 'worktree-dir',
      label: 'Worktree folder',
      required: true,
      run: async () => {
        const { worktreeParentDir, worktreeParentDirConfirmed } = deps.worktreeSettings();
        if (worktreeParentDir && worktreeParentDirConfirmed) return { passed: true, version: worktreeParentDir };
        return {
          passed: false,
          ...(worktreeParentDir ? { version: worktreeParentDir } : {}),
          error: worktreeParentDir ? 'The worktree folder is not confirmed yet.' : 'No folder for ticket worktrees is set.',
          remediation: 'Choose (and confirm) the folder where ticket worktrees are created.',
        };
      },
    },
    tool(TOOLS.codex),
    tool(TOOLS.python3),
    {
      id: 'app-version',
      label: 'Gateway Version',
      required: true,
      applies: (query) => query.latestVersion !== undefined,
      run: async (query) => {
        const latest = query.latestVersion!;
        if (compareVersions(deps.appVersion, latest) >= 0) return { passed: true, version: deps.appVersion };
        return {
          passed: false,
          version: deps.appVersion,
          error: `Symphony Desktop ${deps.appVersion} is older than the latest release ${latest}.`,
          remediation: `Update Symphony Desktop to ${latest}.`,
        };
      },
    },
    // Ours, after the original's rows (the client keys on ids, and shows unknown ones under Other).
    {
      id: 'agent-sandbox',
      label: 'Agent sandbox',
      required: false,
      run: async () => agentSandboxRow(deps.confinement()),
    },
  ];
}

function agentSandboxRow(status: ConfinementStatus): RowResult {
  const turnOn = 'Turn it on under Settings → Agents (or `symphony-gateway config --agent-confinement on`).';
  if (!status.enabled) {
    return { passed: false, version: 'off', error: 'Agent confinement is turned off: agents run without the OS sandbox and can read your whole home folder.', remediation: turnOn };
  }
  if (status.missing.length) {
    return {
      passed: false,
      error: `The agent sandbox needs ${status.missing.join(' and ')}, which ${status.missing.length > 1 ? 'are' : 'is'} not installed: agents cannot start.`,
      remediation: `${sandboxInstallHint(status.missing)}, then check again.`,
    };
  }
  const limitations = { debug: { limitations: status.limitations } };
  if (status.osSandbox === 'none') return { passed: true, version: "the CLIs' own sandboxes only (no OS sandbox on this system)", ...limitations };
  return { passed: true, version: status.osSandbox, ...limitations };
}

function debugFor(row: ToolRow, resolved: ResolvedBinary): Pick<RowResult, 'debug'> {
  if (row.binary !== 'claude') return {};
  return {
    debug: {
      errorCode: resolved.path ? 'version_failed' : resolved.probing ? 'login_shell_pending' : 'not_found',
      platform: process.platform,
      shell: process.env.SHELL ?? '',
      overrideUsed: String(resolved.source === 'override'),
      ...(resolved.path ? { resolvedPath: resolved.path } : {}),
      ...(resolved.note ? { stderr: resolved.note } : {}),
    },
  };
}

/** Compares dotted numeric versions (`v1.2.3`, `1.2.3-beta`: the numeric core only); unparsable counts as equal. */
export function compareVersions(a: string, b: string): number {
  const parse = (value: string) => /(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(value)?.slice(1).map((part) => Number(part ?? 0));
  const [x, y] = [parse(a), parse(b)];
  if (!x || !y) return 0;
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}
