// Requests waiting for a person, the policy that decides when to ask, and the
// "allow always" rules that past decisions created.
import { Fragment, useEffect, useMemo, useState } from 'react';
import type { ApprovalDecision, CallerKind, PendingApproval, PolicyDecision, PolicyOverride, PolicyRow } from '../../../shared/client.js';
import { useAction, useClient, usePolling } from '../api.js';
import { Badge, Empty, ErrorNote, Loading, Section, Time } from '../components/ui.js';
import { argRows, prettyJson } from '../format.js';

const RULE_EXPIRIES = [
  { seconds: 3600, label: 'for 1 hour' },
  { seconds: 86_400, label: 'for 1 day' },
  { seconds: 7 * 86_400, label: 'for 7 days' },
  { seconds: 30 * 86_400, label: 'for 30 days' },
];

export function ApprovalsScreen(props: { pending: PendingApproval[]; error: string | null; reload: () => Promise<void> }) {
  return (
    <>
      <h1 className="screen-title">Approvals</h1>
      <Section
        title="Waiting for you"
        description="Each request below is paused until you decide. Unanswered requests fail after two minutes."
        testId="pending-approvals"
      >
        <ErrorNote error={props.error} />
        {props.pending.length === 0 ? (
          <Empty>No request is waiting.</Empty>
        ) : (
          <ul className="approvals">
            {props.pending.map((approval) => (
              <ApprovalCard key={approval.id} approval={approval} onDecided={props.reload} />
            ))}
          </ul>
        )}
      </Section>
      <Rules />
      <Policies />
    </>
  );
}

function callerLabel(kind: CallerKind): string {
  if (kind === 'relay') return 'The cloud, through the relay';
  return kind === 'renderer' ? 'Desktop window' : kind === 'token' ? 'Gateway token (executor or local tool)' : 'Paired web origin';
}

function ApprovalCard({ approval, onDecided }: { approval: PendingApproval; onDecided: () => Promise<void> }) {
  const client = useClient();
  const decide = useAction();
  const [expiry, setExpiry] = useState(RULE_EXPIRIES[1].seconds);
  const args = prettyJson(approval.args);
  const rows = argRows(approval.args);
  const hasClaims = Boolean(approval.caller.claimedSource || approval.claimedReason);

  const send = (decision: ApprovalDecision) =>
    void decide.run(() => client.decideApproval(approval.id, decision, decision === 'allow_always' ? expiry : undefined)).then(onDecided);

  return (
    <li className="approval" data-testid="approval" data-approval-id={approval.id} aria-label={`Approval for ${approval.operation}`}>
      <div className="approval-head">
        <div>
          <code className="operation" data-testid="approval-operation">{approval.operation}</code>{' '}
          <Badge tone={approval.access === 'write' ? 'warn' : 'neutral'}>{approval.access}</Badge>
          {approval.action ? <Badge tone="info">{approval.action}</Badge> : null}
        </div>
        <span className="muted small">
          expires <Time value={approval.expiresAt} />
        </span>
      </div>
      <p className="mono request-line">
        {approval.method} {approval.path}
      </p>
      <dl className="facts">
        <dt>Caller</dt>
        <dd data-testid="approval-caller">
          {callerLabel(approval.caller.kind)}
          {approval.caller.origin ? <span className="mono"> {approval.caller.origin}</span> : null}
        </dd>
        {approval.repoPath ? (
          <>
            <dt>Repository</dt>
            <dd className="mono">{approval.repoPath}</dd>
          </>
        ) : null}
        <dt>Asked</dt>
        <dd>
          <Time value={approval.createdAt} />
        </dd>
      </dl>
      {hasClaims ? (
        <div className="claims" data-testid="approval-claims">
          <p className="claims-title">Claimed by the caller, not verified</p>
          <dl className="facts">
            {approval.caller.claimedSource ? (
              <>
                <dt>Says it is</dt>
                <dd>“{approval.caller.claimedSource}”</dd>
              </>
            ) : null}
            {approval.claimedReason ? (
              <>
                <dt>Says why</dt>
                <dd>“{approval.claimedReason}”</dd>
              </>
            ) : null}
          </dl>
        </div>
      ) : null}
      {rows.length > 0 ? (
        <div className="args">
          <p className="claims-title">What it asks</p>
          <dl className="facts" data-testid="approval-args">
            {rows.map((row) => (
              <Fragment key={row.key}>
                <dt className="mono small">{row.key || 'value'}</dt>
                <dd className="mono small pre-wrap">{row.value}</dd>
              </Fragment>
            ))}
          </dl>
          <details>
            <summary>Raw request</summary>
            <pre data-testid="approval-raw">{args}</pre>
          </details>
        </div>
      ) : null}
      <div className="decision-bar">
        <button className="primary" disabled={decide.busy} onClick={() => send('allow_once')} data-testid="allow-once">
          Allow once
        </button>
        <span className="inline">
          <button disabled={decide.busy} onClick={() => send('allow_always')} data-testid="allow-always">
            Allow always
          </button>
          <select
            value={expiry}
            aria-label="How long “allow always” lasts"
            onChange={(e) => setExpiry(Number(e.target.value))}
            data-testid="rule-expiry"
          >
            {RULE_EXPIRIES.map((option) => (
              <option key={option.seconds} value={option.seconds}>
                {option.label}
              </option>
            ))}
          </select>
        </span>
        <button className="danger" disabled={decide.busy} onClick={() => send('deny')} data-testid="deny">
          Deny
        </button>
      </div>
      <ErrorNote error={decide.error} />
    </li>
  );
}

