// The repositories the web app manages on this machine.
import { usePolling } from '../api.js';
import { Badge, Empty, ErrorNote, Loading, Section } from '../components/ui.js';

export function ReposScreen() {
  const repos = usePolling((c) => c.listRepos().then((r) => r.repos), 10_000);
  return (
    <>
      <h1 className="screen-title">Repositories</h1>
      <Section
        title="Managed repositories"
        description="Added by the web app (adding or changing one asks you first). Agents work on them in their own worktrees."
        testId="repos"
      >
        <ErrorNote error={repos.error} />
        {!repos.data ? (
          <Loading failed={Boolean(repos.error)} />
        ) : repos.data.length === 0 ? (
          <Empty>No repositories yet.</Empty>
        ) : (
          <ul className="repo-list">
            {repos.data.map((repo) => (
              <li key={repo.path} className="repo" data-testid="repo-row">
                <div className="repo-head">
                  <strong>{repo.name}</strong>
                  {repo.fullName ? <span className="muted"> {repo.fullName}</span> : null}
                  {repo.projectType ? <Badge tone="neutral">{repo.projectType}</Badge> : null}
                  {repo.defaultBranch ? <Badge tone="info">{repo.defaultBranch}</Badge> : null}
                </div>
                {repo.description ? <p className="small">{repo.description}</p> : null}
                <dl className="facts small">
                  <dt>Path</dt>
                  <dd className="mono">{repo.path}</dd>
                  {repo.remoteUrl ? (
                    <>
                      <dt>Remote</dt>
                      <dd className="mono">{repo.remoteUrl}</dd>
                    </>
                  ) : null}
                  {repo.worktreeParentDir ? (
                    <>
                      <dt>Worktrees</dt>
                      <dd className="mono">{repo.worktreeParentDir}</dd>
                    </>
                  ) : null}
                </dl>
              </li>
            ))}
          </ul>
        )}
      </Section>
    </>
  );
}
