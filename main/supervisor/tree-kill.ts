// Stops a child and everything it started: SIGTERM to its process group (and to any
// descendant that moved to a group of its own), a grace period, then SIGKILL; resolves
// only when none of them is left. Windows has no groups: `taskkill /T /F` walks the tree.
import { loadExeca } from './execa.js';
import { hasProcfs, listProcesses, liveDescendants, liveDescendantsFast, liveGroupMembers, readProcStat, type ProcStat } from './procfs.js';

export const DEFAULT_GRACE_MS = 3_000;
/** After SIGKILL the kernel needs only moments; past this something is stuck (D state). */
const AFTER_KILL_WAIT_MS = 2_000;

export interface TreeKillResult {
  /** SIGKILL was needed. */
  forced: boolean;
  durationMs: number;
  /** PIDs still alive when we stopped waiting (normally none). */
  survivors: number[];
}

/** `pid` must lead its own process group (spawned with `detached: true`). */
export async function killTree(pid: number, graceMs = DEFAULT_GRACE_MS): Promise<TreeKillResult> {
  const started = performance.now();
  if (process.platform === 'win32') return killTreeWindows(pid, started);

  const tree = treeOf(pid);
  let escaped = tree.filter((p) => p.pgid !== pid);
  signalTree(pid, escaped, 'SIGTERM');
  if (await waitUntilGone(pid, tree, graceMs)) return done(started, false, []);

  escaped = escapedDescendants(pid, escaped);
  signalTree(pid, escaped, 'SIGKILL');
  await waitUntilGone(pid, [...escaped, ...(hasProcfs ? liveGroupMembers(pid) : [])], AFTER_KILL_WAIT_MS);
  return done(started, true, survivorsOf(pid, escaped));
}

/** The leader and its descendants as they are now (group members and escapees alike). */
function treeOf(pid: number): ProcStat[] {
  if (!hasProcfs) return [];
  const leader = readProcStat(pid);
  const descendants = liveDescendantsFast(pid) ?? liveDescendants(pid);
  return leader && leader.state !== 'Z' ? [leader, ...descendants] : descendants;
}

/** True when no live process of the group, nor any tracked escapee, remains. */
export function isTreeGone(pgid: number, escaped: readonly ProcStat[] = []): boolean {
  return survivorsOf(pgid, escaped).length === 0;
}

function survivorsOf(pgid: number, escaped: readonly ProcStat[]): number[] {
  const alive = escaped.filter(isSameProcessAlive).map((p) => p.pid);
  if (!groupMayExist(pgid)) return alive;
  if (!hasProcfs) return [pgid, ...alive];
  return [...liveGroupMembers(pgid).map((p) => p.pid), ...alive];
}

/** kill(-pgid, 0) fails once every member is reaped; zombies still answer, hence the /proc check after. */
function groupMayExist(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Descendants that left the group (setsid, setpgid); they would escape a group signal. */
function escapedDescendants(pgid: number, known: readonly ProcStat[]): ProcStat[] {
  if (!hasProcfs) return [];
  const all = listProcesses();
  const roots = [pgid, ...liveGroupMembers(pgid, all).map((p) => p.pid), ...known.map((p) => p.pid)];
  const found = new Map(known.map((p) => [p.pid, p]));
  for (const root of roots) {
    for (const p of liveDescendants(root, all)) if (p.pgid !== pgid) found.set(p.pid, p);
  }
  return [...found.values()];
}

function signalTree(pgid: number, escaped: readonly ProcStat[], signal: NodeJS.Signals): void {
  trySignal(-pgid, signal);
  // Re-check the start time first: an escapee's PID may already belong to someone else.
  for (const p of escaped) if (isSameProcessAlive(p)) trySignal(p.pid, signal);
}

function trySignal(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch {
    // ESRCH: already gone. EPERM: not ours to signal; the wait reports it as a survivor.
  }
}

function isSameProcessAlive(p: ProcStat): boolean {
  const now = readProcStat(p.pid);
  return now !== null && now.state !== 'Z' && now.startTime === p.startTime;
}

/**
 * Polls the processes seen at kill time (a few /proc reads); once they are gone, one
 * group check finds members we did not know of (reparented, or forked while dying).
 */
async function waitUntilGone(pgid: number, known: readonly ProcStat[], limitMs: number): Promise<boolean> {
  const deadline = performance.now() + limitMs;
  const escaped = known.filter((p) => p.pgid !== pgid);
  let waitingFor = [...known];
  let pause = 1;
  for (;;) {
    waitingFor = waitingFor.filter(isSameProcessAlive);
    if (waitingFor.length === 0) {
      if (isTreeGone(pgid, escaped)) return true;
      if (hasProcfs) waitingFor = liveGroupMembers(pgid);
    }
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 20);
  }
}

async function killTreeWindows(pid: number, started: number): Promise<TreeKillResult> {
  const { execa } = await loadExeca();
  await execa('taskkill', ['/T', '/F', '/PID', String(pid)], { reject: false, windowsHide: true, timeout: 10_000 });
  const gone = await waitForPidExit(pid, AFTER_KILL_WAIT_MS);
  return done(started, true, gone ? [] : [pid]);
}

async function waitForPidExit(pid: number, limitMs: number): Promise<boolean> {
  const deadline = performance.now() + limitMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function done(started: number, forced: boolean, survivors: number[]): TreeKillResult {
  return { forced, durationMs: performance.now() - started, survivors };
}
