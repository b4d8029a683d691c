// Who holds a session, how to pair a browser, and where the cloud lives.
import { useEffect, useState, type FormEvent } from 'react';
import type { DesktopConfig } from '../../../shared/client.js';
import { useAction, useClient, usePolling } from '../api.js';
import { Badge, Empty, ErrorNote, Loading, Section, Time } from '../components/ui.js';
import { pairCommand } from '../pairing.js';

export function PairingScreen({ gatewayUrl }: { gatewayUrl: string }) {
  return (
    <>
      <h1 className="screen-title">Pairing</h1>
      <Sessions />
      <PairBrowser gatewayUrl={gatewayUrl} />
      <CloudSettings />
    </>
  );
}

function Sessions() {
  const client = useClient();
  const sessions = usePolling((c) => c.listSessions().then((r) => r.sessions), 3000);
  const revoke = useAction();
  return (
    <Section
      title="Paired origins"
      description="Every browser tab or window holding a session. Revoking one makes its next request fail with 401."
      testId="sessions"
    >
      <ErrorNote error={sessions.error ?? revoke.error} />
      {!sessions.data ? (
        <Loading failed={Boolean(sessions.error)} />
      ) : sessions.data.length === 0 ? (
        <Empty>No paired sessions.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Origin</th>
              <th scope="col">Kind</th>
              <th scope="col">Last used</th>
              <th scope="col">Paired</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sessions.data.map((session) => (
              <tr key={session.id} data-testid="session-row" data-origin={session.origin} data-session-id={session.id}>
                <td className="mono">{session.origin}</td>
                <td>
                  <Badge tone={session.kind === 'renderer' ? 'info' : 'neutral'}>
                    {session.kind === 'renderer' ? 'desktop window' : 'browser'}
                  </Badge>
                </td>
                <td>
                  <Time value={session.lastUsedAt} />
                </td>
                <td>
                  <Time value={session.createdAt} />
                </td>
                <td>
                  <Time value={session.expiresAt} />
                </td>
                <td className="actions">
                  <button
                    className="danger"
                    disabled={revoke.busy}
                    onClick={() => void revoke.run(() => client.revokeSession(session.id)).then(sessions.reload)}
                    aria-label={`Revoke ${session.origin}`}
                    data-testid="revoke-session"
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function PairBrowser({ gatewayUrl }: { gatewayUrl: string }) {
  return (
    <Section title="Pair a browser" testId="pair-browser">
      <ol className="steps">
        <li>
          <strong>From the web app.</strong> Open the Symphony web app and choose <em>Connect desktop</em>. It asks its
          cloud for a one-time challenge for its origin and exchanges it here; the origin must be listed under{' '}
          <em>Allowed web-app origins</em> below and the desktop API key must be set.
        </li>
        <li>
          <strong>From a terminal.</strong> Mint a local challenge for one exact origin (valid once, for two minutes):
          <pre className="command">{pairCommand('https://app.example.com')}</pre>
          For this gateway's own page, <code>{pairCommand(gatewayUrl)}</code> prints a URL that pairs on open.
        </li>
      </ol>
    </Section>
  );
}

function CloudSettings() {
  const config = usePolling((c) => c.getConfig(), 10_000);
  return (
    <Section
      title="Cloud and web app"
      description="Where pairing challenges are verified, which web-app origins may pair, and the key the gateway uses to ask the cloud."
      testId="cloud-settings"
    >
      <ErrorNote error={config.error} />
      {config.data ? (
        <>
          <ConfigForm config={config.data} onSaved={config.reload} />
          <ApiKeyForm config={config.data} onSaved={config.reload} />
        </>
      ) : (
        <Loading failed={Boolean(config.error)} />
      )}
    </Section>
  );
}

function ConfigForm({ config, onSaved }: { config: DesktopConfig; onSaved: () => Promise<void> }) {
  const client = useClient();
  const save = useAction();
  const [apiOrigin, setApiOrigin] = useState(config.apiOrigin ?? '');
  const [origins, setOrigins] = useState<string[]>(config.allowedOrigins);
  const [newOrigin, setNewOrigin] = useState('');
  const [workspaceRoot, setWorkspaceRoot] = useState(config.workspaceRoot ?? '');
  const [saved, setSaved] = useState(false);

  // Take the server's values when they change underneath us (another window, the CLI).
  useEffect(() => {
    setApiOrigin(config.apiOrigin ?? '');
    setOrigins(config.allowedOrigins);
    setWorkspaceRoot(config.workspaceRoot ?? '');
  }, [config.apiOrigin, config.allowedOrigins.join('\n'), config.workspaceRoot]);

  const addOrigin = () => {
    const value = newOrigin.trim().replace(/\/+$/, '');
    if (value && !origins.includes(value)) setOrigins([...origins, value]);
    setNewOrigin('');
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const ok = await save.run(() =>
      client.patchConfig({
        apiOrigin: apiOrigin.trim() || null,
        allowedOrigins: origins,
        workspaceRoot: workspaceRoot.trim() || null,
      }),
    );
    if (ok) {
      setSaved(true);
      await onSaved();
    }
  };

  return (
    <form className="form" onSubmit={submit} data-testid="config-form">
      <label className="field">
        <span>Cloud API origin</span>
        <input
          type="url"
          value={apiOrigin}
          placeholder="https://api.example.com"
          onChange={(e) => setApiOrigin(e.target.value)}
          data-testid="api-origin"
        />
      </label>
      <fieldset className="field">
        <legend>Allowed web-app origins</legend>
        {origins.length === 0 ? <p className="muted small">None yet.</p> : null}
        <ul className="chips" aria-label="Allowed origins">
          {origins.map((origin) => (
            <li key={origin} className="chip" data-testid="allowed-origin">
              <span className="mono">{origin}</span>
              <button
                type="button"
                className="chip-remove"
                aria-label={`Remove ${origin}`}
                onClick={() => setOrigins(origins.filter((o) => o !== origin))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <div className="inline">
          <input
            type="url"
            value={newOrigin}
            placeholder="https://app.example.com"
            aria-label="New allowed origin"
            onChange={(e) => setNewOrigin(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                addOrigin();
              }
            }}
            data-testid="new-origin"
          />
          <button type="button" onClick={addOrigin} disabled={!newOrigin.trim()}>
            Add
          </button>
        </div>
      </fieldset>
      <label className="field">
        <span>Workspace root</span>
        <input
          type="text"
          value={workspaceRoot}
          placeholder="/home/you/code"
          onChange={(e) => setWorkspaceRoot(e.target.value)}
          data-testid="workspace-root"
        />
      </label>
      <div className="form-actions">
        <button className="primary" type="submit" disabled={save.busy} data-testid="save-config">
          Save
        </button>
        {saved && !save.error ? <span className="ok-note" role="status">Saved.</span> : null}
        <ErrorNote error={save.error} />
      </div>
    </form>
  );
}

function ApiKeyForm({ config, onSaved }: { config: DesktopConfig; onSaved: () => Promise<void> }) {
  const client = useClient();
  const action = useAction();
  const [apiKey, setApiKey] = useState('');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await action.run(() => client.setApiKey(apiKey.trim()))) {
      setApiKey('');
      await onSaved();
    }
  };

  return (
    <form className="form api-key" onSubmit={submit} data-testid="api-key-form">
      <div className="field">
        <span className="label">Desktop API key</span>
        <p data-testid="api-key-status">
          {config.apiKeySet ? (
            <Badge tone="good">set</Badge>
          ) : (
            <Badge tone="warn">not set</Badge>
          )}{' '}
          <span className="muted small">kept in the {config.secretStore === 'file' ? 'file secret store' : 'OS keychain'}; never shown again</span>
        </p>
        <div className="inline">
          <input
            type="password"
            autoComplete="off"
            value={apiKey}
            aria-label="New desktop API key"
            placeholder={config.apiKeySet ? 'Replace the key' : 'Paste the key from the web app'}
            onChange={(e) => setApiKey(e.target.value)}
            data-testid="api-key-input"
          />
          <button className="primary" type="submit" disabled={action.busy || !apiKey.trim()} data-testid="save-api-key">
            Save key
          </button>
          <button
            type="button"
            className="danger"
            disabled={action.busy || !config.apiKeySet}
            onClick={() => void action.run(() => client.clearApiKey()).then(onSaved)}
            data-testid="clear-api-key"
          >
            Clear
          </button>
        </div>
      </div>
      <ErrorNote error={action.error} />
    </form>
  );
}
