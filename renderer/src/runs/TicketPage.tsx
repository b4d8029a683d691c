// A ticket's page: its run (status, iteration, tokens, cost, worktree and its retention),
// Stop / Resume / Accept plan / Discard / Launch, a progress line on long steps, the plan
// with its tasks ticked as they complete, the judges per iteration with their output, the
// PR feedback each iteration addressed, the live log; then the ticket's code reviews and
// its dev server.
import { useCallback, useState } from 'react';
import type { JudgesReport, RunDetailView, RunEvent } from '../../../shared/client.js';
import { useAction, useClient, usePolling } from '../api.js';
import { DeployPanel } from '../components/DeployPanel.js';
import { Badge, Empty, ErrorNote, Loading, Section, Time } from '../components/ui.js';
import { elapsed, formatBytes, formatCost, formatCount } from '../format.js';
import { ReviewsPanel } from '../reviews/ReviewsPanel.js';
import { RunLog } from './RunLog.js';
import { RunStatusBadge } from './RunStatusBadge.js';

export interface TicketRef {
  repoPath: string;
  ticketId: string;
}

const LIVE = new Set(['STARTING', 'IN_PROGRESS']);
const RESUMABLE = new Set(['STOPPED', 'FAILED', 'INTERRUPTED']);

export function TicketPage({ ticket, onBack }: { ticket: TicketRef; onBack: () => void }) {
  const { repoPath, ticketId } = ticket;
  const load = useCallback(
    async (c: ReturnType<typeof useClient>) => {
      const status = await c.ticketRun(ticketId, repoPath);
      return 'runId' in status ? await c.runDetail(status.runId) : null;
    },
    [ticketId, repoPath],
  );
  const detail = usePolling(load, 1000);
  const run = detail.data ?? null;
  const [events, setEvents] = useState<RunEvent[]>([]);

  return (
    <div className="run-page" data-testid="ticket-page" data-ticket={ticketId}>
      <div className="toolbar">
        <button onClick={onBack} data-testid="ticket-back">
          ← Runs
        </button>
        <h1 className="screen-title">
          {ticketId}
          {run?.ticket.title ? <span className="muted"> · {run.ticket.title}</span> : null}
        </h1>
      </div>
      <Section title="Run" description={<span className="mono small">{repoPath}</span>} testId="run-summary" actions={<RunActions ticket={ticket} run={run} reload={detail.reload} />}>
        <ErrorNote error={detail.error} />
        {detail.data === undefined ? <Loading failed={Boolean(detail.error)} /> : run ? <RunFacts run={run} events={events} /> : <Empty>This ticket has no run yet.</Empty>}
      </Section>
      {run ? (
        <>
          <PlanSection run={run} />
          <JudgesSection run={run} />
          {run.feedback.length ? <FeedbackSection run={run} /> : null}
          <Section title="Log" description="The run's events as they happen." testId="run-log-section">
            <RunLog key={run.runId} ticket={ticket} live={run.processRunning || LIVE.has(run.status)} onEvents={setEvents} />
          </Section>
        </>
      ) : null}
      <ReviewsPanel ticketId={ticketId} repoPath={repoPath} />
      <Section title="Preview" description="The ticket's dev server, on a free port of its own." testId="previews">
        <DeployPanel repoPath={repoPath} ticketId={ticketId} />
      </Section>
    </div>
  );
}

