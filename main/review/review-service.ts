// Code review by agents: a review of a ticket's changes by codex (`exec review`) or
// claude (a read-only turn asked for findings as JSON), its findings kept per ticket and
// reviewer, dedup, extract, verdict, and the conversations around a review (a chat, a
// debate about a finding, a chat about a finding). Every agent here runs with the `read`
// profile in the ticket's worktree (or the repository): it can look, never change.
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import type { NormalizedEvent, EventOf } from '../../shared/events.js';
import type {
  ArgueBody, DedupBody, Finding, FindingInput, FindingsPostBody, InvalidFinding, ReviewBody, Verdict,
} from '../../shared/schemas/review.js';
import { isRemoteKey } from '../auth/caller.js';
import { AppError, BadRequest, Conflict, NotFound } from '../errors.js';
import type { WorkspaceGuard } from '../files/workspace.js';
import type { GitService } from '../git/git.js';
import { QueuePlaces } from '../providers/agent-slots.js';
import type { AgentConfinement } from '../providers/confinement.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Turn } from '../providers/types.js';
import type { BinaryResolver } from '../supervisor/binaries.js';
import type { ReapListener } from '../supervisor/supervisor.js';
import type { ChatService } from '../symphony/chat-sessions.js';
import type { TicketWorktrees } from '../symphony/ticket-worktree.js';
import type { Db } from '../store/database.js';
import { comparable, findDuplicates } from './dedup.js';
import { extractFindings, priorityOf, toSeverity, type ExtractedFinding } from './extract.js';
import { withKeepalive } from './keepalive.js';
import {
  argueOpening, argueReply, claudeReviewPrompt, debatePosition, findingChatContext, findingText, parseVerdict, VERDICT_PROMPT,
} from './prompts.js';
import { ReviewStore, type NewFinding, type ReviewProvider, type ReviewRun, type ReviewScope } from './store.js';

export type ReviewEvent =
  | NormalizedEvent
  | { type: 'status'; status: 'running'; pid: number | null; mode: string; provider: ReviewProvider; runId: string }
  | { type: 'keepalive' }
  | { type: 'findings'; count: number; findings: Finding[]; invalid: InvalidFinding[]; summary: string | null }
  | { type: 'debate'; findingId: string | null; position: string | null; rounds: DebateRound[] };

export interface DebateRound {
  round: number;
  /** `challenge`: the first side's case as the client sent it; `response`: the arguer's answer. */
  side: 'challenge' | 'response';
  provider: string;
  content: string;
}

export interface ReviewServiceDeps {
  db: Db;
  providers: ProviderRegistry;
  git: GitService;
  workspace: WorkspaceGuard;
  ticketWorktrees: TicketWorktrees;
  chats: ChatService;
  binaries: Pick<BinaryResolver, 'describe'>;
  dataDir: string;
  log: Logger;
  supervisor?: { onReaped(listener: ReapListener): void };
  /** Quiet streams say `keepalive` this often (the original: 25 s). */
  keepaliveMs?: number;
  verdictTimeoutMs?: number;
}

interface ActiveReview {
  runId: string;
  /** callerKey of who started it (null: from code). */
  caller: string | null;
  stop: AbortController;
  turn?: Turn;
}

const OWNER_PREFIX = 'review:';
const LOG_TAIL_BYTES = 100 * 1024;
const DIFF_CAP_BYTES = 400 * 1024;
const READ_ONLY: AgentConfinement['level'] = 'read';

export class ReviewService {
  readonly store: ReviewStore;
  private readonly active = new Map<string, ActiveReview>();
  private readonly logDir: string;

  constructor(private readonly deps: ReviewServiceDeps) {
    this.store = new ReviewStore(deps.db);
    this.logDir = join(deps.dataDir, 'reviews');
    // No review runs in this process yet: any the database calls running died with an earlier gateway.
    this.store.markInterrupted(() => false);
    deps.supervisor?.onReaped((reaped) => {
      for (const { record } of reaped) {
        if (record.owner?.startsWith(OWNER_PREFIX)) this.store.markInterrupted((id) => this.isLive(id), record.owner.slice(OWNER_PREFIX.length));
      }
    });
  }

  /** Whether codex is there and which version, through the supervisor's binary resolution. */
  async available(): Promise<{ available: boolean; version?: string; path?: string }> {
    const codex = await this.deps.binaries.describe('codex');
    if (!codex.path || !codex.version) return { available: false };
    return { available: true, version: /(\d+\.\d+\.\d+\S*)/.exec(codex.version)?.[1] ?? codex.version, path: codex.path };
  }

