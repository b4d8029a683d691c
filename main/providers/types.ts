// One interface for every agent CLI: start a turn, read normalized events, stop it.
// Adding an agent means one new file beside claude.ts and codex.ts, and the registry.
import type { NormalizedEvent, UsageTotals } from '../../shared/events.js';
import type { AgentConfinement, Confiner } from './confinement.js';

/** The agents the product ships. Tests register more (main/providers/testing/fake-provider.ts). */
export type ProviderId = 'claude' | 'codex';

export type PermissionMode = 'default' | 'acceptEdits' | 'plan' | 'bypassPermissions';

export interface TranscriptEntry {
  role: 'user' | 'assistant';
  content: string;
}

/** A tool the agent wants to run, asked of whoever approves (the gateway's policy). */
export interface ApprovalAsk {
  requestId: string;
  toolName: string;
  input: unknown;
}

export type ApprovalAnswer = 'allow' | 'deny';

export interface TurnOptions {
  prompt: string;
  /** The session's own directory; resume only works from there. */
  cwd: string;
  model?: string;
  /** How hard the model thinks, where the CLI takes it (codex's `model_reasoning_effort`). */
  reasoningEffort?: ReasoningEffort;
  /** The CLI's session/thread id from an earlier turn. */
  resumeSessionId?: string;
  permissionMode?: PermissionMode;
  /** What the agent may read, write and run (see confinement.ts); required for every start. */
  confinement: AgentConfinement;
  /** The `totals` of the CLI session's last usage event, for CLIs that report running totals (codex). */
  priorUsageTotals?: UsageTotals;
  /** Stored history, replayed into a new session when the CLI no longer knows the old one. */
  transcript?: TranscriptEntry[];
  /** Aborting stops the turn and its process tree. */
  signal: AbortSignal;
  /** `signal` aborts when the turn stops, so nobody is left asking about a tool that will never run. */
  onApproval?: (ask: ApprovalAsk, signal: AbortSignal) => Promise<ApprovalAnswer>;
  /** Recorded with the child by the supervisor, so a restart can tell whose orphan it reaped. */
  owner?: string;
}

export interface Turn {
  /** Ends with `done`, whatever happens (success, error, kill, crash). */
  readonly events: AsyncIterable<NormalizedEvent>;
  /** The current child's pid (null for in-process providers or before it started). */
  readonly pid: number | null;
  /** Stops the turn and its whole process tree; safe to call twice. */
  kill(): Promise<void>;
}

export type ReasoningEffort = 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';

/** What a CLI's own review mode looks at: the branch against a base, or the uncommitted changes. */
export type ReviewTarget = { kind: 'base'; branch: string } | { kind: 'uncommitted' };

export interface ReviewOptions extends Pick<TurnOptions, 'cwd' | 'model' | 'reasoningEffort' | 'confinement' | 'signal' | 'owner'> {
  target: ReviewTarget;
  /** The user's own instructions for the reviewer. */
  instructions?: string;
}

export interface Provider {
  readonly id: ProviderId;
  /** The CLI can stop and ask before a tool runs (`onApproval` is called); without it the sandbox is the only check. */
  readonly asksApproval?: boolean;
  startTurn(options: TurnOptions): Promise<Turn>;
  /** The CLI's built-in code review (codex `exec review`), for providers that have one; its text output holds the findings. */
  review?(options: ReviewOptions): Promise<Turn>;
}

/** Where a CLI provider gets its binary and environment (API endpoint, keys, config home). */
export interface CliProviderConfig {
  /** Binary name or path, resolved by the supervisor. */
  command?: string;
  /** Extra environment for the CLI: ANTHROPIC_BASE_URL, CODEX_HOME, ...; never a gateway token. */
  env?: Record<string, string>;
  /** Kill a turn that prints nothing for this long. */
  idleTimeoutMs?: number;
  /** Hard limit for one turn. */
  timeoutMs?: number;
  /** Builds each start's confinement (the gateway's, with its settings and guard); default: confined, standalone guard. */
  confiner?: Confiner;
}
