// What a run says to its agent and how it reads the answers: the ticket as prd.md, the
// plan request and its structured answer, each iteration's prompt (next tasks, the
// previous judges' failures, PR feedback), and the markers the agent prints when a task
// is done and when the whole ticket is.
import { z } from 'zod';
import type { FeedbackRow, JudgesReport, PlanTask, RunPlan, Ticket } from './run-store.js';

export const COMPLETE_MARKER = '<promise>COMPLETE</promise>';
const TASK_DONE = /<task-done\s+id="([^"]{1,64})"\s*\/?>|<task-done>([^<]{1,64})<\/task-done>/g;
const OUTPUT_IN_PROMPT = 3_000;

/**
 * Extra context sections for the next prompt (e.g. learnings from earlier runs, issue 14):
 * register a provider here; each returns sections for the repository, or none.
 */
export type PromptSectionProvider = (repoPath: string) => Promise<PromptSection[]> | PromptSection[];
export interface PromptSection {
  title: string;
  body: string;
}

/** The ticket as the markdown file the agent reads (prd.md in the run's work folder). */
export function prdMarkdown(ticketId: string, ticket: Ticket, prompt: string | null): string {
  const lines = [`# ${ticket.title?.trim() || ticketId}`, ''];
  lines.push(ticket.url ? `**Ticket:** [${ticket.identifier ?? ticketId}](${ticket.url})` : `**Ticket:** ${ticket.identifier ?? ticketId}`, '');
  lines.push('## Description', '', ticket.description?.trim() || prompt?.trim() || '(no description)', '');
  if (ticket.additionalContext?.trim()) lines.push('## Additional context', '', ticket.additionalContext.trim(), '');
  if (ticket.mentionedFiles?.length) lines.push('## Mentioned files', '', ...ticket.mentionedFiles.map((f) => `- ${f}`), '');
  if (ticket.contextRepoPaths?.length) lines.push('## Context repositories', '', ...ticket.contextRepoPaths.map((p) => `- ${p}`), '');
  if (prompt?.trim() && ticket.description?.trim()) lines.push('## Instructions', '', prompt.trim(), '');
  return lines.join('\n');
}

function sections(extra: readonly PromptSection[]): string {
  return extra.map((s) => `## ${s.title}\n\n${s.body.trim()}\n\n`).join('');
}

export function planPrompt(prd: string, extra: readonly PromptSection[], retryError?: string): string {
  const retry = retryError
    ? `Your previous answer could not be read as a plan (${retryError}). Answer again with exactly one <plan> block as described.\n\n`
    : '';
  return (
    retry +
    'You are starting work on the ticket below, in this git worktree. First, PLAN only: do not change any file yet.\n\n' +
    `${prd}\n\n` +
    sections(extra) +
    'Answer with a short summary, then exactly one block:\n' +
    '<plan>\n{"summary": "...", "tasks": [{"id": "T1", "description": "..."}], "openQuestions": ["..."]}\n</plan>\n' +
    'Task ids are short and unique (T1, T2, ...); openQuestions may be empty.'
  );
}

const PlanAnswer = z.object({
  summary: z.string().optional(),
  tasks: z
    .array(z.object({ id: z.string().min(1).max(64), description: z.string().min(1) }))
    .min(1, 'a plan needs at least one task'),
  openQuestions: z.array(z.string()).optional(),
});