  // Reviews

  /**
   * Starts a review; 409 while the same reviewer reviews the same ticket. The stream ends when the review does.
   * `caller` (callerKey) takes an agent slot like a chat turn: past a remote caller's cap the stream says
   * `status queued` until one is free, and with its queue full the request is 429 `too_many_agents`.
   */
  async review(ticketId: string, body: ReviewBody, signal: AbortSignal, caller?: string): Promise<AsyncIterable<ReviewEvent>> {
    const scope = await this.scope(body.repoPath, ticketId, body.provider);
    const key = scopeKey(scope);
    const running = this.active.get(key);
    if (running) {
      throw new Conflict(
        `A ${scope.provider} review of ticket ${ticketId} is already running; wait for it or stop it (POST /codex/stop/${ticketId}).`,
        'review_in_progress',
        { runId: running.runId, provider: scope.provider },
      );
    }
    const entry: ActiveReview = { runId: randomUUID(), caller: caller ?? null, stop: new AbortController() };
    this.active.set(key, entry);
    let run: ReviewRun | null = null;
    try {
      const cwd = await this.reviewTree(scope, body, signal);
      const baseBranch = body.reviewMode === 'base' ? (body.baseBranch ?? (await this.defaultBranch(scope.repoPath, signal))) : null;
      mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
      run = this.store.createRun({
        id: entry.runId, repoPath: scope.repoPath, ticketId, provider: scope.provider, cwd, logPath: join(this.logDir, `${entry.runId}.log`), caller: caller ?? null,
        config: {
          model: body.model ?? null, reasoningEffort: body.reasoningEffort ?? null, reviewMode: body.reviewMode, baseBranch,
          instructions: body.instructions ?? null, branchName: body.branchName ?? null, useBaseRepo: Boolean(body.useBaseRepo),
        },
      });
      const turnSignal = AbortSignal.any([signal, entry.stop.signal]);
      const queue = new QueuePlaces();
      const options = {
        cwd, model: body.model, reasoningEffort: body.reasoningEffort, signal: turnSignal, owner: OWNER_PREFIX + entry.runId,
        confinement: { level: READ_ONLY, root: cwd, ...(caller === undefined ? {} : { caller: { key: caller, signal: turnSignal, onQueued: queue.push } }) },
      };
      const target = baseBranch ? { kind: 'base' as const, branch: baseBranch } : { kind: 'uncommitted' as const };
      const provider = this.deps.providers.get(scope.provider);
      const prompt = provider.review ? '' : await this.claudePrompt(ticketId, cwd, baseBranch, body.instructions, signal);
      const starting = provider.review ? provider.review({ ...options, target, instructions: body.instructions }) : provider.startTurn({ ...options, prompt });
      const started = run;
      // A start that fails after it queued (the client left, the provider refused) ends the review, read or not.
      starting.catch(() => {
        if (this.active.get(key) === entry) this.active.delete(key);
        this.store.updateRun(started.id, { status: turnSignal.aborted ? 'stopped' : 'failed' });
      });
      const keepalive = (events: AsyncGenerator<ReviewEvent>) => withKeepalive(events, this.deps.keepaliveMs ?? 25_000, () => ({ type: 'keepalive' as const }));
      // A start refused at once (429 queue full, 424 no binary) is the request's error; one that waits streams its place.
      const first = await Promise.race([starting, queue.first]);
      if (first === 'queued') return keepalive(this.afterQueue(key, scope, run, entry, starting, queue));
      return keepalive(this.begin(key, scope, run, entry, first));
    } catch (error) {
      this.active.delete(key);
      if (run) this.store.updateRun(run.id, { status: 'failed' });
      throw error;
    }
  }

  private async *afterQueue(key: string, scope: ReviewScope, run: ReviewRun, entry: ActiveReview, starting: Promise<Turn>, queue: QueuePlaces): AsyncGenerator<ReviewEvent> {
    yield* queue.statusUntil(starting, 'read-only');
    let turn: Turn;
    try {
      turn = await starting;
    } catch (error) {
      const left = entry.stop.signal.aborted || (error as { code?: string }).code === 'client_closed';
      yield { type: 'error', message: error instanceof Error ? error.message : String(error) };
      yield { type: 'result', success: false, reason: left ? 'killed' : 'failed' };
      yield { type: 'done' };
      return;
    }
    yield* this.begin(key, scope, run, entry, turn);
  }

