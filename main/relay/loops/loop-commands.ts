// What each of the eleven loop commands asks of the agent, where it works, and which files
// it leaves in the work folder become which artifacts for the cloud (spec §4).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { LoopArtifact, LoopCommand } from '../../../shared/schemas/loops.js';
import type { z } from 'zod';

interface ArtifactSpec {
  key: string;
  file: string;
  /** `plan`: plan.json whose `content` is the markdown, uploaded as {content, raw}. */
  read: 'json' | 'text' | 'plan' | 'prd';
}

export interface CommandSpec {
  /** In the loop worktree (`<repo>-loop-<slug>`, branch `symphony/<slug>`), else a scratch folder. */
  inWorktree: boolean;
  needsParent: boolean;
  instruction: string;
  artifacts: ArtifactSpec[];
  /** Without this key's file the agent produced nothing: the loop ends NO_WORK_PRODUCED. */
  primary: string;
}

const PLAN_ARTIFACTS: ArtifactSpec[] = [
  { key: 'plan', file: 'plan.json', read: 'plan' },
  { key: 'openQuestions', file: 'open-questions.md', read: 'text' },
  { key: 'judges', file: 'judges.json', read: 'json' },
];

const evaluate = (type: string): CommandSpec => ({
  inWorktree: false,
  needsParent: false,
  instruction: `Evaluate the ${type} artifact in the work folder against its quality criteria. Write the report to ${type}-judges.json as {"report_id", "timestamp", "stats": [{"type": "case_score", "case_id", "final_status", "metrics": [{"metric_name", "threshold", "score", "justification"}]}]}.`,
  artifacts: [{ key: `${type}Judges`, file: `${type}-judges.json`, read: 'json' }],
  primary: `${type}Judges`,
});

export const COMMANDS: Record<LoopCommand, CommandSpec> = {
  PLAN: {
    inWorktree: true,
    needsParent: false,
    instruction:
      'Read prd.md in the work folder and study the repository. Write an implementation plan grounded in the code to plan.json as {"content": "<markdown>"}, the questions you could not answer to open-questions.md, and your own assessment to judges.json. Do not edit source files.',
    artifacts: PLAN_ARTIFACTS,
    primary: 'plan',
  },
  REQUEST_CHANGES: {
    inWorktree: true,
    needsParent: true,
    instruction: 'Amend the plan in plan.json as prompt.md asks (keep the {"content": "<markdown>"} shape); update open-questions.md and judges.json. Do not edit source files.',
    artifacts: PLAN_ARTIFACTS,
    primary: 'plan',
  },
  EXECUTE: {
    inWorktree: true,
    needsParent: true,
    instruction:
      'Implement the plan in plan.json in this repository and commit your work on the current branch. Then write execution-result.json: {"has_changes", "pr_url", "pr_number", "pr_title", "branch_name", "base_ref", "base_branch", "commit_sha"} (false, 0 or "" where there is nothing), and your assessment of the code to code-judges.json.',
    artifacts: [
      { key: 'plan', file: 'plan.json', read: 'plan' },
      { key: 'executionResult', file: 'execution-result.json', read: 'json' },
      { key: 'codeJudges', file: 'code-judges.json', read: 'json' },
    ],
    primary: 'executionResult',
  },
  GENERATE_PRD: {
    inWorktree: false,
    needsParent: false,
    instruction: 'Write a product requirements document for what prompt.md describes to prd.md.',
    artifacts: [{ key: 'prd', file: 'prd.md', read: 'prd' }],
    primary: 'prd',
  },
  REQUEST_PRD_CHANGES: {
    inWorktree: false,
    needsParent: false,
    instruction: 'Rewrite prd.md as prompt.md asks.',
    artifacts: [{ key: 'prd', file: 'prd.md', read: 'prd' }],
    primary: 'prd',
  },
  DECOMPOSE: {
    inWorktree: false,
    needsParent: false,
    instruction:
      'Split the PRD in prd.md into vertical-slice features. Write features.json as {"features": [{"title", "description", "priority", "userStories": [{"id", "story", "acceptanceCriteria": [{"id", "criterion"}]}]}]}.',
    artifacts: [{ key: 'features', file: 'features.json', read: 'json' }],
    primary: 'features',
  },
  EVALUATE_PRD: evaluate('prd'),
  EVALUATE_PLAN: evaluate('plan'),
  EVALUATE_CODE: evaluate('code'),
  EVALUATE_FEATURE: evaluate('feature'),
  BOOTSTRAP: {
    inWorktree: false,
    needsParent: false,
    instruction:
      'prompt.md lists repositories as {"repos": [{"fullName"}]}. For each, describe its agents and critic gates; write bootstrap-manifest.json as {"repos": [{"fullName", "success", "agents": [], "criticGates": [], "metadata": {}, "duration"}], "totalDuration"}.',
    artifacts: [{ key: 'bootstrapResult', file: 'bootstrap-manifest.json', read: 'json' }],
    primary: 'bootstrapResult',
  },
};

type Artifact = z.infer<typeof LoopArtifact>;

/** The input files the agent reads: prd.md, plan.json, feature.md and prompt.md. */
export function inputFiles(artifacts: Artifact[], prompt: string | null | undefined): Record<string, string> {
  const files: Record<string, string> = {};
  const of = (type: Artifact['type']) => artifacts.filter((a) => a.type === type);
  if (of('PRD').length) files['prd.md'] = of('PRD').map((a) => `# ${a.title}\n\n${a.content}`).join('\n\n');
  const plan = of('IMPLEMENTATION_PLAN')[0];
  if (plan) files['plan.json'] = JSON.stringify({ content: plan.content }, null, 2);
  if (of('FEATURE').length) files['feature.md'] = of('FEATURE').map((a) => `# ${a.title}\n\n${a.content}`).join('\n\n');
  if (prompt) files['prompt.md'] = prompt;
  return files;
}

/** The prompt of the agent's turn: the command's instruction, where things are, the user's words. */
export function loopPrompt(command: LoopCommand, workDir: string, files: string[], prompt: string | null | undefined): string {
  const spec = COMMANDS[command];
  return [
    `You are running the ${command} step of a Symphony loop.`,
    `The work folder is ${workDir}${files.length ? `; it holds ${files.join(', ')}` : ''}. Write every output file there.`,
    spec.instruction,
    prompt && !files.includes('prompt.md') ? `The request:\n${prompt}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
}

/** The artifacts the agent left, by upload key; the ones it did not write are left out. */
export function readArtifacts(command: LoopCommand, workDir: string): Record<string, unknown> {
  const artifacts: Record<string, unknown> = {};
  for (const spec of COMMANDS[command].artifacts) {
    const file = path.join(workDir, spec.file);
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    if (spec.read === 'text') artifacts[spec.key] = text;
    else if (spec.read === 'prd') artifacts[spec.key] = { content: text };
    else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        continue; // malformed: as good as missing (the cloud would throw on it)
      }
      artifacts[spec.key] = spec.read === 'plan' ? { content: (parsed as { content?: unknown })?.content ?? text, raw: parsed } : parsed;
    }
  }
  return artifacts;
}
