// What the kernel says about processes (Linux /proc). Tree kill uses it to find members
// of a group and descendants that left it; orphan reaping uses the start time so that a
// PID the kernel has since reused is never taken for one of ours. Elsewhere every helper
// answers "unknown" (null / empty) and callers fall back to what the OS offers.
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  ppid: number;
  pgid: number;
  /** One letter: R, S, D, Z (zombie), T, ... */
  state: string;
  /** Clock ticks after boot at which the process started (field 22). */
  startTime: number;
}

export const hasProcfs = process.platform === 'linux';

export function readProcStat(pid: number): ProcStat | null {
  if (!hasProcfs) return null;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    pid,
    state: fields[0],
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    startTime: Number(fields[19]),
  };
}

export function listProcesses(): ProcStat[] {
  if (!hasProcfs) return [];
  const stats: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readProcStat(pid);
    if (stat) stats.push(stat);
  }
  return stats;
}

/** Live (non-zombie) processes of a group. PID 1 here may never reap zombies, so they count as gone. */
export function liveGroupMembers(pgid: number, all = listProcesses()): ProcStat[] {
  return all.filter((p) => p.pgid === pgid && p.state !== 'Z');
}

/** Live descendants of pid, found through parent links (these break once a parent dies). */
export function liveDescendants(pid: number, all = listProcesses()): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  for (const p of all) {
    const siblings = byParent.get(p.ppid);
    if (siblings) siblings.push(p);
    else byParent.set(p.ppid, [p]);
  }
  const found: ProcStat[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      if (child.state !== 'Z') found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/**
 * Live descendants of pid through /proc/<pid>/task/<tid>/children: a few reads instead of a
 * scan of all of /proc (which takes tens of ms on a busy machine). Null where the kernel
 * lacks those files; callers then scan.
 */
export function liveDescendantsFast(pid: number): ProcStat[] | null {
  const found: ProcStat[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${parent}/task`);
    } catch {
      if (parent === pid) return null;
      continue; // exited meanwhile
    }
    for (const tid of tids) {
      let text: string;
      try {
        text = readFileSync(`/proc/${parent}/task/${tid}/children`, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && parent === pid && tid === String(pid)) return null;
        continue;
      }
      for (const child of text.split(' ').filter(Boolean).map(Number)) {
        const stat = readProcStat(child);
        if (!stat) continue;
        if (stat.state !== 'Z') found.push(stat);
        queue.push(child);
      }
    }
  }
  return found;
}

let cachedBootId: string | null | undefined;

/** Identifies this boot: start times from another boot mean nothing. */
export function bootId(): string | null {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId;
}