  private begin(key: string, scope: ReviewScope, run: ReviewRun, entry: ActiveReview, turn: Turn): AsyncGenerator<ReviewEvent> {
    entry.turn = turn;
    this.store.updateRun(run.id, { pid: turn.pid });
    return this.follow(key, scope, run, turn);
  }

  private async *follow(key: string, scope: ReviewScope, run: ReviewRun, turn: Turn): AsyncGenerator<ReviewEvent> {
    const log = createWriteStream(run.logPath, { flags: 'w', mode: 0o600 });
    let text = '';
    let result: EventOf<'result'> | null = null;
    let settled = false;
    try {
      yield { type: 'status', status: 'running', pid: turn.pid, mode: 'read-only', provider: scope.provider, runId: run.id };
      for await (const event of turn.events) {
        if (event.type === 'result') {
          result = event;
          continue;
        }
        if (event.type === 'done') continue;
        if (event.type === 'text') text += event.content;
        if (event.type === 'sessionId') this.store.updateRun(run.id, { sessionId: event.sessionId });
        writeLog(log, event);
        yield event;
      }
      const success = result?.success === true;
      let found: ReviewEvent | null = null;
      if (success) {
        const stored = this.storeFindings(scope, run, text);
        found = { type: 'findings', count: stored.findings.length, ...stored };
      }
      this.store.updateRun(run.id, {
        status: success ? 'completed' : result?.reason === 'killed' || !result ? 'stopped' : 'failed',
        exitCode: success ? 0 : result?.reason === 'killed' ? null : 1,
      });
      settled = true;
      if (found) yield found;
      if (result) yield result;
      yield { type: 'done' };
    } finally {
      // No result: the client left mid-review (the turn's own cleanup killed the child).
      if (!settled) this.store.updateRun(run.id, { status: 'stopped' });
      log.end();
      this.active.delete(key);
    }
  }

  /** Parses the reviewer's output, marks what repeats an earlier commented or dismissed finding, stores the set. */
  private storeFindings(scope: ReviewScope, run: ReviewRun, text: string) {
    const extraction = extractFindings(text, run.cwd);
    const findings = this.withEarlierDecisions(scope, extraction.findings);
    if (extraction.invalid.length) this.deps.log.warn({ runId: run.id, invalid: extraction.invalid.length }, 'review findings that do not fit the schema');
    const stored = this.store.replaceFindings(scope, run.id, findings, run.config.model);
    this.store.updateRun(run.id, { summary: extraction.summary });
    return { findings: stored, invalid: extraction.invalid, summary: extraction.summary };
  }

  /** A finding that says what an earlier one (commented or dismissed, any run, either reviewer) said takes its decision. */
  private withEarlierDecisions(scope: ReviewScope, findings: readonly ExtractedFinding[]): NewFinding[] {
    const earlier = this.store.settledFindings(scope.repoPath, scope.ticketId);
    const pairs = findDuplicates(findings.map((f) => comparable({ title: f.title, body: f.body, file: f.file })), earlier.map(comparable));
    const repeats = new Map(pairs.map(([index, earlierIndex]) => [index, earlier[earlierIndex]]));
    return findings.map((finding, index) => {
      const previous = repeats.get(index);
      return previous ? { ...finding, status: previous.status, duplicateOf: previous.id } : finding;
    });
  }

  private async claudePrompt(ticketId: string, cwd: string, baseBranch: string | null, instructions: string | undefined, signal: AbortSignal) {
    const diff = await this.deps.git.diff(cwd, { baseBranch: baseBranch ?? undefined, maxBytes: DIFF_CAP_BYTES }, signal);
    return claudeReviewPrompt({
      ticketId,
      scope: baseBranch
        ? `The changes are this branch against ${baseBranch} (from their merge base), uncommitted work included.`
        : 'The changes are the uncommitted ones (staged, unstaged and new files).',
      diff: diff.diff,
      truncated: diff.truncated,
      untracked: diff.files.filter((file) => file.status === 'untracked').map((file) => file.path),
      instructions,
    });
  }

