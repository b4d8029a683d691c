// What the review agents are asked. The diff and findings they see are untrusted text
// (someone else's branch, PR comments); they run read-only, so the worst an injection
// gets is a wrong answer, never a write or a command.
import type { Finding } from '../../shared/schemas/review.js';
import type { Verdict } from '../../shared/schemas/review.js';
import { Verdict as VerdictSchema } from '../../shared/schemas/review.js';

/** The shape claude is asked for; extract.ts reads it. */
export const CLAUDE_FINDINGS_SHAPE =
  '{"severity": "critical" | "high" | "medium" | "low", "file": "<path relative to the repository root>", ' +
  '"line": <line number in the changed file> or null, "title": "<one line>", "description": "<why it is a problem, and when it happens>", ' +
  '"suggestion": "<how to fix it>" or null, "confidence": <0.0 to 1.0>}';

export function claudeReviewPrompt(input: {
  ticketId: string;
  scope: string;
  diff: string;
  truncated: boolean;
  untracked: string[];
  instructions?: string;
}): string {
  const parts = [
    `You are reviewing the code changes of ticket ${input.ticketId} in this repository (your working directory). ${input.scope}`,
    'Read any file you need for context; you can only read. Report real problems these changes introduce (bugs, security holes, ' +
      'data loss, broken behaviour, missing error handling), not style or pre-existing issues.',
    `<diff>\n${input.diff}\n</diff>`,
  ];
  if (input.truncated) parts.push('The diff was cut to fit; read the changed files themselves for the rest.');
  if (input.untracked.length) parts.push(`New files not in the diff (read them): ${input.untracked.join(', ')}`);
  if (input.instructions) parts.push(`The user's instructions for this review:\n${input.instructions}`);
  parts.push(
    'End your answer with exactly one ```json code block holding an array (empty when you found nothing) of objects ' +
      `of this shape:\n${CLAUDE_FINDINGS_SHAPE}`,
  );
  return parts.join('\n\n');
}

export const VERDICT_PROMPT =
  'Step back from the individual findings and judge the change as a whole (a premise review): is it the right change, ' +
  'and can it be merged as it is? Answer with your reasoning, then one final line exactly of this form:\n' +
  '<pr_verdict>{"verdict": "approve" | "needs_attention" | "decline", "reason": "<one or two sentences>"}</pr_verdict>';

/** The last `<pr_verdict>` of the answer, checked; null when there is none or it does not fit. */
export function parseVerdict(text: string): Verdict | null {
  const matches = [...text.matchAll(/<pr_verdict>([\s\S]*?)<\/pr_verdict>/g)];
  for (const match of matches.reverse()) {
    try {
      const parsed = VerdictSchema.safeParse(JSON.parse(match[1].trim()));
      if (parsed.success) return parsed.data;
    } catch {
      // Not JSON: try an earlier one.
    }
  }
  return null;
}

export function findingText(finding: Pick<Finding, 'severity' | 'priority' | 'file' | 'line' | 'title' | 'body' | 'suggestion'>): string {
  const where = finding.file ? ` at ${finding.file}${finding.line ? `:${finding.line}` : ''}` : '';
  const suggestion = finding.suggestion ? `\nSuggested fix: ${finding.suggestion}` : '';
  return `[${finding.priority} ${finding.severity}] ${finding.title}${where}\n${finding.body}${suggestion}`;
}

export function argueOpening(summary: string, argument: string): string {
  return (
    'Another reviewer reported this finding about the changes in this repository:\n' +
    `<finding>\n${summary}\n</finding>\n\nTheir case:\n<argument>\n${argument}\n</argument>\n\n` +
    'Argue the other side: check the code yourself (read only) and say, with evidence from the code, whether the finding ' +
    'is real, overstated or wrong. End with one line: <debate_position>agree | disagree | partially_agree</debate_position>'
  );
}

export function argueReply(argument: string): string {
  return (
    `The other reviewer answers:\n<argument>\n${argument}\n</argument>\n\n` +
    'Answer their points with evidence from the code. End with one line: <debate_position>agree | disagree | partially_agree</debate_position>'
  );
}

export function debatePosition(text: string): string | null {
  const matches = [...text.matchAll(/<debate_position>\s*(agree|disagree|partially_agree)\s*<\/debate_position>/g)];
  return matches.at(-1)?.[1] ?? null;
}

export function findingChatContext(finding: string, ticketId: string): string {
  return (
    `You are discussing one code-review finding on ticket ${ticketId} with the user, in the repository that was reviewed ` +
    `(you can read files, not change them).\n<finding>\n${finding}\n</finding>`
  );
}
