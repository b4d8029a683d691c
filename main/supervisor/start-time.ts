// When a process started: with its PID this names one process for good (PIDs are reused).
// Linux reads /proc (clock ticks after boot, instantly); macOS and other Unixes ask
// `ps -o lstart=` (epoch seconds). Windows has neither: its records are never reaped.
import { loadExeca } from './execa.js';
import { hasProcfs, readProcStat } from './procfs.js';

/** The start time where it costs nothing to read (Linux); null elsewhere: use startTimeOf. */
export function startTimeNow(pid: number): number | null {
  return hasProcfs ? (readProcStat(pid)?.startTime ?? null) : null;
}

export async function startTimeOf(pid: number, useProcfs = hasProcfs): Promise<number | null> {
  if (useProcfs) return startTimeNow(pid);
  if (process.platform === 'win32') return null;
  return psStartTime(pid);
}

/** Epoch seconds from `ps -o lstart=` (e.g. "Sat Nov 28 21:21:19 2026", local time); null when gone. */
export async function psStartTime(pid: number): Promise<number | null> {
  const { execa } = await loadExeca();
  const result = await execa('ps', ['-o', 'lstart=', '-p', String(pid)], {
    reject: false,
    timeout: 5_000,
    env: { LC_ALL: 'C', PATH: '/bin:/usr/bin' },
    extendEnv: false,
  });
  const text = String(result.stdout ?? '').trim();
  if (result.exitCode !== 0 || !text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : Math.round(ms / 1000);
}
