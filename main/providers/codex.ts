// Codex CLI in exec mode: one process per turn, the prompt on stdin (`-`; never argv, where
// a long prompt fails with E2BIG) and stdin closed after it, `exec resume THREAD_ID -` to
// continue a thread. Codex cannot ask for approval in exec mode, so its sandbox (inside the
// confinement's filesystem view) is the permission model: callers that must be asked run `read`.
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import type { NormalizedEvent, UsageTotals } from '../../shared/events.js';
import { FailedDependency } from '../errors.js';
import {
  cliTurn, endedEarly, NEW_SESSION_NOTICE, parseJsonLine, seededPrompt, StderrTail, TurnControl,
  type ChildLauncher, type LaunchedChild,
} from './cli-turn.js';
import type { CliProviderConfig, Provider, ReviewOptions, ReviewTarget, Turn, TurnOptions } from './types.js';
import { Confiner, isReadOnly, sandboxFailureHint, type PreparedConfinement } from './confinement.js';

const UNKNOWN_THREAD = /no rollout found for thread id|thread not found/i;

export class CodexProvider implements Provider {
  readonly id = 'codex' as const;

  private readonly confiner: Confiner;

  constructor(
    private readonly launcher: ChildLauncher,
    private readonly config: CliProviderConfig = {},
  ) {
    this.confiner = config.confiner ?? new Confiner();
  }

  async startTurn(options: TurnOptions): Promise<Turn> {
    return this.confined(options, (confined, control) => this.begin(options, confined, control));
  }

  private async begin(options: TurnOptions, confined: PreparedConfinement, control: TurnControl): Promise<Turn> {
    const sandbox = sandboxMode(options);
    const run = (resumeId: string | undefined, prompt: string) =>
      this.launch(control, options, confined, this.args(options, confined, sandbox, resumeId), prompt);
    const first = await run(options.resumeSessionId, options.prompt);
    const provider = this;
    return cliTurn(control, options.signal, sandbox, async function* () {
      yield { type: 'status', status: options.resumeSessionId ? 'resumed' : 'started', pid: first.pid, mode: sandbox };
      const attempt = yield* provider.follow(first, control, options.priorUsageTotals);
      if (!attempt.unknownSession || control.killed) return;
      const second = await run(undefined, seededPrompt(options.transcript ?? [], options.prompt));
      yield { type: 'status', status: 'new_session', pid: second.pid, mode: sandbox, message: NEW_SESSION_NOTICE };
      yield { type: 'text', content: `${NEW_SESSION_NOTICE}\n\n` };
      yield* provider.follow(second, control, undefined);
    });
  }

  /**
   * `codex exec review --json` against a base branch or the uncommitted changes. codex
   * takes `--base`/`--uncommitted` or custom instructions, never both, so with the user's
   * instructions the target is spelled out in the instructions (as codex words it itself).
   * The review arrives as one agent message: codex's structured findings, rendered.
   */
  async review(options: ReviewOptions): Promise<Turn> {
    return this.confined(options, (confined, control) => this.beginReview(options, confined, control));
  }

  private async beginReview(options: ReviewOptions, confined: PreparedConfinement, control: TurnControl): Promise<Turn> {
    const sandbox = sandboxMode(options);
    const args = ['exec', 'review', '--json', '--skip-git-repo-check', ...this.settings(options, confined, sandbox)];
    // The user's instructions go on stdin (`-`), never argv (size limits, the process list).
    const instructions = options.instructions?.trim() ? reviewPrompt(options.target, options.instructions.trim()) : null;
    if (instructions !== null) args.push('-');
    else if (options.target.kind === 'base') args.push('--base', options.target.branch);
    else args.push('--uncommitted');
    const child = await this.launch(control, options, confined, args, instructions);
    const provider = this;
    return cliTurn(control, options.signal, sandbox, async function* () {
      yield { type: 'status', status: 'started', pid: child.pid, mode: sandbox };
      yield* provider.follow(child, control, undefined);
    });
  }

  /** Every start: the CODEX_HOME layout checked, the confinement prepared, its temp folder removed when the turn ends. */
  private async confined(
    options: Pick<TurnOptions, 'confinement'>,
    begin: (confined: PreparedConfinement, control: TurnControl) => Promise<Turn>,
  ): Promise<Turn> {
    const confined = await this.confiner.prepare(options.confinement, { cli: 'codex', env: this.config.env ?? {} });
    const control = new TurnControl(this.launcher);
    control.onRelease(() => confined.dispose());
    try {
      refuseCodexHomeInTemp(confined.env);
      return await begin(confined, control);
    } catch (error) {
      await control.release();
      throw error;
    }
  }

