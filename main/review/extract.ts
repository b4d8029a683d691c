// Findings out of a reviewer's output, whichever form it took:
// - codex `exec review` prints its structured review (title, body, file, line range,
//   priority in the title) rendered as "- [P1] title — /abs/file:10-12\n  body";
// - the same structured review as JSON (codex's review schema) when codex could not render it;
// - the JSON array our claude review prompt asks for, in a ```json block.
// Every item is checked; one that does not fit is reported beside the others, never dropped.
import { isAbsolute, relative } from 'node:path';
import { z } from 'zod';
import type { InvalidFinding } from '../../shared/schemas/review.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type Priority = 'P0' | 'P1' | 'P2' | 'P3';

export interface ExtractedFinding {
  severity: Severity;
  priority: Priority;
  file: string | null;
  line: number | null;
  endLine: number | null;
  title: string;
  body: string;
  suggestion: string | null;
  confidence: number | null;
}

export interface Extraction {
  findings: ExtractedFinding[];
  invalid: InvalidFinding[];
  /** Which form the findings came in (`none` when the output held no review at all). */
  format: 'codex-text' | 'codex-json' | 'json-array' | 'none';
  /** The reviewer's overall judgement, where it gave one. */
  summary: string | null;
}

const PRIORITY_BY_SEVERITY: Record<Severity, Priority> = { critical: 'P0', high: 'P1', medium: 'P2', low: 'P3', info: 'P3' };
const SEVERITY_BY_PRIORITY: Record<Priority, Severity> = { P0: 'critical', P1: 'high', P2: 'medium', P3: 'low' };
/** The original clients' words for severities (critical|warning|info|success) map onto ours. */
const SEVERITY_ALIASES: Record<string, Severity> = { warning: 'medium', success: 'info', error: 'high', major: 'high', minor: 'low' };

/** Unknown severities are `low`, as the original did. */
export function toSeverity(value: unknown): Severity {
  const word = String(value ?? '').trim().toLowerCase();
  if (word === 'critical' || word === 'high' || word === 'medium' || word === 'low' || word === 'info') return word;
  return SEVERITY_ALIASES[word] ?? 'low';
}

export function priorityOf(severity: Severity): Priority {
  return PRIORITY_BY_SEVERITY[severity];
}

const LineNumber = z.preprocess(
  (value) => (typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value),
  z.number().int().nonnegative().nullish(),
);

/** One item of the JSON array the claude review prompt asks for. */
const ModelFinding = z.object({
  severity: z.unknown().optional(),
  file: z.string().max(4096).nullish(),
  line: LineNumber,
  endLine: LineNumber,
  title: z.string().trim().min(1).max(2000),
  description: z.string().max(100_000).nullish(),
  suggestion: z.string().max(100_000).nullish(),
  confidence: z.number().min(0).max(1).nullish(),
});

/** One item of codex's review output schema. */
const CodexFinding = z.object({
  title: z.string().trim().min(1).max(2000),
  body: z.string().max(100_000).default(''),
  confidence_score: z.number().min(0).max(1).nullish(),
  priority: z.number().int().min(0).max(3).nullish(),
  code_location: z
    .object({
      absolute_file_path: z.string().max(4096),
      line_range: z.object({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative() }).optional(),
    })
    .nullish(),
});

/** Reads whatever review the text holds; `root` makes absolute file paths relative to the reviewed tree. */
export function extractFindings(text: string, root?: string): Extraction {
  const rendered = codexRendered(text, root);
  if (rendered) return rendered;
  for (const candidate of jsonCandidates(text)) {
    const value = parseJson(candidate);
    if (value && typeof value === 'object' && !Array.isArray(value) && Array.isArray((value as { findings?: unknown }).findings)) {
      return codexJson(value as { findings: unknown[]; overall_explanation?: unknown }, root);
    }
    if (Array.isArray(value)) return jsonArray(value, root);
  }
  return { findings: [], invalid: [], format: 'none', summary: null };
}

// "- [P1] Title — /abs/path/file.ts:10-12" then the body indented by two spaces.
const RENDERED_ITEM = /^- (?:\[[ x]\] )?(.+?) — (.+):(\d+)-(\d+)$/;

