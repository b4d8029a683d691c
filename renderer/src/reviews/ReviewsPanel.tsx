// A ticket's code reviews, self-contained: give it the ticket and the repository. It
// starts a review (codex or claude, read-only), shows it stream, lists each reviewer's
// findings by severity with file:line and status (which the user changes), pairs the two
// reviewers' findings that say the same thing, and asks for and shows the verdict.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ReviewFinding, ReviewProviderId, ReviewStatus, ReviewStreamEvent } from '../../../shared/client.js';
import { errorText, useAction, useClient } from '../api.js';
import { Badge, Empty, ErrorNote, Section, Time } from '../components/ui.js';

const PROVIDERS: ReviewProviderId[] = ['codex', 'claude'];
const SEVERITY_ORDER: ReviewFinding['severity'][] = ['critical', 'high', 'medium', 'low', 'info'];
const STATUSES: ReviewFinding['status'][] = ['open', 'commented', 'dismissed', 'fixed'];
const SEVERITY_TONE: Record<ReviewFinding['severity'], 'bad' | 'warn' | 'info' | 'neutral'> = {
  critical: 'bad', high: 'bad', medium: 'warn', low: 'info', info: 'neutral',
};
const VERDICT_TONE = { approve: 'good', needs_attention: 'warn', decline: 'bad' } as const;

interface ProviderState {
  findings: ReviewFinding[];
  status: ReviewStatus | null;
}

type Reviews = Record<ReviewProviderId, ProviderState>;

export function ReviewsPanel({ ticketId, repoPath }: { ticketId: string; repoPath: string }) {
  const client = useClient();
  const [reviews, setReviews] = useState<Reviews | null>(null);
  const [pairs, setPairs] = useState<Array<[number, number]>>([]);
  const [loadError, setLoadError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      const loaded = {} as Reviews;
      for (const provider of PROVIDERS) {
        const [findings, status] = await Promise.all([
          client.reviewFindings(ticketId, repoPath, provider),
          client.reviewStatus(ticketId, repoPath, provider),
        ]);
        loaded[provider] = { findings: findings.findings, status };
      }
      setReviews(loaded);
      const both = loaded.codex.findings.length && loaded.claude.findings.length;
      setPairs(
        both
          ? (await client.dedupFindings(ticketId, repoPath, { provider: 'codex', findings: loaded.codex.findings }, { provider: 'claude', findings: loaded.claude.findings })).duplicates
          : [],
      );
      setLoadError(null);
    } catch (cause) {
      setLoadError(errorText(cause));
    }
  }, [client, ticketId, repoPath]);

  useEffect(() => void reload(), [reload]);

  return (
    <div className="reviews" data-testid="reviews-panel" data-ticket={ticketId}>
      <StartReview ticketId={ticketId} repoPath={repoPath} onEnded={reload} />
      <ErrorNote error={loadError} />
      {reviews
        ? PROVIDERS.map((provider) => (
            <ProviderFindings
              key={provider}
              provider={provider}
              ticketId={ticketId}
              repoPath={repoPath}
              state={reviews[provider]}
              pairs={pairs.map(([codex, claude]) => (provider === 'codex' ? [codex, claude] : [claude, codex]))}
              other={provider === 'codex' ? 'claude' : 'codex'}
              onChanged={reload}
            />
          ))
        : null}
    </div>
  );
}