  /** Starts codex inside the confinement's view; `prompt` goes on stdin (null: stdin closed at once). */
  private async launch(
    control: TurnControl,
    options: Pick<TurnOptions, 'cwd' | 'owner'>,
    confined: PreparedConfinement,
    args: string[],
    prompt: string | null,
  ): Promise<LaunchedChild> {
    const env = { ...this.config.env, ...confined.env };
    const child = await control.start({
      command: this.config.command ?? 'codex',
      args,
      cwd: options.cwd,
      env,
      wrap: confined.wrapper(options.cwd, env.PATH ?? process.env.PATH),
      stdin: prompt === null ? 'ignore' : 'pipe',
      timeoutMs: this.config.timeoutMs,
      idleTimeoutMs: this.config.idleTimeoutMs,
      label: 'codex',
      owner: options.owner,
    });
    if (prompt !== null) {
      await child.write(prompt);
      child.endInput();
    }
    return child;
  }

  private args(options: TurnOptions, confined: PreparedConfinement, sandbox: string, resumeId: string | undefined): string[] {
    const args = ['exec'];
    if (resumeId) args.push('resume');
    args.push('--json', '--skip-git-repo-check', ...this.settings(options, confined, sandbox));
    if (resumeId) args.push(resumeId);
    // The prompt comes on stdin: `-` says so (and a prompt that is itself "-" is just text there).
    args.push('-');
    return args;
  }

  /**
   * Sandbox, approvals, model and effort; `exec resume` takes sandbox settings only as -c
   * overrides, so every form uses them. The root is the only writable folder besides the temp
   * folder; an untrusted folder's AGENTS.md is not read.
   */
  private settings(
    options: Pick<TurnOptions, 'model' | 'reasoningEffort' | 'confinement'>,
    confined: PreparedConfinement,
    sandbox: string,
  ): string[] {
    const args = ['-c', `sandbox_mode="${sandbox}"`, '-c', 'approval_policy="never"'];
    if (sandbox === 'workspace-write') args.push('-c', `sandbox_workspace_write.writable_roots=${JSON.stringify(confined.writableRoots)}`);
    if (!confined.confinement.trustProjectConfig) args.push('-c', 'project_doc_max_bytes=0');
    if (options.model) args.push('--model', options.model);
    if (options.reasoningEffort) args.push('-c', `model_reasoning_effort="${options.reasoningEffort}"`);
    return args;
  }

  private async *follow(
    child: LaunchedChild,
    control: TurnControl,
    priorTotals: UsageTotals | undefined,
  ): AsyncGenerator<NormalizedEvent, { unknownSession: boolean }> {
    const parser = new CodexStreamParser(priorTotals);
    const stderr = new StderrTail();
    let unknownSession = false;
    for await (const { stream, line } of child.lines()) {
      if (stream === 'stderr') {
        stderr.push(line);
        if (UNKNOWN_THREAD.test(line)) unknownSession = true;
        continue;
      }
      const message = parseJsonLine(line);
      if (message) yield* parser.events(message);
    }
    const exit = await child.exited;
    if (unknownSession && !parser.sawTurnEnd) return { unknownSession: true };
    if (!parser.sawTurnEnd && !control.killed) {
      const detail = parser.lastError ?? sandboxFailureHint(stderr.text()) ?? (stderr.text() || `exit code ${exit.exitCode ?? exit.signal}`);
      yield* endedEarly('codex', exit, detail, control);
    }
    return { unknownSession: false };
  }
}

/**
 * codex 0.171 puts its sandbox helper under CODEX_HOME/tmp/arg0 and its bubblewrap sandbox
 * mounts a fresh temp folder over TMPDIR and /tmp: with CODEX_HOME there, every command fails
 * with `bwrap: execvp codex-linux-sandbox`. Such a layout is refused before anything starts.
 */
export function refuseCodexHomeInTemp(env: Readonly<Record<string, string | undefined>>, platform = process.platform): void {
  if (platform !== 'linux') return;
  const home = env.CODEX_HOME ?? join(env.HOME ?? process.env.HOME ?? homedir(), '.codex');
  const temps = new Set(['/tmp', tmpdir(), ...(env.TMPDIR ? [env.TMPDIR] : [])]);
  const temp = [...temps].find((dir) => {
    const rel = relative(dir, home);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  });
  if (!temp) return;
  throw new FailedDependency(
    `CODEX_HOME (${home}) lies inside the temp folder ${temp}, where codex cannot start its sandbox helper. ` +
      'Set CODEX_HOME (or HOME) to a folder outside the temp folder, e.g. ~/.codex.',
    'codex_home_in_temp',
    { codexHome: home, tempDir: temp },
  );
}

/** codex's own wording of its review targets, followed by the user's instructions. */
function reviewPrompt(target: ReviewTarget, instructions: string): string {
  const scope =
    target.kind === 'base'
      ? `Review the code changes against the base branch '${target.branch}'. Run \`git diff ${target.branch}...HEAD\` ` +
        `to inspect the changes relative to ${target.branch}. Provide prioritized, actionable findings.`
      : 'Review the current code changes (staged, unstaged, and untracked files) and provide prioritized findings.';
  return `${scope}\n\nThe user's instructions for this review:\n${instructions}`;
}

