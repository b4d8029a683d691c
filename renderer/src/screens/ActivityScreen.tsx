// The audit trail: the recent requests to this gateway (who, what, how it ended, who decided
// an ask), live and filterable, from the gateway's bounded ring (desktop-only
// /desktop/activity; older ones are in the log file). Above it, the per-operation counters
// (/desktop/telemetry). Neither read shows up in the trail itself.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { ActivityItem } from '../../../shared/client.js';
import { errorText, useClient, usePolling } from '../api.js';
import { Badge, Empty, ErrorNote, Loading, Section, Time } from '../components/ui.js';
import { formatMs, formatUptime } from '../format.js';

/** How many requests the screen keeps while it is open (the gateway's ring holds more). */
const SHOWN = 300;
const LIVE_MS = 1500;

const CALLER_KINDS: Array<{ value: string; label: string }> = [
  { value: '', label: 'All callers' },
  { value: 'renderer', label: 'This app' },
  { value: 'token', label: 'Gateway token (CLI, local tools)' },
  { value: 'relay', label: 'Cloud relay' },
  { value: 'origin', label: 'Any paired web origin' },
];

interface Filter {
  caller: string;
  operation: string;
}

interface Trail {
  entries: ActivityItem[] | undefined;
  capacity: number | null;
  logFile: string | null;
  error: string | null;
}

