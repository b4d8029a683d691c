// The loop of one run, as the run host executes it: plan (parsed, stored, then the plan
// checkpoint), iterations that resume the run's CLI session with the next tasks and the
// previous judges' failures, judges after each, until completion with the required
// judges passing, max iterations, a budget, or a stop. API errors back off, a stalled
// turn is killed and retried, a forgotten session is replayed from the transcript (the
// providers do that). Every step is written to SQLite and the JSONL log as it happens.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ProviderRegistry } from '../providers/registry.js';
import type { PermissionMode, ProviderId, TranscriptEntry } from '../providers/types.js';
import { judgesReport, llmJudgeCase, llmJudgePrompt, readOnlyTurnText, requiredJudgesPass, runCommandJudge, type CommandRunner } from './judges.js';
import { eventsFile, RunLogWriter, sleep } from './run-log.js';
import { applyTaskMarkers, iterationPrompt, parsePlan, planPrompt } from './run-prompts.js';
import type { FeedbackRow, JudgesReport, RunRow, RunStatus, RunStore } from './run-store.js';

export const PRD_FILE = 'prd.md';
const LIVE: RunStatus[] = ['STARTING', 'IN_PROGRESS'];

export interface RunLoopDeps {
  store: RunStore;
  providers: ProviderRegistry;
  processes: CommandRunner;
  log: Logger;
  /** Aborted by SIGTERM (a user's stop): the current turn or judge is killed, the run ends STOPPED. */
  signal: AbortSignal;
}

class Stopped extends Error {}

/** Unattended turns in the worktree: claude without prompts (nobody could answer them), codex in its workspace-write sandbox. */
export function unattendedMode(provider: ProviderId): PermissionMode {
  return provider === 'claude' ? 'bypassPermissions' : 'default';
}

interface TurnOutcome {
  answer: string;
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
}

export class RunLoop {
  private readonly log: RunLogWriter;
  private run: RunRow;

  constructor(
    private readonly deps: RunLoopDeps,
    runId: string,
  ) {
    this.run = deps.store.require(runId);
    this.log = new RunLogWriter(eventsFile(this.run.workDir), runId);
  }

  /** Runs until the run rests (checkpoint, completed, stopped, failed). Never throws. */
  async execute(): Promise<RunStatus> {
    try {
      this.set({ status: 'IN_PROGRESS', lastError: null, reason: null, endedAt: null });
      if (!this.run.plan && !this.run.options.skipPlan) {
        await this.planPhase();
        if (!this.run.autoApprovePlan && !this.run.planAccepted) {
          return this.rest('AWAITING_USER', 'Plan review', 'plan_ready');
        }
      }
      if (!this.run.planAccepted) this.set({ planAccepted: true });
      return await this.iterate();
    } catch (error) {
      if (error instanceof Stopped || this.deps.signal.aborted) return this.rest('STOPPED', 'Process stopped by user', 'stopped');
      const message = error instanceof Error ? error.message : String(error);
      this.deps.log.error({ err: message, runId: this.run.id }, 'run failed');
      return this.rest('FAILED', 'Failed', 'failed', message);
    } finally {
      this.log.flush();
    }
  }

  private async planPhase(): Promise<void> {
    this.set({ phase: 'Planning', iteration: 0 });
    const prd = this.prd();
    let retryError: string | undefined;
    for (let attempt = 1; attempt <= 2; attempt++) {
      const prompt = planPrompt(prd, this.run.options.extraSections, retryError);
      this.deps.store.startIteration(this.run.id, 0, 'plan', prompt);
      const outcome = await this.turn(0, prompt);
      try {
        const plan = parsePlan(outcome.answer);
        this.deps.store.endIteration(this.run.id, 0, { answer: outcome.answer, outcome: 'plan', usage: outcome.usage });
        this.set({ plan, currentTaskId: plan.pendingTasks[0]?.id ?? null });
        this.writeFile('plan.json', JSON.stringify(plan, null, 2));
        this.log.write(0, 'plan', { plan });
        return;
      } catch (error) {
        retryError = (error as Error).message;
        this.deps.store.endIteration(this.run.id, 0, { answer: outcome.answer, outcome: 'unparsable_plan', usage: outcome.usage });
        this.log.write(0, 'plan_unparsable', { error: retryError, attempt });
      }
    }
    throw new Error(`The agent's plan could not be parsed after a retry: ${retryError}`);
  }

