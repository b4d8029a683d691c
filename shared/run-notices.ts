// When a ticket run needs its user: the plan waits for review, it failed, or it was
// interrupted. One rule for the renderer's in-app notices and the desktop app's OS
// notifications (main/app), so both say the same thing.
import type { RunStatusName } from './runs.js';

export interface RunNotice {
  kind: 'plan_review' | 'failed' | 'interrupted';
  title: string;
  body: string;
}

export interface NoticeInput {
  ticketId: string;
  status: RunStatusName | string;
  phase: string;
  lastError: string | null;
}

/** The notice for a run in this state, or null when it needs nobody. */
export function runNotice(run: NoticeInput): RunNotice | null {
  if (run.status === 'AWAITING_USER') {
    return { kind: 'plan_review', title: `${run.ticketId}: the plan is ready`, body: 'The run waits at the plan checkpoint: review the plan, then accept it to go on.' };
  }
  if (run.status === 'FAILED') return { kind: 'failed', title: `${run.ticketId}: the run failed`, body: firstLine(run.lastError) ?? 'See its log on the Runs screen; Resume tries again.' };
  if (run.status === 'INTERRUPTED') {
    return { kind: 'interrupted', title: `${run.ticketId}: the run was interrupted`, body: 'Its process went away (a crash or a restart). Resume continues from its last completed iteration.' };
  }
  return null;
}

/**
 * The notices due between two looks at the runs: a run that newly entered a state that
 * needs the user. Runs seen for the first time notify only when `notifyNew` (not on the
 * first look, so opening the app does not replay old failures).
 */
export function newRunNotices<R extends NoticeInput & { runId: string }>(
  previous: ReadonlyMap<string, string> | null,
  runs: readonly R[],
): Array<{ run: R; notice: RunNotice }> {
  if (!previous) return [];
  const due: Array<{ run: R; notice: RunNotice }> = [];
  for (const run of runs) {
    if (previous.get(run.runId) === run.status) continue;
    const notice = runNotice(run);
    if (notice) due.push({ run, notice });
  }
  return due;
}

function firstLine(text: string | null): string | null {
  const line = text?.split('\n').find((l) => l.trim());
  return line ? (line.length > 200 ? `${line.slice(0, 197)}…` : line) : null;
}
