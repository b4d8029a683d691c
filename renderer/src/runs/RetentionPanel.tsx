// The worktree retention of finished runs (what `runs retention` and `runs prune` do on the
// CLI): the kept days and whether the gateway prunes by itself, changed here; "Preview" is
// a dry run that lists what a prune would remove (and why the rest stays), "Prune now"
// removes what is due (never a worktree with uncommitted changes).
import { useEffect, useState } from 'react';
import type { WorktreePruneOutcome } from '../../../shared/client.js';
import { useAction, useClient, usePolling } from '../api.js';
import { Badge, Empty, ErrorNote, Loading, Section } from '../components/ui.js';
import { formatBytes } from '../format.js';

const ACTION_TEXT: Record<WorktreePruneOutcome['action'], string> = { removed: 'removed', would_remove: 'would remove', kept: 'kept', failed: 'failed' };

export function RetentionPanel({ onPruned }: { onPruned?: () => void }) {
  const client = useClient();
  const setting = usePolling((c) => c.runRetention(), 30_000);
  const save = useAction();
  const prune = useAction();
  const [days, setDays] = useState('');
  const [auto, setAuto] = useState(true);
  const [outcome, setOutcome] = useState<{ dryRun: boolean; worktrees: WorktreePruneOutcome[] } | null>(null);
  useEffect(() => {
    if (setting.data) {
      setDays(String(setting.data.days));
      setAuto(setting.data.auto);
    }
  }, [setting.data]);
  const daysValue = Number(days);
  const daysValid = days.trim() !== '' && Number.isInteger(daysValue) && daysValue >= 0 && daysValue <= 3650;
  const changed = setting.data ? daysValue !== setting.data.days || auto !== setting.data.auto : false;
  const runPrune = (dryRun: boolean) =>
    void prune.run(async () => {
      const reply = await client.pruneRunWorktrees(dryRun);
      setOutcome({ dryRun, worktrees: reply.worktrees });
      if (!dryRun) onPruned?.();
    });
  const due = outcome?.dryRun ? outcome.worktrees.filter((w) => w.action === 'would_remove') : [];
  const freed = (outcome?.worktrees ?? []).filter((w) => w.action === 'removed' || w.action === 'would_remove').reduce((sum, w) => sum + (w.diskBytes ?? 0), 0);
  return (
    <Section
      title="Worktree retention"
      description="A finished run's worktree is removed this many days after its branch is merged or the run is discarded; never one with uncommitted changes."
      testId="retention"
    >
      <ErrorNote error={setting.error ?? save.error ?? prune.error} />
      {!setting.data ? (
        <Loading failed={Boolean(setting.error)} />
      ) : (
        <form
          className="toolbar"
          onSubmit={(event) => {
            event.preventDefault();
            if (daysValid) void save.run(async () => (await client.setRunRetention({ days: daysValue, auto }), setting.reload()));
          }}
        >
          <label className="field">
            <span>Keep for (days)</span>
            <input type="number" min={0} max={3650} value={days} onChange={(e) => setDays(e.target.value)} data-testid="retention-days" />
          </label>
          <label className="small">
            <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} data-testid="retention-auto" />
            {' '}Remove due worktrees automatically
          </label>
          <button type="submit" disabled={!daysValid || !changed || save.busy} data-testid="retention-save">
            Save
          </button>
          <span className="muted small" data-testid="retention-current">
            Now: {setting.data.days} day(s), {setting.data.auto ? 'removed by the gateway' : 'removed only by a prune'}.
          </span>
        </form>
      )}
      <div className="toolbar">
        <button disabled={prune.busy} onClick={() => runPrune(true)} data-testid="prune-preview">
          Preview prune
        </button>
        <button className="danger" disabled={prune.busy || !outcome?.dryRun || due.length === 0} onClick={() => runPrune(false)} data-testid="prune-now" title="Preview first: this removes what the preview lists.">
          Prune now{outcome?.dryRun && due.length ? ` (${due.length})` : ''}
        </button>
        {prune.busy ? (
          <span className="progress" role="status">
            <span className="spinner" aria-hidden="true" />
            Measuring the worktrees…
          </span>
        ) : null}
      </div>
      {outcome ? (
        outcome.worktrees.length === 0 ? (
          <Empty>No worktree of a run is left.</Empty>
        ) : (
          <div className="table-scroll" data-testid="prune-result" data-dry-run={String(outcome.dryRun)}>
            <p className="small">
              {outcome.dryRun ? `A prune would free ${formatBytes(freed)}.` : `Freed ${formatBytes(freed)}.`}
            </p>
            <table>
              <thead>
                <tr>
                  <th>Ticket</th>
                  <th>Worktree</th>
                  <th className="num">Disk</th>
                  <th>Outcome</th>
                </tr>
              </thead>
              <tbody>
                {outcome.worktrees.map((w) => (
                  <tr key={w.runId} data-testid="prune-row" data-ticket={w.ticketId} data-action={w.action}>
                    <td>{w.ticketId}</td>
                    <td className="mono small">{w.worktreePath}</td>
                    <td className="num">{formatBytes(w.diskBytes)}</td>
                    <td className="small">
                      <Badge tone={w.action === 'failed' ? 'bad' : w.action === 'kept' ? 'neutral' : 'warn'}>{ACTION_TEXT[w.action]}</Badge> {w.error ?? w.retention.why}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
    </Section>
  );
}
