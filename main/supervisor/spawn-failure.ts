// Why the OS refused to start a child, read from the spawn result (execa reports it there, not by throwing).

const SPAWN_HINTS: Record<string, string> = {
  E2BIG: 'its arguments and environment are larger than the system allows',
  ENOENT: 'the program (or an interpreter it names) does not exist',
  EACCES: 'the program is not executable: check its permissions or the binary path in Settings',
  ENOEXEC: 'the file is not a program this system can run',
};

/** A child the OS refused to start; `reason()` reads why (E2BIG, ENOENT, EACCES, ...) from the spawn result. */
export class SpawnFailure extends Error {
  constructor(
    readonly command: string,
    private readonly outcome: PromiseLike<{ code?: string; cause?: unknown }>,
  ) {
    super(`Could not start ${command}`);
  }

  /** The OS error code and a sentence saying what it means. */
  async reason(): Promise<{ code: string | null; message: string }> {
    const result = await Promise.resolve(this.outcome).then(
      (value) => value,
      (error: unknown) => error as { code?: string; cause?: unknown },
    );
    const code = result?.code ?? (result?.cause as { code?: string } | undefined)?.code ?? null;
    const hint = code ? SPAWN_HINTS[code] : undefined;
    return { code, message: `Could not start ${this.command}: ${code ?? 'unknown error'}${hint ? ` (${hint})` : ''}.` };
  }
}
