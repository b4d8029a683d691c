// Dev-server previews: pick a managed repository and a ticket, then start, watch and stop
// its dev server (the same panel the run page shows).
import { useState } from 'react';
import { usePolling } from '../api.js';
import { DeployPanel } from '../components/DeployPanel.js';
import { Empty, ErrorNote, Loading, Section } from '../components/ui.js';

export function PreviewsScreen() {
  const repos = usePolling((c) => c.listRepos().then((r) => r.repos), 5000);
  const [repoPath, setRepoPath] = useState('');
  const [ticketInput, setTicketInput] = useState('');
  const [ticketId, setTicketId] = useState('');
  const chosenRepo = repoPath || repos.data?.[0]?.path || '';
  return (
    <>
      <h1 className="screen-title">Previews</h1>
      <Section
        title="A ticket's dev server"
        description="Runs in the ticket's worktree on a free port of its own. Only servers started here can be stopped here."
        testId="previews"
      >
        <ErrorNote error={repos.error} />
        {!repos.data ? (
          <Loading failed={Boolean(repos.error)} />
        ) : repos.data.length === 0 ? (
          <Empty>Add a repository first (Repositories).</Empty>
        ) : (
          <form
            className="form"
            onSubmit={(event) => {
              event.preventDefault();
              setTicketId(ticketInput.trim());
            }}
          >
            <label className="field">
              <span>Repository</span>
              <select value={chosenRepo} onChange={(event) => setRepoPath(event.target.value)} data-testid="preview-repo">
                {repos.data.map((repo) => (
                  <option key={repo.path} value={repo.path}>
                    {repo.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Ticket</span>
              <input value={ticketInput} onChange={(event) => setTicketInput(event.target.value)} placeholder="e.g. ENG-123" data-testid="preview-ticket" />
            </label>
            <button type="submit" disabled={!ticketInput.trim()} data-testid="preview-show">
              Show
            </button>
          </form>
        )}
        {chosenRepo && ticketId ? <DeployPanel key={`${chosenRepo}\0${ticketId}`} repoPath={chosenRepo} ticketId={ticketId} /> : null}
      </Section>
    </>
  );
}
