// The cloud relay: whether the link is up (and why not), the last error, what the cloud
// is running here now and did recently, and the switch that stops cloud commands.
import type { RelayCommand, RelayRefusal } from '../../../shared/client.js';
import { useAction, useClient, usePolling } from '../api.js';
import { Badge, Empty, ErrorNote, Loading, Section, Time } from '../components/ui.js';

function CommandRows({ commands, testId }: { commands: RelayCommand[]; testId: string }) {
  if (commands.length === 0) return <Empty>None.</Empty>;
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th>Operation</th>
          <th>Path</th>
          <th>Status</th>
          <th>Duration</th>
          <th>Received</th>
        </tr>
      </thead>
      <tbody>
        {commands.map((c) => (
          <tr key={c.commandId} data-testid="relay-command">
            <td className="mono">{c.operationId}</td>
            <td className="mono small">
              {c.method} {c.path}
            </td>
            <td>
              <Badge tone={c.state !== 'finished' ? 'info' : c.outcome === 'ok' ? 'good' : c.outcome === 'cancelled' ? 'neutral' : 'bad'}>
                {c.state === 'finished' ? c.outcome : c.state}
              </Badge>
              {c.statusCode ? <span className="mono small"> {c.statusCode}</span> : null}
              {c.error ? <div className="small muted">{c.error}</div> : null}
            </td>
            <td className="mono small">{c.durationMs === null ? '—' : `${c.durationMs} ms`}</td>
            <td>
              <Time value={c.receivedAt} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RefusedRows({ refusals }: { refusals: RelayRefusal[] }) {
  if (refusals.length === 0) return <Empty>None.</Empty>;
  return (
    <table data-testid="relay-refused">
      <thead>
        <tr>
          <th>Operation</th>
          <th>Path</th>
          <th>Why refused</th>
          <th>Received</th>
        </tr>
      </thead>
      <tbody>
        {refusals.map((r, index) => (
          <tr key={`${r.commandId}-${index}`} data-testid="relay-refusal">
            <td className="mono">{r.operationId || '—'}</td>
            <td className="mono small">
              {r.method} {r.path}
            </td>
            <td>{r.reason}</td>
            <td>
              <Time value={r.receivedAt} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function RelayScreen() {
  const client = useClient();
  const status = usePolling((c) => c.relayStatus(), 1500);
  const toggle = useAction();
  const s = status.data;
  const tone = !s ? 'neutral' : s.state === 'connected' ? (s.paused ? 'warn' : 'good') : s.state === 'connecting' ? 'info' : 'bad';
  return (
    <>
      <h1 className="screen-title">Cloud relay</h1>
      <Section
        title="Connection"
        description="The outbound link the cloud web app uses to run commands on this machine. Every command still goes through this gateway's checks and approvals."
        testId="relay"
        actions={
          s ? (
            <button
              className={s.paused ? 'primary' : 'danger'}
              disabled={toggle.busy}
              onClick={() => void toggle.run(() => client.setRelayPaused(!s.paused)).then(status.reload)}
              data-testid="relay-pause-toggle"
            >
              {s.paused ? 'Resume cloud commands' : 'Pause cloud commands'}
            </button>
          ) : null
        }
      >
        <ErrorNote error={status.error ?? toggle.error} />
        {!s ? (
          <Loading failed={Boolean(status.error)} />
        ) : (
          <dl className="facts">
            <dt>State</dt>
            <dd>
              <Badge tone={tone}>{s.state}</Badge> {s.paused ? <Badge tone="warn">paused</Badge> : null}
              {s.presence ? <span className="muted small"> presence: {s.presence}</span> : null}
            </dd>
            <dt>Relay</dt>
            <dd className="mono">{s.relayOrigin ?? '(no origin set)'}{s.relayOriginSetting ? '' : s.relayOrigin ? ' (the API origin)' : ''}</dd>
            {s.reason ? (
              <>
                <dt>Why not connected</dt>
                <dd data-testid="relay-reason">{s.reason}</dd>
              </>
            ) : null}
            <dt>Last error</dt>
            <dd data-testid="relay-last-error">
              {s.lastError ? (
                <>
                  {s.lastError.message} <span className="muted small">(<Time value={s.lastError.at} />)</span>
                </>
              ) : (
                'none'
              )}
            </dd>
            <dt>Signed commands</dt>
            <dd>{s.signingRequired ? 'required for loop and write operations' : 'checked when present'}</dd>
            {s.identity ? (
              <>
                <dt>Gateway identity</dt>
                <dd data-testid="relay-identity">
                  <span className="mono">{s.identity.gatewayId}</span>
                  <div className="mono small muted">public key {s.identity.publicKey}</div>
                  <div className="small muted">With a managed (sk_live_) key, every cloud call and the relay link prove this identity; register its public key with the cloud.</div>
                </dd>
              </>
            ) : null}
          </dl>
        )}
      </Section>
      <Section title="In flight" description="Running now (at most two at once) and waiting.">
        <CommandRows commands={[...(s?.commands.inFlight ?? []), ...(s?.commands.queued ?? [])]} testId="relay-in-flight" />
      </Section>
      <Section title="Recent" description="The last commands the cloud sent, newest first.">
        <CommandRows commands={s?.commands.recent ?? []} testId="relay-recent" />
      </Section>
      <Section title="Refused" description="Commands the cloud sent that never ran here: paused, malformed or unsigned, newest first.">
        <RefusedRows refusals={s?.commands.refused ?? []} />
      </Section>
    </>
  );
}
