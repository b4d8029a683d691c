// Claude Code in print mode with stream-json both ways. The user turn goes in through a
// stdin PIPE (a regular file as stdin makes claude print nothing), tool approvals come
// back as control_request lines and are answered on the same pipe, and once `result`
// arrives stdin is closed so the process ends. One process per turn; `--resume` links turns.
import type { NormalizedEvent } from '../../shared/events.js';
import {
  askApprover, cliTurn, endedEarly, NEW_SESSION_NOTICE, parseJsonLine, seededPrompt, StderrTail, TurnControl,
  type ChildLauncher, type LaunchedChild,
} from './cli-turn.js';
import type { ApprovalAnswer, CliProviderConfig, Provider, Turn, TurnOptions } from './types.js';
import { Confiner, isReadOnly, sandboxFailureHint, type PreparedConfinement } from './confinement.js';

/** Tools that only read: the whole toolset of read-only chats (each call still checked, nothing pre-allowed). */
export const CLAUDE_READ_ONLY_TOOLS = ['Read', 'Grep', 'Glob', 'LS'];

const UNKNOWN_SESSION = /No conversation found with session ID/i;

interface Attempt {
  /** The CLI did not know the session asked for: nothing else was said. */
  unknownSession: boolean;
}

export class ClaudeProvider implements Provider {
  readonly id = 'claude' as const;
  readonly asksApproval = true;

  private readonly confiner: Confiner;

  constructor(
    private readonly launcher: ChildLauncher,
    private readonly config: CliProviderConfig = {},
  ) {
    this.confiner = config.confiner ?? new Confiner();
  }

  async startTurn(options: TurnOptions): Promise<Turn> {
    const confined = await this.confiner.prepare(options.confinement, { cli: 'claude', env: this.config.env ?? {} });
    const control = new TurnControl(this.launcher);
    control.onRelease(() => confined.dispose());
    try {
      return await this.begin(options, confined, control);
    } catch (error) {
      await control.release();
      throw error;
    }
  }

  private async begin(options: TurnOptions, confined: PreparedConfinement, control: TurnControl): Promise<Turn> {
    const mode = modeOf(options);
    const env = { ...this.env(options), ...confined.env };
    const run = async (resumeId: string | undefined, prompt: string) => {
      const child = await control.start({
        command: this.config.command ?? 'claude',
        args: this.args(options, confined, resumeId),
        cwd: options.cwd,
        env,
        wrap: confined.wrapper(options.cwd, env.PATH ?? process.env.PATH),
        stdin: 'pipe',
        timeoutMs: this.config.timeoutMs,
        idleTimeoutMs: this.config.idleTimeoutMs,
        label: 'claude',
        owner: options.owner,
      });
      await child.write(userLine(prompt));
      return child;
    };
    // Started before the stream is read, so a missing binary fails the request itself.
    const first = await run(options.resumeSessionId, options.prompt);
    const provider = this;
    return cliTurn(control, options.signal, mode, async function* () {
      yield { type: 'status', status: options.resumeSessionId ? 'resumed' : 'started', pid: first.pid, mode };
      const attempt = yield* provider.follow(first, options, confined, control);
      if (!attempt.unknownSession || control.killed) return;
      const second = await run(undefined, seededPrompt(options.transcript ?? [], options.prompt));
      yield { type: 'status', status: 'new_session', pid: second.pid, mode, message: NEW_SESSION_NOTICE };
      yield { type: 'text', content: `${NEW_SESSION_NOTICE}\n\n` };
      yield* provider.follow(second, options, confined, control);
    });
  }

  private args(options: TurnOptions, confined: PreparedConfinement, resumeId: string | undefined): string[] {
    const args = [
      '-p', '--verbose', '--output-format', 'stream-json', '--input-format', 'stream-json',
      '--include-partial-messages', '--permission-prompt-tool', 'stdio',
      '--settings', JSON.stringify(claudeSettings(confined)),
    ];
    // Hooks, MCP servers and permission rules of the folder itself load only for a trusted repository.
    if (!confined.confinement.trustProjectConfig) args.push('--setting-sources', 'user');
    if (isReadOnly(options.confinement)) {
      args.push('--permission-mode', 'default', '--tools', CLAUDE_READ_ONLY_TOOLS.join(','));
    } else {
      args.push('--permission-mode', options.permissionMode ?? 'default');
    }
    if (options.model) args.push('--model', options.model);
    if (resumeId) args.push('--resume', resumeId);
    return args;
  }

  private env(options: TurnOptions): Record<string, string> {
    const env = { ...this.config.env };
    // Claude refuses bypassPermissions as root unless told it runs in a sandbox.
    if (options.permissionMode === 'bypassPermissions' && !isReadOnly(options.confinement) && process.getuid?.() === 0) env.IS_SANDBOX = '1';
    return env;
  }

