// How agents run: the OS sandbox (and its off switch, with what turning it off means) and
// the environment agent CLIs get (the allowlist, values the user set; secrets never shown).
import { useEffect, useState } from 'react';
import { useAction, useClient, usePolling } from '../api.js';
import { Badge, Empty, ErrorNote, Loading, Section } from '../components/ui.js';

export function AgentsScreen() {
  const client = useClient();
  const config = usePolling((c) => c.getConfig(), 5000);
  const save = useAction();
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const c = config.data;

  const apply = async (patch: Parameters<typeof client.patchConfig>[0]) => {
    if (await save.run(() => client.patchConfig(patch))) await config.reload();
  };

  const sandbox = c?.agentConfinement;
  return (
    <>
      <h1 className="screen-title">Agents</h1>
      <LimitsSection limits={c?.limits} busy={save.busy} apply={apply} />
      <Section
        title="Sandbox"
        description="Agents (claude, codex) run inside an OS sandbox that shows them their working folder and nothing else of your home: not ~/.ssh, ~/.aws, other repositories or this gateway's data."
        testId="agent-sandbox"
        actions={
          sandbox ? (
            <button
              className={sandbox.enabled ? 'danger' : 'primary'}
              disabled={save.busy}
              data-testid="agent-sandbox-toggle"
              onClick={() => {
                if (sandbox.enabled && !window.confirm('Turn the agent sandbox off? Agents will be able to read and change everything your user account can, including ~/.ssh and other repositories.')) return;
                void apply({ agentConfinement: { enabled: !sandbox.enabled } });
              }}
            >
              {sandbox.enabled ? 'Turn off' : 'Turn on'}
            </button>
          ) : null
        }
      >
        <ErrorNote error={config.error ?? save.error} />
        {!sandbox ? (
          <Loading failed={Boolean(config.error)} />
        ) : (
          <div data-testid="agent-sandbox-state" data-enabled={String(sandbox.enabled)}>
            {sandbox.enabled ? (
              <p>
                <Badge tone={sandbox.missing.length ? 'bad' : 'good'}>on</Badge>{' '}
                {sandbox.osSandbox === 'none'
                  ? "This system has no OS sandbox: agents run in the CLIs' own sandboxes only."
                  : `Agents run inside ${sandbox.osSandbox}, and inside the CLIs' own sandboxes.`}
              </p>
            ) : (
              <p className="error-note" role="alert">
                <Badge tone="bad">off</Badge> Agents run WITHOUT the sandbox: they can read your whole home folder (keys, tokens,
                other repositories) and their commands can write anywhere you can. Every agent start is logged as unconfined.
              </p>
            )}
            {sandbox.limitations.map((limitation) => (
              <p className="small muted" data-testid="agent-sandbox-limitation" key={limitation}>
                {limitation}
              </p>
            ))}
            {sandbox.enabled && sandbox.missing.length ? (
              <p className="error-note" data-testid="agent-sandbox-missing">
                Missing: {sandbox.missing.join(', ')}. Agents cannot start until it is installed (Debian/Ubuntu: <code>sudo apt install bubblewrap socat</code>).
              </p>
            ) : null}
          </div>
        )}
      </Section>
      <Section
        title="Environment"
        description="What agent CLIs get beyond PATH, HOME and the locale: the allowlist below (copied from the gateway's environment when set there) and the values you set. Values whose names look like credentials are kept in the keychain and never shown."
        testId="agent-env"
      >
        {!c ? (
          <Loading failed={Boolean(config.error)} />
        ) : (
          <>
            <p className="small muted">
              Allowlist: <span className="mono">{[...c.agentEnv.defaults, ...c.agentEnv.pass].join(', ')}</span>; claude also{' '}
              <span className="mono">{c.agentEnv.cliNames.claude.join(', ')}</span>; codex also <span className="mono">{c.agentEnv.cliNames.codex.join(', ')}</span>.
            </p>
            {c.agentEnv.entries.length === 0 ? (
              <Empty>Nothing beyond the basics.</Empty>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Value</th>
                    <th scope="col">From</th>
                    <th scope="col" />
                  </tr>
                </thead>
                <tbody>
                  {c.agentEnv.entries.map((entry) => (
                    <tr key={entry.name} data-testid="agent-env-row" data-name={entry.name}>
                      <th scope="row" className="mono">{entry.name}</th>
                      <td className="mono small">{entry.secret ? <Badge tone="info">secret, set</Badge> : entry.value}</td>
                      <td>{entry.source === 'setting' ? 'set here' : "the gateway's environment"}</td>
                      <td>
                        {entry.source === 'setting' ? (
                          <button disabled={save.busy} onClick={() => void apply({ agentEnv: { unset: [entry.name] } })}>
                            Remove
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <form
              className="inline"
              data-testid="agent-env-form"
              onSubmit={(event) => {
                event.preventDefault();
                const key = name.trim();
                if (!key) return;
                void apply({ agentEnv: { set: { [key]: value } } }).then(() => {
                  setName('');
                  setValue('');
                });
              }}
            >
              <input aria-label="Variable name" placeholder="NAME" value={name} onChange={(e) => setName(e.target.value)} />
              <input aria-label="Value" placeholder="value" value={value} onChange={(e) => setValue(e.target.value)} type={/(TOKEN|SECRET|PASSWORD|KEY)/i.test(name) ? 'password' : 'text'} />
              <button type="submit" disabled={save.busy || !name.trim()}>
                Set
              </button>
            </form>
          </>
        )}
      </Section>
    </>
  );
}

type Limits = { concurrentAgents: number; runViewerMaxGiB: number; runViewerMaxAgeDays: number };

/** What a paired origin can make this desktop do at once, and how much of its uploads is kept. */
function LimitsSection({ limits, busy, apply }: { limits?: Limits; busy: boolean; apply: (patch: { limits: Partial<Limits> }) => Promise<void> }) {
  const [draft, setDraft] = useState<Record<keyof Limits, string> | null>(null);
  useEffect(() => {
    if (limits && !draft) setDraft({ concurrentAgents: String(limits.concurrentAgents), runViewerMaxGiB: String(limits.runViewerMaxGiB), runViewerMaxAgeDays: String(limits.runViewerMaxAgeDays) });
  }, [limits, draft]);
  const field = (name: keyof Limits, label: string, step: string) => (
    <label>
      {label}{' '}
      <input
        type="number" step={step} min={name === 'runViewerMaxGiB' ? 0.1 : 1} data-testid={`limit-${name}`} aria-label={label}
        value={draft?.[name] ?? ''} onChange={(e) => setDraft((d) => (d ? { ...d, [name]: e.target.value } : d))}
      />
    </label>
  );
  return (
    <Section
      title="Limits"
      description="Caps a paired web app cannot exceed: agents it may run at once (more wait in a queue of 16 and are told their place; beyond that it is refused), and how much of its uploaded runs the run viewer keeps (the oldest are removed first)."
      testId="agent-limits"
    >
      {!limits || !draft ? (
        <Loading />
      ) : (
        <form
          className="inline"
          onSubmit={(event) => {
            event.preventDefault();
            void apply({ limits: { concurrentAgents: Number(draft.concurrentAgents), runViewerMaxGiB: Number(draft.runViewerMaxGiB), runViewerMaxAgeDays: Number(draft.runViewerMaxAgeDays) } });
          }}
        >
          {field('concurrentAgents', 'Agents at once', '1')}
          {field('runViewerMaxGiB', 'Run viewer GiB', 'any')}
          {field('runViewerMaxAgeDays', 'Run viewer days', '1')}
          <button type="submit" disabled={busy} data-testid="limits-save">Save</button>
        </form>
      )}
    </Section>
  );
}
