// One git write at a time per repository. Two writes at once (parallel ticket runs
// creating worktrees, an agent committing while the user pulls) would otherwise race
// for .git/index.lock or .git/config.lock and one of them would fail for no reason.
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The lock key for a path: the root of the working tree it lies in (the nearest folder
 * holding `.git`, a folder in a checkout and a file in a linked worktree), whatever
 * subfolder the caller passed; the path itself when it is in no repository.
 */
export function repositoryLockKey(dir: string): string {
  const start = path.resolve(dir);
  for (let current = start; ; current = path.dirname(current)) {
    if (existsSync(path.join(current, '.git'))) return current;
    if (path.dirname(current) === current) return start;
  }
}

export class RepoLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `work` after every earlier write on the same repository (see repositoryLockKey) has settled. */
  async exclusive<T>(repoPath: string, work: () => Promise<T>): Promise<T> {
    const key = repositoryLockKey(repoPath);
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      // The last one out removes the entry, so the map does not grow with every repository ever touched.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