  /** Reads one claude process to its end, turning its JSONL into normalized events. */
  private async *follow(
    child: LaunchedChild,
    options: TurnOptions,
    confined: PreparedConfinement,
    control: TurnControl,
  ): AsyncGenerator<NormalizedEvent, Attempt> {
    const parser = new ClaudeStreamParser({ pid: child.pid, mode: modeOf(options) });
    const stderr = new StderrTail();
    for await (const { stream, line } of child.lines()) {
      if (stream === 'stderr') {
        stderr.push(line);
        if (UNKNOWN_SESSION.test(line)) parser.unknownSession = true;
        continue;
      }
      const message = parseJsonLine(line);
      if (!message) continue;
      if (message.type === 'control_request') {
        yield* this.answerControl(child, message, options, confined, control.signal);
        continue;
      }
      yield* parser.events(message);
      if (parser.sawResult) child.endInput();
    }
    const exit = await child.exited;
    if (parser.unknownSession) return { unknownSession: true };
    if (!parser.sawResult && !control.killed) {
      const detail = sandboxFailureHint(stderr.text()) ?? (stderr.text() || `exit code ${exit.exitCode ?? exit.signal}`);
      yield* endedEarly('claude', exit, detail, control);
    }
    return { unknownSession: false };
  }

  /**
   * A tool approval (can_use_tool): first the confinement's check (read-only toolset, paths
   * inside the roots and outside the secret folders), then, for anything but a read, the
   * approver; anything else we do not offer is refused.
   */
  private async *answerControl(
    child: LaunchedChild,
    message: Record<string, unknown>,
    options: TurnOptions,
    confined: PreparedConfinement,
    stopped: AbortSignal,
  ): AsyncGenerator<NormalizedEvent> {
    const requestId = String(message.request_id ?? '');
    const request = (message.request ?? {}) as { subtype?: string; tool_name?: string; input?: unknown };
    if (request.subtype !== 'can_use_tool') {
      await child.write(controlLine({ subtype: 'error', request_id: requestId, error: `unsupported control request ${request.subtype}` }));
      return;
    }
    const toolName = request.tool_name ?? 'unknown';
    const verdict = await confined.checkTool(toolName, request.input, options.cwd);
    let answer: ApprovalAnswer;
    let refusal = 'Denied on the desktop.';
    if (!verdict.allowed) {
      answer = 'deny';
      refusal = verdict.reason;
    } else if (verdict.access === 'read') {
      answer = 'allow';
    } else {
      yield { type: 'approval_request', requestId, toolName, input: request.input };
      answer = options.onApproval ? await askApprover(options.onApproval, { requestId, toolName, input: request.input }, stopped) : 'deny';
      if (stopped.aborted) return;
    }
    yield { type: 'approval_request', requestId, toolName, input: request.input, decision: answer };
    const response = answer === 'allow' ? { behavior: 'allow', updatedInput: request.input ?? {} } : { behavior: 'deny', message: refusal };
    await child.write(controlLine({ subtype: 'success', request_id: requestId, response }));
  }
}

/**
 * claude's native command sandbox (bubblewrap + socat on Linux, Seatbelt on macOS), required
 * to start: Bash runs with writes only under the root (write profiles) and the temp folder.
 */
function claudeSettings(confined: PreparedConfinement): Record<string, unknown> {
  if (!confined.cliSandbox) return { sandbox: { enabled: false } };
  const temp = confined.env.TMPDIR;
  return {
    sandbox: {
      enabled: true,
      failIfUnavailable: true,
      autoAllowBashIfSandboxed: false,
      allowUnsandboxedCommands: false,
      // Inside our bubblewrap view a second fresh /proc cannot be mounted (ours is not fully
      // visible); the /proc it keeps is the view's own, which shows only the agent's processes.
      ...(confined.osSandbox === 'bubblewrap' ? { enableWeakerNestedSandbox: true } : {}),
      // The CLI's own config (its credentials among it) is in the view for claude, not for its commands.
      filesystem: { allowWrite: [...confined.writableRoots, temp], denyRead: [...confined.configPaths] },
    },
  };
}

function userLine(prompt: string): string {
  return `${JSON.stringify({ type: 'user', message: { role: 'user', content: prompt } })}\n`;
}

function controlLine(response: Record<string, unknown>): string {
  return `${JSON.stringify({ type: 'control_response', response })}\n`;
}

interface ContentBlock {
  type: string;
  text?: string;
  thinking?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: unknown;
  is_error?: boolean;
}

/** The mode a turn's status events name. */
const modeOf = (options: TurnOptions): string => isReadOnly(options.confinement) ? 'read-only' : (options.permissionMode ?? 'default');

/** Maps claude's stream-json lines to normalized events (state: what was already streamed). */
export class ClaudeStreamParser {
  sawResult = false;
  unknownSession = false;
  /** An API error already came as a synthetic message; the result line repeats it. */
  private errorReported = false;
  private sessionId: string | null = null;
  /** Messages whose text/thinking already came as stream_event deltas. */
  private readonly streamed = new Set<string>();

  /** `process`: what the status events it makes (e.g. retrying) name. */
  constructor(private readonly process: { pid: number | null; mode: string } = { pid: null, mode: '' }) {}

