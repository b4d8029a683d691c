// The checks after each iteration. Command judges: the repository's own test, lint and
// typecheck commands (detected, or set per repository / per launch), each run in the
// worktree under the supervisor with a timeout; the exit code decides, the output's tail
// is kept. The LLM judge: a read-only turn that scores the diff against the ticket on
// named metrics. Reports use the original's judges format (report_id, stats[] of
// case_score with metrics[] {metric_name, threshold, score, justification}).
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseShell } from 'shell-quote';
import { z } from 'zod';
import { BadRequest } from '../errors.js';
import type { Provider } from '../providers/types.js';
import type { RunOptions as ProcessRunOptions, RunResult } from '../supervisor/supervisor.js';
import type { CommandJudgeSpec, JudgeCase, JudgesReport, LlmJudgeSpec } from './run-store.js';

const OUTPUT_TAIL = 8_000;
const JUDGE_ORDER = ['typecheck', 'lint', 'test'];
const NPM_PLACEHOLDER = /no test specified/;

export interface CommandRunner {
  run(command: string, args: readonly string[], options?: ProcessRunOptions): Promise<RunResult>;
}

/** A command line from settings or a launch: argv words only (no pipes, redirects or substitutions). */
export function commandArgv(command: string, field: string): string[] {
  const words = parseShell(command);
  if (words.length === 0 || words.some((word) => typeof word !== 'string')) {
    throw new BadRequest(`${field} must be a plain command (no pipes, redirects, globs or variables): ${command}`, { field });
  }
  return words as string[];
}

/** The repository's test/lint/typecheck commands, from package.json scripts, pyproject.toml or a Makefile. */
export function detectCommandJudges(dir: string): CommandJudgeSpec[] {
  const found = new Map<string, string[]>();
  const pkgFile = path.join(dir, 'package.json');
  if (existsSync(pkgFile)) {
    try {
      const scripts = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { scripts?: Record<string, unknown> }).scripts ?? {};
      for (const name of JUDGE_ORDER) {
        const script = scripts[name];
        if (typeof script === 'string' && script.trim() && !NPM_PLACEHOLDER.test(script)) found.set(name, ['npm', 'run', '--silent', name]);
      }
    } catch {
      // A package.json that is not JSON: no scripts to run.
    }
  }
  const pyproject = path.join(dir, 'pyproject.toml');
  if (existsSync(pyproject)) {
    const text = readFileSync(pyproject, 'utf8');
    if (!found.has('test') && /\[tool\.pytest|pytest/.test(text)) found.set('test', ['python3', '-m', 'pytest', '-q']);
    if (!found.has('lint') && /\[tool\.ruff/.test(text)) found.set('lint', ['python3', '-m', 'ruff', 'check', '.']);
    if (!found.has('typecheck') && /\[tool\.mypy/.test(text)) found.set('typecheck', ['python3', '-m', 'mypy', '.']);
  }
  const makefile = path.join(dir, 'Makefile');
  if (existsSync(makefile)) {
    const text = readFileSync(makefile, 'utf8');
    for (const name of JUDGE_ORDER) if (!found.has(name) && new RegExp(`^${name}\\s*:`, 'm').test(text)) found.set(name, ['make', name]);
  }
  return JUDGE_ORDER.filter((name) => found.has(name)).map((name) => ({ name, argv: found.get(name)!, required: true }));
}

export async function runCommandJudge(runner: CommandRunner, spec: CommandJudgeSpec, cwd: string, timeoutMs: number, signal: AbortSignal): Promise<JudgeCase> {
  const started = performance.now();
  const [command, ...args] = spec.argv;
  let result: RunResult;
  try {
    result = await runner.run(command, args, { cwd, timeoutMs, signal, maxBuffer: 4 * 1024 * 1024, env: { CI: '1' } });
  } catch (error) {
    result = { exitCode: null, stdout: '', stderr: (error as Error).message, timedOut: false, truncated: false };
  }
  const passed = result.exitCode === 0 && !result.timedOut;
  const output = `${result.stdout}${result.stderr ? `\n${result.stderr}` : ''}`.trim();
  const justification = result.timedOut ? `timed out after ${Math.round(timeoutMs / 1000)} s` : result.exitCode === null ? 'could not run' : `exit code ${result.exitCode}`;
  return {
    type: 'case_score', case_id: spec.name, final_status: passed ? 'PASSED' : 'FAILED', kind: 'command', required: spec.required,
    metrics: [{ metric_name: 'exit_code_zero', threshold: 1, score: passed ? 1 : 0, justification }],
    command: spec.argv.join(' '), exitCode: result.exitCode, timedOut: result.timedOut,
    durationMs: Math.round(performance.now() - started), outputTail: output.slice(-OUTPUT_TAIL),
  };
}

const LlmAnswer = z.object({
  metrics: z.array(z.object({ metric_name: z.string(), score: z.number().min(0).max(1), justification: z.string().default('') })),
});

export function llmJudgePrompt(prd: string, diff: string, spec: LlmJudgeSpec): string {
  return (
    'You are a strict code reviewer. Score the change below against the ticket, each metric from 0 to 1.\n\n' +
    `${prd}\n\n## Metrics\n${spec.metrics.map((m) => `- ${m.name}${m.description ? `: ${m.description}` : ''}`).join('\n')}\n\n` +
    `## The change (git diff)\n\`\`\`diff\n${diff.slice(0, 60_000)}\n\`\`\`\n\n` +
    'Answer with exactly one block:\n<judges>\n{"metrics": [{"metric_name": "...", "score": 0.0, "justification": "..."}]}\n</judges>'
  );
}

/** Reads the LLM judge's answer into a case; an unreadable answer is an error case (not a pass). */
export function llmJudgeCase(answer: string, spec: LlmJudgeSpec): JudgeCase {
  const block = [...answer.matchAll(/<judges>([\s\S]*?)<\/judges>/g)].at(-1)?.[1] ?? answer;
  let scores = new Map<string, { score: number; justification: string }>();
  let readable = true;
  try {
    const parsed = LlmAnswer.parse(JSON.parse(block.trim()));
    scores = new Map(parsed.metrics.map((m) => [m.metric_name, { score: m.score, justification: m.justification }]));
  } catch {
    readable = false;
  }
  const metrics = spec.metrics.map((m) => ({
    metric_name: m.name, threshold: m.threshold, score: scores.get(m.name)?.score ?? 0,
    justification: scores.get(m.name)?.justification ?? (readable ? 'not scored' : 'the judge answer could not be read'),
  }));
  const passed = readable && metrics.every((m) => m.score >= m.threshold);
  return { type: 'case_score', case_id: 'llm_review', final_status: passed ? 'PASSED' : readable ? 'NEEDS_IMPROVEMENT' : 'FAILED', kind: 'llm', required: true, metrics };
}

/** Runs a read-profile provider turn (the worktree as its root) and returns its text. */
export async function readOnlyTurnText(provider: Provider, prompt: string, cwd: string, signal: AbortSignal, owner: string): Promise<string> {
  const turn = await provider.startTurn({ prompt, cwd, confinement: { level: 'read', root: cwd }, signal, owner });
  let text = '';
  for await (const event of turn.events) if (event.type === 'text') text += event.content;
  return text;
}

export function judgesReport(iteration: number, stats: JudgeCase[]): JudgesReport {
  return { report_id: randomUUID(), timestamp: new Date().toISOString(), iteration, stats };
}

export function requiredJudgesPass(report: JudgesReport | null): boolean {
  return !report || report.stats.every((c) => !c.required || c.final_status === 'PASSED');
}
