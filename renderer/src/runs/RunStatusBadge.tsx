// A run's status as a coloured badge, with a spinner while its process works.
import type { RunStatusView } from '../../../shared/client.js';
import { Badge } from '../components/ui.js';

const TONE = {
  STARTING: 'info', IN_PROGRESS: 'info', AWAITING_USER: 'warn', COMPLETED: 'good', STOPPED: 'neutral', FAILED: 'bad', INTERRUPTED: 'warn',
} as const;

const LABEL: Record<keyof typeof TONE, string> = {
  STARTING: 'Starting', IN_PROGRESS: 'In progress', AWAITING_USER: 'Needs you', COMPLETED: 'Completed', STOPPED: 'Stopped', FAILED: 'Failed', INTERRUPTED: 'Interrupted',
};

export function RunStatusBadge({ run }: { run: Pick<RunStatusView, 'status' | 'discardedAt'> }) {
  return (
    <span data-testid="run-status" data-status={run.status}>
      <Badge tone={TONE[run.status] ?? 'neutral'}>{LABEL[run.status] ?? run.status}</Badge>
      {run.discardedAt ? <Badge tone="neutral">discarded</Badge> : null}
    </span>
  );
}
