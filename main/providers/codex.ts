// Codex CLI. A chat turn runs `codex app-server` (JSON-RPC over stdio, one process per turn):
// the prompt goes in a `turn/start` request on stdin (never argv), `thread/resume` continues a
// thread, and codex's command and patch approval requests are answered by the turn's approver
// (the gateway's policy), as claude's can_use_tool is. Reviews run `codex exec review --json`.
// Where the caller's writes must be asked (confinement.approveWrites), codex's own sandbox stays
// read-only, so every write is an approval request; an approved one runs inside the
// confinement's filesystem view, where only the root and the temp folder are writable.
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import type { NormalizedEvent, UsageTotals } from '../../shared/events.js';
import { FailedDependency } from '../errors.js';
import {
  askApprover, cliTurn, endedEarly, NEW_SESSION_NOTICE, parseJsonLine, seededPrompt, StderrTail, TurnControl,
  type ChildLauncher, type LaunchedChild,
} from './cli-turn.js';
import type { ApprovalAnswer, CliProviderConfig, Provider, ReviewOptions, ReviewTarget, Turn, TurnOptions } from './types.js';
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

  readonly asksApproval = true;

  async startTurn(options: TurnOptions): Promise<Turn> {
    return this.confined(options, (confined, control) => this.begin(options, confined, control));
  }

  private async begin(options: TurnOptions, confined: PreparedConfinement, control: TurnControl): Promise<Turn> {
    const sandbox = sandboxMode(options);
    const approval = approvalPolicy(options);
    const mode = approval.asks ? 'ask' : sandbox;
    // Started before the stream is read, so a missing binary fails the request itself.
    const child = await this.launch(control, options, confined, ['app-server', ...this.settings(options, confined, sandbox, approval.policy)], 'rpc');
    const turn = new AppServerTurn(child, options, confined, control, { sandbox, approval: approval.policy, mode });
    return cliTurn(control, options.signal, mode, async function* () {
      yield { type: 'status', status: options.resumeSessionId ? 'resumed' : 'started', pid: child.pid, mode };
      yield* turn.run();
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
    const args = ['exec', 'review', '--json', '--skip-git-repo-check', ...this.settings(options, confined, sandbox, 'never')];
    // The user's instructions go on stdin (`-`), never argv (size limits, the process list).
    const instructions = options.instructions?.trim() ? reviewPrompt(options.target, options.instructions.trim()) : null;
    if (instructions !== null) args.push('-');
    else if (options.target.kind === 'base') args.push('--base', options.target.branch);
    else args.push('--uncommitted');
    const child = await this.launch(control, options, confined, args, instructions === null ? 'none' : { prompt: instructions });
    const provider = this;
    return cliTurn(control, options.signal, sandbox, async function* () {
      yield { type: 'status', status: 'started', pid: child.pid, mode: sandbox };
      yield* provider.follow(child, control);
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

  /**
   * Starts codex inside the confinement's view. `stdin`: a prompt written and closed (exec),
   * `rpc` kept open for JSON-RPC (app-server), or `none`.
   */
  private async launch(
    control: TurnControl,
    options: Pick<TurnOptions, 'cwd' | 'owner'>,
    confined: PreparedConfinement,
    args: string[],
    stdin: { prompt: string } | 'rpc' | 'none',
  ): Promise<LaunchedChild> {
    const env = { ...this.config.env, ...confined.env };
    const child = await control.start({
      command: this.config.command ?? 'codex',
      args,
      cwd: options.cwd,
      env,
      wrap: confined.wrapper(options.cwd, env.PATH ?? process.env.PATH),
      stdin: stdin === 'none' ? 'ignore' : 'pipe',
      timeoutMs: this.config.timeoutMs,
      idleTimeoutMs: this.config.idleTimeoutMs,
      label: 'codex',
      owner: options.owner,
    });
    if (typeof stdin === 'object') {
      await child.write(stdin.prompt);
      child.endInput();
    }
    return child;
  }

  /**
   * Sandbox, approvals, model and effort as config overrides (both `app-server` and `exec
   * review` take them). The root is the only writable folder besides the temp folder; an
   * untrusted folder's AGENTS.md is not read.
   */
  private settings(
    options: Pick<TurnOptions, 'model' | 'reasoningEffort' | 'confinement'>,
    confined: PreparedConfinement,
    sandbox: SandboxMode,
    approval: ApprovalPolicy,
  ): string[] {
    const args = ['-c', `sandbox_mode="${sandbox}"`, '-c', `approval_policy="${approval}"`];
    if (sandbox === 'workspace-write') args.push('-c', `sandbox_workspace_write.writable_roots=${JSON.stringify(confined.writableRoots)}`);
    if (!confined.confinement.trustProjectConfig) args.push('-c', 'project_doc_max_bytes=0');
    if (options.model) args.push('-c', `model=${JSON.stringify(options.model)}`);
    if (options.reasoningEffort) args.push('-c', `model_reasoning_effort="${options.reasoningEffort}"`);
    return args;
  }

  /** Reads one `codex exec` process (a review) to its end. */
  private async *follow(child: LaunchedChild, control: TurnControl): AsyncGenerator<NormalizedEvent> {
    const parser = new CodexStreamParser();
    const stderr = new StderrTail();
    for await (const { stream, line } of child.lines()) {
      if (stream === 'stderr') {
        stderr.push(line);
        continue;
      }
      const message = parseJsonLine(line);
      if (message) yield* parser.events(message);
    }
    const exit = await child.exited;
    if (!parser.sawTurnEnd && !control.killed) {
      const detail = parser.lastError ?? sandboxFailureHint(stderr.text()) ?? (stderr.text() || `exit code ${exit.exitCode ?? exit.signal}`);
      yield* endedEarly('codex', exit, detail, control);
    }
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

type SandboxMode = 'read-only' | 'workspace-write' | 'danger-full-access';
type ApprovalPolicy = 'on-request' | 'never';

/** codex's own sandbox: read-only too where the caller's writes are asked (each write then asks to leave it). */
function sandboxMode(options: Pick<TurnOptions, 'confinement' | 'permissionMode'>): SandboxMode {
  if (isReadOnly(options.confinement) || options.permissionMode === 'plan' || options.confinement.approveWrites) return 'read-only';
  if (options.permissionMode === 'bypassPermissions') return 'danger-full-access';
  return 'workspace-write';
}

/**
 * With an approver codex asks (`on-request`) whenever it wants to leave its sandbox or apply a
 * patch it may not write; without one (reviews, tests of the CLI alone) it never asks.
 */
function approvalPolicy(options: Pick<TurnOptions, 'confinement' | 'onApproval'>): { policy: ApprovalPolicy; asks: boolean } {
  if (!options.onApproval) return { policy: 'never', asks: false };
  return { policy: 'on-request', asks: !isReadOnly(options.confinement) && options.confinement.approveWrites === true };
}

/** A JSON-RPC message of `codex app-server` (a response, a request of its own, or a notification). */
interface RpcMessage {
  id?: number | string;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code?: number; message?: string };
}

/** The app-server's thread items (camelCase), as far as this client reads them. */
interface AppItem {
  id?: string;
  type?: string;
  text?: string;
  summary?: string[];
  command?: string;
  cwd?: string;
  aggregatedOutput?: string | null;
  exitCode?: number | null;
  status?: string;
  changes?: Array<{ path?: string; kind?: { type?: string; move_path?: string | null } }>;
  server?: string;
  tool?: string;
  arguments?: unknown;
  result?: unknown;
  error?: { message?: string } | null;
}

const CLIENT_INFO = { name: 'symphony-desktop', title: 'Symphony Desktop', version: '1.0.0' };
/** JSON-RPC "method not found": server requests this client does not offer (user input, MCP elicitation, auth refresh). */
const NOT_SUPPORTED = -32601;

/**
 * One chat turn through `codex app-server`: initialize, start or resume the thread (a thread
 * codex no longer knows becomes a new one seeded with the stored transcript, in the same
 * process), start the turn with the prompt, answer approval requests through the confinement's
 * check and the turn's approver, and end at `turn/completed`. Items are mapped to the same
 * events as `codex exec --json` (CodexStreamParser).
 */
class AppServerTurn {
  private nextId = 0;
  /** What to do with each request's reply: some say something in the stream, some only send the next request. */
  private readonly replies = new Map<number, (reply: RpcMessage) => AsyncGenerator<NormalizedEvent> | Promise<void>>();
  /** Items seen so far: a patch's approval request names only its item. */
  private readonly items = new Map<string, AppItem>();
  /** Agent message text streamed so far, per item. */
  private readonly streamed = new Map<string, string>();
  private readonly parser: CodexStreamParser;
  private totals: UsageTotals | null = null;

  constructor(
    private readonly child: LaunchedChild,
    private readonly options: TurnOptions,
    private readonly confined: PreparedConfinement,
    private readonly control: TurnControl,
    private readonly thread: { sandbox: SandboxMode; approval: ApprovalPolicy; mode: string },
  ) {
    this.parser = new CodexStreamParser(options.priorUsageTotals);
  }

  async *run(): AsyncGenerator<NormalizedEvent> {
    const stderr = new StderrTail();
    await this.request('initialize', { clientInfo: CLIENT_INFO, capabilities: null }, (reply) => this.initialized(reply));
    for await (const { stream, line } of this.child.lines()) {
      if (stream === 'stderr') {
        stderr.push(line);
        continue;
      }
      const message = parseJsonLine(line) as RpcMessage | null;
      if (!message) continue;
      if (message.method === undefined && message.id !== undefined) {
        const reply = this.replies.get(Number(message.id));
        this.replies.delete(Number(message.id));
        const next = reply?.(message);
        if (next instanceof Promise) await next;
        else if (next) yield* next;
      } else if (message.method !== undefined && message.id !== undefined) {
        yield* this.serverRequest(message as RpcMessage & { method: string; id: number | string });
      } else if (message.method !== undefined) {
        yield* this.notification(message.method, message.params ?? {});
      }
      if (this.parser.sawTurnEnd) break;
    }
    if (this.parser.sawTurnEnd) {
      // The turn is over: the server has nothing more to say for it.
      await this.child.kill();
      return;
    }
    const exit = await this.child.exited;
    if (!this.control.killed) {
      const detail = this.parser.lastError ?? sandboxFailureHint(stderr.text()) ?? (stderr.text() || `exit code ${exit.exitCode ?? exit.signal}`);
      yield* endedEarly('codex', exit, detail, this.control);
    }
  }

  private async send(message: Record<string, unknown>): Promise<void> {
    await this.child.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  }

  private async request(method: string, params: unknown, onReply: (reply: RpcMessage) => AsyncGenerator<NormalizedEvent> | Promise<void>): Promise<void> {
    const id = ++this.nextId;
    this.replies.set(id, onReply);
    await this.send({ id, method, params });
  }

  private threadSettings(): Record<string, unknown> {
    return { cwd: this.options.cwd, approvalPolicy: this.thread.approval, sandbox: this.thread.sandbox };
  }

  private async initialized(reply: RpcMessage): Promise<void> {
    if (reply.error) throw new Error(`codex app-server did not start: ${reply.error.message ?? 'initialize failed'}`);
    await this.send({ method: 'initialized' });
    const { resumeSessionId } = this.options;
    if (!resumeSessionId) return this.startThread(this.options.prompt);
    await this.request('thread/resume', { threadId: resumeSessionId, ...this.threadSettings(), excludeTurns: true }, (answer) => this.resumed(answer));
  }

  private async *resumed(reply: RpcMessage): AsyncGenerator<NormalizedEvent> {
    if (reply.error) {
      if (!UNKNOWN_THREAD.test(reply.error.message ?? '')) throw new Error(`codex could not resume the thread: ${reply.error.message}`);
      // The transcript goes in the turn's input on stdin, like every prompt.
      yield { type: 'status', status: 'new_session', pid: this.child.pid, mode: this.thread.mode, message: NEW_SESSION_NOTICE };
      yield { type: 'text', content: `${NEW_SESSION_NOTICE}\n\n` };
      await this.startThread(seededPrompt(this.options.transcript ?? [], this.options.prompt), true);
      return;
    }
    yield* this.threadReady(reply, this.options.prompt);
  }

  private async startThread(prompt: string, fresh = false): Promise<void> {
    if (fresh) this.parser.resetTotals();
    await this.request('thread/start', this.threadSettings(), (reply) => this.threadReady(reply, prompt));
  }

  private async *threadReady(reply: RpcMessage, prompt: string): AsyncGenerator<NormalizedEvent> {
    const thread = reply.result?.thread as { id?: string } | undefined;
    if (reply.error || !thread?.id) throw new Error(`codex could not start a thread: ${reply.error?.message ?? 'no thread id'}`);
    yield { type: 'sessionId', sessionId: thread.id };
    await this.request(
      'turn/start',
      { threadId: thread.id, input: [{ type: 'text', text: prompt, text_elements: [] }] },
      (answer) => this.turnStarted(answer),
    );
  }

  private async turnStarted(reply: RpcMessage): Promise<void> {
    if (reply.error) throw new Error(`codex could not start the turn: ${reply.error.message}`);
  }

  private *notification(method: string, params: Record<string, unknown>): Generator<NormalizedEvent> {
    switch (method) {
      case 'item/started':
      case 'item/completed': {
        const item = params.item as AppItem | undefined;
        if (!item?.id) return;
        this.items.set(item.id, item);
        const exec = execItem(item);
        if (exec) yield* this.parser.events({ type: method === 'item/completed' ? 'item.completed' : 'item.started', item: exec });
        return;
      }
      case 'item/agentMessage/delta':
      case 'item/reasoning/summaryTextDelta': {
        const itemId = String(params.itemId ?? '');
        const text = (this.streamed.get(itemId) ?? '') + String(params.delta ?? '');
        this.streamed.set(itemId, text);
        const type = method === 'item/agentMessage/delta' ? 'agent_message' : 'reasoning';
        yield* this.parser.events({ type: 'item.updated', item: { id: itemId, type, text } });
        return;
      }
      case 'thread/tokenUsage/updated': {
        const total = (params.tokenUsage as { total?: { inputTokens?: number; outputTokens?: number; cachedInputTokens?: number } } | undefined)?.total;
        if (total) this.totals = { inputTokens: total.inputTokens ?? 0, outputTokens: total.outputTokens ?? 0, cachedInputTokens: total.cachedInputTokens ?? 0 };
        return;
      }
      case 'error': {
        const error = params.error as { message?: string } | undefined;
        if (params.willRetry !== true && error?.message) this.parser.lastError = error.message;
        return;
      }
      case 'turn/completed': {
        const turn = (params.turn ?? {}) as { status?: string; error?: { message?: string } | null };
        if (turn.status === 'completed') {
          const totals = this.totals ?? { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
          yield* this.parser.events({
            type: 'turn.completed',
            usage: { input_tokens: totals.inputTokens, output_tokens: totals.outputTokens, cached_input_tokens: totals.cachedInputTokens },
          });
        } else if (turn.status === 'interrupted' && this.control.killed) {
          this.parser.sawTurnEnd = true;
        } else {
          const message = turn.error?.message ?? this.parser.lastError ?? `The turn ended ${turn.status ?? 'without a status'}.`;
          yield* this.parser.events({ type: 'turn.failed', error: { message } });
        }
        return;
      }
    }
  }

  /** codex asks before a command leaves its sandbox or a patch is applied: the confinement's check, then the approver. */
  private async *serverRequest(message: RpcMessage & { method: string; id: number | string }): AsyncGenerator<NormalizedEvent> {
    const params = message.params ?? {};
    const ask = await this.approvalOf(message.method, params);
    if (!ask) {
      await this.send({ id: message.id, error: { code: NOT_SUPPORTED, message: `${message.method} is not supported by this client` } });
      return;
    }
    const stopped = this.control.signal;
    const requestId = String(params.approvalId ?? params.itemId ?? message.id);
    let answer: ApprovalAnswer;
    if (!ask.verdict.allowed) {
      answer = 'deny';
    } else {
      yield { type: 'approval_request', requestId, toolName: ask.toolName, input: ask.input };
      answer = this.options.onApproval ? await askApprover(this.options.onApproval, { requestId, toolName: ask.toolName, input: ask.input }, stopped) : 'deny';
      if (stopped.aborted) return;
    }
    yield { type: 'approval_request', requestId, toolName: ask.toolName, input: ask.input, decision: answer };
    await this.send({ id: message.id, result: { decision: answer === 'allow' ? 'accept' : 'decline' } });
  }

  /** What an approval request asks for, and what the confinement says of it (null: not an approval this client answers). */
  private async approvalOf(method: string, params: Record<string, unknown>) {
    const cwd = typeof params.cwd === 'string' ? params.cwd : this.options.cwd;
    if (method === 'item/commandExecution/requestApproval') {
      const command = typeof params.command === 'string' ? params.command : this.items.get(String(params.itemId))?.command;
      // `kind`: a new command, or input for one already running (`writeStdin`).
      const input = { command, cwd, reason: params.reason ?? null, kind: params.kind ?? 'command' };
      return { toolName: 'command_execution', input, verdict: await this.confined.checkTool('Bash', { command }, cwd) };
    }
    if (method === 'item/fileChange/requestApproval') {
      const changes = this.items.get(String(params.itemId))?.changes ?? [];
      const input = { changes, reason: params.reason ?? null };
      // A request for lasting write access to a folder is never granted: each change asks.
      if (typeof params.grantRoot === 'string') {
        return { toolName: 'file_change', input, verdict: { allowed: false as const, reason: 'Write access to a folder is not granted.' } };
      }
      const paths = changes.flatMap((change) => [change.path, change.kind?.move_path]).filter((path): path is string => typeof path === 'string');
      for (const path of paths) {
        const verdict = await this.confined.checkTool('Write', { file_path: path }, cwd);
        if (!verdict.allowed) return { toolName: 'file_change', input, verdict };
      }
      return { toolName: 'file_change', input, verdict: { allowed: paths.length > 0, reason: 'The patch names no file.', access: 'write' as const } };
    }
    return null;
  }
}

/** An app-server item in the shape of `codex exec --json`'s items (null: nothing to show). */
function execItem(item: AppItem): CodexItem | null {
  const failed = (status: string | undefined) => (status === 'declined' ? 'failed' : status);
  switch (item.type) {
    case 'agentMessage':
      return { id: item.id, type: 'agent_message', text: item.text };
    case 'reasoning':
      return { id: item.id, type: 'reasoning', text: (item.summary ?? []).join('\n') };
    case 'commandExecution':
      return { id: item.id, type: 'command_execution', command: item.command, aggregated_output: item.aggregatedOutput ?? '', exit_code: item.exitCode, status: failed(item.status) };
    case 'fileChange':
      return { id: item.id, type: 'file_change', changes: item.changes, status: failed(item.status) };
    case 'mcpToolCall':
      return { id: item.id, type: 'mcp_tool_call', server: item.server, tool: item.tool, arguments: item.arguments, result: item.result, error: item.error, status: item.status };
    default:
      return null;
  }
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
  constructor(private priorTotals: UsageTotals = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 }) {}

  /** A new thread stands in for the old one: its totals start at zero. */
  resetTotals(): void {
    this.priorTotals = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
  }

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
