// The one gate every user-given path goes through: after realpath it must lie inside
// the workspace root or a managed repository (or its worktree parent), and never
// inside a folder that holds secrets, even when an allowed parent contains it.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BadRequest, Forbidden, Unprocessable } from '../errors.js';
import type { SettingsStore } from '../store/settings.js';
import { isInside, realpathOfNearestExisting, UnresolvablePath } from './paths.js';

export const WORKSPACE_ROOT_SETTING = 'workspaceRoot';
export const PATH_NOT_ALLOWED = 'path_not_allowed';

/** Folders (relative to home) that hold keys, tokens or keychains. */
const DENIED_IN_HOME = [
  '.ssh',
  '.gnupg',
  '.aws',
  '.azure',
  '.config/gh',
  '.config/gcloud',
  '.config/op',
  '.claude',
  '.claude.json',
  '.codex',
  '.docker',
  '.kube',
  '.netrc',
  '.git-credentials',
  '.npmrc',
  '.pypirc',
  '.password-store',
  '.vault-token',
  '.terraform.d',
  '.local/share/keyrings',
  'Library/Keychains',
];

const MAX_PATH_LENGTH = 4096;
const DENY_LIST_TTL_MS = 10_000;

export interface WorkspaceGuardOptions {
  settings: Pick<SettingsStore, 'get' | 'set' | 'delete'>;
  /** Managed repositories and their worktree parents (the repos registry). */
  listRepoRoots: () => readonly string[];
  homeDir?: string;
  /** More folders never to expose (e.g. the gateway's own secret files). */
  extraDenied?: readonly string[];
}

export class WorkspaceGuard {
  private readonly homeDir: string;
  private deniedCache: { paths: string[]; expiresAt: number } | null = null;

  constructor(private readonly options: WorkspaceGuardOptions) {
    this.homeDir = options.homeDir ?? os.homedir();
  }

  workspaceRoot(): string | null {
    const value = this.options.settings.get<unknown>(WORKSPACE_ROOT_SETTING);
    return typeof value === 'string' && value !== '' ? value : null;
  }

  /** The workspace root, or Forbidden saying how to set one. */
  requireWorkspaceRoot(): string {
    const root = this.workspaceRoot();
    if (root === null) {
      throw notAllowed(
        'no workspace root is set. Set one with `symphony-gateway config --workspace-root DIR` or in the desktop app settings',
      );
    }
    return root;
  }

  /** Validates and stores the workspace root (its realpath); null clears it. Returns what was stored. */
  async setWorkspaceRoot(input: string | null): Promise<string | null> {
    if (input === null) {
      this.options.settings.delete(WORKSPACE_ROOT_SETTING);
      return null;
    }
    const real = await this.checkWorkspaceRoot(input);
    this.options.settings.set(WORKSPACE_ROOT_SETTING, real);
    return real;
  }

  /** What setWorkspaceRoot would store (`~` expanded, its realpath), or the error it would throw; stores nothing. */
  async checkWorkspaceRoot(input: string): Promise<string> {
    const dir = this.expandHome(input);
    const syntaxProblem = checkSyntax(dir);
    if (syntaxProblem) throw new BadRequest(`Workspace root ${syntaxProblem}.`, undefined, 'invalid_workspace_root');
    let real: string;
    try {
      real = await fs.realpath(dir);
    } catch {
      throw new Unprocessable('The workspace root does not exist.', 'invalid_workspace_root');
    }
    if (!(await fs.stat(real)).isDirectory()) {
      throw new Unprocessable('The workspace root is not a directory.', 'invalid_workspace_root');
    }
    if (path.dirname(real) === real) {
      throw new Forbidden('The file system root cannot be the workspace root: choose a project folder.', PATH_NOT_ALLOWED);
    }
    if (this.deniedMatch(real, await this.deniedPaths())) {
      throw new Forbidden('The workspace root is inside a folder that holds secrets.', PATH_NOT_ALLOWED);
    }
    return real;
  }

  /**
   * The realpath of `userPath` when it is allowed; else Forbidden (path_not_allowed).
   * A path that does not exist yet (a worktree to create) is judged by its nearest
   * existing parent, with the missing tail appended to that parent's realpath.
   */
  async resolve(input: string): Promise<string> {
    const userPath = this.expandHome(input);
    const syntaxProblem = checkSyntax(userPath);
    if (syntaxProblem) throw notAllowed(`the path ${syntaxProblem}`);
    const root = this.workspaceRoot();
    const [real, denied, allowed] = await Promise.all([
      resolveNearestExisting(path.resolve(userPath)),
      this.deniedPaths(),
      allowedRoots(root === null ? [] : [root, ...this.options.listRepoRoots()]),
    ]);
    if (this.deniedMatch(real, denied)) throw notAllowed('it is inside a folder that holds secrets');
    this.requireWorkspaceRoot();
    if (!allowed.some((parent) => isInside(real, parent))) {
      throw notAllowed('it is outside the workspace root and the managed repositories');
    }
    return real;
  }

