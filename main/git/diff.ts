// Diffs for review screens: per-file stats plus unified text. The text is capped
// (git is stopped once it has produced the cap, so a 50 MB diff costs the gateway
// at most the cap), binary files are flagged, and lockfiles are summarised rather
// than printed: nobody reviews 30,000 lines of package-lock.json.
import path from 'node:path';
import { BadRequest } from '../errors.js';
import type { GitRunner } from './runner.js';
import { SECRET_EXCLUDE_PATHSPECS } from './secret-files.js';

export const DEFAULT_DIFF_CAP = 1024 * 1024;
export const MAX_DIFF_CAP = 10 * 1024 * 1024;
const STATS_CAP = 16 * 1024 * 1024;
// The tree of an empty repository: the base when HEAD does not exist yet.
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

const LOCKFILES = new Set([
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lockb',
  'bun.lock',
  'Cargo.lock',
  'poetry.lock',
  'Pipfile.lock',
  'uv.lock',
  'composer.lock',
  'Gemfile.lock',
  'go.sum',
  'flake.lock',
  'mix.lock',
  'pubspec.lock',
  'Podfile.lock',
  'packages.lock.json',
]);

export function isLockfile(file: string): boolean {
  return LOCKFILES.has(path.posix.basename(file));
}

export interface DiffFile {
  path: string;
  oldPath?: string;
  status: 'added' | 'modified' | 'deleted' | 'renamed' | 'copied' | 'typechange' | 'untracked';
  /** null for binary and untracked files. */
  additions: number | null;
  deletions: number | null;
  binary: boolean;
  lockfile: boolean;
  /** For lockfiles: one line in place of their text. */
  summary?: string;
}

export interface DiffOptions {
  filePath?: string;
  baseBranch?: string;
  /** Cap on the unified text in bytes. */
  maxBytes?: number;
  /** Leave files that hold secrets by their name (secret-files.ts) out of the text. */
  excludeSecrets?: boolean;
}

export interface DiffResult {
  base: string;
  files: DiffFile[];
  diff: string;
  truncated: boolean;
  filesTruncated: boolean;
  additions: number;
  deletions: number;
}

const STATUS: Record<string, DiffFile['status']> = {
  A: 'added',
  M: 'modified',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
  T: 'typechange',
};

export class DiffReader {
  constructor(private readonly git: GitRunner) {}

  /**
   * Work tree (staged and unstaged) against HEAD, or against the merge base with
   * `baseRef` when given: what the branch changes, uncommitted work included.
   */
  async diff(repoPath: string, options: DiffOptions & { baseRef?: string }, signal?: AbortSignal): Promise<DiffResult> {
    const cap = Math.min(options.maxBytes ?? DEFAULT_DIFF_CAP, MAX_DIFF_CAP);
    const base = await this.baseCommit(repoPath, options.baseRef, signal);
    const only = options.filePath === undefined ? undefined : literalPathspec(repoPath, options.filePath);
    // Lockfiles are left out of the text unless the caller asked for that very file.
    const pathspecs = only
      ? [only]
      : ['.', ...[...LOCKFILES].map((name) => `:(exclude,glob)**/${name}`), ...(options.excludeSecrets ? SECRET_EXCLUDE_PATHSPECS : [])];
    const [stats, untracked, text] = await Promise.all([
      this.fileStats(repoPath, [base], signal, only),
      only ? { files: [], truncated: false } : this.untracked(repoPath, signal),
      this.git.raw(repoPath, ['diff', '--no-color', '--no-ext-diff', '--no-textconv', '-M', base, '--', ...pathspecs], 'diff', {
        signal,
        maxBuffer: cap,
      }),
    ]);
    stats.files.push(...untracked.files);
    if (text.exitCode !== 0 && !text.truncated) {
      throw new BadRequest(`git diff failed: ${text.stderr.trim()}`, { field: options.filePath ? 'filePath' : 'baseBranch' });
    }
    let diff = text.stdout;
    const truncated = text.truncated || Buffer.byteLength(diff) > cap;
    if (truncated) diff = cutAtLine(diff, cap);
    const counted = stats.files.filter((f) => f.additions !== null);
    return {
      base,
      files: stats.files,
      diff,
      truncated,
      filesTruncated: stats.truncated || untracked.truncated,
      additions: counted.reduce((sum, f) => sum + (f.additions ?? 0), 0),
      deletions: counted.reduce((sum, f) => sum + (f.deletions ?? 0), 0),
    };
  }

