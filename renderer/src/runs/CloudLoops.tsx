// Cloud loops on the Runs screen: the loops the web app started on this desktop through the
// cloud (their own table, not ticket runs), with status, command, repository, start, and
// the events each sent to the cloud or still queues for it.
import type { CloudLoopView } from '../../../shared/client.js';
import { usePolling } from '../api.js';
import { Badge, Empty, ErrorNote, Loading, Section, Time } from '../components/ui.js';
import { elapsed } from '../format.js';

const TONE: Record<string, 'neutral' | 'good' | 'warn' | 'bad' | 'info'> = {
  initializing: 'info', running: 'info', completed: 'good', failed: 'bad', interrupted: 'warn', cancelled: 'neutral', stopped: 'neutral',
};

export function CloudLoops() {
  const loops = usePolling((c) => c.listCloudLoops().then((r) => r.loops), 3000);
  return (
    <Section
      title="Cloud loops"
      description="Loops the Symphony web app runs on this desktop through the cloud (plan, execute, ...). They report to the cloud, not to a ticket run."
      testId="cloud-loops"
    >
      <ErrorNote error={loops.error} />
      {!loops.data ? (
        <Loading failed={Boolean(loops.error)} />
      ) : loops.data.length === 0 ? (
        <Empty>No cloud loop has run on this desktop.</Empty>
      ) : (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th>Loop</th>
                <th>Command</th>
                <th>Status</th>
                <th>Repository</th>
                <th>Started</th>
                <th className="num">Elapsed</th>
                <th>Events</th>
              </tr>
            </thead>
            <tbody>
              {loops.data.map((loop) => (
                <LoopRow key={loop.loopId} loop={loop} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

function LoopRow({ loop }: { loop: CloudLoopView }) {
  return (
    <tr data-testid="loop-row" data-loop={loop.loopId} data-status={loop.status}>
      <td>
        <Badge tone="info">cloud loop</Badge> <span className="mono small" title={loop.loopId}>{loop.loopId.slice(0, 12)}</span>
      </td>
      <td className="mono small" data-testid="loop-command">{loop.command}</td>
      <td>
        <Badge tone={TONE[loop.status] ?? 'neutral'}>{loop.status}</Badge>
        {loop.lastError ? <div className="bad-text small">{loop.lastError}</div> : null}
      </td>
      <td className="mono small" title={loop.repoPath ?? loop.worktreePath}>
        {(loop.repoPath ?? '–').split(/[\\/]/).pop()}
      </td>
      <td className="small">
        <Time value={loop.startedAt} />
      </td>
      <td className="num">{elapsed(loop.startedAt, loop.endedAt)}</td>
      <td>
        <details data-testid="loop-events">
          <summary>{loop.events.length} event(s)</summary>
          <ol className="small">
            {loop.events.map((event) => (
              <li key={event.id} data-testid="loop-event" data-type={event.type} data-delivery={event.delivery}>
                <strong>{event.type}</strong> {event.at ? <Time value={event.at} /> : null}{' '}
                <span className="muted">({event.delivery === 'delivered' ? 'sent' : event.delivery === 'pending' ? 'queued' : 'not delivered'})</span>
                {event.summary ? <div className="mono">{event.summary}</div> : null}
              </li>
            ))}
          </ol>
        </details>
      </td>
    </tr>
  );
}