  /** The ticket's worktree; created for `branchName` when missing; the repository itself with `useBaseRepo`. */
  private async reviewTree(scope: ReviewScope, body: Pick<ReviewBody, 'useBaseRepo' | 'branchName' | 'baseBranch'>, signal: AbortSignal): Promise<string> {
    if (body.useBaseRepo) return scope.repoPath;
    const found = await this.deps.ticketWorktrees.find(scope.repoPath, scope.ticketId, signal);
    if (found) return found.path;
    if (!body.branchName) {
      throw new BadRequest(
        `Ticket ${scope.ticketId} has no worktree yet: pass branchName to create one for that branch, or useBaseRepo to review the repository itself.`,
        { field: 'branchName' },
        'worktree_missing',
      );
    }
    const ensured = await this.deps.ticketWorktrees.ensure({ repoPath: scope.repoPath, ticketId: scope.ticketId, branchName: body.branchName, baseBranch: body.baseBranch }, signal);
    return ensured.path;
  }

  /** Where conversations about the ticket run: its worktree, else the repository. */
  private async ticketTree(repoPath: string, ticketId: string, signal?: AbortSignal): Promise<string> {
    return (await this.deps.ticketWorktrees.find(repoPath, ticketId, signal))?.path ?? repoPath;
  }

  private async defaultBranch(repoPath: string, signal: AbortSignal): Promise<string> {
    try {
      return await this.deps.git.defaultBranch(repoPath, signal);
    } catch {
      return 'main';
    }
  }

  // Status, stop, forget: a remote caller (callerKey) sees and stops only the reviews it started, and
  // another's is the same reply as none; the local user reaches every review.

  async status(ticketId: string, repoPath: string, provider?: ReviewProvider, caller?: string) {
    const run = await this.latest(repoPath, ticketId, provider, ownRuns(caller));
    if (!run) {
      // The web client reads worktreeDir in both shapes: where the ticket's worktree goes.
      const worktreeDir = this.deps.ticketWorktrees.expectedPath(await this.mainRepo(repoPath), ticketId);
      return { hasReview: false as const, worktreeDir, message: `No review of ticket ${ticketId}${provider ? ` by ${provider}` : ''} yet.` };
    }
    const entry = this.active.get(scopeKey(run));
    const { log, logSize } = await logTail(run.logPath);
    return {
      hasReview: true as const, runId: run.id, worktreeDir: run.cwd, status: run.status, processRunning: Boolean(entry?.turn && entry.runId === run.id),
      pid: run.pid, provider: run.provider, sessionId: run.sessionId, startedAt: run.startedAt, completedAt: run.completedAt,
      exitCode: run.exitCode, config: run.config, verdict: run.verdict, summary: run.summary, log, logSize,
    };
  }

  /** Stops a running review and its whole process tree. */
  async stop(ticketId: string, repoPath: string, provider: ReviewProvider, caller?: string): Promise<{ stopped: boolean; pid?: number | null; message?: string }> {
    const scope = await this.scope(repoPath, ticketId, provider);
    const entry = this.activeFor(scope, caller);
    if (!entry) {
      const run = this.store.latestRun(scope, ownRuns(caller));
      if (!run) throw new NotFound(`No ${provider} review of ticket ${ticketId}.`, 'review_not_found');
      return { stopped: false, message: `The ${provider} review of ticket ${ticketId} is not running (${run.status}).` };
    }
    const pid = entry.turn?.pid ?? null;
    entry.stop.abort();
    await entry.turn?.kill();
    return { stopped: true, pid };
  }

  /** DELETE /codex/status: forgets the review(s); a running one must be stopped first. */
  async forget(ticketId: string, repoPath: string, provider?: ReviewProvider, caller?: string): Promise<{ success: true; deleted: string[] }> {
    const providers: ReviewProvider[] = provider ? [provider] : ['claude', 'codex'];
    const scopes = await Promise.all(providers.map((p) => this.scope(repoPath, ticketId, p)));
    for (const scope of scopes) {
      if (this.activeFor(scope, caller)) {
        throw new Conflict(`The ${scope.provider} review of ticket ${ticketId} is running; stop it first (POST /codex/stop/${ticketId}).`, 'review_running');
      }
    }
    const deleted: string[] = [];
    for (const scope of scopes) {
      const { logPaths } = this.store.forget(scope, ownRuns(caller));
      await Promise.all(logPaths.map((file) => rm(file, { force: true })));
      deleted.push(...logPaths.map((file) => basename(file)));
    }
    return { success: true, deleted };
  }