  private async iterate(): Promise<RunStatus> {
    let claimedTooEarly: string[] = [];
    for (;;) {
      this.stopIfAsked();
      const iteration = this.run.completedIteration + 1;
      const feedback = this.pendingFeedback();
      // PR feedback earns its own round even after the last planned iteration.
      if (iteration > this.run.maxIterations && feedback.length === 0) {
        return this.rest('COMPLETED', `Stopped after ${this.run.maxIterations} iterations`, 'max_iterations_reached');
      }
      const budget = this.overBudget();
      if (budget) return this.rest('COMPLETED', 'Budget reached', budget);
      const previousJudges = this.deps.store.latestJudges(this.run.id);
      const prompt = iterationPrompt({
        iteration, maxIterations: this.run.maxIterations, prd: this.prd(), plan: this.run.plan, previousJudges, prFeedback: feedback,
        claimedTooEarly, extraSections: this.run.options.extraSections, prompt: this.run.options.prompt,
      });
      const kind = feedback.length ? 'review' : 'work';
      this.set({ iteration, phase: kind === 'review' ? 'Addressing review' : `Implementation (iteration ${iteration})` });
      this.deps.store.startIteration(this.run.id, iteration, kind, prompt);
      this.log.write(iteration, 'iteration_started', { kind, feedback: feedback.map((f) => f.key) });
      const outcome = await this.turn(iteration, prompt);
      let complete = false;
      claimedTooEarly = [];
      if (this.run.plan) {
        const marked = applyTaskMarkers(this.run.plan, outcome.answer);
        this.set({ plan: marked.plan, currentTaskId: marked.plan.pendingTasks[0]?.id ?? null });
        this.writeFile('plan.json', JSON.stringify(marked.plan, null, 2));
        if (marked.done.length) this.log.write(iteration, 'tasks_done', { tasks: marked.done });
        complete = marked.complete && marked.plan.pendingTasks.length === 0;
        if (marked.complete && !complete) claimedTooEarly = marked.plan.pendingTasks.map((t) => t.id);
      } else {
        complete = applyTaskMarkers({ content: '', pendingTasks: [], completedTasks: [], openQuestions: [] }, outcome.answer).complete;
      }
      this.deps.store.endIteration(this.run.id, iteration, { answer: outcome.answer, outcome: complete ? 'complete' : 'done', usage: outcome.usage });
      const report = await this.judge(iteration);
      if (feedback.length) {
        this.deps.store.markAddressed(this.run.id, feedback.map((f) => f.key), iteration);
        this.set({ pendingFeedback: [] });
      }
      this.set({ completedIteration: iteration });
      this.log.write(iteration, 'iteration_ended', { complete, judgesPassed: requiredJudgesPass(report) });
      if (kind === 'review' && requiredJudgesPass(report)) return this.rest('COMPLETED', 'Review addressed', 'review_addressed');
      if (complete && requiredJudgesPass(report)) return this.rest('COMPLETED', 'Completed', 'completed');
    }
  }