  *events(message: Record<string, unknown>): Generator<NormalizedEvent> {
    const sessionId = typeof message.session_id === 'string' ? message.session_id : null;
    if (sessionId && sessionId !== this.sessionId && message.type === 'system') {
      this.sessionId = sessionId;
      yield { type: 'sessionId', sessionId };
    }
    switch (message.type) {
      case 'stream_event':
        yield* this.delta(message);
        return;
      case 'assistant':
        yield* this.assistant(message.message as { id?: string; model?: string; content?: ContentBlock[] });
        return;
      case 'user':
        yield* this.toolResults(message.message as { content?: ContentBlock[] | string });
        return;
      case 'result':
        yield* this.result(message);
        return;
      case 'system':
        if (message.subtype === 'api_retry') yield this.retrying(message);
        return;
    }
  }

  /** claude waits before calling the model API again: say so instead of going quiet for minutes. */
  private retrying(message: Record<string, unknown>): NormalizedEvent {
    const attempt = typeof message.attempt === 'number' ? message.attempt : 0;
    const of = typeof message.max_retries === 'number' ? message.max_retries : null;
    const status = typeof message.error_status === 'number' ? ` (HTTP ${message.error_status})` : '';
    const error = `${typeof message.error === 'string' ? message.error : 'the model API failed'}${status}`;
    const retryInMs = typeof message.retry_delay_ms === 'number' ? message.retry_delay_ms : undefined;
    return {
      type: 'status', status: 'retrying', pid: this.process.pid, mode: this.process.mode, attempt, of, error,
      ...(retryInMs === undefined ? {} : { retryInMs }),
      message: `The model API failed: ${error}. Retrying (attempt ${attempt}${of === null ? '' : ` of ${of}`}).`,
    };
  }

  private *delta(message: Record<string, unknown>): Generator<NormalizedEvent> {
    const event = message.event as { type?: string; delta?: { type?: string; text?: string; thinking?: string } };
    if (event?.type !== 'content_block_delta') return;
    const messageId = String(message.api_message_id ?? '');
    if (event.delta?.type === 'text_delta' && event.delta.text) {
      this.streamed.add(messageId);
      yield { type: 'text', content: event.delta.text };
    } else if (event.delta?.type === 'thinking_delta' && event.delta.thinking) {
      this.streamed.add(messageId);
      yield { type: 'thinking', content: event.delta.thinking };
    }
  }

  private *assistant(message: { id?: string; model?: string; content?: ContentBlock[] } | undefined): Generator<NormalizedEvent> {
    const blocks = message?.content ?? [];
    // An API failure comes as a synthetic assistant message holding the error text.
    if (message?.model === '<synthetic>') {
      const text = blocks.map((block) => block.text ?? '').join('').trim();
      if (text) {
        this.errorReported = true;
        yield { type: 'error', message: text };
      }
      return;
    }
    const alreadyStreamed = this.streamed.has(message?.id ?? '');
    for (const block of blocks) {
      if (block.type === 'tool_use') yield { type: 'tool_use', id: block.id ?? '', name: block.name ?? '', input: block.input ?? {} };
      else if (block.type === 'text' && block.text && !alreadyStreamed) yield { type: 'text', content: block.text };
      else if (block.type === 'thinking' && block.thinking && !alreadyStreamed) yield { type: 'thinking', content: block.thinking };
    }
  }

  private *toolResults(message: { content?: ContentBlock[] | string } | undefined): Generator<NormalizedEvent> {
    if (!Array.isArray(message?.content)) return;
    for (const block of message.content) {
      if (block.type !== 'tool_result') continue;
      yield { type: 'tool_result', toolUseId: block.tool_use_id ?? '', content: resultText(block.content), isError: Boolean(block.is_error) };
    }
  }

  private *result(message: Record<string, unknown>): Generator<NormalizedEvent> {
    const errors = Array.isArray(message.errors) ? message.errors.map(String) : [];
    if (errors.some((error) => UNKNOWN_SESSION.test(error))) {
      this.unknownSession = true;
      this.sawResult = true;
      return;
    }
    this.sawResult = true;
    const usage = (message.usage ?? {}) as { input_tokens?: number; output_tokens?: number; cache_read_input_tokens?: number };
    yield {
      type: 'usage',
      inputTokens: usage.input_tokens ?? 0,
      outputTokens: usage.output_tokens ?? 0,
      cachedInputTokens: usage.cache_read_input_tokens ?? 0,
      ...(typeof message.total_cost_usd === 'number' ? { costUsd: message.total_cost_usd } : {}),
    };
    // `subtype: success` can still carry `is_error: true` (an API error ended the turn).
    const failed = message.is_error === true || message.subtype !== 'success';
    if (failed && !this.errorReported) {
      const text = errors.join('\n') || (typeof message.result === 'string' ? message.result : '') || String(message.subtype);
      yield { type: 'error', message: text };
    }
    yield { type: 'result', success: !failed, ...(failed ? { reason: 'api_error' } : {}) };
  }
}

function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : '')).join('');
  }
  return content === undefined ? '' : JSON.stringify(content);
}
