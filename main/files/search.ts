// Fuzzy file search over a repository's tracked and untracked-but-not-ignored files.
// Each repository's index stays warm in memory (a bounded LRU) and is rebuilt when
// the tree changes: fs.watch events (debounced) and the mtime of git's index file
// (add, commit, checkout) mark it dirty; a query on a dirty index waits for the
// rebuild, so an answer never misses a change that was already reported.
import { watch, type FSWatcher, promises as fs } from 'node:fs';
import path from 'node:path';
import { NotFound, Unprocessable } from '../errors.js';
import type { GitRunner } from '../git/runner.js';
import { FileIndex } from './file-index.js';
import type { WorkspaceGuard } from './workspace.js';

export interface FileSearchRequest {
  repo: string;
  query: string;
  limit: number;
}

export interface FileSearchResult {
  /** The repository as resolved (realpath). */
  repo: string;
  /** Repository-relative paths, best first. */
  files: string[];
  matches: { path: string; name: string; score: number; positions: number[] }[];
  /** More files matched than `limit`. */
  truncated: boolean;
  total: number;
}

export interface FileSearchOptions {
  /** The one git runner (its hardening: no fsmonitor, no hooks from the repository). */
  git: Pick<GitRunner, 'raw'>;
  guard: Pick<WorkspaceGuard, 'resolve' | 'deniedInside'>;
  /** Repositories kept in memory at once (least recently searched is dropped). */
  maxRepos?: number;
  debounceMs?: number;
  /** On Linux fs.watch is per directory: watch at most this many, shallowest first. */
  maxWatchedDirs?: number;
  /** When not every folder is watched (more than maxWatchedDirs, or out of watches), a
   *  query on an index older than this is answered at once and the index rebuilt behind it. */
  revalidateAfterMs?: number;
  onError?: (error: unknown) => void;
}

const LIST_TIMEOUT_MS = 60_000;
const LIST_MAX_BUFFER = 256 * 1024 * 1024;
// macOS and Windows watch a whole tree natively; Linux's recursive mode walks it in JS.
const NATIVE_RECURSIVE_WATCH = process.platform === 'darwin' || process.platform === 'win32';

export class FileSearch {
  private readonly repos = new Map<string, RepoIndex>();

  constructor(private readonly options: FileSearchOptions) {}

  async search(request: FileSearchRequest): Promise<FileSearchResult> {
    const root = await this.options.guard.resolve(request.repo);
    const repo = this.repoIndex(root);
    let index: FileIndex;
    try {
      index = await repo.current();
    } catch (error) {
      this.forget(root, repo); // not a repository (any more): do not hold a cache slot for it
      throw error;
    }
    const { hits, total } = index.query(request.query, request.limit);
    return {
      repo: root,
      files: hits.map((hit) => hit.path),
      matches: hits.map((hit) => ({ ...hit, name: hit.path.slice(hit.path.lastIndexOf('/') + 1) })),
      truncated: total > hits.length,
      total,
    };
  }

  /** Stops every watcher and timer (on shutdown). */
  close(): void {
    for (const repo of this.repos.values()) repo.close();
    this.repos.clear();
  }

  private forget(root: string, repo: RepoIndex): void {
    if (this.repos.get(root) !== repo) return;
    repo.close();
    this.repos.delete(root);
  }

  private repoIndex(root: string): RepoIndex {
    let repo = this.repos.get(root);
    if (repo) {
      this.repos.delete(root); // re-inserted below: Map order is our LRU order
    } else {
      repo = new RepoIndex(root, this.options);
    }
    this.repos.set(root, repo);
    const maxRepos = this.options.maxRepos ?? 8;
    for (const [key, oldest] of this.repos) {
      if (this.repos.size <= maxRepos) break;
      oldest.close();
      this.repos.delete(key);
    }
    return repo;
  }
}

