// The ticket-run shapes the gateway answers with and the Runs screen reads: plain types
// (no runtime), so the renderer bundles none of main/. The engine (main/symphony/) builds
// them; field names are the original's where the spec names them, plus ours.

export interface PlanTask {
  id: string;
  description: string;
}

export interface RunPlan {
  content: string;
  pendingTasks: PlanTask[];
  completedTasks: PlanTask[];
  openQuestions: string[];
}

export interface JudgeMetric {
  metric_name: string;
  threshold: number;
  score: number;
  justification: string;
}

export interface JudgeCase {
  type: 'case_score';
  case_id: string;
  final_status: 'PASSED' | 'FAILED' | 'NEEDS_IMPROVEMENT';
  metrics: JudgeMetric[];
  /** Ours: command judges. */
  kind: 'command' | 'llm';
  required: boolean;
  command?: string;
  exitCode?: number | null;
  timedOut?: boolean;
  durationMs?: number;
  outputTail?: string;
}

export interface JudgesReport {
  report_id: string;
  timestamp: string;
  iteration: number;
  stats: JudgeCase[];
}

export type RunStatusName = 'STARTING' | 'IN_PROGRESS' | 'AWAITING_USER' | 'COMPLETED' | 'STOPPED' | 'FAILED' | 'INTERRUPTED';

/** GET /symphony/status (each of `runs`) and /symphony/status/:ticketId when a run exists. */
export interface RunStatusView {
  exists: true;
  stateExists: boolean;
  runId: string;
  ticketId: string;
  repoPath: string;
  worktreeDir: string;
  branch: string;
  baseBranch: string | null;
  provider: string;
  model: string | null;
  phase: string;
  status: RunStatusName;
  reason: string | null;
  timestamp: string;
  raw: Record<string, unknown>;
  fallbackDetected: false;
  planExists: boolean;
  planAccepted: boolean;
  taskProgress: { pending: number; completed: number; total: number };
  currentTaskId: string | null;
  activeAgents: Array<{ agentId: string; agentType: string; agentName: string; startedAt: string }>;
  pid: number | null;
  processRunning: boolean;
  iteration: number;
  maxIterations: number;
  tokens: { input: number; output: number; total: number };
  costUsd: number;
  lastError: string | null;
  startedAt: string;
  endedAt: string | null;
  followPr: boolean;
  prRounds: number;
  prUrl: string | null;
  prNumber: number | null;
  /** Launched with openPr: opening the PR on completion, and how it went (a denial's note); null when not asked. */
  prOpen: { state: 'requested' | 'asking' | 'opened' | 'denied' | 'failed'; note: string | null; at: string } | null;
  /** Set when the user discarded the run (its worktree may then be removed by retention). */
  discardedAt: string | null;
  /** The worktree's size on disk as last measured (null: not measured yet, or gone). */
  disk: { bytes: number; measuredAt: string } | null;
  /** The worktree's retention: when it goes (if it does), or why it stays. */
  retention: RetentionView | null;
}

export interface RetentionView {
  /** `remove`: due now; `scheduled`: at `removeAfter`; `keep`: stays (see `why`); `removed`: already gone. */
  decision: 'remove' | 'scheduled' | 'keep' | 'removed';
  removeAfter: string | null;
  why: string;
}

/** A ticket with no run: its worktree may still exist. */
export interface NoRunStatus {
  exists: boolean;
  stateExists?: false;
  phase: null;
  status: null;
  worktreeDir?: string;
  processRunning?: false;
  message: string;
}

export interface RunIterationView {
  iteration: number;
  kind: 'plan' | 'work' | 'review';
  outcome: string;
  startedAt: string;
  endedAt: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  judges: JudgesReport | null;
  prompt: string;
}

export interface RunFeedbackView {
  key: string;
  kind: 'comment' | 'check';
  author: string | null;
  summary: string;
  body: string;
  url: string | null;
  seenAt: number;
  addressedIteration: number | null;
}

/** GET /symphony/runs/:runId: everything the run page shows. */
export interface RunDetailView extends RunStatusView {
  ticket: { title?: string; identifier?: string; description?: string; url?: string; additionalContext?: string };
  plan: RunPlan | null;
  iterations: RunIterationView[];
  feedback: RunFeedbackView[];
}

/** One line of a run's event log (JSONL, and the NDJSON follow stream). */
export interface RunEvent {
  ts: string;
  runId: string;
  iteration: number;
  type: string;
  [field: string]: unknown;
}

/** A cloud loop as the Runs screen lists it (GET /symphony/loop/list): its own table, not a ticket run. */
export interface CloudLoopView {
  loopId: string;
  command: string;
  status: string;
  repoPath: string | null;
  worktreePath: string;
  startedAt: string;
  endedAt: string | null;
  lastError: string | null;
  /** What the loop told (or will tell) the cloud, oldest first: started, output, completed, error, artifacts. */
  events: Array<{ id: number; call: string; type: string; at: string | null; summary: string; delivery: 'pending' | 'delivered' | 'failed' }>;
}

/** One worktree of a finished run, as a prune (or its dry run) left it. */
export interface WorktreePruneOutcome {
  runId: string;
  ticketId: string;
  worktreePath: string;
  diskBytes: number | null;
  retention: RetentionView;
  /** `removed`, `would_remove` (dry run), `kept`, or `failed` with `error`. */
  action: 'removed' | 'would_remove' | 'kept' | 'failed';
  error?: string;
}
