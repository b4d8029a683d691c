// Every ticket run: ticket, repository, status, phase, iteration/max, elapsed time, tokens,
// cost and the worktree's size; a row opens the ticket's page (its run, log, plan, judges,
// reviews and dev server). A ticket without a run opens the same page from the form below,
// for its reviews and dev server. Below: the cloud loops (their own table), and the worktree
// retention with a prune and its dry-run preview.
import { useState, type FormEvent } from 'react';
import type { RunStatusView } from '../../../shared/client.js';
import { usePolling } from '../api.js';
import { Empty, ErrorNote, Loading, Section } from '../components/ui.js';
import { elapsed, formatBytes, formatCost, formatCount } from '../format.js';
import { CloudLoops } from '../runs/CloudLoops.js';
import { RetentionPanel } from '../runs/RetentionPanel.js';
import { RunStatusBadge } from '../runs/RunStatusBadge.js';
import type { TicketRef } from '../runs/TicketPage.js';

export function RunsScreen({ onOpen }: { onOpen: (ticket: TicketRef) => void }) {
  const runs = usePolling((c) => c.listRuns().then((r) => r.runs), 2000);
  return (
    <>
      <h1 className="screen-title">Runs</h1>
      <Section
        title="Ticket runs"
        description="An agent works on each ticket in its own worktree, in iterations checked by judges. Runs keep going when the app quits unless you say otherwise."
        testId="runs"
      >
        <ErrorNote error={runs.error} />
        {!runs.data ? (
          <Loading failed={Boolean(runs.error)} />
        ) : runs.data.length === 0 ? (
          <Empty>No run yet. The Symphony web app launches them; a ticket's page below can too.</Empty>
        ) : (
          <div className="table-scroll">
            <table>
              <thead>
                <tr>
                  <th>Ticket</th>
                  <th>Repository</th>
                  <th>Status</th>
                  <th>Phase</th>
                  <th className="num">Iteration</th>
                  <th className="num">Elapsed</th>
                  <th className="num">Tokens</th>
                  <th className="num">Cost</th>
                  <th className="num">Disk</th>
                </tr>
              </thead>
              <tbody>
                {runs.data.map((run) => (
                  <RunRow key={run.runId} run={run} onOpen={() => onOpen({ repoPath: run.repoPath, ticketId: run.ticketId })} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <CloudLoops />
      <RetentionPanel onPruned={() => void runs.reload()} />
      <OpenTicket onOpen={onOpen} />
    </>
  );
}

function RunRow({ run, onOpen }: { run: RunStatusView; onOpen: () => void }) {
  return (
    <tr className="run-row" data-testid="run-row" data-ticket={run.ticketId} data-status={run.status} onClick={onOpen}>
      <td>
        <button className="link" onClick={onOpen} data-testid="run-open">
          {run.ticketId}
        </button>
      </td>
      <td className="mono small" title={run.repoPath}>
        {run.repoPath.split(/[\\/]/).pop()}
      </td>
      <td>
        <RunStatusBadge run={run} />
      </td>
      <td className="small">{run.phase}</td>
      <td className="num" data-testid="run-iteration">
        {run.iteration}/{run.maxIterations}
      </td>
      <td className="num">{elapsed(run.startedAt, run.endedAt)}</td>
      <td className="num" title={`${run.tokens.input} in, ${run.tokens.output} out`}>
        {formatCount(run.tokens.total)}
      </td>
      <td className="num">{formatCost(run.costUsd)}</td>
      <td className="num" title={run.retention?.why}>
        {run.retention?.decision === 'removed' ? 'removed' : formatBytes(run.disk?.bytes)}
      </td>
    </tr>
  );
}

/** A ticket's page without a run: its reviews and dev server (what the Reviews and Previews screens were). */
function OpenTicket({ onOpen }: { onOpen: (ticket: TicketRef) => void }) {
  const repos = usePolling((c) => c.listRepos().then((r) => r.repos), 30_000);
  const [repoPath, setRepoPath] = useState('');
  const [ticketId, setTicketId] = useState('');
  const chosenRepo = repoPath || repos.data?.[0]?.path || '';
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (chosenRepo && ticketId.trim()) onOpen({ repoPath: chosenRepo, ticketId: ticketId.trim() });
  };
  return (
    <Section title="Open a ticket" description="Its run, code reviews and dev server, whether or not it has a run yet." testId="open-ticket">
      <ErrorNote error={repos.error} />
      {repos.data && repos.data.length === 0 ? (
        <Empty>Add a repository on the Repositories screen first.</Empty>
      ) : (
        <form className="toolbar" onSubmit={submit}>
          <label className="field">
            <span>Repository</span>
            <select value={chosenRepo} onChange={(e) => setRepoPath(e.target.value)} data-testid="ticket-repo">
              {(repos.data ?? []).map((repo) => (
                <option key={repo.path} value={repo.path}>
                  {repo.name}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Ticket</span>
            <input type="text" value={ticketId} placeholder="ENG-123" onChange={(e) => setTicketId(e.target.value)} data-testid="ticket-id" />
          </label>
          <button className="primary" type="submit" disabled={!chosenRepo || !ticketId.trim()} data-testid="ticket-open">
            Open
          </button>
        </form>
      )}
    </Section>
  );
}