  /** DELETE /codex/stop: stops the review (if it runs) and forgets it. */
  async stopAndForget(ticketId: string, repoPath: string, provider?: ReviewProvider, caller?: string): Promise<{ deleted: string[] }> {
    for (const p of provider ? [provider] : (['claude', 'codex'] as const)) {
      const entry = this.activeFor(await this.scope(repoPath, ticketId, p), caller);
      if (entry) {
        entry.stop.abort();
        await entry.turn?.kill();
        await this.whenEnded(entry);
      }
    }
    const { deleted } = await this.forget(ticketId, repoPath, provider, caller);
    return { deleted };
  }

  /** Stops every review (gateway shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.active.values()].map(async (entry) => {
      entry.stop.abort();
      await entry.turn?.kill();
    }));
  }

  // Findings

  async findings(ticketId: string, repoPath: string, provider: ReviewProvider = 'codex') {
    const scope = await this.scope(repoPath, ticketId, provider);
    const meta = this.store.meta(scope);
    return {
      provider, model: meta?.model ?? 'unknown', findings: this.store.findings(scope),
      ...(meta?.declined ? { declined: true, declineReason: meta.declineReason ?? '' } : {}),
    };
  }

  async postFindings(ticketId: string, repoPath: string, queryProvider: ReviewProvider | undefined, body: FindingsPostBody) {
    const provider = ('provider' in body && body.provider) || queryProvider || 'codex';
    const scope = await this.scope(repoPath, ticketId, provider);
    if ('commentedIndex' in body) {
      const all = this.store.findings(scope);
      if (!all.length) throw new NotFound(`No ${provider} findings for ticket ${ticketId}.`, 'findings_not_found');
      const finding = all.find((f) => f.index === body.commentedIndex);
      if (!finding) throw new BadRequest(`commentedIndex ${body.commentedIndex} is out of range (0-${all.length - 1}).`, { field: 'commentedIndex' });
      this.store.setStatus(finding.id, 'commented', body.humanizedBody);
      return { success: true as const };
    }
    if ('declined' in body) {
      this.store.decline(scope, body.declineReason ?? null);
      return { success: true as const };
    }
    if ('findings' in body) {
      const stored = this.store.replaceFindings(scope, null, body.findings.map(fromInput), body.model ?? null);
      return { success: true as const, count: stored.length };
    }
    const finding = this.store.finding(body.findingId);
    if (!finding || finding.repoPath !== scope.repoPath || finding.ticketId !== ticketId) {
      throw new NotFound(`No finding ${body.findingId} on ticket ${ticketId}.`, 'finding_not_found');
    }
    this.store.setStatus(finding.id, body.status);
    return { success: true as const };
  }

  async dedup(body: DedupBody): Promise<{ duplicates: Array<[number, number]> }> {
    await this.deps.workspace.resolve(body.repoPath);
    return { duplicates: findDuplicates(body.findingsA.map(comparable), body.findingsB.map(comparable)) };
  }

  /** Findings read again from a finished review's log (no agent runs). */
  async extract(ticketId: string, body: { repoPath: string; sessionId: string; provider?: ReviewProvider }, caller?: string) {
    const run = await this.runBySession(ticketId, body.repoPath, body.sessionId, body.provider, caller);
    const text = await readLog(run.logPath);
    const extraction = extractFindings(text, run.cwd);
    return {
      findings: extraction.findings.map((f) => ({
        severity: f.severity, priority: f.priority, file: f.file, line: f.line, message: f.body ? `${f.title}\n${f.body}` : f.title,
        suggestion: f.suggestion, title: f.title, body: f.body, confidence: f.confidence, commented: false,
      })),
      invalid: extraction.invalid,
    };
  }

