// Learnings: lessons an agent extracts from a finished run or chat (the pending model),
// merged into a store of patterns (the web app's pattern model) that later runs are offered.
import { z } from 'zod';
import { DeployTicketId } from './deploy.js';

const UserPath = z
  .string()
  .trim()
  .min(1)
  .max(4096)
  .refine((value) => !value.includes('\0'), 'must not contain NUL');
const TicketId = DeployTicketId;

export const LEARNING_CATEGORIES = ['pattern', 'mistake', 'convention', 'insight'] as const;
export const LearningCategory = z.enum(LEARNING_CATEGORIES);

/** One learning as the model returns it (the original's pending file entry). */
export const PendingLearning = z.object({
  id: z.string().trim().min(1).max(100),
  category: LearningCategory,
  summary: z.string().trim().min(5).max(500),
  confidence: z.number().min(0).max(1),
  applies_to: z.array(z.string().trim().min(1).max(200)).max(20),
  source: z.string().trim().max(200),
  context: z.array(z.string().trim().min(1).max(500)).max(20),
});
export type PendingLearning = z.infer<typeof PendingLearning>;

export const PATTERN_FLAGS = ['[REVIEW]', '[STALE]', '[UNTESTED]', '[PRUNE]'] as const;

/** The web app's pattern model (W0 l/toon-parser.ts), plus the repository it is about. */
export const Pattern = z.object({
  id: z.string(),
  category: LearningCategory,
  summary: z.string(),
  confidence: z.number(),
  seen_count: z.number().int(),
  success_rate: z.number(),
  flags: z.array(z.enum(PATTERN_FLAGS)),
  applies_to: z.array(z.string()),
  context: z.array(z.string()),
  /** Repository name, or `*` for every repository. */
  repo: z.string(),
});
export type Pattern = z.infer<typeof Pattern>;

export const LearningsQuery = z.object({ format: z.enum(['json', 'toon']).optional(), repoPath: UserPath.optional() });
export const PatternsResponse = z.object({ patterns: z.array(Pattern) });

export const ExtractLearningsBody = z.object({
  ticketId: TicketId,
  repoPath: UserPath,
  activeTab: z.string().max(100).optional(),
  /** The original's chat file name; history now lives in the gateway's own chat store. */
  chatFile: z.string().max(200).optional(),
  provider: z.enum(['claude', 'codex']).optional(),
});
export const ProcessLearningsBody = z.object({ ticketId: TicketId, repoPath: UserPath, waitForExtraction: z.boolean().optional() });
export const ProcessLearningsQuery = z.object({ ticketId: TicketId, repo: UserPath });
export const LearningsStatusParams = z.object({ ticketId: TicketId });
export const LearningsStatusQuery = z.object({ repo: UserPath.optional() });

export const RecordLearningUseBody = z.object({
  ticketId: TicketId,
  repoPath: UserPath,
  learnings: z
    .array(z.object({ id: z.string().max(100).optional(), summary: z.string().trim().min(1).max(500), source: z.string().max(200).optional(), category: z.string().max(50).optional() }))
    .min(1, 'name at least one learning that was used')
    .max(100),
  /** The run's outcome: success/failure move the success rate; `applied` (default) only counts the use. */
  outcome: z.enum(['applied', 'success', 'failure']).optional(),
});

export const LearningsSettingsBody = z.object({ offerToRuns: z.boolean() }).strict();

export const LearningStatus = z.object({
  status: z.string(),
  count: z.number().int(),
  ticketId: z.string().optional(),
  message: z.string().optional(),
  malformed: z.array(z.object({ index: z.number().int(), issues: z.array(z.string()) })).optional(),
  updatedAt: z.string().optional(),
});

export const BatchStatus = z.object({
  status: z.string(),
  jobId: z.string().optional(),
  worktreeCount: z.number().int().optional(),
  processedWorktrees: z.number().int().optional(),
  totalPending: z.number().int().optional(),
  merged: z.number().int().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().nullable().optional(),
  error: z.string().nullable().optional(),
});