function RunActions({ ticket, run, reload }: { ticket: TicketRef; run: RunDetailView | null; reload: () => Promise<void> }) {
  const client = useClient();
  const action = useAction();
  const [provider, setProvider] = useState<'claude' | 'codex'>('claude');
  const [busyLabel, setBusyLabel] = useState<string | null>(null);
  const act = (label: string, work: () => Promise<unknown>) => {
    setBusyLabel(label);
    void action.run(work).then(() => {
      setBusyLabel(null);
      return reload();
    });
  };
  const live = run ? LIVE.has(run.status) || run.processRunning : false;
  const canLaunch = !run || run.status === 'COMPLETED' || run.discardedAt !== null;
  return (
    <div className="run-actions">
      {action.busy && busyLabel ? (
        <span className="progress" role="status" data-testid="action-progress">
          <span className="spinner" aria-hidden="true" />
          {busyLabel}
        </span>
      ) : null}
      {run && live ? (
        <button className="danger" disabled={action.busy} onClick={() => act('Stopping…', () => client.stopRun(run.ticketId, run.repoPath))} data-testid="run-stop">
          Stop
        </button>
      ) : null}
      {run?.status === 'AWAITING_USER' ? (
        <button className="primary" disabled={action.busy} onClick={() => act('Starting the iterations…', () => client.acceptRunPlan(run.runId))} data-testid="run-accept">
          Accept plan
        </button>
      ) : null}
      {run && !live && RESUMABLE.has(run.status) && run.discardedAt === null ? (
        <button className="primary" disabled={action.busy} onClick={() => act('Resuming…', () => client.launchRun({ ticketIdentifier: run.ticketId, repoPath: run.repoPath }))} data-testid="run-resume">
          {run.reason === 'max_iterations_reached' ? 'Continue' : 'Resume'}
        </button>
      ) : null}
      {run && !live && run.discardedAt === null ? (
        <button disabled={action.busy} onClick={() => act('Discarding…', () => client.discardRun(run.runId))} data-testid="run-discard" title="Give up on this run: the next launch starts afresh, and its worktree is removed after the retention days (never with uncommitted changes).">
          Discard
        </button>
      ) : null}
      {canLaunch ? (
        <>
          <select value={provider} onChange={(e) => setProvider(e.target.value as 'claude' | 'codex')} aria-label="Agent" data-testid="launch-provider">
            <option value="claude">claude</option>
            <option value="codex">codex</option>
          </select>
          <button
            className="primary"
            disabled={action.busy}
            onClick={() => act('Creating the worktree and starting the run…', () => client.launchRun({ ticketIdentifier: ticket.ticketId, repoPath: ticket.repoPath, provider }))}
            data-testid="run-launch"
          >
            {run ? 'Launch again' : 'Launch run'}
          </button>
        </>
      ) : null}
      <ErrorNote error={action.error} />
    </div>
  );
}

/** What the run is doing right now when it takes a while (judges, starting, planning). */
function currentStep(run: RunDetailView, events: RunEvent[]): string | null {
  if (!run.processRunning && !LIVE.has(run.status)) return null;
  const lastJudge = [...events].reverse().find((e) => e.type === 'judge_started' || e.type === 'judge_result' || e.type === 'iteration_ended');
  if (run.phase.startsWith('Judges')) {
    return lastJudge?.type === 'judge_started' ? `Running judge ${String(lastJudge.judge)}…` : 'Running the judges…';
  }
  if (run.status === 'STARTING' || run.phase === 'Initializing') return 'Starting the run host…';
  if (run.phase === 'Planning') return 'The agent is writing a plan…';
  return `${run.phase}…`;
}