  /** A premise review: the reviewer's session resumed read-only, asked for `<pr_verdict>`. Never throws for the agent's failure. */
  async verdict(ticketId: string, body: { repoPath: string; sessionId: string; provider: ReviewProvider }, signal: AbortSignal, caller?: string): Promise<{ verdict: Verdict | null; error?: string }> {
    const run = await this.runBySession(ticketId, body.repoPath, body.sessionId, body.provider, caller);
    const transcript = [
      { role: 'user' as const, content: `Review the changes of ticket ${ticketId}.` },
      { role: 'assistant' as const, content: (await readLog(run.logPath)).slice(-200_000) },
    ];
    let text = '';
    let error: string | undefined;
    // Past a remote caller's agent cap the request waits for a slot (within the same timeout), or is 429 with its queue full.
    const turnSignal = AbortSignal.any([signal, AbortSignal.timeout(this.deps.verdictTimeoutMs ?? 10 * 60_000)]);
    try {
      const turn = await this.deps.providers.get(run.provider).startTurn({
        prompt: VERDICT_PROMPT, cwd: run.cwd, model: run.config.model ?? undefined, resumeSessionId: run.sessionId ?? undefined, transcript,
        confinement: { level: READ_ONLY, root: run.cwd, ...(caller === undefined ? {} : { caller: { key: caller, signal: turnSignal } }) },
        owner: OWNER_PREFIX + run.id, signal: turnSignal,
      });
      for await (const event of turn.events) {
        if (event.type === 'text') text += event.content;
        else if (event.type === 'error') error = event.message;
        else if (event.type === 'result' && !event.success) error ??= `The ${run.provider} turn ended: ${event.reason ?? 'failed'}.`;
      }
    } catch (caught) {
      if (!(caught instanceof AppError) || caught.code === 'too_many_agents') throw caught;
      return { verdict: null, error: caught.message };
    }
    const verdict = parseVerdict(text);
    if (verdict) this.store.updateRun(run.id, { verdict });
    return verdict ? { verdict } : { verdict: null, error: error ?? 'The reviewer gave no <pr_verdict>.' };
  }

  // Conversations (through the chat sessions: one turn at a time, history, resume). Each belongs to
  // the caller that opened it (`caller`: callerKey), as every chat does: another caller's is none to
  // it, and its agents take the caller's agent slots.

  /** One round of a debate: the other reviewer argues a finding; both sides and every round are kept. */
  async argue(ticketId: string, body: ArgueBody, signal: AbortSignal, caller: string): Promise<AsyncIterable<ReviewEvent>> {
    const repoPath = await this.mainRepo(body.repoPath ?? body.repo!);
    const finding = body.findingId ? this.ticketFinding(body.findingId, repoPath, ticketId) : null;
    const summary = finding ? findingText(finding) : body.findingSummary!;
    const argument = body.claudeArgument ?? finding!.body;
    const firstSide = finding?.provider ?? 'claude';
    const arguer: ReviewProvider = body.provider ?? (firstSide === 'claude' ? 'codex' : 'claude');
    const key = { kind: 'review_argue' as const, scope: `${repoPath}#${ticketId}#${finding?.id ?? hashText(summary)}`, provider: arguer, caller };
    const previous = this.deps.chats.get(key);
    // Checked before the round is recorded, so a refused round leaves nothing behind.
    if (previous?.state === 'running') throw new Conflict('This finding is being argued already; wait for the answer.', 'turn_in_progress');
    const rounds = ((previous?.details?.challenges as DebateRound[] | undefined) ?? []).filter((round) => round.side === 'challenge');
    const challenge: DebateRound = { round: rounds.length + 1, side: 'challenge', provider: firstSide, content: argument };
    const cwd = previous?.cwd ?? (await this.ticketTree(repoPath, ticketId, signal));
    const events = await this.deps.chats.send({
      ...key, cwd, signal, model: body.model, confinement: { level: READ_ONLY, root: cwd },
      message: previous?.messages.length ? argueReply(argument) : argueOpening(summary, argument),
      details: { findingId: finding?.id ?? null, findingSummary: summary, firstSide, challenges: [...rounds, challenge] },
    });
    const chats = this.deps.chats;
    return withKeepalive(
      appendAtEnd(events, () => {
        const conversation = chats.get(key);
        const answers = (conversation?.messages ?? []).filter((m) => m.role === 'assistant');
        const challenges = (conversation?.details?.challenges as DebateRound[] | undefined) ?? [];
        const all = challenges.flatMap((round, i) => {
          const answer = answers[i];
          return answer ? [round, { round: round.round, side: 'response' as const, provider: arguer, content: answer.content }] : [round];
        });
        return { type: 'debate', findingId: finding?.id ?? null, position: debatePosition(answers.at(-1)?.content ?? ''), rounds: all };
      }),
      this.deps.keepaliveMs ?? 25_000,
      () => ({ type: 'keepalive' as const }),
    );
  }

  /** The chat beside a review (`chatContextId: "review"`) or the general one about the ticket, read-only. */
  async chat(ticketId: string, body: { prompt: string; repoPath: string; chatContextId?: string; provider: ReviewProvider; model?: string }, signal: AbortSignal, caller: string) {
    const repoPath = await this.mainRepo(body.repoPath);
    const cwd = await this.ticketTree(repoPath, ticketId, signal);
    const scope = `${repoPath}#${ticketId}#${body.chatContextId === 'review' ? 'review' : 'general'}`;
    return this.deps.chats.send({
      kind: 'review', scope, provider: body.provider, caller, cwd, message: body.prompt, model: body.model, signal,
      confinement: { level: READ_ONLY, root: cwd },
    });
  }

