// Waiting in tests for a condition that test servers re-check on every message they get.
export class Changes {
  private readonly listeners = new Set<() => void>();

  /** Resolves when `check` holds (re-checked on every notify), else rejects naming `what`. */
  async until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const listener = () => {
        if (!check()) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve();
      };
      this.listeners.add(listener);
    });
  }

  notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
