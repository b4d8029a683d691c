// The repositories the web app manages on this machine; add or forget one from here.
import { useState, type FormEvent } from 'react';
import type { Repo } from '../../../shared/client.js';
import { useAction, useClient, usePolling } from '../api.js';
import { Badge, Empty, ErrorNote, Loading, Section } from '../components/ui.js';

export function ReposScreen() {
  const repos = usePolling((c) => c.listRepos().then((r) => r.repos), 10_000);
  const trust = usePolling((c) => c.trustedRepos().then((r) => r.trusted), 10_000);
  return (
    <>
      <h1 className="screen-title">Repositories</h1>
      <Section
        title="Managed repositories"
        description="Agents work on them in their own worktrees. A web app adding or changing one asks you first."
        testId="repos"
      >
        <ErrorNote error={repos.error ?? trust.error} />
        {!repos.data ? (
          <Loading failed={Boolean(repos.error)} />
        ) : repos.data.length === 0 ? (
          <Empty>No repositories yet.</Empty>
        ) : (
          <ul className="repo-list">
            {repos.data.map((repo) => (
              <RepoItem key={repo.path} repo={repo} trusted={trust.data?.includes(repo.path) ?? false} onChanged={trust.reload} onForgotten={repos.reload} />
            ))}
          </ul>
        )}
        <AddRepo onAdded={repos.reload} />
      </Section>
    </>
  );
}

function RepoItem({ repo, trusted, onChanged, onForgotten }: { repo: Repo; trusted: boolean; onChanged: () => Promise<void>; onForgotten: () => Promise<void> }) {
  const client = useClient();
  const forget = useAction();
  const trustAction = useAction();
  return (
    <li className="repo" data-testid="repo-row" data-path={repo.path}>
      <div className="repo-head">
        <div>
          <strong>{repo.name}</strong>
          {repo.fullName ? <span className="muted"> {repo.fullName}</span> : null}
          {repo.projectType !== 'unknown' ? <Badge tone="neutral">{repo.projectType}</Badge> : null}
          <Badge tone="info">{repo.defaultBranch}</Badge>
        </div>
        <button
          className="danger"
          disabled={forget.busy}
          title="Stop managing it; its files and worktrees stay on disk"
          aria-label={`Forget ${repo.name}`}
          onClick={() => void forget.run(() => client.removeRepo(repo.path)).then(onForgotten)}
          data-testid="forget-repo"
        >
          Forget
        </button>
      </div>
      {repo.description ? <p className="small">{repo.description}</p> : null}
      <label className="small" title="Trusted: agents working in this repository load its own .claude settings, hooks, MCP servers and CLAUDE.md/AGENTS.md, which can run commands. Untrusted (the default): they are ignored.">
        <input
          type="checkbox"
          checked={trusted}
          disabled={trustAction.busy}
          data-testid="trust-repo"
          onChange={(event) => void trustAction.run(() => client.setRepoTrusted(repo.path, event.target.checked)).then(onChanged)}
        />{' '}
        Trust this repository's own agent settings (hooks, MCP servers, CLAUDE.md run as you)
      </label>
      <ErrorNote error={trustAction.error} />
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
      <ErrorNote error={forget.error} />
    </li>
  );
}

function AddRepo({ onAdded }: { onAdded: () => Promise<void> }) {
  const client = useClient();
  const add = useAction();
  const [path, setPath] = useState('');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await add.run(() => client.addRepo(path.trim()))) {
      setPath('');
      await onAdded();
    }
  };

  return (
    <form className="form add-repo" onSubmit={submit} data-testid="add-repo">
      <label className="field">
        <span>Add a repository</span>
        <span className="inline">
          <input
            type="text"
            value={path}
            placeholder="/home/you/code/project"
            onChange={(e) => setPath(e.target.value)}
            data-testid="repo-path"
          />
          <button className="primary" type="submit" disabled={add.busy || !path.trim()} data-testid="add-repo-submit">
            Add
          </button>
        </span>
        <span className="muted small">A git work tree inside the workspace root (set on the Pairing screen).</span>
      </label>
      <ErrorNote error={add.error} />
    </form>
  );
}
