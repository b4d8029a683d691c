// Local telemetry: request counts, errors and latency per operation (desktop-only /desktop/telemetry).
import type { ReactNode } from 'react';
import { usePolling } from '../api.js';
import { Badge, Empty, ErrorNote, Loading, Section } from '../components/ui.js';
import { formatMs, formatUptime } from '../format.js';

export function ActivityScreen() {
  const health = usePolling((c) => c.telemetry(), 3000);
  const rows = Object.entries(health.data?.operations ?? {}).sort(([a, x], [b, y]) => y.count - x.count || a.localeCompare(b));
  const total = rows.reduce((sum, [, stats]) => sum + stats.count, 0);
  const errors = rows.reduce((sum, [, stats]) => sum + stats.errors, 0);
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
