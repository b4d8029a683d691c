// Which claude, codex, gh, git and python3 the gateway runs, and overrides for them.
import { useState } from 'react';
import { BINARY_NAMES, type BinaryInfo, type BinaryName } from '../../../shared/client.js';
import { useAction, useClient, usePolling } from '../api.js';
import { Badge, ErrorNote, Loading, Section } from '../components/ui.js';

export function BinaryPathsScreen() {
  const binaries = usePolling((c) => c.getBinaryPaths().then((r) => r.binaries), 15_000);
  return (
    <>
      <h1 className="screen-title">Binary paths</h1>
      <Section
        title="Tools"
        description="The effective path is your override when set, else the first match on PATH."
        testId="binaries"
      >
        <ErrorNote error={binaries.error} />
        {!binaries.data ? (
          <Loading failed={Boolean(binaries.error)} />
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Tool</th>
                <th scope="col">Effective path</th>
                <th scope="col">Source</th>
                <th scope="col">Version</th>
                <th scope="col">Override</th>
              </tr>
            </thead>
            <tbody>
              {BINARY_NAMES.map((name) => (
                <BinaryRow key={name} name={name} info={binaries.data?.[name]} onSaved={binaries.reload} />
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}

function BinaryRow({ name, info, onSaved }: { name: BinaryName; info: BinaryInfo | undefined; onSaved: () => Promise<void> }) {
  const client = useClient();
  const save = useAction();
  const [draft, setDraft] = useState<string | null>(null);
  const value = draft ?? info?.override ?? '';

  const apply = async (path: string | null) => {
    if (await save.run(() => client.setBinaryPaths({ [name]: path }))) {
      setDraft(null);
      await onSaved();
    }
  };

  return (
    <tr data-testid="binary-row" data-binary={name}>
      <th scope="row">
        <code>{name}</code>
      </th>
      <td className="mono" data-testid="binary-path">
        {info?.path ?? <Badge tone="bad">not found</Badge>}
        {info?.note ? <div className="small muted">{info.note}</div> : null}
      </td>
      <td data-testid="binary-source">
        {info ? <Badge tone={info.source === 'override' ? 'info' : info.source === 'missing' ? 'bad' : 'neutral'}>{info.source.replace('-', ' ')}</Badge> : null}
      </td>
      <td className="mono small nowrap">{info?.version ?? '–'}</td>
      <td>
        <form
          className="inline"
          onSubmit={(event) => {
            event.preventDefault();
            void apply(value.trim() || null);
          }}
        >
          <input
            type="text"
            value={value}
            placeholder="use PATH"
            aria-label={`Override path for ${name}`}
            onChange={(e) => setDraft(e.target.value)}
          />
          <button type="submit" disabled={save.busy || draft === null}>
            Save
          </button>
          {info?.override ? (
            <button type="button" className="link" disabled={save.busy} onClick={() => void apply(null)}>
              clear
            </button>
          ) : null}
        </form>
        <ErrorNote error={save.error} />
      </td>
    </tr>
  );
}
