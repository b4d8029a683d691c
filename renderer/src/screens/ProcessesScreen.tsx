// Live child processes (agents, dev servers, reviews) with the tail of their logs.
import { useAction, useClient, usePolling } from '../api.js';
import { Badge, Empty, ErrorNote, Loading, Section, Time } from '../components/ui.js';

export function ProcessesScreen() {
  const client = useClient();
  const processes = usePolling((c) => c.listProcesses().then((r) => r.processes), 2000);
  const kill = useAction();
  return (
    <>
      <h1 className="screen-title">Processes</h1>
      <Section
        title="Running children"
        description="Every process the gateway started. Killing one stops its whole process tree."
        testId="processes"
      >
        <ErrorNote error={processes.error ?? kill.error} />
        {!processes.data ? (
          <Loading failed={Boolean(processes.error)} />
        ) : processes.data.length === 0 ? (
          <Empty>No child process is running.</Empty>
        ) : (
          <ul className="process-list">
            {processes.data.map((child) => (
              <li key={child.id} className="process" data-testid="process-row" data-process-id={child.id}>
                <div className="process-head">
                  <div>
                    <strong>{child.label}</strong> <Badge tone={child.state === 'running' ? 'good' : 'neutral'}>{child.state}</Badge>
                    <div className="mono small muted">
                      pid {child.pid} · started <Time value={child.startedAt} />
                      {child.owner ? <> · {child.owner}</> : null}
                      {child.cwd ? <> · {child.cwd}</> : null}
                    </div>
                  </div>
                  <button
                    className="danger"
                    disabled={kill.busy}
                    onClick={() => void kill.run(() => client.killProcess(child.id)).then(processes.reload)}
                    aria-label={`Kill ${child.label}`}
                    data-testid="kill-process"
                  >
                    Kill
                  </button>
                </div>
                <p className="mono small command-line">{[child.command, ...child.args].join(' ')}</p>
                <pre className="log-tail" aria-label={`Last log lines of ${child.label}`}>
                  {child.tail.length ? child.tail.join('\n') : '(no output yet)'}
                </pre>
              </li>
            ))}
          </ul>
        )}
      </Section>
    </>
  );
}