function RunFacts({ run, events }: { run: RunDetailView; events: RunEvent[] }) {
  const step = currentStep(run, events);
  return (
    <>
      {step ? (
        <p className="progress" role="status" data-testid="run-progress">
          <span className="spinner" aria-hidden="true" />
          {step}
        </p>
      ) : null}
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <RunStatusBadge run={run} /> <span data-testid="run-phase">{run.phase}</span>
          {run.reason ? <span className="muted small"> ({run.reason.replace(/_/g, ' ')})</span> : null}
        </dd>
        <dt>Iteration</dt>
        <dd data-testid="run-iteration">
          {run.iteration}/{run.maxIterations}
        </dd>
        <dt>Elapsed</dt>
        <dd>
          {elapsed(run.startedAt, run.endedAt)} <span className="muted small">(started <Time value={run.startedAt} />)</span>
        </dd>
        <dt>Tokens and cost</dt>
        <dd>
          {formatCount(run.tokens.total)} tokens ({formatCount(run.tokens.input)} in, {formatCount(run.tokens.output)} out) · {formatCost(run.costUsd)}
        </dd>
        <dt>Agent</dt>
        <dd>
          {run.provider}
          {run.model ? ` (${run.model})` : ''}
          {run.pid ? <span className="muted small"> · pid {run.pid}</span> : null}
        </dd>
        <dt>Worktree</dt>
        <dd className="mono small">
          {run.worktreeDir} on {run.branch}
          {run.baseBranch ? ` from ${run.baseBranch}` : ''}
        </dd>
        <dt>Disk</dt>
        <dd data-testid="run-disk">
          {run.disk ? formatBytes(run.disk.bytes) : 'not measured yet'}
          {run.retention ? <span className="muted small"> · {retentionText(run.retention)}</span> : null}
        </dd>
        {run.prUrl || run.prOpen ? (
          <>
            <dt>Pull request</dt>
            <dd data-testid="run-pr" data-pr-state={run.prOpen?.state ?? 'found'}>
              {run.prUrl ? (
                <>
                  <a href={run.prUrl} target="_blank" rel="noreferrer">
                    {run.prNumber !== null ? `#${run.prNumber} ` : ''}
                    {run.prUrl}
                  </a>{' '}
                  <span className="muted small">{run.followPr ? `followed (${run.prRounds} review round(s))` : 'not followed'}</span>
                </>
              ) : (
                <span className={run.prOpen?.state === 'denied' || run.prOpen?.state === 'failed' ? 'bad-text' : 'muted'}>
                  {run.prOpen?.note ?? 'Opened when the run completes with every required judge passing.'}
                </span>
              )}
            </dd>
          </>
        ) : null}
      </dl>
      {run.lastError ? (
        <p className="error-note" role="alert" data-testid="run-error">
          {run.lastError}
        </p>
      ) : null}
    </>
  );
}

function retentionText(retention: NonNullable<RunDetailView['retention']>): string {
  if (retention.decision === 'scheduled' && retention.removeAfter) return `removed after ${new Date(retention.removeAfter).toLocaleDateString()}: ${retention.why}`;
  return retention.why;
}

function PlanSection({ run }: { run: RunDetailView }) {
  const plan = run.plan;
  const done = new Set(plan?.completedTasks.map((t) => t.id));
  const tasks = plan ? [...plan.completedTasks, ...plan.pendingTasks] : [];
  return (
    <Section
      title="Plan"
      description={plan ? `${plan.completedTasks.length} of ${tasks.length} task(s) done${run.planAccepted ? '' : ' · waiting for your review'}` : undefined}
      testId="run-plan"
    >
      {!plan ? (
        <Empty>{run.status === 'FAILED' ? 'No plan: the run failed before one was made.' : 'The agent has not written a plan yet.'}</Empty>
      ) : (
        <>
          <ul className="tasks">
            {tasks.map((task) => (
              <li key={task.id} className="task" data-testid="plan-task" data-task={task.id} data-done={done.has(task.id)}>
                <span className="task-mark" aria-label={done.has(task.id) ? 'done' : 'to do'}>
                  {done.has(task.id) ? '✓' : '○'}
                </span>
                <span className="task-text">
                  <span className="mono small">{task.id}</span> {task.description}
                </span>
                {run.currentTaskId === task.id && !done.has(task.id) ? <Badge tone="info">current</Badge> : null}
              </li>
            ))}
          </ul>
          {plan.openQuestions.length ? (
            <>
              <h3>Open questions</h3>
              <ul>
                {plan.openQuestions.map((q) => (
                  <li key={q}>{q}</li>
                ))}
              </ul>
            </>
          ) : null}
          {plan.content ? (
            <details className="args">
              <summary>The whole plan</summary>
              <pre className="plan-content">{plan.content}</pre>
            </details>
          ) : null}
        </>
      )}
    </Section>
  );
}