function sandboxMode(options: Pick<TurnOptions, 'confinement' | 'permissionMode'>): string {
  if (isReadOnly(options.confinement) || options.permissionMode === 'plan') return 'read-only';
  if (options.permissionMode === 'bypassPermissions') return 'danger-full-access';
  return 'workspace-write';
}

interface CodexItem {
  id?: string;
  type?: string;
  text?: string;
  command?: string;
  aggregated_output?: string;
  exit_code?: number | null;
  status?: string;
  changes?: unknown;
  server?: string;
  tool?: string;
  arguments?: unknown;
  result?: unknown;
  error?: { message?: string } | null;
  message?: string;
  items?: unknown;
}

/** Maps `codex exec --json` lines to normalized events. */
export class CodexStreamParser {
  sawTurnEnd = false;
  lastError: string | null = null;
  /** Characters of each agent message / reasoning item already sent, so updates send only the rest. */
  private readonly sent = new Map<string, number>();
  private readonly announcedTools = new Set<string>();

  /** `priorTotals`: the thread's totals before this turn; codex reports running totals per thread. */
  constructor(private readonly priorTotals: UsageTotals = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 }) {}

  *events(message: Record<string, unknown>): Generator<NormalizedEvent> {
    switch (message.type) {
      case 'thread.started':
        if (typeof message.thread_id === 'string') yield { type: 'sessionId', sessionId: message.thread_id };
        return;
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        yield* this.item(message.item as CodexItem, message.type === 'item.completed');
        return;
      case 'turn.completed': {
        this.sawTurnEnd = true;
        const usage = (message.usage ?? {}) as { input_tokens?: number; output_tokens?: number; cached_input_tokens?: number };
        const totals = {
          inputTokens: usage.input_tokens ?? 0,
          outputTokens: usage.output_tokens ?? 0,
          cachedInputTokens: usage.cached_input_tokens ?? 0,
        };
        const prior = this.priorTotals;
        yield {
          type: 'usage',
          inputTokens: Math.max(0, totals.inputTokens - prior.inputTokens),
          outputTokens: Math.max(0, totals.outputTokens - prior.outputTokens),
          cachedInputTokens: Math.max(0, totals.cachedInputTokens - prior.cachedInputTokens),
          totals,
        };
        yield { type: 'result', success: true };
        return;
      }
      case 'turn.failed': {
        this.sawTurnEnd = true;
        const error = (message.error ?? {}) as { message?: string };
        yield { type: 'error', message: error.message ?? 'The turn failed.' };
        yield { type: 'result', success: false, reason: 'api_error' };
        return;
      }
      case 'error':
        // Usually followed by turn.failed with the same message; kept in case codex dies first.
        if (typeof message.message === 'string') this.lastError = message.message;
        return;
    }
  }

  private *item(item: CodexItem | undefined, completed: boolean): Generator<NormalizedEvent> {
    if (!item?.id) return;
    switch (item.type) {
      case 'agent_message':
        yield* this.textDelta(item, 'text');
        return;
      case 'reasoning':
        yield* this.textDelta(item, 'thinking');
        return;
      case 'command_execution':
        yield* this.tool(item, 'command_execution', { command: item.command }, completed, () => ({
          content: item.aggregated_output ?? '',
          isError: item.status === 'failed' || (item.exit_code ?? 0) !== 0,
        }));
        return;
      case 'file_change':
        yield* this.tool(item, 'file_change', { changes: item.changes }, completed, () => ({
          content: JSON.stringify(item.changes ?? []),
          isError: item.status === 'failed',
        }));
        return;
      case 'mcp_tool_call':
        yield* this.tool(item, `${item.server}.${item.tool}`, item.arguments ?? {}, completed, () => ({
          content: item.error?.message ?? (typeof item.result === 'string' ? item.result : JSON.stringify(item.result ?? null)),
          isError: item.status === 'failed' || Boolean(item.error),
        }));
        return;
      case 'todo_list':
        if (completed) return;
        yield* this.tool(item, 'todo_list', { items: item.items }, false, () => ({ content: '', isError: false }));
        return;
      case 'error':
        if (completed) yield { type: 'error', message: item.message ?? 'codex reported an error' };
        return;
    }
  }

  private *textDelta(item: CodexItem, type: 'text' | 'thinking'): Generator<NormalizedEvent> {
    const text = item.text ?? '';
    const sent = this.sent.get(item.id!) ?? 0;
    if (text.length <= sent) return;
    this.sent.set(item.id!, text.length);
    yield { type, content: text.slice(sent) };
  }

  /** A tool item: `tool_use` once (even when codex skips item.started), `tool_result` when it completes. */
  private *tool(
    item: CodexItem,
    name: string,
    input: unknown,
    completed: boolean,
    result: () => { content: string; isError: boolean },
  ): Generator<NormalizedEvent> {
    if (!this.announcedTools.has(item.id!)) {
      this.announcedTools.add(item.id!);
      yield { type: 'tool_use', id: item.id!, name, input };
    }
    if (completed) yield { type: 'tool_result', toolUseId: item.id!, ...result() };
  }
}