  /** `~` and `~/...` name the user's home (the web client sends them); anything else is returned as is. */
  expandHome(userPath: string): string {
    if (userPath === '~') return this.homeDir;
    if (userPath.startsWith('~/') || (path.sep === '\\' && userPath.startsWith('~\\'))) return path.join(this.homeDir, userPath.slice(2));
    return userPath;
  }

  /** The home directory `~` stands for. */
  home(): string {
    return this.homeDir;
  }

  /**
   * For a path an agent's tool names: its realpath when it lies inside one of `roots`
   * (the agent's own, not the workspace root) and outside every secret folder; else
   * Forbidden. A link inside a root that points outside is judged by its target.
   */
  async resolveWithin(target: string, roots: readonly string[]): Promise<string> {
    const syntaxProblem = checkSyntax(target);
    if (syntaxProblem) throw notAllowed(`the path ${syntaxProblem}`);
    const [real, denied, allowed] = await Promise.all([realpathOfNearestExisting(target), this.deniedPaths(), realpaths(roots)]);
    if (this.deniedMatch(real, denied)) throw notAllowed('it is inside a folder that holds secrets');
    if (!allowed.some((parent) => isInside(real, parent))) throw notAllowed("it is outside the agent's folder");
    return real;
  }

  /** The secret folders that lie inside `dir` (to hide them from an agent working there). */
  async secretsInside(dir: string): Promise<string[]> {
    const denied = await this.deniedPaths();
    return denied.filter((entry) => entry !== dir && isInside(entry, dir));
  }

  /**
   * True when an absolute, already resolved path lies in the deny list (for filtering
   * listings). Uses the deny list as of the last resolve(); call resolve() first.
   */
  isDenied(resolvedPath: string): boolean {
    return this.deniedMatch(resolvedPath, this.deniedCache?.paths ?? this.literalDenied());
  }

  /** The denied paths that lie inside `dir` (a resolved path), as of the last resolve(). */
  deniedInside(dir: string): string[] {
    return (this.deniedCache?.paths ?? this.literalDenied()).filter((entry) => entry !== dir && isInside(entry, dir));
  }

  private deniedMatch(resolvedPath: string, denied: readonly string[]): boolean {
    return denied.some((entry) => isInside(resolvedPath, entry));
  }

  private literalDenied(): string[] {
    return [...DENIED_IN_HOME.map((rel) => path.join(this.homeDir, rel)), ...(this.options.extraDenied ?? [])];
  }

  // Both the literal locations and their realpaths: ~/.ssh may be a link into a dotfiles repo.
  private async deniedPaths(): Promise<string[]> {
    const now = Date.now();
    if (this.deniedCache && this.deniedCache.expiresAt > now) return this.deniedCache.paths;
    const literal = [...this.literalDenied(), ...(await realpaths([this.homeDir])).flatMap((home) =>
      home === this.homeDir ? [] : DENIED_IN_HOME.map((rel) => path.join(home, rel)),
    )];
    const paths = [...new Set([...literal, ...(await realpaths(literal))])];
    this.deniedCache = { paths, expiresAt: now + DENY_LIST_TTL_MS };
    return paths;
  }
}

function notAllowed(why: string): Forbidden {
  return new Forbidden(`Path not allowed: ${why}.`, PATH_NOT_ALLOWED);
}

/** Why a raw path is refused before touching the disk, or null when its shape is fine. */
function checkSyntax(raw: string): string | null {
  if (typeof raw !== 'string' || raw === '') return 'is empty';
  if (raw.length > MAX_PATH_LENGTH) return 'is too long';
  if (raw.includes('\0')) return 'contains a NUL character';
  // The query string is decoded once already; what is still encoded was encoded twice on purpose.
  if (/%(?:25)*(?:2e|2f|5c|00)/i.test(raw)) return 'contains percent-encoded characters';
  if (!path.isAbsolute(raw)) return 'must be absolute';
  if (raw.split(/[\\/]/).includes('..')) return 'must not contain ".." segments';
  return null;
}

async function realpaths(paths: readonly string[]): Promise<string[]> {
  const resolved = await Promise.all(paths.map((p) => fs.realpath(p).catch(() => null)));
  return resolved.filter((p): p is string => p !== null);
}

/** Allowed folders may not exist yet (the data dir's worktrees folder before the first worktree). */
async function allowedRoots(paths: readonly string[]): Promise<string[]> {
  const resolved = await Promise.all(paths.map((p) => realpathOfNearestExisting(path.resolve(p)).catch(() => null)));
  return resolved.filter((p): p is string => p !== null);
}

async function resolveNearestExisting(absolute: string): Promise<string> {
  try {
    return await realpathOfNearestExisting(absolute);
  } catch (error) {
    if (error instanceof UnresolvablePath) throw notAllowed(error.message);
    throw error;
  }
}