  /** One provider turn with the run's robustness: backoff on API errors, kill and retry on a stall. */
  private async turn(iteration: number, prompt: string): Promise<TurnOutcome> {
    const options = this.run.options;
    let apiErrors = 0;
    let stalls = 0;
    const usage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
    for (;;) {
      this.stopIfAsked();
      const provider = this.deps.providers.get(this.run.provider);
      const stop = new AbortController();
      const signal = AbortSignal.any([this.deps.signal, stop.signal]);
      const turn = await provider.startTurn({
        prompt, cwd: this.run.worktreePath, model: this.run.model ?? undefined, resumeSessionId: this.run.sessionId ?? undefined,
        permissionMode: unattendedMode(this.run.provider), confinement: { level: 'write', root: this.run.worktreePath },
        transcript: this.transcript(), signal, owner: `run:${this.run.id}`,
      });
      this.log.write(iteration, 'turn_started', { pid: turn.pid, resume: this.run.sessionId, attempt: apiErrors + stalls + 1 });
      let stalled = false;
      let stallTimer: NodeJS.Timeout | undefined;
      const armStall = () => {
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => {
          stalled = true;
          stop.abort();
          void turn.kill();
        }, options.stallTimeoutMs);
      };
      armStall();
      let answer = '';
      let result: { success: boolean; reason?: string } | null = null;
      let lastError = '';
      try {
        for await (const event of turn.events) {
          armStall();
          if (event.type === 'text') answer += event.content;
          else if (event.type === 'sessionId') this.set({ sessionId: event.sessionId });
          else if (event.type === 'usage') {
            const add = { inputTokens: event.inputTokens, outputTokens: event.outputTokens, costUsd: event.costUsd ?? 0 };
            usage.inputTokens += add.inputTokens;
            usage.outputTokens += add.outputTokens;
            usage.costUsd += add.costUsd;
            this.deps.store.addUsage(this.run.id, add);
          } else if (event.type === 'result') result = { success: event.success, reason: event.reason };
          else if (event.type === 'error') lastError = event.message;
          if (event.type !== 'done') this.log.write(iteration, event.type, eventFields(event));
        }
      } finally {
        clearTimeout(stallTimer);
      }
      this.refresh();
      if (result?.success) return { answer, usage };
      if (this.deps.signal.aborted) throw new Stopped();
      if (stalled) {
        stalls++;
        this.log.write(iteration, 'stall_retry', { stalls, afterMs: options.stallTimeoutMs });
        if (stalls > options.maxStallRetries) throw new Error(`The agent stalled (no output for ${Math.round(options.stallTimeoutMs / 1000)} s) ${stalls} times.`);
        continue;
      }
      apiErrors++;
      if (apiErrors > options.maxApiRetries) throw new Error(`The agent's turn kept failing (${result?.reason ?? 'no result'}): ${lastError || 'no detail'}`);
      const delayMs = Math.min(options.backoffBaseMs * 2 ** (apiErrors - 1), options.backoffMaxMs);
      this.log.write(iteration, 'backoff', { attempt: apiErrors, delayMs, reason: result?.reason ?? 'no result', error: lastError });
      await sleep(delayMs, this.deps.signal);
    }
  }

  private async judge(iteration: number): Promise<JudgesReport | null> {
    const { commandJudges, llmJudge, judgeTimeoutMs } = this.run.options;
    if (commandJudges.length === 0 && !llmJudge) return null;
    this.set({ phase: `Judges (iteration ${iteration})` });
    const stats = [];
    for (const spec of commandJudges) {
      this.stopIfAsked();
      this.log.write(iteration, 'judge_started', { judge: spec.name, command: spec.argv.join(' ') });
      const result = await runCommandJudge(this.deps.processes, spec, this.run.worktreePath, judgeTimeoutMs, this.deps.signal);
      this.stopIfAsked();
      stats.push(result);
      this.log.write(iteration, 'judge_result', { judge: spec.name, status: result.final_status, exitCode: result.exitCode, outputTail: result.outputTail?.slice(-2000) });
    }
    if (llmJudge) {
      this.stopIfAsked();
      this.log.write(iteration, 'judge_started', { judge: 'llm_review' });
      const diff = await this.diff();
      const answer = await readOnlyTurnText(this.deps.providers.get(this.run.provider), llmJudgePrompt(this.prd(), diff, llmJudge), this.run.worktreePath, this.deps.signal, `run:${this.run.id}`);
      this.stopIfAsked();
      const result = llmJudgeCase(answer, llmJudge);
      stats.push(result);
      this.log.write(iteration, 'judge_result', { judge: 'llm_review', status: result.final_status, metrics: result.metrics });
    }
    const report = judgesReport(iteration, stats);
    this.deps.store.setJudges(this.run.id, iteration, report);
    this.writeFile('judges.json', JSON.stringify(report, null, 2));
    return report;
  }

  private async diff(): Promise<string> {
    const base = this.run.baseBranch ?? 'HEAD';
    const result = await this.deps.processes.run('git', ['diff', '--no-color', base, '--'], { cwd: this.run.worktreePath, timeoutMs: 30_000, maxBuffer: 8 * 1024 * 1024 });
    return result.stdout;
  }

  private pendingFeedback(): FeedbackRow[] {
    const keys = new Set(this.run.pendingFeedback);
    return keys.size ? this.deps.store.feedback(this.run.id).filter((f) => keys.has(f.key)) : [];
  }

  private overBudget(): string | null {
    const { budgetTokens, budgetUsd } = this.run.options;
    if (budgetTokens !== null && this.run.inputTokens + this.run.outputTokens >= budgetTokens) return 'token_budget_reached';
    if (budgetUsd !== null && this.run.costUsd >= budgetUsd) return 'cost_budget_reached';
    return null;
  }

  /** The run's exchanges so far, for a CLI that forgot the session. */
  private transcript(): TranscriptEntry[] {
    const entries: TranscriptEntry[] = [];
    for (const it of this.deps.store.iterations(this.run.id)) {
      if (it.outcome === 'running') continue;
      entries.push({ role: 'user', content: it.prompt }, { role: 'assistant', content: it.answer });
    }
    return entries;
  }

  private prd(): string {
    try {
      return readFileSync(path.join(this.run.workDir, PRD_FILE), 'utf8');
    } catch {
      return `# ${this.run.ticketId}`;
    }
  }

  private stopIfAsked(): void {
    if (this.deps.signal.aborted) throw new Stopped();
  }

  private rest(status: RunStatus, phase: string, reason: string, lastError: string | null = null): RunStatus {
    // The gateway may have ended the run first (a kill that had to force): keep its word.
    this.deps.store.transition(this.run.id, LIVE, { status, phase, reason, lastError, endedAt: Date.now() });
    this.refresh();
    this.log.write(this.run.iteration, 'status', { status: this.run.status, phase: this.run.phase, reason: this.run.reason, lastError: this.run.lastError });
    this.writeState();
    return this.run.status;
  }

  private set(changes: Parameters<RunStore['update']>[1]): void {
    this.deps.store.update(this.run.id, changes);
    const before = this.run;
    this.refresh();
    if (changes.phase && changes.phase !== before.phase) this.log.write(this.run.iteration, 'phase', { phase: this.run.phase, status: this.run.status });
    if (changes.phase || changes.status) this.writeState();
  }

  private refresh(): void {
    this.run = this.deps.store.require(this.run.id);
  }

  /** state.json in the work folder, as the original's orchestrator kept it. */
  private writeState(): void {
    const task = this.run.plan?.pendingTasks[0];
    const total = (this.run.plan?.pendingTasks.length ?? 0) + (this.run.plan?.completedTasks.length ?? 0);
    this.writeFile('state.json', JSON.stringify({
      phase: this.run.phase, status: this.run.status, timestamp: new Date().toISOString(), reason: this.run.reason, iteration: this.run.iteration,
      ...(task ? { task: { id: task.id, description: task.description, current: (this.run.plan?.completedTasks.length ?? 0) + 1, total } } : {}),
    }, null, 2));
  }

  private writeFile(name: string, content: string): void {
    try {
      writeFileSync(path.join(this.run.workDir, name), content, { mode: 0o600 });
    } catch (error) {
      this.deps.log.warn({ err: (error as Error).message, file: name }, 'could not write a run file');
    }
  }
}

function eventFields(event: Record<string, unknown>): Record<string, unknown> {
  const { type: _type, ...rest } = event;
  return rest;
}
