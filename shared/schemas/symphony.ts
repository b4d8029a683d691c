// Requests of the ticket-run routes (/symphony/launch, status, kill, logs, plan, judges,
// /work-directory). Field names are the original's (ticketIdentifier, repoPath, baseBranch,
// ticket{...}); ours are added beside them. Unknown fields are dropped, as the cloud app
// may send more (expectedMcpUrl, featureId).
import { z } from 'zod';

const UserPath = z.string().min(1).max(4096).refine((value) => !value.includes('\0'), 'must not contain NUL');
const TicketId = z.string().min(1).max(200);
const Flag = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1')]);

export const RunTicket = z.object({
  title: z.string().max(1000).optional(),
  identifier: z.string().max(200).optional(),
  url: z.string().max(2000).optional(),
  description: z.string().max(200_000).optional(),
  additionalContext: z.string().max(200_000).optional(),
  contextRepoPaths: z.array(UserPath).max(20).optional(),
  mentionedFiles: z.array(z.string().max(4096)).max(200).optional(),
  issueId: z.string().max(200).optional(),
});

export const LaunchBody = z.object({
  ticketIdentifier: z.string({ error: 'ticketIdentifier is required and must be a string' }).min(1).max(100),
  repoPath: z.string({ error: 'repoPath is required and must be a string' }).pipe(UserPath),
  baseBranch: z.string().regex(/^[a-zA-Z0-9_][a-zA-Z0-9/_.-]{0,199}$/, "must match [a-zA-Z0-9/_.-]+ and not start with '-' or '.'").optional(),
  ticket: RunTicket.optional(),
  parentTicketId: z.string().max(200).optional(),
  provider: z.enum(['claude', 'codex']).optional(),
  model: z.string().min(1).max(200).regex(/^[A-Za-z0-9._:/-]+$/).optional(),
  maxIterations: z.number().int().min(1).max(200).optional(),
  autoApprovePlan: z.boolean().optional(),
  judges: z.array(z.object({ name: z.string().min(1).max(50).regex(/^[A-Za-z0-9_.-]+$/), command: z.string().min(1).max(2000), required: z.boolean().optional() })).max(10).optional(),
  llmJudge: z.union([z.boolean(), z.object({ metrics: z.array(z.object({ name: z.string().min(1).max(100), threshold: z.number().min(0).max(1), description: z.string().max(1000).optional() })).min(1).max(20) })]).optional(),
  prompt: z.string().max(200_000).optional(),
  skipPlan: z.boolean().optional(),
  followPr: z.boolean().optional(),
  /** Ours: when the run completes with every required judge passing, push its branch and open its PR (policy git_pr). */
  openPr: z.boolean().optional(),
});
export type LaunchBody = z.infer<typeof LaunchBody>;

export const TicketParams = z.object({ ticketId: TicketId });
export const RepoQuery = z.object({ repo: UserPath });
export const LogsQuery = z.object({
  repo: UserPath,
  lines: z.coerce.number().int().min(1).max(100_000).default(100),
  follow: Flag.optional(),
});
export const WorkDirectoryQuery = z.object({ repo: UserPath.optional() });

export const KillBody = z.union([
  z.object({ pid: z.number().int().positive().max(2 ** 31) }).strict(),
  z.object({ ticketId: TicketId, repoPath: UserPath }).strict(),
], { error: 'body must be {pid} or {ticketId, repoPath}' });

export const RunIdParams = z.object({ runId: z.string().uuid() });
export const FollowPrBody = z.object({ enabled: z.boolean() });
export const PruneBody = z.object({ dryRun: z.boolean().default(false) });
export const RetentionBody = z.object({
  days: z.number().int().min(0).max(3650).optional(),
  auto: z.boolean().optional(),
}).strict();
