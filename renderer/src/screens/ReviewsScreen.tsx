// Reviews of one ticket, until the run page (issue 11) mounts the same panel beside its run:
// pick a repository and a ticket, and the panel does the rest.
import { useState, type FormEvent } from 'react';
import { usePolling } from '../api.js';
import { ErrorNote, Section } from '../components/ui.js';
import { ReviewsPanel } from '../reviews/ReviewsPanel.js';

export function ReviewsScreen() {
  const repos = usePolling((c) => c.listRepos().then((r) => r.repos), 30_000);
  const [repoPath, setRepoPath] = useState('');
  const [ticketId, setTicketId] = useState('');
  const [open, setOpen] = useState<{ repoPath: string; ticketId: string } | null>(null);
  const chosenRepo = repoPath || repos.data?.[0]?.path || '';

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (chosenRepo && ticketId.trim()) setOpen({ repoPath: chosenRepo, ticketId: ticketId.trim() });
  };

  return (
    <>
      <h1 className="screen-title">Reviews</h1>
      <Section title="Ticket" description="Code reviews by codex or claude of a ticket's worktree (or the repository)." testId="reviews-pick">
        <form className="form" onSubmit={submit}>
          <div className="toolbar">
            <label className="field">
              <span>Repository</span>
              <select value={chosenRepo} onChange={(e) => setRepoPath(e.target.value)} data-testid="reviews-repo">
                {(repos.data ?? []).map((repo) => (
                  <option key={repo.path} value={repo.path}>
                    {repo.name}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Ticket</span>
              <input type="text" value={ticketId} placeholder="T-123" onChange={(e) => setTicketId(e.target.value)} data-testid="reviews-ticket" />
            </label>
            <button className="primary" type="submit" disabled={!chosenRepo || !ticketId.trim()} data-testid="reviews-open">
              Open
            </button>
          </div>
        </form>
        <ErrorNote error={repos.error} />
        {repos.data && repos.data.length === 0 ? <p className="muted">Add a repository on the Repositories screen first.</p> : null}
      </Section>
      {open ? <ReviewsPanel key={`${open.repoPath}\n${open.ticketId}`} ticketId={open.ticketId} repoPath={open.repoPath} /> : null}
    </>
  );
}