  /** Per-file numstat and status between revisions (one revision: against the work tree). */
  async fileStats(repoPath: string, revisions: string[], signal?: AbortSignal, pathspec?: string): Promise<{ files: DiffFile[]; truncated: boolean }> {
    const tail = ['-M', ...revisions, '--', ...(pathspec ? [pathspec] : [])];
    const [numstat, names] = await Promise.all([
      this.git.raw(repoPath, ['diff', '--numstat', '-z', ...tail], 'diff --numstat', { signal, maxBuffer: STATS_CAP }),
      this.git.raw(repoPath, ['diff', '--name-status', '-z', ...tail], 'diff --name-status', { signal, maxBuffer: STATS_CAP }),
    ]);
    for (const result of [numstat, names]) {
      if (result.exitCode !== 0 && !result.truncated) throw new BadRequest(`git diff failed: ${result.stderr.trim()}`, { field: 'filePath' });
    }
    const statuses = parseNameStatus(completeEntries(names));
    const files = parseNumstat(completeEntries(numstat)).map((file) => {
      const lockfile = isLockfile(file.path);
      const entry: DiffFile = { ...file, status: statuses.get(file.path) ?? 'modified', lockfile };
      if (lockfile) entry.summary = `${file.path}: lockfile ${entry.status}, +${file.additions ?? 0} -${file.deletions ?? 0} lines (text omitted)`;
      return entry;
    });
    return { files, truncated: numstat.truncated || names.truncated };
  }

  private async baseCommit(repoPath: string, baseRef: string | undefined, signal?: AbortSignal): Promise<string> {
    if (baseRef) return (await this.git.run(repoPath, ['merge-base', baseRef, 'HEAD'], 'merge-base', { signal })).trim();
    const head = await this.git.raw(repoPath, ['rev-parse', '--verify', '--quiet', 'HEAD'], 'rev-parse', { signal });
    return head.exitCode === 0 ? head.stdout.trim() : EMPTY_TREE;
  }

  private async untracked(repoPath: string, signal?: AbortSignal): Promise<{ files: DiffFile[]; truncated: boolean }> {
    const out = await this.git.raw(repoPath, ['ls-files', '--others', '--exclude-standard', '-z'], 'ls-files', { signal, maxBuffer: STATS_CAP });
    const names = out.stdout.split('\0');
    if (out.truncated) names.pop(); // the last name may be cut
    const files = names
      .filter(Boolean)
      .map((file): DiffFile => ({ path: file, status: 'untracked', additions: null, deletions: null, binary: false, lockfile: isLockfile(file) }));
    return { files, truncated: out.truncated };
  }
}

/** A repository-relative path as a literal pathspec; refuses anything that leaves the repository. */
function literalPathspec(repoPath: string, filePath: string): string {
  if (filePath.includes('\0')) throw new BadRequest('filePath must not contain NUL.', { field: 'filePath' });
  const absolute = path.resolve(repoPath, filePath);
  const relative = path.relative(repoPath, absolute);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new BadRequest('filePath must name a file inside the repository.', { field: 'filePath' });
  }
  return `:(literal)${relative.split(path.sep).join('/')}`;
}

/** A cut -z output without its last (possibly cut) entry. */
function completeEntries(result: { stdout: string; truncated: boolean }): string {
  return result.truncated ? result.stdout.slice(0, result.stdout.lastIndexOf('\0') + 1) : result.stdout;
}

function cutAtLine(text: string, cap: number): string {
  const bytes = Buffer.from(text).subarray(0, cap).toString('utf8');
  const end = bytes.lastIndexOf('\n');
  return end === -1 ? '' : bytes.slice(0, end + 1);
}

/** `git diff --numstat -z`: "A\tD\tpath\0", or "A\tD\t\0old\0new\0" for a rename; "-" counts mean binary. */
function parseNumstat(out: string): Omit<DiffFile, 'status' | 'lockfile'>[] {
  const parts = out.split('\0');
  const files: Omit<DiffFile, 'status' | 'lockfile'>[] = [];
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i];
    if (!entry) continue;
    const [added, deleted, inlinePath] = entry.split('\t');
    if (deleted === undefined) continue; // a partial entry at a truncation point
    const binary = added === '-' && deleted === '-';
    const counts = { additions: binary ? null : Number(added), deletions: binary ? null : Number(deleted), binary };
    if (inlinePath) files.push({ path: inlinePath, ...counts });
    else {
      const oldPath = parts[++i];
      const newPath = parts[++i];
      if (newPath) files.push({ path: newPath, oldPath, ...counts });
    }
  }
  return files;
}

/** `git diff --name-status -z`: "M\0path\0", "R100\0old\0new\0". */
function parseNameStatus(out: string): Map<string, DiffFile['status']> {
  const parts = out.split('\0');
  const statuses = new Map<string, DiffFile['status']>();
  for (let i = 0; i < parts.length; i++) {
    const code = parts[i];
    if (!code) continue;
    const status = STATUS[code[0]] ?? 'modified';
    if (code[0] === 'R' || code[0] === 'C') i++;
    const file = parts[++i];
    if (file) statuses.set(file, status);
  }
  return statuses;
}
