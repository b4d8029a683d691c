// A run's log, followed live: the whole log, then each event as the run writes it (the
// logs route's NDJSON follow). The stream ends when the run rests; when it works again
// (accept, resume) the log is followed again from the start.
import { useEffect, useRef, useState } from 'react';
import type { RunEvent } from '../../../shared/client.js';
import { errorText, useClient } from '../api.js';
import { ErrorNote } from '../components/ui.js';
import type { TicketRef } from './TicketPage.js';

const MAX_EVENTS = 2000;

export function RunLog({ ticket, live, onEvents }: { ticket: TicketRef; live: boolean; onEvents?: (events: RunEvent[]) => void }) {
  const client = useClient();
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [following, setFollowing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const liveRef = useRef(live);
  const box = useRef<HTMLPreElement>(null);

  useEffect(() => {
    if (live && !liveRef.current) setGeneration((g) => g + 1);
    liveRef.current = live;
  }, [live]);

  useEffect(() => {
    const controller = new AbortController();
    const collected: RunEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      setEvents(collected.slice(-MAX_EVENTS));
    };
    setFollowing(true);
    setError(null);
    const onEvent = (event: RunEvent) => {
      collected.push(event);
      if (collected.length > MAX_EVENTS * 2) collected.splice(0, collected.length - MAX_EVENTS);
      timer ??= setTimeout(flush, 100);
    };
    client
      .followRunLog(ticket.ticketId, ticket.repoPath, onEvent, controller.signal)
      .catch((cause: unknown) => {
        if (!controller.signal.aborted) setError(errorText(cause));
      })
      .finally(() => {
        if (controller.signal.aborted) return;
        clearTimeout(timer);
        flush();
        setFollowing(false);
        // It ended while the run still works (it rested and went on at once): follow again.
        if (liveRef.current) timer = setTimeout(() => setGeneration((g) => g + 1), 1000);
      });
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [client, ticket.ticketId, ticket.repoPath, generation]);

  useEffect(() => {
    onEvents?.(events);
    const el = box.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [events, onEvents]);

  return (
    <div data-testid="run-log" data-following={following}>
      <ErrorNote error={error} />
      <p className="muted small">{following ? 'Following the log…' : `${events.length} event(s); the run is resting.`}</p>
      <pre className="log-tail run-log" ref={box} aria-label="Run log">
        {events.length === 0 ? '(nothing logged yet)' : events.map((event, i) => <LogLine key={i} event={event} />)}
      </pre>
    </div>
  );
}

function LogLine({ event }: { event: RunEvent }) {
  const time = event.ts ? event.ts.slice(11, 19) : '';
  const bad = event.type === 'error' || event.type.endsWith('_failed') || (event.type === 'judge_result' && event.status === 'FAILED');
  return (
    <span data-testid="log-line" data-type={event.type}>
      {time} <span className="muted">#{event.iteration}</span> <span className={bad ? 'ev-error' : 'ev-type'}>{event.type}</span> {summary(event)}
      {'\n'}
    </span>
  );
}

/** One line per event: its text, else what matters of its fields. */
function summary(event: RunEvent): string {
  const { ts: _ts, runId: _runId, iteration: _iteration, type, ...rest } = event;
  if ((type === 'text' || type === 'thinking') && typeof rest.content === 'string') return clip(rest.content.trim());
  if (type === 'judge_result') return clip(`${String(rest.judge)}: ${String(rest.status)}${rest.exitCode !== undefined ? ` (exit ${String(rest.exitCode)})` : ''}`);
  if (type === 'status' || type === 'phase') return clip([rest.status, rest.phase, rest.lastError].filter(Boolean).join(' · '));
  const text = JSON.stringify(rest);
  return text === '{}' ? '' : clip(text);
}

function clip(text: string): string {
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}