function StartReview({ ticketId, repoPath, onEnded }: { ticketId: string; repoPath: string; onEnded: () => Promise<void> }) {
  const client = useClient();
  const [provider, setProvider] = useState<ReviewProviderId>('codex');
  const [reviewMode, setReviewMode] = useState<'base' | 'uncommitted'>('base');
  const [baseBranch, setBaseBranch] = useState('');
  const [branchName, setBranchName] = useState('');
  const [instructions, setInstructions] = useState('');
  const [running, setRunning] = useState(false);
  const [output, setOutput] = useState('');
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const abort = useRef<AbortController | null>(null);
  const stop = useAction();

  useEffect(() => () => abort.current?.abort(), []);

  const start = async () => {
    setRunning(true);
    setError(null);
    setNote(null);
    setOutput('');
    abort.current = new AbortController();
    const onEvent = (event: ReviewStreamEvent) => {
      if (event.type === 'text') setOutput((text) => (text + String(event.content)).slice(-4000));
      else if (event.type === 'error') setError(String(event.message));
      else if (event.type === 'findings') setNote(`${String(event.count)} finding(s)${(event.invalid as unknown[]).length ? `, ${(event.invalid as unknown[]).length} malformed` : ''}.`);
      else if (event.type === 'result' && !event.success) setNote(`The review ended: ${String(event.reason ?? 'failed')}.`);
    };
    try {
      await client.startReview(
        ticketId,
        { repoPath, provider, reviewMode, baseBranch: baseBranch.trim() || undefined, branchName: branchName.trim() || undefined, instructions: instructions.trim() || undefined },
        onEvent,
        abort.current.signal,
      );
    } catch (cause) {
      if (!abort.current.signal.aborted) setError(errorText(cause));
    } finally {
      setRunning(false);
      await onEnded();
    }
  };

  return (
    <Section title="Review" description="An agent reviews the ticket's changes read-only: it can look at the code, never change it." testId="review-start">
      <div className="form">
        <div className="toolbar">
          <label className="field">
            <span>Reviewer</span>
            <select value={provider} onChange={(e) => setProvider(e.target.value as ReviewProviderId)} disabled={running} data-testid="review-provider">
              {PROVIDERS.map((p) => <option key={p} value={p}>{p}</option>)}
            </select>
          </label>
          <label className="field">
            <span>Changes</span>
            <select value={reviewMode} onChange={(e) => setReviewMode(e.target.value as 'base' | 'uncommitted')} disabled={running} data-testid="review-mode">
              <option value="base">Branch against its base</option>
              <option value="uncommitted">Uncommitted changes</option>
            </select>
          </label>
          {reviewMode === 'base' ? (
            <label className="field">
              <span>Base branch</span>
              <input type="text" value={baseBranch} placeholder="main" onChange={(e) => setBaseBranch(e.target.value)} disabled={running} data-testid="review-base" />
            </label>
          ) : null}
          <label className="field">
            <span>Branch (when the ticket has no worktree)</span>
            <input type="text" value={branchName} placeholder="feature/…" onChange={(e) => setBranchName(e.target.value)} disabled={running} data-testid="review-branch" />
          </label>
        </div>
        <label className="field">
          <span>Instructions for the reviewer (optional)</span>
          <textarea rows={2} value={instructions} onChange={(e) => setInstructions(e.target.value)} disabled={running} data-testid="review-instructions" />
        </label>
        <div className="form-actions">
          {running ? (
            <button className="danger" disabled={stop.busy} onClick={() => void stop.run(() => client.stopReview(ticketId, repoPath, provider))} data-testid="review-stop">
              Stop
            </button>
          ) : (
            <button className="primary" onClick={() => void start()} data-testid="review-run">
              Start review
            </button>
          )}
          {running ? <span className="muted" aria-busy="true">Reviewing…</span> : null}
          {note ? <span className="muted" data-testid="review-note">{note}</span> : null}
        </div>
      </div>
      <ErrorNote error={error ?? stop.error} />
      {output ? <pre className="log-tail" data-testid="review-output">{output}</pre> : null}
    </Section>
  );
}

