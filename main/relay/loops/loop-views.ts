// Cloud loops as the Runs screen shows them: the loop row, and the calls its outbox holds
// for the cloud (events and artifact uploads; heartbeats left out), each in a line.
import type { CloudLoopView } from '../../../shared/runs.js';
import type { LoopRow } from './loop-store.js';
import type { OutboxItem } from './outbox.js';

const MAX_EVENTS = 100;
const SUMMARY_CHARS = 300;

export function cloudLoopViews(loops: LoopRow[], items: (loopId: string) => OutboxItem[]): CloudLoopView[] {
  return [...loops].sort((a, b) => b.startedAt - a.startedAt).map((loop) => ({
    loopId: loop.loopId, command: loop.command, status: loop.status, repoPath: loop.repoPath, worktreePath: loop.worktreePath,
    startedAt: new Date(loop.startedAt).toISOString(), endedAt: loop.endedAt ? new Date(loop.endedAt).toISOString() : null, lastError: loop.lastError,
    events: items(loop.loopId).filter((item) => item.call !== 'heartbeat').slice(-MAX_EVENTS).map((item) => eventView(item)),
  }));
}

function eventView(item: OutboxItem): CloudLoopView['events'][number] {
  const body = (item.body && typeof item.body === 'object' ? item.body : {}) as Record<string, unknown>;
  const type = item.call === 'events' && typeof body.type === 'string' ? body.type : item.call;
  const data = (body.data && typeof body.data === 'object' ? body.data : {}) as Record<string, unknown>;
  const text = [body.code, body.message, data.chunk, body.branchName].filter((v) => typeof v === 'string' && v).join(' · ');
  return {
    id: item.id, call: item.call, type, at: typeof body.timestamp === 'string' ? body.timestamp : null,
    summary: text.length > SUMMARY_CHARS ? `${text.slice(0, SUMMARY_CHARS)}…` : text, delivery: item.state,
  };
}
