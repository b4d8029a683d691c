// A short-lived command run to completion with its output captured (git, gh, --version).
// Same guarantees as a long-lived child: own process group, clean environment, and on
// timeout, abort or overflow the whole tree is killed, not just the direct child.
import { once } from 'node:events';
import { loadExeca } from './execa.js';
import { isTreeGone, killTree } from './tree-kill.js';

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

export interface RunHooks {
  graceMs: number;
  onSpawn: (pid: number) => void;
  onEnd: () => void;
}

export async function runToCompletion(
  file: string,
  args: readonly string[],
  env: Record<string, string>,
  options: RunOptions,
  hooks: RunHooks,
): Promise<RunResult> {
  const { execa } = await loadExeca();
  const subprocess = execa(file, args, {
    cwd: options.cwd,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    maxBuffer: options.maxBuffer ?? 64 * 1024 * 1024,
    env,
    extendEnv: false,
    shell: false,
    detached: true,
    cleanup: false,
    reject: false,
    stripFinalNewline: false,
  });
  const pid = subprocess.pid;
  if (pid === undefined) {
    const failed = await subprocess;
    return { exitCode: null, stdout: '', stderr: failed.shortMessage ?? failed.message ?? '', timedOut: false, truncated: false };
  }
  hooks.onSpawn(pid);
  let timedOut = false;
  let stopping: Promise<unknown> | null = null;
  const stop = () => (stopping ??= killTree(pid, hooks.graceMs));
  const timer = setTimeout(() => {
    timedOut = true;
    void stop();
  }, options.timeoutMs ?? 60_000);
  const onAbort = () => void stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    await once(subprocess, 'exit');
    // Overflow (execa stops only the direct child) or a child that left helpers behind,
    // which would also hold the pipes open: the result only comes once they are gone.
    if (!isTreeGone(pid)) await stop();
    await stopping;
    const result = await subprocess;
    return {
      exitCode: timedOut ? null : (result.exitCode ?? null),
      stdout: String(result.stdout ?? ''),
      stderr: String(result.stderr ?? ''),
      timedOut,
      truncated: Boolean(result.isMaxBuffer),
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    hooks.onEnd();
  }
}