  async findingChat(findingId: string, ticketId: string, repo: string, caller: string) {
    const repoPath = await this.mainRepo(repo);
    const conversations = (['claude', 'codex'] as const).map((provider) => this.deps.chats.get(findingChatKey(repoPath, ticketId, findingId, provider, caller)));
    const chat = conversations.find(Boolean) ?? null;
    return {
      ticketId, repoPath, findingId, provider: chat?.provider ?? null, sessionId: chat?.cliSessionId ?? null,
      messages: (chat?.messages ?? []).map((m) => ({ id: String(m.clientId ?? m.id), role: m.role, content: m.content, timestamp: m.createdAt, status: m.status, responded: Boolean(m.responded) })),
    };
  }

  async sendFindingChat(
    findingId: string, ticketId: string, repo: string,
    body: { message: string; findingContext?: { severity?: string; priority?: string; file?: string | null; line?: number | null; message?: string; suggestion?: string | null }; provider: ReviewProvider },
    signal: AbortSignal,
    caller: string,
  ) {
    const repoPath = await this.mainRepo(repo);
    const stored = this.store.finding(findingId);
    const finding = stored && stored.repoPath === repoPath && stored.ticketId === ticketId ? findingText(stored) : contextText(body.findingContext);
    const cwd = await this.ticketTree(repoPath, ticketId, signal);
    return this.deps.chats.send({
      ...findingChatKey(repoPath, ticketId, findingId, body.provider, caller), cwd, message: body.message, signal,
      context: findingChatContext(finding, ticketId), confinement: { level: READ_ONLY, root: cwd },
    });
  }

  /** `{message}` appends (the old client's PATCH); `{messageId?, responded}` marks a reply as answered. */
  async patchFindingChat(
    findingId: string, ticketId: string, repo: string, body: { message: string; role?: 'user' | 'assistant' } | { messageId?: string | number; responded: boolean }, caller: string,
  ) {
    const repoPath = await this.mainRepo(repo);
    const key = this.existingFindingChat(repoPath, ticketId, findingId, caller);
    if ('message' in body) {
      this.deps.chats.append(key, await this.ticketTree(repoPath, ticketId), { role: body.role ?? 'user', content: body.message });
    } else {
      this.deps.chats.markResponded(key, body.messageId === undefined ? undefined : String(body.messageId), body.responded);
    }
    return { success: true as const };
  }

  async deleteFindingChat(findingId: string, ticketId: string, repo: string, caller: string) {
    const repoPath = await this.mainRepo(repo);
    for (const provider of ['claude', 'codex'] as const) {
      const key = findingChatKey(repoPath, ticketId, findingId, provider, caller);
      await this.deps.chats.end(key.kind, key.scope, provider, caller);
    }
    return { success: true as const };
  }

  // Helpers

  private existingFindingChat(repoPath: string, ticketId: string, findingId: string, caller: string) {
    const keys = (['claude', 'codex'] as const).map((provider) => findingChatKey(repoPath, ticketId, findingId, provider, caller));
    return keys.find((key) => this.deps.chats.get(key)) ?? keys[0];
  }

  private ticketFinding(findingId: string, repoPath: string, ticketId: string) {
    const finding = this.store.finding(findingId);
    if (!finding || finding.repoPath !== repoPath || finding.ticketId !== ticketId) throw new NotFound(`No finding ${findingId} on ticket ${ticketId}.`, 'finding_not_found');
    return finding;
  }

  /**
   * A review session for extract and verdict: a remote caller (callerKey) reaches only the runs it
   * started, and another's is the same 404 as none; the local user reaches every run.
   */
  private async runBySession(ticketId: string, repoPath: string, sessionId: string, provider: ReviewProvider | undefined, caller: string | undefined): Promise<ReviewRun> {
    const run = this.store.runBySession(await this.mainRepo(repoPath), ticketId, sessionId, provider, ownRuns(caller));
    if (!run) throw new NotFound(`No review of ticket ${ticketId} has session ${sessionId}.`, 'review_not_found');
    return run;
  }

