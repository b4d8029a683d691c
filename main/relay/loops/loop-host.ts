// A cloud loop's agent, as the run host (main/symphony/run-host.ts) runs it when its job is
// a loop: one unattended turn confined `write` to the loop's root (its worktree, or its
// work folder) plus its work folder, output at most every few seconds with the running
// token totals, then the artifacts and `completed` or `error`. Everything goes into the
// outbox table; the gateway delivers it (and keeps delivering after its own restart).
// SIGTERM (the gateway's signal) stops the turn: a user's kill reports CANCELLED, the
// cloud's 410 nothing more.
import type { Logger } from 'pino';
import type { LoopCommand } from '../../../shared/schemas/loops.js';
import type { ProviderRegistry } from '../../providers/registry.js';
import type { ProviderId } from '../../providers/types.js';
import type { Db } from '../../store/database.js';
import { unattendedMode } from '../../symphony/run-loop.js';
import { COMMANDS, readArtifacts } from './loop-commands.js';
import { LoopStore, type FinalCall } from './loop-store.js';
import { insertOutboxCall } from './outbox.js';

const SUMMARY_CHARS = 200;

export interface LoopHostJob {
  loopId: string;
  command: LoopCommand;
  provider: ProviderId;
  prompt: string;
  /** The agent's cwd and confinement root: the loop worktree, else the work folder. */
  root: string;
  /** Where the agent's input and output files are (under the data dir, writable beside the root). */
  workDir: string;
  resumeSessionId: string | null;
  branchName: string | null;
  outputEveryMs: number;
}

export interface LoopHostDeps {
  db: Db;
  providers: ProviderRegistry;
  log: Logger;
  /** Aborted by SIGTERM. */
  signal: AbortSignal;
}

export async function runLoopHost(deps: LoopHostDeps, job: LoopHostJob): Promise<void> {
  const store = new LoopStore(deps.db);
  const { loopId, command } = job;
  const tokens = { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 };
  let sessionId: string | null = job.resumeSessionId;
  let summary = '';
  let lastOutput = 0;
  let success = false;
  let failure = '';
  const output = (force = false) => {
    if (!summary || (!force && Date.now() - lastOutput < job.outputEveryMs)) return;
    lastOutput = Date.now();
    insertOutboxCall(deps.db, loopId, 'events', { type: 'output', data: { chunk: summary, tokenUsage: { ...tokens } }, timestamp: new Date().toISOString() });
    summary = '';
  };
  try {
    const turn = await deps.providers.get(job.provider).startTurn({
      prompt: job.prompt,
      cwd: job.root,
      confinement: { level: 'write', root: job.root, writeRoots: job.workDir === job.root ? [] : [job.workDir] },
      permissionMode: unattendedMode(job.provider),
      resumeSessionId: job.resumeSessionId ?? undefined,
      signal: deps.signal,
      owner: `loop:${loopId}`,
    });
    store.markRunning(loopId);
    for await (const event of turn.events) {
      if (event.type === 'sessionId') sessionId = event.sessionId;
      else if (event.type === 'usage') {
        tokens.inputTokens += event.inputTokens;
        tokens.outputTokens += event.outputTokens;
        tokens.cacheReadInputTokens += event.cachedInputTokens ?? 0;
      } else if (event.type === 'text' && event.content.trim()) summary = lastLine(summary + event.content);
      else if (event.type === 'tool_use') summary = `[tool] ${event.name}`;
      else if (event.type === 'error') failure = event.message;
      else if (event.type === 'result') success = event.success;
      output();
    }
  } catch (error) {
    failure = (error as Error).message;
  }
  output(true);
  const tokensUsed = { input: tokens.inputTokens, output: tokens.outputTokens, cacheCreationInputTokens: tokens.cacheCreationInputTokens, cacheReadInputTokens: tokens.cacheReadInputTokens };
  const event = (body: Record<string, unknown>): FinalCall => ({ call: 'events', body: { ...body, timestamp: new Date().toISOString() }, final: true });
  const stop = deps.signal.aborted ? (store.get(loopId)?.stopRequest ?? 'cancelled') : null;
  if (stop === 'gone') {
    store.finish(loopId, 'stopped', 'The cloud ended the loop (410).', []);
    return;
  }
  if (stop === 'cancelled') {
    store.finish(loopId, 'cancelled', 'Cancelled', [event({ type: 'error', code: 'CANCELLED', message: 'The loop was cancelled.', loopId, sessionId, tokenUsage: tokens })]);
    return;
  }
  const spec = COMMANDS[command];
  const artifacts = readArtifacts(command, job.workDir);
  const metadata = { finishedAt: new Date().toISOString(), command, sessionId, branchName: job.branchName };
  if (!success || !(spec.primary in artifacts)) {
    const code = success ? 'NO_WORK_PRODUCED' : 'PROCESS_FAILED';
    const message = success ? `The agent finished without writing ${spec.artifacts.find((a) => a.key === spec.primary)?.file}.` : failure || 'The agent did not finish successfully.';
    const upload: FinalCall[] = command === 'EXECUTE' ? [{ call: 'upload-artifacts', body: { artifacts, metadata } }] : [];
    store.finish(loopId, 'failed', message, [...upload, event({ type: 'error', code, message: message.slice(0, 2000), loopId, sessionId, branchName: job.branchName, tokenUsage: tokens })]);
    deps.log.warn({ loopId, code }, message);
    return;
  }
  const execution = (artifacts.executionResult ?? {}) as Record<string, unknown>;
  // The cloud ingests the upload when `completed` arrives, so the upload goes first.
  store.finish(loopId, 'completed', null, [
    { call: 'upload-artifacts', body: { artifacts, metadata } },
    event({
      type: 'completed',
      result: {
        exitCode: 0,
        prUrl: typeof execution.pr_url === 'string' && execution.pr_url ? execution.pr_url : null,
        prNumber: typeof execution.pr_number === 'number' && execution.pr_number ? execution.pr_number : null,
        branchName: (typeof execution.branch_name === 'string' && execution.branch_name) || job.branchName,
        commitSha: typeof execution.commit_sha === 'string' && execution.commit_sha ? execution.commit_sha : null,
        sessionId,
      },
      tokensUsed,
      loopId,
    }),
  ]);
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return (lines.at(-1) ?? '').slice(0, SUMMARY_CHARS);
}
