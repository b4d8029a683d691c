// Children meant to outlive the gateway (a ticket run's host): their own session and
// process group, stdin used once to hand over their job (so nothing secret goes into
// argv or the environment), stdout/stderr appended to a file (a pipe would break when
// the gateway dies). They are not in the orphan records: their owner keeps the
// identity (pid + kernel start time + boot id) and asks here whether the very same
// process still lives before it signals it, so a reused PID is never touched.
import { closeSync, openSync } from 'node:fs';
import { loadExeca } from './execa.js';
import { SpawnFailure } from './spawn-failure.js';
import { pidExists } from './orphans.js';
import { bootId, hasProcfs, readProcStat } from './procfs.js';
import { startTimeOf } from './start-time.js';
import { killTree, type TreeKillResult } from './tree-kill.js';

export interface DetachedSpec {
  /** An absolute path (the caller resolves it). */
  file: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** Written to stdin, which is then closed. */
  input: string;
  /** stdout and stderr are appended here. */
  logFile: string;
}

export interface ProcessIdentity {
  pid: number;
  /** See ProcessRecord.procStartTime; null where unknown (then only the PID can be checked). */
  procStartTime: number | null;
  bootId: string | null;
}

export interface DetachedChild extends ProcessIdentity {
  /** Resolves when it exits, while this process is its parent. */
  exited: Promise<{ exitCode: number | null; signal: string | null }>;
}

export async function spawnDetached(spec: DetachedSpec): Promise<DetachedChild> {
  const { execa } = await loadExeca();
  const out = openSync(spec.logFile, 'a', 0o600);
  try {
    const subprocess = execa(spec.file, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      extendEnv: false,
      shell: false,
      detached: true,
      cleanup: false,
      // The log file's descriptor itself (not a pipe through us): it outlives the gateway.
      // (typed as a small descriptor: execa's types only take number literals in an stdio array)
      stdio: ['pipe', out as 3, out as 3],
      buffer: false,
      reject: false,
    });
    if (subprocess.pid === undefined) throw new SpawnFailure(spec.file, subprocess);
    const pid = subprocess.pid;
    subprocess.stdin?.on('error', () => undefined);
    subprocess.stdin?.end(spec.input);
    subprocess.unref();
    const exited = subprocess.then(
      (result) => ({ exitCode: result.exitCode ?? null, signal: result.signal ?? null }),
      () => ({ exitCode: null, signal: null }),
    );
    return { pid, procStartTime: await startTimeOf(pid), bootId: bootId(), exited };
  } finally {
    closeSync(out);
  }
}

/** True only while the process named by `identity` (not merely its PID) is alive. */
export async function isSameProcessAlive(identity: ProcessIdentity): Promise<boolean> {
  if (identity.pid <= 0) return false;
  if (hasProcfs) {
    if (identity.bootId !== null && identity.bootId !== bootId()) return false;
    const stat = readProcStat(identity.pid);
    if (!stat || stat.state === 'Z') return false;
    return identity.procStartTime === null || stat.startTime === identity.procStartTime;
  }
  if (process.platform === 'win32') return pidExists(identity.pid);
  const now = await startTimeOf(identity.pid);
  return now !== null && (identity.procStartTime === null || now === identity.procStartTime);
}

/** Kills the process group of `identity` if it is still that process; false when it was not (nothing signalled). */
export async function killDetached(identity: ProcessIdentity, graceMs: number): Promise<TreeKillResult | false> {
  if (!(await isSameProcessAlive(identity))) return false;
  return killTree(identity.pid, graceMs);
}

/** Sends one signal to the group of `identity` when it is still that process (e.g. SIGTERM for a clean stop). */
export async function signalDetached(identity: ProcessIdentity, signal: NodeJS.Signals): Promise<boolean> {
  if (!(await isSameProcessAlive(identity))) return false;
  try {
    process.kill(-identity.pid, signal);
    return true;
  } catch {
    return false;
  }
}