function ProviderFindings(props: {
  provider: ReviewProviderId;
  other: ReviewProviderId;
  ticketId: string;
  repoPath: string;
  state: ProviderState;
  /** [index here, index in the other reviewer's findings]. */
  pairs: Array<[number, number]>;
  onChanged: () => Promise<void>;
}) {
  const { provider, state } = props;
  const status = state.status?.hasReview ? state.status : null;
  const sorted = [...state.findings].sort(
    (a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.index - b.index,
  );
  return (
    <Section
      title={`${provider} findings`}
      description={
        status ? (
          <>
            Last review {status.status} <Time value={status.startedAt} />
          </>
        ) : state.findings.length ? (
          'Findings saved by a client; no review run here yet.'
        ) : (
          `No ${provider} review yet.`
        )
      }
      actions={<Verdict {...props} />}
      testId={`findings-${provider}`}
    >
      {sorted.length === 0 ? (
        <Empty>{status ? 'No findings.' : 'Start a review above.'}</Empty>
      ) : (
        <ul className="findings">
          {sorted.map((finding) => (
            <FindingRow key={finding.id} {...props} finding={finding} sameAs={props.pairs.find(([mine]) => mine === finding.index)?.[1]} />
          ))}
        </ul>
      )}
    </Section>
  );
}

function FindingRow(props: {
  provider: ReviewProviderId;
  other: ReviewProviderId;
  ticketId: string;
  repoPath: string;
  finding: ReviewFinding;
  sameAs: number | undefined;
  onChanged: () => Promise<void>;
}) {
  const client = useClient();
  const change = useAction();
  const { finding } = props;
  const where = finding.file ? `${finding.file}${finding.line ? `:${finding.line}` : ''}` : null;
  return (
    <li className="finding" data-testid="finding" data-severity={finding.severity} data-status={finding.status}>
      <div className="finding-head">
        <Badge tone={SEVERITY_TONE[finding.severity]}>{finding.severity}</Badge>
        <Badge tone="neutral">{finding.priority}</Badge>
        <strong>{finding.title}</strong>
        {where ? <code className="finding-where" data-testid="finding-where">{where}</code> : null}
        <select
          aria-label={`Status of ${finding.title}`}
          value={finding.status}
          disabled={change.busy}
          onChange={(e) =>
            void change
              .run(() => client.setFindingStatus(props.ticketId, props.repoPath, props.provider, finding.id, e.target.value as ReviewFinding['status']))
              .then(props.onChanged)
          }
          data-testid="finding-status"
        >
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </div>
      {finding.body ? <p className="small">{finding.body}</p> : null}
      {finding.suggestion ? <p className="small muted">Suggested: {finding.suggestion}</p> : null}
      <p className="small muted">
        {props.sameAs !== undefined ? (
          <span data-testid="finding-duplicate">
            Same as {props.other} finding #{props.sameAs + 1}.{' '}
          </span>
        ) : null}
        {finding.duplicateOf ? <span>Repeats a finding already {finding.status} in an earlier review. </span> : null}
        {finding.confidence !== null ? <span>Confidence {Math.round(finding.confidence * 100)}%.</span> : null}
      </p>
      <ErrorNote error={change.error} />
    </li>
  );
}

function Verdict(props: { provider: ReviewProviderId; ticketId: string; repoPath: string; state: ProviderState; onChanged: () => Promise<void> }) {
  const client = useClient();
  const ask = useAction();
  const [error, setError] = useState<string | null>(null);
  const status = props.state.status?.hasReview ? props.state.status : null;
  if (!status) return null;
  const verdict = status.verdict;
  const sessionId = status.sessionId;
  return (
    <div className="verdict" data-testid={`verdict-${props.provider}`}>
      {verdict ? (
        <span title={verdict.reason}>
          <Badge tone={VERDICT_TONE[verdict.verdict]}>{verdict.verdict.replace('_', ' ')}</Badge> <span className="small">{verdict.reason}</span>
        </span>
      ) : null}
      {sessionId && status.status === 'completed' ? (
        <button
          disabled={ask.busy}
          onClick={() =>
            void ask
              .run(async () => {
                const reply = await client.reviewVerdict(props.ticketId, props.repoPath, props.provider, sessionId);
                setError(reply.verdict ? null : (reply.error ?? 'No verdict.'));
              })
              .then(props.onChanged)
          }
          data-testid={`ask-verdict-${props.provider}`}
        >
          {ask.busy ? 'Asking…' : verdict ? 'Ask again' : 'Ask for a verdict'}
        </button>
      ) : null}
      <ErrorNote error={error ?? ask.error} />
    </div>
  );
}