function codexRendered(text: string, root?: string): Extraction | null {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => /^(Review comment|Full review comments):$/.test(line.trim()));
  if (start < 0) return null;
  const findings: ExtractedFinding[] = [];
  const invalid: InvalidFinding[] = [];
  let current: { finding: ExtractedFinding; body: string[] } | null = null;
  const flush = () => {
    if (!current) return;
    current.finding.body = current.body.join('\n').trim();
    findings.push(current.finding);
    current = null;
  };
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('- ')) {
      flush();
      const match = RENDERED_ITEM.exec(line);
      if (!match) {
        invalid.push({ index: findings.length + invalid.length, error: 'not "- title — file:start-end"', raw: line });
        continue;
      }
      const [, rawTitle, file, startLine, endLine] = match;
      const tagged = /^\[(P[0-3])\]\s*/.exec(rawTitle);
      const priority = (tagged?.[1] as Priority | undefined) ?? 'P2';
      current = {
        finding: {
          severity: SEVERITY_BY_PRIORITY[priority], priority, file: relativeTo(file, root), line: Number(startLine), endLine: Number(endLine),
          title: rawTitle.replace(/^\[P[0-3]\]\s*/, '').trim(), body: '', suggestion: null, confidence: null,
        },
        body: [],
      };
    } else if (current) {
      current.body.push(line.startsWith('  ') ? line.slice(2) : line);
    }
  }
  flush();
  const summary = lines.slice(0, start).join('\n').trim() || null;
  return { findings, invalid, format: 'codex-text', summary };
}

function codexJson(value: { findings: unknown[]; overall_explanation?: unknown }, root?: string): Extraction {
  const findings: ExtractedFinding[] = [];
  const invalid: InvalidFinding[] = [];
  value.findings.forEach((raw, index) => {
    const parsed = CodexFinding.safeParse(raw);
    if (!parsed.success) return invalid.push({ index, error: issueText(parsed.error), raw });
    const item = parsed.data;
    const tagged = /^\[(P[0-3])\]\s*/.exec(item.title);
    const priority: Priority = typeof item.priority === 'number' ? (`P${item.priority}` as Priority) : ((tagged?.[1] as Priority) ?? 'P2');
    findings.push({
      severity: SEVERITY_BY_PRIORITY[priority], priority,
      file: item.code_location ? relativeTo(item.code_location.absolute_file_path, root) : null,
      line: item.code_location?.line_range?.start ?? null, endLine: item.code_location?.line_range?.end ?? null,
      title: item.title.replace(/^\[P[0-3]\]\s*/, ''), body: item.body, suggestion: null, confidence: item.confidence_score ?? null,
    });
  });
  const summary = typeof value.overall_explanation === 'string' ? value.overall_explanation : null;
  return { findings, invalid, format: 'codex-json', summary };
}

function jsonArray(items: unknown[], root?: string): Extraction {
  const findings: ExtractedFinding[] = [];
  const invalid: InvalidFinding[] = [];
  items.forEach((raw, index) => {
    const parsed = ModelFinding.safeParse(raw);
    if (!parsed.success) return invalid.push({ index, error: issueText(parsed.error), raw });
    const item = parsed.data;
    const severity = toSeverity(item.severity);
    findings.push({
      severity, priority: priorityOf(severity), file: item.file ? relativeTo(item.file, root) : null,
      line: item.line ?? null, endLine: item.endLine ?? item.line ?? null, title: item.title, body: item.description ?? '',
      suggestion: item.suggestion ?? null, confidence: item.confidence ?? null,
    });
  });
  return { findings, invalid, format: 'json-array', summary: null };
}

/** The whole text, ```json blocks (last first: a model may show an example before its answer), then the widest [...] / {...}, outermost first. */
function jsonCandidates(text: string): string[] {
  const blocks = [...text.matchAll(/```(?:json)?\s*\n([\s\S]*?)```/g)].map((match) => match[1]).reverse();
  const spans = [/\[[\s\S]*\]/.exec(text), /\{[\s\S]*\}/.exec(text)]
    .filter((match): match is RegExpExecArray => match !== null)
    .sort((a, b) => a.index - b.index)
    .map((match) => match[0]);
  return [text.trim(), ...blocks, ...spans];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function relativeTo(file: string, root?: string): string {
  if (!root || !isAbsolute(file)) return file;
  const inside = relative(root, file);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : file;
}

function issueText(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || 'item'}: ${issue.message}`).join('; ');
}
