// A ticket's dev server, self-contained: Start/Stop, status (with install progress), the
// URL (opened in the user's browser), and the log tail. Mount it wherever a ticket is shown.
import { useCallback } from 'react';
import type { DeployStatus } from '../../../shared/client.js';
import { useAction, useClient, usePolling } from '../api.js';
import { bridge } from '../bridge.js';
import { Badge, ErrorNote, Loading, Time } from './ui.js';

const TONE = { running: 'info', completed: 'good', failed: 'bad', 'not-started': 'neutral' } as const;
const PHASE_TEXT: Record<string, string> = {
  installing: 'Installing dependencies…',
  starting: 'Starting, waiting for it to answer…',
  ready: 'Running',
  install_failed: 'Install failed',
  exited: 'Exited',
  health_failed: 'Not answering',
  stopped: 'Stopped',
  interrupted: 'Stopped by a gateway restart',
};

export function DeployPanel({ repoPath, ticketId }: { repoPath: string; ticketId: string }) {
  const client = useClient();
  const load = useCallback((c: typeof client) => c.deployStatus(repoPath, ticketId), [repoPath, ticketId]);
  const status = usePolling(load, 2000);
  const action = useAction();
  const data: DeployStatus | undefined = status.data;
  const live = data?.status === 'running' || data?.status === 'completed';

  const start = () => void action.run(() => client.startDeploy(repoPath, ticketId)).then(status.reload);
  const stop = () =>
    void action
      .run(async () => {
        const reply = await client.stopDeploy(repoPath, ticketId);
        if (!reply.success) throw new Error(reply.error ?? 'Nothing was stopped.');
      })
      .then(status.reload);

  return (
    <div className="deploy-panel" data-testid="deploy-panel" data-status={data?.status ?? 'loading'}>
      <div className="process-head">
        <div>
          <strong>Dev server</strong>{' '}
          {data ? <Badge tone={TONE[data.status]}>{data.phase ? (PHASE_TEXT[data.phase] ?? data.phase) : 'Not started'}</Badge> : null}
          {data?.startedAt ? (
            <div className="mono small muted">
              {data.pid ? <>pid {data.pid} · </> : null}
              {data.port ? <>port {data.port} · </> : null}
              started <Time value={data.startedAt} />
            </div>
          ) : null}
        </div>
        {live ? (
          <button className="danger" disabled={action.busy} onClick={stop} data-testid="deploy-stop">
            Stop
          </button>
        ) : (
          <button className="primary" disabled={action.busy || !data} onClick={start} data-testid="deploy-start">
            Start
          </button>
        )}
      </div>
      <ErrorNote error={status.error ?? action.error ?? data?.error} />
      {!data ? <Loading failed={Boolean(status.error)} /> : null}
      {data?.deployedUrl ? (
        <p>
          <a href={data.deployedUrl} target="_blank" rel="noreferrer" onClick={(event) => openInBrowser(event, data.deployedUrl!)} data-testid="deploy-url">
            {data.deployedUrl}
          </a>
        </p>
      ) : null}
      {data?.phase === 'installing' && data.progress ? (
        <p className="muted small" data-testid="deploy-progress">
          {data.progress.installLines} line(s) so far{data.progress.lastLine ? <>: <span className="mono">{data.progress.lastLine}</span></> : null}
        </p>
      ) : null}
      {data?.command ? <p className="mono small command-line">{data.command}</p> : null}
      {data && data.status !== 'not-started' ? (
        <pre className="log-tail" aria-label="Dev server log" data-testid="deploy-log">
          {data.logs || '(no output yet)'}
        </pre>
      ) : null}
    </div>
  );
}

/** In the app window the bridge opens the user's browser; a /ui/ page just follows the link. */
function openInBrowser(event: { preventDefault(): void }, url: string): void {
  const open = bridge()?.openPreview;
  if (!open) return;
  event.preventDefault();
  void open(url);
}