  private async latest(repoPath: string, ticketId: string, provider: ReviewProvider | undefined, ownedBy: string | null): Promise<ReviewRun | null> {
    const main = await this.mainRepo(repoPath);
    for (const p of provider ? [provider] : (['claude', 'codex'] as const)) {
      const run = this.store.latestRun({ repoPath: main, ticketId, provider: p }, ownedBy);
      if (run) return run;
    }
    return null;
  }

  /** The scope's running review if the caller may see it (its own, or any for the local user). */
  private activeFor(scope: ReviewScope, caller: string | undefined): ActiveReview | undefined {
    const entry = this.active.get(scopeKey(scope));
    const ownedBy = ownRuns(caller);
    return entry && (ownedBy === null || entry.caller === ownedBy) ? entry : undefined;
  }

  private async scope(repoPath: string, ticketId: string, provider: ReviewProvider): Promise<ReviewScope> {
    return { repoPath: await this.mainRepo(repoPath), ticketId, provider };
  }

  /** The main checkout of the repository (or worktree) the client named, through the workspace guard. */
  private async mainRepo(repoPath: string): Promise<string> {
    return this.deps.git.worktrees.mainRepoPath(await this.deps.workspace.resolve(repoPath));
  }

  private isLive(runId: string): boolean {
    return [...this.active.values()].some((entry) => entry.runId === runId);
  }

  private async whenEnded(entry: ActiveReview): Promise<void> {
    for (let i = 0; i < 100 && this.isLive(entry.runId); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whose review runs a caller reaches: a remote caller (callerKey) only its own; the local user (null) all. */
function ownRuns(caller: string | undefined): string | null {
  return caller !== undefined && isRemoteKey(caller) ? caller : null;
}

function scopeKey(scope: Pick<ReviewScope, 'repoPath' | 'ticketId' | 'provider'>): string {
  return JSON.stringify([scope.repoPath, scope.ticketId, scope.provider]);
}

function findingChatKey(repoPath: string, ticketId: string, findingId: string, provider: ReviewProvider, caller: string) {
  return { kind: 'review_finding' as const, scope: `${repoPath}#${ticketId}#${findingId}`, provider, caller };
}

function hashText(text: string): string {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return `summary-${(hash >>> 0).toString(16)}`;
}

function contextText(context?: { severity?: string; priority?: string; file?: string | null; line?: number | null; message?: string; suggestion?: string | null }): string {
  if (!context?.message) return '(the client sent no details of the finding)';
  const where = context.file ? ` at ${context.file}${context.line ? `:${context.line}` : ''}` : '';
  return `[${context.priority ?? ''} ${context.severity ?? ''}] ${context.message}${where}${context.suggestion ? `\nSuggested fix: ${context.suggestion}` : ''}`;
}

function fromInput(input: FindingInput): NewFinding {
  const severity = toSeverity(input.severity);
  const [firstLine, ...rest] = input.message.split('\n');
  const status = input.status ?? (input.commented ? 'commented' : 'open');
  return {
    severity, priority: input.priority ?? priorityOf(severity), file: input.file ?? null, line: input.line ?? null, endLine: input.line ?? null,
    title: input.title ?? firstLine, body: input.body ?? rest.join('\n').trim(), suggestion: input.suggestion ?? null,
    confidence: input.confidence ?? null, status, humanizedBody: input.humanizedBody ?? null,
  };
}

/** The chat events with one more event before the turn's closing `result`/`done`. */
async function* appendAtEnd(events: AsyncIterable<NormalizedEvent>, last: () => ReviewEvent): AsyncGenerator<ReviewEvent> {
  const held: NormalizedEvent[] = [];
  for await (const event of events) {
    if (event.type === 'result' || event.type === 'done') held.push(event);
    else yield event;
  }
  yield last();
  yield* held;
}

function writeLog(log: WriteStream, event: NormalizedEvent): void {
  if (event.type === 'text') log.write(event.content);
  else if (event.type === 'tool_use') log.write(`\n› ${event.name}\n`);
  else if (event.type === 'error') log.write(`\n! ${event.message}\n`);
}

async function readLog(file: string): Promise<string> {
  try {
    const handle = await open(file);
    try {
      return await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

/** The last 100 KiB of the log, and its size. */
async function logTail(file: string): Promise<{ log: string; logSize: number }> {
  try {
    const { size } = await stat(file);
    const handle = await open(file);
    try {
      const length = Math.min(size, LOG_TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return { log: buffer.toString('utf8'), logSize: size };
    } finally {
      await handle.close();
    }
  } catch {
    return { log: '', logSize: 0 };
  }
}
