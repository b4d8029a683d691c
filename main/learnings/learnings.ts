// Learnings: a read-only agent turn over a ticket's run transcript and chats extracts
// lessons (validated; malformed ones reported), processing merges them into the pattern
// store, uses and outcomes move seen counts and success rates, and the patterns that
// apply to a repository are offered to its next run's prompt. The process-all batch is a
// queue inside the gateway whose progress is in SQLite, so a restart picks it up again.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Pattern } from '../../shared/schemas/learnings.js';
import { NotFound } from '../errors.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { ProviderId } from '../providers/types.js';
import type { Db } from '../store/database.js';
import type { SettingsStore } from '../store/settings.js';
import { extractionPrompt, parseLearnings } from './extract.js';
import { LearningsStore, type BatchJob, type TicketStatus } from './store.js';
import { toToon } from './toon.js';

/** Something that knows part of a ticket's history (chats, a run's event log), as text. */
/** `caller` is the asker's conversation key: a caller learns only from its own chats. */
export type TranscriptSource = (repoPath: string, ticketId: string, caller: string) => Promise<string | null> | string | null;

export interface LearningsServiceOptions {
  db: Db;
  settings: SettingsStore;
  providers: ProviderRegistry;
  resolvePath: (userPath: string) => Promise<string>;
  worktrees?: { find(repoPath: string, ticketId: string, signal?: AbortSignal): Promise<{ path: string } | null> };
  log: Logger;
  /** A pause between batch items (tests: to stop a gateway mid-batch). */
  batchPauseMs?: number;
}

export interface PromptSection {
  title: string;
  body: string;
}

const OFFER_SETTING = 'learnings.offerToRuns';
const OFFERED_MAX = 10;

export class LearningsService {
  readonly store: LearningsStore;
  private readonly sources: Array<{ name: string; read: TranscriptSource }> = [];
  private readonly extracting = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly waiting = new Map<string, Promise<void>>();
  private batch: Promise<void> | null = null;
  private closed = false;
  private readonly closing = new AbortController();
  private readonly log: Logger;

  constructor(private readonly options: LearningsServiceOptions) {
    this.store = new LearningsStore(options.db);
    this.log = options.log.child({ component: 'learnings' });
    const interrupted = this.store.interruptExtractions();
    if (interrupted) this.log.warn({ interrupted }, 'learning extractions interrupted by a gateway restart');
  }

  /** Registers where ticket history comes from (chats here; runs register theirs). */
  addTranscriptSource(name: string, read: TranscriptSource): void {
    this.sources.push({ name, read });
  }

  /** Resumes a process-all batch an earlier gateway left unfinished. */
  resume(): void {
    const job = this.store.latestJob();
    if (job?.status === 'processing') {
      this.log.info({ jobId: job.id, done: job.items.filter((i) => i.done).length, of: job.items.length }, 'resuming the learnings batch');
      this.runBatch(job);
    }
  }

  // ---- extraction --------------------------------------------------------------------

  async extract(input: { ticketId: string; repoPath: string; activeTab?: string; provider?: ProviderId }, caller: string) {
    const repo = await this.options.resolvePath(input.repoPath);
    const key = keyOf(repo, input.ticketId);
    if (this.extracting.has(key)) {
      return { status: 'processing', ticketId: input.ticketId, activeTab: input.activeTab ?? null, timestamp: new Date().toISOString(), alreadyRunning: true };
    }
    const transcript = await this.transcriptOf(repo, input.ticketId, caller);
    if (!transcript) {
      throw new NotFound(`Ticket ${input.ticketId} has no run transcript or chat history to learn from yet.`, 'no_history');
    }
    const root = (await this.worktreeOf(repo, input.ticketId)) ?? repo;
    const provider = this.options.providers.get(input.provider ?? 'claude');
    this.store.setStatus(repo, input.ticketId, 'extraction', { status: 'processing', count: 0 });
    const abort = new AbortController();
    const done = this.runExtraction(repo, input.ticketId, root, provider.id, transcript, abort.signal, caller)
      .catch((error: unknown) => {
        this.store.setStatus(repo, input.ticketId, 'extraction', { status: 'error', count: 0, message: (error as Error).message });
      })
      .finally(() => this.extracting.delete(key));
    this.extracting.set(key, { abort, done });
    return { status: 'processing', ticketId: input.ticketId, activeTab: input.activeTab ?? null, timestamp: new Date().toISOString() };
  }