function JudgesSection({ run }: { run: RunDetailView }) {
  const reports = run.iterations.flatMap((it) => (it.judges ? [it.judges] : [])).reverse();
  return (
    <Section title="Judges" description="After each iteration: the repository's commands (pass on exit 0) and, when asked, a read-only LLM judge." testId="run-judges">
      {reports.length === 0 ? <Empty>No judge has run yet.</Empty> : reports.map((report, i) => <JudgesReportView key={report.report_id} report={report} open={i === 0} />)}
    </Section>
  );
}

function JudgesReportView({ report, open }: { report: JudgesReport; open: boolean }) {
  const passed = report.stats.every((c) => c.final_status === 'PASSED' || !c.required);
  return (
    <details className="judge-report" open={open} data-testid="judges-report" data-iteration={report.iteration}>
      <summary>
        Iteration {report.iteration} <Badge tone={passed ? 'good' : 'bad'}>{passed ? 'passed' : 'failed'}</Badge> <Time value={report.timestamp} />
      </summary>
      {report.stats.map((c) => (
        <div key={c.case_id} className="judge-case" data-testid="judge-case" data-case={c.case_id} data-status={c.final_status}>
          <div className="finding-head">
            <strong>{c.case_id}</strong>
            <Badge tone={c.final_status === 'PASSED' ? 'good' : c.required ? 'bad' : 'warn'}>{c.final_status}</Badge>
            {!c.required ? <span className="muted small">optional</span> : null}
            {c.command ? <code className="finding-where">{c.command}</code> : null}
            {c.exitCode !== undefined && c.exitCode !== null ? <span className="muted small">exit {c.exitCode}</span> : null}
            {c.timedOut ? <Badge tone="bad">timed out</Badge> : null}
            {c.durationMs !== undefined ? <span className="muted small">{(c.durationMs / 1000).toFixed(1)} s</span> : null}
          </div>
          {c.kind === 'llm' || c.metrics.length > 1 ? (
            <table className="small">
              <tbody>
                {c.metrics.map((m) => (
                  <tr key={m.metric_name} data-testid="judge-metric" data-pass={m.score >= m.threshold}>
                    <td>{m.metric_name}</td>
                    <td className="num">
                      {m.score} / {m.threshold}
                    </td>
                    <td>{m.justification}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {c.outputTail ? (
            <pre className="log-tail" data-testid="judge-output">
              {c.outputTail}
            </pre>
          ) : null}
        </div>
      ))}
    </details>
  );
}

function FeedbackSection({ run }: { run: RunDetailView }) {
  return (
    <Section title="Pull request feedback" description="Review comments and failing checks on the run's PR, and the iteration that addressed each." testId="run-feedback">
      <ul className="findings">
        {run.feedback.map((item) => (
          <li key={item.key} className="finding" data-testid="feedback-item" data-addressed={item.addressedIteration ?? ''}>
            <div className="finding-head">
              <Badge tone={item.kind === 'check' ? 'bad' : 'info'}>{item.kind === 'check' ? 'failing check' : 'comment'}</Badge>
              <strong>{item.summary}</strong>
              {item.author ? <span className="muted small">by {item.author}</span> : null}
              <span className="muted small">
                {item.addressedIteration !== null
                  ? `addressed in iteration ${item.addressedIteration}`
                  : run.status === 'COMPLETED' || LIVE.has(run.status)
                    ? 'not addressed yet'
                    : `waiting: addressed once the run completes (it is ${run.status.toLowerCase().replace('_', ' ')})`}
              </span>
            </div>
            {item.body ? <p className="small">{item.body.length > 600 ? `${item.body.slice(0, 600)}…` : item.body}</p> : null}
          </li>
        ))}
      </ul>
    </Section>
  );
}
