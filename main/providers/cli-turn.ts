// What every CLI provider's turn has in common: children started through the
// supervisor, a kill that reaches whichever child is current (a resume fallback starts
// a second one), the client's abort signal wired to that kill, and the closing events
// (`killed`, `result`, `done`) that every turn ends with, whatever happened.
import type { NormalizedEvent } from '../../shared/events.js';
import type { ChildSpec } from '../supervisor/child.js';
import type { ApprovalAnswer, ApprovalAsk, Turn, TurnOptions } from './types.js';

/** The part of the supervisor a provider uses (`supervisor.start`). */
export interface ChildLauncher {
  start(spec: LaunchSpec): LaunchedChild | Promise<LaunchedChild>;
}

/** What a provider asks the supervisor to start: the supervisor's own child spec. */
export type LaunchSpec = ChildSpec;

export interface LaunchedChild {
  readonly pid: number;
  lines(): AsyncIterable<{ stream: 'stdout' | 'stderr'; line: string }>;
  write(text: string): Promise<void>;
  endInput(): void;
  kill(): Promise<unknown>;
  readonly exited: Promise<ChildEnd>;
}

export interface ChildEnd {
  exitCode: number | null;
  signal: string | null;
  /** `killed`, `timed_out`, `idle_timeout` when the supervisor stopped it; else how it ended on its own. */
  state: string;
}

export class TurnControl {
  private child: LaunchedChild | null = null;
  private stopped = false;
  private readonly stopping = new AbortController();
  private readonly releases: Array<() => void> = [];

  constructor(private readonly launcher: ChildLauncher) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** True once kill() was called: the turn ends as `killed`, not as a crash. */
  get killed(): boolean {
    return this.stopped;
  }

  /** Aborts when kill() is called (e.g. to withdraw a pending approval). */
  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  async start(spec: LaunchSpec): Promise<LaunchedChild> {
    const child = await this.launcher.start(spec);
    this.child = child;
    if (this.stopped) await child.kill();
    return child;
  }

  async kill(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.child?.kill();
  }

  /** The child was killed from elsewhere (the desktop's process list): the turn ends as killed too. */
  markKilled(): void {
    this.stopped = true;
    this.stopping.abort();
  }

  /** Runs `action` once the turn is over and its child gone (e.g. removing the per-run temp folder). */
  onRelease(action: () => void): void {
    this.releases.push(action);
  }

  /** Stops a child still running when nobody reads the turn any more (not a user kill), then cleans up. */
  async release(): Promise<void> {
    try {
      await this.child?.kill();
    } finally {
      for (const action of this.releases.splice(0)) action();
    }
  }
}

/** Runs `body` (which starts children through `control`) as a Turn that always ends with `done`. */
export function cliTurn(
  control: TurnControl,
  signal: AbortSignal,
  mode: string,
  body: () => AsyncGenerator<NormalizedEvent, void>,
): Turn {
  async function* events(): AsyncGenerator<NormalizedEvent> {
    const onAbort = () => void control.kill();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    try {
      try {
        yield* body();
      } catch (error) {
        if (!control.killed) {
          yield { type: 'error', message: error instanceof Error ? error.message : String(error) };
          yield { type: 'result', success: false, reason: 'failed' };
        }
      }
      if (control.killed) {
        yield { type: 'status', status: 'killed', pid: control.pid, mode };
        yield { type: 'result', success: false, reason: 'killed' };
      }
      yield { type: 'done' };
    } finally {
      signal.removeEventListener('abort', onAbort);
      await control.release();
    }
  }
  return {
    events: events(),
    get pid() {
      return control.pid;
    },
    kill: () => control.kill(),
  };
}

/**
 * The closing events of a CLI that ended without finishing its turn, when this turn did
 * not kill it: a kill from elsewhere ends the turn as killed, a timeout or a crash as failed.
 */
export function* endedEarly(cli: string, exit: ChildEnd, detail: string, control: TurnControl): Generator<NormalizedEvent> {
  if (exit.state === 'killed') {
    control.markKilled();
    return;
  }
  const reason = exit.state === 'timed_out' || exit.state === 'idle_timeout' ? exit.state : 'crashed';
  yield { type: 'error', message: `${cli} stopped before finishing the turn (${exit.state}): ${detail}` };
  yield { type: 'result', success: false, reason };
}

export function parseJsonLine(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(line);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The prompt for a fresh session that stands in for one the CLI forgot. */
export function seededPrompt(transcript: ReadonlyArray<{ role: string; content: string }>, prompt: string): string {
  if (!transcript.length) return prompt;
  const history = transcript.map((entry) => `${entry.role === 'user' ? 'User' : 'Assistant'}: ${entry.content}`).join('\n\n');
  return (
    'The earlier conversation could not be resumed, so here is its transcript for context:\n\n' +
    `<transcript>\n${history}\n</transcript>\n\nThe user now says:\n${prompt}`
  );
}

export const NEW_SESSION_NOTICE =
  'The previous session could not be resumed; a new session was started with the stored transcript.';

/** The last stderr lines, for an error message when a CLI dies without saying why on stdout. */
export class StderrTail {
  private readonly lines: string[] = [];
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > 5) this.lines.shift();
  }
  text(): string {
    return this.lines.join('\n').slice(-1000);
  }
}

/** The approver's answer; a failing approver or a stopped turn is a denial. */
export function askApprover(
  onApproval: NonNullable<TurnOptions['onApproval']>,
  question: ApprovalAsk,
  stopped: AbortSignal,
): Promise<ApprovalAnswer> {
  const whenStopped = new Promise<ApprovalAnswer>((resolve) => {
    if (stopped.aborted) resolve('deny');
    stopped.addEventListener('abort', () => resolve('deny'), { once: true });
  });
  return Promise.race([onApproval(question, stopped).catch(() => 'deny' as const), whenStopped]);
}