  private async runExtraction(
    repo: string, ticketId: string, root: string, providerId: ProviderId, transcript: string, signal: AbortSignal, caller?: string,
  ): Promise<void> {
    const turn = await this.options.providers.get(providerId).startTurn({
      prompt: extractionPrompt(ticketId, transcript),
      cwd: root,
      // A remote asker's extraction counts against its concurrent agents (it waits for a slot like a chat turn).
      confinement: { level: 'read', root, ...(caller === undefined ? {} : { caller: { key: caller, signal } }) },
      signal,
      owner: `learnings:${ticketId}`,
    });
    let text = '';
    let failure: string | null = null;
    for await (const event of turn.events) {
      if (event.type === 'text') text += event.content;
      else if (event.type === 'error') failure = event.message;
      else if (event.type === 'result' && !event.success) failure ??= `the turn ended: ${event.reason ?? 'failed'}`;
    }
    if (failure && !text) throw new Error(`The extraction turn failed: ${failure}`);
    const parsed = parseLearnings(text);
    if (parsed.error || (parsed.learnings.length === 0 && parsed.malformed.length > 0)) {
      const message = parsed.error ?? `None of the ${parsed.malformed.length} learning(s) the model returned is valid.`;
      this.log.warn({ ticketId, malformed: parsed.malformed, message }, 'learnings extraction answer was malformed');
      this.store.setStatus(repo, ticketId, 'extraction', { status: 'error', count: 0, message, malformed: parsed.malformed });
      return;
    }
    this.store.addPending(repo, ticketId, parsed.learnings);
    this.store.setStatus(repo, ticketId, 'extraction', {
      status: 'completed',
      count: parsed.learnings.length,
      ...(parsed.malformed.length ? { malformed: parsed.malformed, message: `${parsed.malformed.length} malformed learning(s) were left out.` } : {}),
    });
  }

  async extractionStatus(ticketId: string, repoPath?: string): Promise<TicketStatus | { status: 'none'; count: 0 }> {
    const repo = repoPath ? await this.options.resolvePath(repoPath) : null;
    const status = repo ? this.store.getStatus(repo, ticketId, 'extraction') : this.store.latestStatus(ticketId, 'extraction');
    return status ?? { status: 'none', count: 0 };
  }

  // ---- processing --------------------------------------------------------------------

  async process(input: { ticketId: string; repoPath: string; waitForExtraction?: boolean }) {
    const repo = await this.options.resolvePath(input.repoPath);
    const key = keyOf(repo, input.ticketId);
    const running = this.extracting.get(key);
    if (running && input.waitForExtraction) {
      // The original answered `waiting` and never came back; here it is resumed when the extraction ends.
      if (!this.waiting.has(key)) {
        this.waiting.set(key, running.done.then(() => void this.mergeTicket(repo, input.ticketId)).finally(() => this.waiting.delete(key)));
      }
      return this.store.setStatus(repo, input.ticketId, 'processing', { status: 'waiting', count: 0, message: 'Processing starts when the extraction ends.' });
    }
    if (this.store.pendingCount(repo, input.ticketId) === 0) {
      return { status: 'skipped', count: 0, reason: 'No pending learnings for this ticket.' };
    }
    return this.mergeTicket(repo, input.ticketId);
  }

  private mergeTicket(repo: string, ticketId: string): TicketStatus {
    const { merged, created } = this.store.mergePending(repo, ticketId);
    return this.store.setStatus(repo, ticketId, 'processing', { status: 'completed', count: merged, message: `${merged} merged (${created} new pattern(s)).` });
  }

