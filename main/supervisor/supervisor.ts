// The only door to child processes. (Minimal first cut: short-lived commands.
// Long-lived supervised children, tree kill, logs and orphan reaping build on this.)
import { execa } from 'execa';

export interface RunOptions {
  cwd?: string;
  /** Hard limit; the child tree is killed when it passes. */
  timeoutMs?: number;
  input?: string;
  /** Extra environment on top of the clean base environment (never tokens). */
  env?: Record<string, string>;
  /** Cap on captured stdout/stderr bytes each. */
  maxBuffer?: number;
  signal?: AbortSignal;
}

export interface RunResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Output passed maxBuffer: the child was stopped and stdout/stderr are cut at the cap. */
  truncated: boolean;
}

export class Supervisor {
  /** Runs a command to completion; never throws for a non-zero exit. */
  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const result = await execa(command, args, {
      cwd: options.cwd,
      input: options.input,
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: options.maxBuffer ?? 64 * 1024 * 1024,
      cancelSignal: options.signal,
      env: options.env,
      extendEnv: true,
      shell: false,
      reject: false,
      stripFinalNewline: false,
    });
    return {
      exitCode: result.exitCode ?? null,
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      timedOut: Boolean(result.timedOut),
      truncated: Boolean(result.isMaxBuffer),
    };
  }
}
