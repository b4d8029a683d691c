// After a crash the dead gateway's children keep running (they have their own process
// groups). At startup we stop them, but only when the kernel still shows the very
// process we recorded: same boot, same start time. A PID since reused by someone else
// is left alone.
import type { Logger } from 'pino';
import { bootId, hasProcfs, liveGroupMembers, readProcStat } from './procfs.js';
import type { ProcessRecord, ProcessRecords } from './records.js';
import { startTimeOf } from './start-time.js';
import { killTree } from './tree-kill.js';

export interface ReapedProcess {
  record: ProcessRecord;
  /** True when something of its tree was still running and was killed. */
  killed: boolean;
}

export async function reapOrphans(
  records: ProcessRecords,
  supervisorId: string,
  graceMs: number,
  log: Logger,
  useProcfs = hasProcfs,
): Promise<ReapedProcess[]> {
  const reaped: ReapedProcess[] = [];
  for (const record of records.running()) {
    if (record.supervisorId === supervisorId || isOwnedByAnotherLiveGateway(record)) continue;
    const killed = useProcfs ? isStillOursByProcfs(record) : await isStillOursByPs(record);
    if (killed) {
      const result = await killTree(record.pgid, graceMs);
      log.warn({ childId: record.id, pid: record.pid, label: record.label, ms: Math.round(result.durationMs) }, 'reaped orphaned child tree');
    } else {
      log.info({ childId: record.id, pid: record.pid, label: record.label }, 'orphaned child was already gone');
    }
    records.finish(record.id, { state: 'orphaned_reaped' });
    reaped.push({ record, killed });
  }
  return reaped;
}

/** Another gateway process that is still alive (not a crashed one, not us) keeps its children. */
function isOwnedByAnotherLiveGateway(record: ProcessRecord): boolean {
  if (record.hostPid === process.pid) return false;
  if (!hasProcfs) return pidExists(record.hostPid); // no start time to compare: err on the side of leaving it
  const host = readProcStat(record.hostPid);
  return host !== null && host.state !== 'Z' && host.startTime === record.hostStartTime;
}

function isStillOursByProcfs(record: ProcessRecord): boolean {
  if (record.procStartTime === null || record.bootId === null || record.bootId !== bootId()) return false;
  const leader = readProcStat(record.pid);
  if (leader && leader.state !== 'Z') return leader.startTime === record.procStartTime;
  // The leader is gone but the group may live on in its descendants, all started after it.
  // (A group ID is only reused once every member of the old group has exited.)
  const members = liveGroupMembers(record.pgid);
  return members.length > 0 && members.every((p) => p.startTime >= record.procStartTime!);
}

/** Without /proc only the leader can be checked (ps start time, epoch seconds); its group goes with it. */
async function isStillOursByPs(record: ProcessRecord): Promise<boolean> {
  if (record.procStartTime === null) return false;
  return (await startTimeOf(record.pid, false)) === record.procStartTime;
}

export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
