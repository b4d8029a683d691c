// Tells the user when a run needs them (plan ready, failed, interrupted): a notice at the
// top of every screen with a way to its page, and an OS notification from the page at
// /ui/ (in the desktop window, main/app shows the OS one itself).
import { useEffect, useRef, useState } from 'react';
import { newRunNotices, type RunNotice } from '../../../shared/run-notices.js';
import type { RunStatusView } from '../../../shared/client.js';
import { usePolling } from '../api.js';
import { bridge } from '../bridge.js';
import type { TicketRef } from './TicketPage.js';

interface Shown {
  id: string;
  run: RunStatusView;
  notice: RunNotice;
}

export function RunNotices({ onOpen }: { onOpen: (ticket: TicketRef) => void }) {
  const runs = usePolling((c) => c.listRuns().then((r) => r.runs), 3000);
  const seen = useRef<Map<string, string> | null>(null);
  const [shown, setShown] = useState<Shown[]>([]);

  useEffect(() => {
    if (!runs.data) return;
    const due = newRunNotices(seen.current, runs.data);
    seen.current = new Map(runs.data.map((run) => [run.runId, run.status]));
    if (!due.length) return;
    setShown((current) => [
      ...current.filter((s) => !due.some((d) => d.run.runId === s.run.runId)),
      ...due.map(({ run, notice }) => ({ id: `${run.runId}:${run.status}`, run, notice })),
    ]);
    if (!bridge()) for (const { notice } of due) osNotification(notice);
  }, [runs.data]);

  if (!shown.length) return null;
  const dismiss = (id: string) => setShown((current) => current.filter((s) => s.id !== id));
  return (
    <div className="run-notices">
      {shown.map(({ id, run, notice }) => (
        <div key={id} className="banner" role="status" data-testid="run-notice" data-kind={notice.kind} data-ticket={run.ticketId}>
          <span>
            <strong>{notice.title}.</strong> {notice.body}
          </span>
          <span className="run-actions">
            <button
              onClick={() => {
                dismiss(id);
                onOpen({ repoPath: run.repoPath, ticketId: run.ticketId });
              }}
              data-testid="run-notice-open"
            >
              Open
            </button>
            <button onClick={() => dismiss(id)} aria-label="Dismiss">
              ×
            </button>
          </span>
        </div>
      ))}
    </div>
  );
}

function osNotification(notice: RunNotice): void {
  if (typeof Notification === 'undefined') return;
  const show = () => new Notification(notice.title, { body: notice.body, tag: notice.title });
  if (Notification.permission === 'granted') show();
  else if (Notification.permission === 'default') void Notification.requestPermission().then((p) => (p === 'granted' ? show() : undefined));
}