class RepoIndex {
  private index: FileIndex | null = null;
  private gitIndexFile: string | null = null;
  private gitIndexMtimeMs = -1;
  /** Bumped by every change seen; the index is fresh when builtGeneration caught up. */
  private changeGeneration = 1;
  private builtGeneration = 0;
  private builtAt = 0;
  private building: Promise<void> | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private readonly watchers = new Map<string, FSWatcher>();
  /** Every folder of the tree is watched: events alone keep the index fresh. */
  private watchesEverything = false;
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly options: FileSearchOptions,
  ) {}

  async current(): Promise<FileIndex> {
    if (this.index && (await this.gitIndexChanged())) this.changeGeneration++;
    if (this.builtGeneration < this.changeGeneration) await this.refresh();
    else if (!this.watchesEverything && Date.now() - this.builtAt > (this.options.revalidateAfterMs ?? 120_000)) {
      this.refreshInBackground();
    }
    return this.index!;
  }

  close(): void {
    this.closed = true;
    if (this.debounce) clearTimeout(this.debounce);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private async refresh(): Promise<void> {
    const target = this.changeGeneration;
    while (this.builtGeneration < target) {
      this.building ??= this.build().finally(() => {
        this.building = null;
      });
      await this.building;
    }
  }

  private refreshInBackground(): void {
    this.building ??= this.build().finally(() => {
      this.building = null;
    });
    this.building.catch((error) => this.options.onError?.(error));
  }

  private async build(): Promise<void> {
    const generation = this.changeGeneration;
    if (!(await fs.stat(this.root).then((stat) => stat.isDirectory(), () => false))) {
      throw new NotFound('The repository folder does not exist.', 'directory_not_found');
    }
    this.gitIndexFile ??= path.join(await this.gitDir(), 'index');
    // Taken before listing: a change during the listing shows up as a newer mtime next time.
    this.gitIndexMtimeMs = await mtimeOf(this.gitIndexFile);
    const listing = await this.listFiles();
    this.index = await FileIndex.build(listing);
    this.builtGeneration = generation;
    this.builtAt = Date.now();
    if (!this.closed) this.watch(listing);
  }

  private async gitDir(): Promise<string> {
    const result = await this.git(['rev-parse', '--absolute-git-dir']);
    if (result.exitCode !== 0) {
      const reason = result.stderr.trim().split('\n')[0]?.replace(/^fatal: /, '') ?? '';
      throw new Unprocessable(`File search needs a git repository (git: ${reason.slice(0, 300)}).`, 'not_a_git_repository');
    }
    return result.stdout.trim();
  }

  private async listFiles(): Promise<string> {
    const result = await this.git(['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate']);
    if (result.exitCode !== 0 && !result.truncated) {
      throw new Unprocessable(`git ls-files failed: ${result.stderr.trim().slice(0, 500)}`, 'git_failed');
    }
    // Over the cap: keep the complete entries rather than fail.
    const listing = result.truncated ? result.stdout.slice(0, result.stdout.lastIndexOf('\0') + 1) : result.stdout;
    return this.withoutDenied(listing);
  }

  // A repository that contains a secret folder (say, a home directory under git)
  // must not reveal the names inside it.
  private withoutDenied(listing: string): string {
    const denied = this.options.guard.deniedInside(this.root).map((p) => `${path.relative(this.root, p).split(path.sep).join('/')}`);
    if (denied.length === 0) return listing;
    const keep = (file: string) => !denied.some((d) => file === d || file.startsWith(`${d}/`));
    return listing.split('\0').filter((file) => file !== '' && keep(file)).map((file) => `${file}\0`).join('');
  }

  private git(args: string[]) {
    return this.options.git.raw(this.root, args, args[0], { timeoutMs: LIST_TIMEOUT_MS, maxBuffer: LIST_MAX_BUFFER });
  }

  private async gitIndexChanged(): Promise<boolean> {
    return this.gitIndexFile !== null && (await mtimeOf(this.gitIndexFile)) !== this.gitIndexMtimeMs;
  }

  private markChanged = (_event: string, filename: string | Buffer | null): void => {
    const name = filename?.toString() ?? '';
    // git's own directory is covered by the index mtime; its churn must not trigger rebuilds.
    if (name === '.git' || name.startsWith(`.git${path.sep}`)) return;
    this.changeGeneration++;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      if (!this.closed) this.refresh().catch((error) => this.options.onError?.(error));
    }, this.options.debounceMs ?? 200);
    this.debounce.unref();
  };

  private watch(listing: string): void {
    const { wanted, complete } = NATIVE_RECURSIVE_WATCH ? { wanted: [this.root], complete: true } : this.directoriesToWatch(listing);
    this.watchesEverything = complete;
    const wantedSet = new Set(wanted);
    for (const [dir, watcher] of this.watchers) {
      if (!wantedSet.has(dir)) {
        watcher.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (this.watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false, recursive: NATIVE_RECURSIVE_WATCH }, dir === this.root ? this.markChanged : (event) => this.markChanged(event, null));
        watcher.on('error', () => {
          // The directory went away (or the watch broke): that is a change, and the rebuild re-watches.
          watcher.close();
          this.watchers.delete(dir);
          this.watchesEverything = false;
          this.markChanged('error', null);
        });
        this.watchers.set(dir, watcher);
      } catch {
        // Out of inotify watches or the directory vanished: the revalidation age bounds staleness.
        this.watchesEverything = false;
        break;
      }
    }
  }

  /** The root and the directories that hold files (and their parents), shallowest first, capped. */
  private directoriesToWatch(listing: string): { wanted: string[]; complete: boolean } {
    const max = (this.options.maxWatchedDirs ?? 400) - 1; // the root takes one
    const byDepth: string[][] = [];
    const seen = new Set<string>();
    let previous = '';
    let start = 0;
    for (let end = listing.indexOf('\0'); end !== -1; start = end + 1, end = listing.indexOf('\0', start)) {
      const slash = listing.lastIndexOf('/', end - 1);
      if (slash < start) continue;
      // git lists a folder's files together: most paths are in the previous path's folder.
      if (slash - start === previous.length && listing.startsWith(previous, start)) continue;
      previous = listing.slice(start, slash);
      // A new file in a folder that only holds folders must be seen too: add every ancestor.
      for (let dir = previous; dir !== '' && !seen.has(dir); ) {
        seen.add(dir);
        (byDepth[depth(dir)] ??= []).push(dir);
        const up = dir.lastIndexOf('/');
        dir = up === -1 ? '' : dir.slice(0, up);
      }
    }
    const wanted = [this.root];
    for (const level of byDepth) {
      for (const dir of level ?? []) {
        if (wanted.length > max) return { wanted, complete: false };
        wanted.push(path.join(this.root, dir));
      }
    }
    return { wanted, complete: true };
  }
}

function depth(relative: string): number {
  let count = 0;
  for (let k = 0; k < relative.length; k++) if (relative.charCodeAt(k) === 47) count++;
  return count;
}

async function mtimeOf(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).mtimeMs;
  } catch {
    return 0; // a fresh repository has no index file yet
  }
}
