// One git write at a time per repository. Two writes at once (parallel ticket runs
// creating worktrees, an agent committing while the user pulls) would otherwise race
// for .git/index.lock or .git/config.lock and one of them would fail for no reason.
export class RepoLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `work` after every earlier write on `key` has settled. */
  async exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
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