/** The filtered trail: loaded when the filter changes, then only what is newer (`after`). */
function useActivity(filter: Filter, live: boolean): Trail {
  const client = useClient();
  const [trail, setTrail] = useState<Trail>({ entries: undefined, capacity: null, logFile: null, error: null });
  const { caller, operation } = filter;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let latest: number | null = null;
    setTrail((previous) => ({ ...previous, entries: undefined, error: null }));
    const tick = async () => {
      try {
        const reply = await client.activity({ caller, operation, ...(latest === null ? { limit: SHOWN } : { after: latest }) });
        if (stopped) return;
        const fresh = latest === null;
        latest = reply.latestSeq;
        setTrail((previous) => ({
          entries: fresh ? reply.entries : [...reply.entries, ...(previous.entries ?? [])].slice(0, SHOWN),
          capacity: reply.capacity,
          logFile: reply.logFile,
          error: null,
        }));
      } catch (cause) {
        if (stopped) return;
        setTrail((previous) => ({ ...previous, error: errorText(cause) }));
      }
      if (live) timer = setTimeout(tick, LIVE_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [client, caller, operation, live]);

  return trail;
}

function callerLabel(entry: ActivityItem): ReactNode {
  switch (entry.callerKind) {
    case 'renderer':
      return 'this app';
    case 'token':
      return 'gateway token';
    case 'relay':
      return 'cloud relay';
    case 'origin':
      return <span className="mono">{entry.callerOrigin ?? 'paired origin'}</span>;
    default:
      return <span className="muted">unauthenticated</span>;
  }
}

const DECIDERS: Record<string, string> = { renderer: 'this app', token: 'gateway token', shutdown: 'the gateway stopping' };

function statusTone(status: number): 'good' | 'warn' | 'bad' {
  return status < 400 ? 'good' : status < 500 ? 'warn' : 'bad';
}

function Decision({ approval }: { approval: ActivityItem['approval'] }) {
  if (!approval) return <span className="muted">—</span>;
  const tone = approval.decision === 'deny' ? 'bad' : approval.decision.startsWith('allow') ? 'good' : 'neutral';
  return (
    <>
      <Badge tone={tone}>{approval.decision.replace('_', ' ')}</Badge>
      {approval.decidedBy ? <span className="small muted"> by {DECIDERS[approval.decidedBy] ?? approval.decidedBy}</span> : null}
    </>
  );
}

export function ActivityScreen() {
  const health = usePolling((c) => c.telemetry(), 5000);
  const [filter, setFilter] = useState<Filter>({ caller: '', operation: '' });
  const [live, setLive] = useState(true);
  const trail = useActivity(filter, live);
  const rows = Object.entries(health.data?.operations ?? {}).sort(([a, x], [b, y]) => y.count - x.count || a.localeCompare(b));
  const total = rows.reduce((sum, [, stats]) => sum + stats.count, 0);
  const errors = rows.reduce((sum, [, stats]) => sum + stats.errors, 0);

  // The paired origins and operations seen so far, offered as filters beside the fixed ones.
  const seen = useRef({ origins: new Set<string>(), operations: new Set<string>() });
  for (const entry of trail.entries ?? []) {
    if (entry.callerOrigin) seen.current.origins.add(entry.callerOrigin);
    seen.current.operations.add(entry.operation);
  }
  for (const [operation] of rows) seen.current.operations.add(operation);
  if (filter.operation) seen.current.operations.add(filter.operation);
  const operations = [...seen.current.operations].sort();
  const origins = [...seen.current.origins].sort();

  return (
    <>
      <h1 className="screen-title">Activity</h1>
      <ErrorNote error={health.error} />
      {health.data ? (
        <div className="stats" data-testid="activity-summary">
          <Stat label="Status" value={<Badge tone={health.data.status === 'ok' ? 'good' : 'bad'}>{health.data.status}</Badge>} />
          <Stat label="Version" value={health.data.version} />
          <Stat label="Uptime" value={formatUptime(health.data.uptimeSeconds)} />
          <Stat label="Requests" value={String(total)} />
          <Stat label="Errors" value={String(errors)} />
        </div>
      ) : null}
      <Section
        title="Recent requests"
        description={
          <>
            Every request to this gateway, newest first: who made it, what it asked for, how it ended, and who decided when a person was
            asked. Never bodies, query strings or tokens. The gateway keeps the last {trail.capacity ?? '…'}
            {trail.logFile ? (
              <>
                ; older ones are in <code>{trail.logFile}</code> (<code>symphony-gateway logs</code>)
              </>
            ) : null}
            .
          </>
        }
        testId="activity-trail"
      >
        <div className="toolbar">
          <select aria-label="Caller" value={filter.caller} onChange={(e) => setFilter({ ...filter, caller: e.target.value })} data-testid="activity-caller">
            {CALLER_KINDS.map((kind) => (
              <option key={kind.value} value={kind.value}>
                {kind.label}
              </option>
            ))}
            {origins.map((origin) => (
              <option key={origin} value={origin}>
                {origin}
              </option>
            ))}
          </select>
          <select aria-label="Operation" value={filter.operation} onChange={(e) => setFilter({ ...filter, operation: e.target.value })} data-testid="activity-operation">
            <option value="">All operations</option>
            {operations.map((operation) => (
              <option key={operation} value={operation}>
                {operation}
              </option>
            ))}
          </select>
          <label className="small">
            <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} data-testid="activity-live" /> Live
          </label>
        </div>
        <ErrorNote error={trail.error} />
        {!trail.entries ? (
          <Loading failed={Boolean(trail.error)} />
        ) : trail.entries.length === 0 ? (
          <Empty>{filter.caller || filter.operation ? 'No request matches these filters.' : 'No requests yet.'}</Empty>
        ) : (
          <table data-testid="activity-entries">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Caller</th>
                <th scope="col">Operation</th>
                <th scope="col">Request</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Duration</th>
                <th scope="col">Asked</th>
              </tr>
            </thead>
            <tbody>
              {trail.entries.map((entry) => (
                <tr key={entry.seq} data-testid="activity-entry" data-caller={entry.callerKind ?? 'none'} data-operation={entry.operation}>
                  <td className="nowrap">
                    <Time value={entry.time} />
                  </td>
                  <td>
                    {callerLabel(entry)}
                    {entry.claimedSource ? <div className="small muted">says: {entry.claimedSource}</div> : null}
                  </td>
                  <td>
                    <code>{entry.operation}</code>
                  </td>
                  <td className="mono small">
                    {entry.method} {entry.path}
                  </td>
                  <td>
                    <Badge tone={statusTone(entry.status)}>{entry.status}</Badge>
                  </td>
                  <td className="num">{formatMs(entry.durationMs)}</td>
                  <td>
                    <Decision approval={entry.approval} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section
        title="Per operation"
        description="Counted on this machine since the gateway started. Nothing leaves the machine."
        testId="activity"
      >
        {!health.data ? (
          <Loading failed={Boolean(health.error)} />
        ) : rows.length === 0 ? (
          <Empty>No requests yet.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Operation</th>
                <th scope="col" className="num">Requests</th>
                <th scope="col" className="num">Errors</th>
                <th scope="col" className="num">p50</th>
                <th scope="col" className="num">p95</th>
                <th scope="col" className="num">p99</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(([operation, stats]) => (
                <tr key={operation} data-testid="activity-row" data-operation={operation}>
                  <td>
                    <code>{operation}</code>
                  </td>
                  <td className="num">{stats.count}</td>
                  <td className={stats.errors ? 'num bad-text' : 'num'}>{stats.errors}</td>
                  <td className="num">{formatMs(stats.p50Ms)}</td>
                  <td className="num">{formatMs(stats.p95Ms)}</td>
                  <td className="num">{formatMs(stats.p99Ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

function Stat({ label, value }: { label: string; value: ReactNode }) {
  return (
    <div className="stat">
      <span className="muted small">{label}</span>
      <strong>{value}</strong>
    </div>
  );
}