  async processingStatus(ticketId: string, repoPath: string): Promise<TicketStatus | { status: 'none' }> {
    const repo = await this.options.resolvePath(repoPath);
    return this.store.getStatus(repo, ticketId, 'processing') ?? { status: 'none' };
  }

  pending(): { totalCount: number; worktreeCount: number } {
    const tickets = this.store.pendingByTicket();
    return { totalCount: tickets.reduce((sum, t) => sum + t.count, 0), worktreeCount: tickets.length };
  }

  // ---- the process-all batch ---------------------------------------------------------

  batchStatus(): (Omit<BatchJob, 'items' | 'id'> & { jobId: string; worktreeCount: number; processedWorktrees: number }) | { status: 'none' } {
    const job = this.store.latestJob();
    if (!job) return { status: 'none' };
    const { items, id, ...rest } = job;
    return { ...rest, jobId: id, worktreeCount: items.length, processedWorktrees: items.filter((i) => i.done).length };
  }

  startBatch() {
    const current = this.store.latestJob();
    if (current?.status === 'processing') return { ...this.batchStatus(), status: 'already_processing' };
    const tickets = this.store.pendingByTicket();
    if (!tickets.length) return { status: 'skipped', reason: 'No pending learnings anywhere.' };
    const job: BatchJob = {
      id: randomUUID(),
      status: 'processing',
      items: tickets.map((t) => ({ repoPath: t.repoPath, ticketId: t.ticketId, done: false })),
      totalPending: tickets.reduce((sum, t) => sum + t.count, 0),
      merged: 0,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
    };
    this.store.saveJob(job);
    this.runBatch(job);
    return this.batchStatus();
  }

  private runBatch(job: BatchJob): void {
    if (this.batch) return;
    this.batch = this.work(job)
      .catch((error: unknown) => {
        if (this.closed) return;
        this.log.error({ err: (error as Error).message }, 'learnings batch failed');
        this.store.saveJob({ ...job, status: 'error', error: (error as Error).message, finishedAt: new Date().toISOString() });
      })
      .finally(() => (this.batch = null));
  }

  /** One ticket at a time, each merged together with its progress mark in one transaction. */
  private async work(job: BatchJob): Promise<void> {
    for (const item of job.items) {
      if (item.done) continue;
      await pause(this.options.batchPauseMs ?? 0, this.closing.signal);
      if (this.closed) return;
      const { merged } = this.store.mergePending(item.repoPath, item.ticketId, (count) => {
        item.done = true;
        job.merged += count;
        this.store.saveJob(job);
      });
      this.store.setStatus(item.repoPath, item.ticketId, 'processing', { status: 'completed', count: merged, message: `${merged} merged by the batch.` });
    }
    job.status = 'completed';
    job.finishedAt = new Date().toISOString();
    this.store.saveJob(job);
    this.log.info({ jobId: job.id, merged: job.merged, tickets: job.items.length }, 'learnings batch completed');
  }

  // ---- patterns, uses, prompts -------------------------------------------------------

  async patterns(repoPath?: string): Promise<Pattern[]> {
    const repo = repoPath ? path.basename(await this.options.resolvePath(repoPath)) : undefined;
    return this.store.patterns({ repo });
  }

  async toon(repoPath?: string): Promise<string> {
    return toToon(await this.patterns(repoPath));
  }

  async recordUse(input: { ticketId: string; repoPath: string; learnings: Array<{ id?: string; summary: string }>; outcome?: 'applied' | 'success' | 'failure' }) {
    const repo = await this.options.resolvePath(input.repoPath);
    const outcome = input.outcome ?? 'applied';
    const updated = input.learnings.map((l) => this.store.recordUse({ repoPath: repo, ticketId: input.ticketId, id: l.id, summary: l.summary, outcome }));
    return { status: 'recorded', count: input.learnings.length, matched: updated.filter(Boolean).length, patterns: updated.filter((p): p is Pattern => p !== null) };
  }

  offerToRuns(): boolean {
    return this.options.settings.get<boolean>(OFFER_SETTING) ?? true;
  }