/** Reads the agent's plan; throws an Error saying what is wrong (used in the retry prompt). */
export function parsePlan(answer: string): RunPlan {
  const blocks = [...answer.matchAll(/<plan>([\s\S]*?)<\/plan>/g)].map((m) => m[1]);
  const fenced = [...answer.matchAll(/```(?:json)?\s*([\s\S]*?)```/g)].map((m) => m[1]);
  const candidate = (blocks.at(-1) ?? fenced.at(-1) ?? answer).trim();
  let json: unknown;
  try {
    json = JSON.parse(candidate.replace(/^```(?:json)?|```$/g, '').trim());
  } catch (error) {
    throw new Error(`no JSON plan found: ${(error as Error).message}`);
  }
  const parsed = PlanAnswer.safeParse(json);
  if (!parsed.success) throw new Error(`the plan does not have the expected shape: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const ids = new Set<string>();
  for (const task of parsed.data.tasks) {
    if (ids.has(task.id)) throw new Error(`task id ${task.id} is used twice`);
    ids.add(task.id);
  }
  const openQuestions = parsed.data.openQuestions ?? [];
  return { content: planMarkdown(parsed.data.summary ?? '', parsed.data.tasks, [], openQuestions), pendingTasks: parsed.data.tasks, completedTasks: [], openQuestions };
}

export function planMarkdown(summary: string, pending: readonly PlanTask[], completed: readonly PlanTask[], openQuestions: readonly string[]): string {
  const lines = ['# Plan', ''];
  if (summary.trim()) lines.push(summary.trim(), '');
  lines.push('## Tasks', '');
  for (const task of completed) lines.push(`- [x] ${task.id}: ${task.description}`);
  for (const task of pending) lines.push(`- [ ] ${task.id}: ${task.description}`);
  if (openQuestions.length) lines.push('', '## Open questions', '', ...openQuestions.map((q) => `- ${q}`));
  return `${lines.join('\n')}\n`;
}

/** Moves the tasks the answer marks done; recomputes the markdown. */
export function applyTaskMarkers(plan: RunPlan, answer: string): { plan: RunPlan; done: string[]; complete: boolean } {
  const done = new Set<string>();
  for (const match of answer.matchAll(TASK_DONE)) done.add((match[1] ?? match[2]).trim());
  const complete = answer.includes(COMPLETE_MARKER);
  const moved = plan.pendingTasks.filter((t) => done.has(t.id));
  const pendingTasks = plan.pendingTasks.filter((t) => !done.has(t.id));
  const completedTasks = [...plan.completedTasks, ...moved];
  const summary = plan.content.split('## Tasks')[0].replace(/^# Plan\s*/, '');
  return {
    plan: { ...plan, pendingTasks, completedTasks, content: planMarkdown(summary, pendingTasks, completedTasks, plan.openQuestions) },
    done: moved.map((t) => t.id),
    complete,
  };
}

export interface IterationContext {
  iteration: number;
  maxIterations: number;
  prd: string;
  plan: RunPlan | null;
  /** The previous iteration's judges (their failures are the feedback). */
  previousJudges: JudgesReport | null;
  /** Review comments and failing checks of the run's PR to address. */
  prFeedback: readonly FeedbackRow[];
  /** Completion was claimed while tasks were still open. */
  claimedTooEarly: string[];
  /** The place where extra context sections (learnings, ...) go. */
  extraSections: readonly PromptSection[];
  /** A run launched with its own prompt instead of a plan. */
  prompt: string | null;
}

export function iterationPrompt(ctx: IterationContext): string {
  const parts: string[] = [];
  parts.push(`Iteration ${ctx.iteration} of at most ${ctx.maxIterations} on this ticket, in this git worktree.`);
  if (ctx.iteration === 1 || !ctx.plan) parts.push(ctx.prd);
  if (ctx.prompt && !ctx.plan) parts.push(ctx.prompt);
  if (ctx.plan) {
    const next = ctx.plan.pendingTasks;
    parts.push(
      next.length
        ? `Tasks still to do, in order:\n${next.map((t) => `- ${t.id}: ${t.description}`).join('\n')}`
        : 'Every planned task is done; fix what the feedback below reports.',
    );
    if (ctx.plan.completedTasks.length) parts.push(`Already done: ${ctx.plan.completedTasks.map((t) => t.id).join(', ')}.`);
  }
  const failures = (ctx.previousJudges?.stats ?? []).filter((c) => c.final_status !== 'PASSED');
  if (failures.length) {
    parts.push(
      'The checks after the previous iteration FAILED; fix these first:\n' +
        failures
          .map((c) =>
            c.kind === 'command'
              ? `### ${c.case_id}: \`${c.command}\` ${c.timedOut ? 'timed out' : `exited ${c.exitCode}`}\n\`\`\`\n${(c.outputTail ?? '').slice(-OUTPUT_IN_PROMPT)}\n\`\`\``
              : `### ${c.case_id} (review of the diff)\n${c.metrics.map((m) => `- ${m.metric_name}: ${m.score} < ${m.threshold}: ${m.justification}`).join('\n')}`,
          )
          .join('\n\n'),
    );
  }
  if (ctx.claimedTooEarly.length) parts.push(`You signalled completion while these tasks were open: ${ctx.claimedTooEarly.join(', ')}. Finish them or mark them done.`);
  if (ctx.prFeedback.length) {
    parts.push(
      'The pull request of this branch got feedback; address each item:\n' +
        ctx.prFeedback
          .map((f) => `### ${f.kind === 'comment' ? `Review comment${f.author ? ` by ${f.author}` : ''}` : 'Failing check'}: ${f.summary}\n${f.body.slice(-OUTPUT_IN_PROMPT)}`)
          .join('\n\n'),
    );
  }
  if (ctx.extraSections.length) parts.push(sections(ctx.extraSections).trim());
  parts.push(
    'Work through the tasks. When a task is done, print <task-done id="TASK_ID"/> on its own line. ' +
      `When the whole ticket is done and the checks pass, print ${COMPLETE_MARKER}. Commit your work with git as you go.`,
  );
  return parts.join('\n\n');
}