function Rules() {
  const client = useClient();
  const rules = usePolling((c) => c.listRules().then((r) => r.rules), 5000);
  const remove = useAction();
  return (
    <Section
      title="Always-allow rules"
      description="Created by “Allow always”: the same operation, method, path and repository from the same caller pass without asking until the rule expires."
      testId="rules"
    >
      <ErrorNote error={rules.error ?? remove.error} />
      {!rules.data ? (
        <Loading failed={Boolean(rules.error)} />
      ) : rules.data.length === 0 ? (
        <Empty>No rules.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Caller</th>
              <th scope="col">Operation</th>
              <th scope="col">Request</th>
              <th scope="col">Repository</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rules.data.map((rule) => (
              <tr key={rule.id} data-testid="rule-row">
                <td>
                  {rule.callerKind}
                  {rule.origin ? <div className="mono small">{rule.origin}</div> : null}
                </td>
                <td>
                  <code>{rule.operation}</code>
                  {rule.action ? (
                    <>
                      {' '}
                      <code data-testid="rule-action">{rule.action}</code>
                    </>
                  ) : null}
                  <div className="muted small">{rule.access ?? 'old rule: matches nothing'}</div>
                </td>
                <td className="mono">
                  {rule.method} {rule.path}
                </td>
                <td className="mono">{rule.repoPath ?? <span className="muted">any</span>}</td>
                <td>{rule.expiresAt ? <Time value={rule.expiresAt} /> : 'never'}</td>
                <td className="actions">
                  <button
                    className="danger"
                    disabled={remove.busy}
                    onClick={() => void remove.run(() => client.deleteRule(rule.id)).then(rules.reload)}
                    data-testid="delete-rule"
                  >
                    Delete
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

const policyKey = (row: { callerKind: string; operation: string; access: string; action?: string | null }) =>
  `${row.callerKind}|${row.operation}|${row.access}|${row.action ?? ''}`;

function Policies() {
  const client = useClient();
  const policies = usePolling((c) => c.listPolicies().then((r) => r.policies), 30_000);
  const save = useAction();
  // The user's overrides as edited here; saving replaces the stored set with this one.
  const [overrides, setOverrides] = useState<Map<string, PolicyOverride> | null>(null);
  const [caller, setCaller] = useState<CallerKind | 'all'>('origin');
  const [filter, setFilter] = useState('');

  const stored = useMemo(() => {
    const map = new Map<string, PolicyOverride>();
    for (const row of policies.data ?? []) if (row.source === 'user') map.set(policyKey(row), toOverride(row, row.decision));
    return map;
  }, [policies.data]);
  const edited = overrides ?? stored;
  const dirty = overrides !== null && !sameOverrides(overrides, stored);

  useEffect(() => {
    if (overrides && sameOverrides(overrides, stored)) setOverrides(null);
  }, [overrides, stored]);

  const groups = groupPolicies(
    (policies.data ?? []).filter(
      (row) =>
        (caller === 'all' || row.callerKind === caller) &&
        (!filter || `${row.operation} ${row.action ?? ''}`.toLowerCase().includes(filter.toLowerCase())),
    ),
  );

  const change = (row: PolicyRow, decision: PolicyDecision) => {
    const next = new Map(edited);
    next.set(policyKey(row), toOverride(row, decision));
    setOverrides(next);
  };
  const revert = (rows: PolicyRow[]) => {
    const next = new Map(edited);
    for (const row of rows) next.delete(policyKey(row));
    setOverrides(next);
  };

  const submit = async () => {
    if (await save.run(() => client.replacePolicies([...edited.values()]))) {
      await policies.reload();
      setOverrides(null);
    }
  };

  return (
    <Section
      title="Policy"
      description="What happens when a caller uses an operation: allow, ask you first, or deny. Deny beats ask beats allow."
      testId="policies"
      actions={
        <>
          {dirty ? (
            <button onClick={() => setOverrides(null)} disabled={save.busy}>
              Discard
            </button>
          ) : null}
          <button className="primary" onClick={() => void submit()} disabled={!dirty || save.busy} data-testid="save-policies">
            Save policy
          </button>
        </>
      }
    >
      <div className="toolbar">
        <label className="inline">
          <span className="small muted">Caller</span>
          <select value={caller} onChange={(e) => setCaller(e.target.value as CallerKind | 'all')} data-testid="policy-caller">
            <option value="origin">Paired web origins</option>
            <option value="relay">The cloud (relay)</option>
            <option value="token">Gateway token</option>
            <option value="renderer">Desktop window</option>
            <option value="all">All callers</option>
          </select>
        </label>
        <input
          type="search"
          placeholder="Filter operations"
          aria-label="Filter operations"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
      </div>
      <ErrorNote error={policies.error ?? save.error} />
      {!policies.data ? (
        <Loading failed={Boolean(policies.error)} />
      ) : (
        <div className="table-scroll">
          <table className="policy-table">
            <thead>
              <tr>
                {caller === 'all' ? <th scope="col">Caller</th> : null}
                <th scope="col">Operation</th>
                <th scope="col">Read</th>
                <th scope="col">Write</th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody>
              {groups.map((group) => {
                const rows = ACCESSES.map((access) => group.cells[access]).filter((row) => row !== undefined);
                const isUser = rows.some((row) => edited.has(policyKey(row)));
                const resetPending = !isUser && rows.some((row) => row.source === 'user');
                return (
                  <tr key={group.key} data-testid="policy-row" data-key={group.key}>
                    {caller === 'all' ? <td>{group.callerKind}</td> : null}
                    <td>
                      <code>{group.operation}</code>
                      {group.action ? <span className="muted"> · {group.action}</span> : null}
                    </td>
                    {ACCESSES.map((access) => {
                      const row = group.cells[access];
                      if (!row) return <td key={access} className="muted">–</td>;
                      const decision = edited.get(policyKey(row))?.decision ?? row.decision;
                      return (
                        <td key={access}>
                          <select
                            className={`decision decision-${decision}`}
                            value={decision}
                            aria-label={`${access} ${group.operation}${group.action ? ` ${group.action}` : ''}`}
                            onChange={(e) => change(row, e.target.value as PolicyDecision)}
                            data-testid="policy-decision"
                            data-access={access}
                          >
                            <option value="allow">allow</option>
                            <option value="ask">ask</option>
                            <option value="deny">deny</option>
                          </select>
                        </td>
                      );
                    })}
                    <td>
                      {isUser ? (
                        <span className="inline">
                          <Badge tone="info">yours</Badge>
                          <button className="link" onClick={() => revert(rows)} title="Go back to the defaults after saving">
                            reset
                          </button>
                        </span>
                      ) : (
                        <span className="muted small">{resetPending ? 'default after saving' : 'default'}</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

const ACCESSES = ['read', 'write'] as const;

interface PolicyGroup {
  key: string;
  callerKind: CallerKind;
  operation: string;
  action: string | null;
  cells: Partial<Record<(typeof ACCESSES)[number], PolicyRow>>;
}

/** One table row per (caller, operation, action), with its read and write decisions side by side. */
function groupPolicies(rows: PolicyRow[]): PolicyGroup[] {
  const groups = new Map<string, PolicyGroup>();
  for (const row of rows) {
    const key = `${row.callerKind}|${row.operation}|${row.action ?? ''}`;
    const group = groups.get(key) ?? { key, callerKind: row.callerKind, operation: row.operation, action: row.action ?? null, cells: {} };
    group.cells[row.access] = row;
    groups.set(key, group);
  }
  // What asks or denies is what people look for; it comes first, the table order otherwise.
  const strict = (group: PolicyGroup) => Object.values(group.cells).some((row) => row.decision !== 'allow');
  return [...groups.values()].sort((a, b) => Number(strict(b)) - Number(strict(a)));
}

function toOverride(row: PolicyRow, decision: PolicyDecision): PolicyOverride {
  return { callerKind: row.callerKind, operation: row.operation, access: row.access, ...(row.action ? { action: row.action } : {}), decision };
}

function sameOverrides(a: Map<string, PolicyOverride>, b: Map<string, PolicyOverride>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key)?.decision !== value.decision) return false;
  return true;
}