  setOfferToRuns(on: boolean): boolean {
    this.options.settings.set(OFFER_SETTING, on);
    return on;
  }

  /**
   * The learnings a run in this repository is offered, as a prompt section (none when the
   * setting is off or nothing applies). The title names the pattern ids, so the run's
   * record of its prompt sections says which learnings it was given.
   */
  promptSections(repoPath: string): PromptSection[] {
    if (!this.offerToRuns()) return [];
    const offered = this.store
      .patterns({ repo: path.basename(repoPath) })
      .filter((p) => !p.flags.includes('[PRUNE]'))
      .sort((a, b) => score(b) - score(a) || b.seen_count - a.seen_count)
      .slice(0, OFFERED_MAX);
    if (!offered.length) return [];
    const body = offered
      .map((p) => `- [${p.id}] (${p.category}) ${p.summary}${p.applies_to.length ? ` (applies to: ${p.applies_to.join(', ')})` : ''}`)
      .join('\n');
    this.log.info({ repoPath, learnings: offered.map((p) => p.id) }, 'learnings offered to a run');
    return [
      {
        title: `Learnings from earlier work in this repository (${offered.map((p) => p.id).join(', ')})`,
        body: `${body}\n\nThese are lessons from earlier runs and chats; follow them where they fit this ticket.`,
      },
    ];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    for (const { abort } of this.extracting.values()) abort.abort();
    await Promise.all([...this.extracting.values()].map((e) => e.done));
    await this.batch;
  }

  /** The ticket's worktree when it has one; a folder that is not a git repository has none. */
  private async worktreeOf(repo: string, ticketId: string): Promise<string | null> {
    try {
      return (await this.options.worktrees?.find(repo, ticketId))?.path ?? null;
    } catch (error) {
      this.log.debug({ err: (error as Error).message }, 'no ticket worktree; the agent reads the repository');
      return null;
    }
  }

  private async transcriptOf(repo: string, ticketId: string, caller: string): Promise<string> {
    const parts: string[] = [];
    for (const source of this.sources) {
      try {
        const text = await source.read(repo, ticketId, caller);
        if (text?.trim()) parts.push(`## ${source.name}\n\n${text.trim()}`);
      } catch (error) {
        this.log.warn({ source: source.name, err: (error as Error).message }, 'a transcript source failed');
      }
    }
    return parts.join('\n\n');
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/** Untested patterns count as even odds; proven ones by their record. */
function score(p: Pattern): number {
  return p.confidence * (p.flags.includes('[UNTESTED]') ? 0.5 : p.success_rate);
}

function keyOf(repo: string, ticketId: string): string {
  return `${repo}\0${ticketId}`;
}

/** A ticket's chats (the chat store's messages) as one transcript. */
export function chatTranscript(sessions: ReadonlyArray<{ kind: string; provider: string; messages: ReadonlyArray<{ role: string; content: string }> }>): string | null {
  const blocks = sessions
    .filter((s) => s.messages.some((m) => m.content.trim()))
    .map((s) => `### ${s.kind} chat with ${s.provider}\n\n${s.messages.filter((m) => m.content.trim()).map((m) => `${m.role === 'user' ? 'User' : 'Assistant'}: ${m.content.trim()}`).join('\n\n')}`);
  return blocks.length ? blocks.join('\n\n') : null;
}

/** A run's event log (JSON lines) as a transcript: what the agent said and did, and how its judges went. */
export function runTranscript(lines: readonly string[]): string | null {
  const out: string[] = [];
  for (const line of lines) {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const content = typeof event.content === 'string' ? event.content : typeof event.message === 'string' ? event.message : null;
    if (event.type === 'thinking') continue;
    if (content) out.push(`[iteration ${String(event.iteration ?? 0)}] ${String(event.type)}: ${content.trim()}`);
    else if (event.type !== 'text') out.push(`[iteration ${String(event.iteration ?? 0)}] ${String(event.type)}`);
  }
  return out.length ? out.join('\n') : null;
}
