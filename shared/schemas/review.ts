// Requests and replies of the code-review family (/codex/*): reviews by codex or claude,
// their findings, dedup, extract, verdict, argue, and chats about a review or a finding.
// Field names are the original web client's (repoPath, reviewMode, baseBranch, provider,
// commentedIndex, ...). `provider` is always an enum: it never reaches a path.
import { z } from 'zod';

const UserPath = z.string().min(1).max(4096).refine((value) => !value.includes('\0'), 'must not contain NUL');
const TicketId = z.string().min(1).max(200);
/** The web client sends '' for "not set": blank strings count as missing. */
const blankIsMissing = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const OptionalText = (max: number) => z.preprocess(blankIsMissing, z.string().max(max).optional());
const ModelName = z.preprocess(blankIsMissing, z.string().regex(/^[A-Za-z0-9._:/@-]{1,100}$/, 'not a model name').optional());
const BranchName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._/+#@-]{0,199}$/, "use letters, digits and . _ / + # @ -, not starting with '-' or '.'");
const Flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);

export const ReviewProvider = z.enum(['codex', 'claude']);
export type ReviewProvider = z.infer<typeof ReviewProvider>;
export const ReasoningEffort = z.preprocess(blankIsMissing, z.enum(['minimal', 'low', 'medium', 'high', 'xhigh']).optional());

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const Severity = z.enum(SEVERITIES);
export const Priority = z.enum(['P0', 'P1', 'P2', 'P3']);
export const FINDING_STATUSES = ['open', 'commented', 'dismissed', 'fixed'] as const;
export const FindingStatus = z.enum(FINDING_STATUSES);

export const TicketParams = z.object({ ticketId: TicketId });
export const FindingParams = z.object({ findingId: z.string().min(1).max(200) });

// POST /codex/review/:ticketId
export const ReviewBody = z.object({
  repoPath: UserPath,
  model: ModelName,
  reasoningEffort: ReasoningEffort,
  reviewMode: z.preprocess(blankIsMissing, z.enum(['base', 'uncommitted']).default('base')),
  baseBranch: z.preprocess(blankIsMissing, BranchName.optional()),
  /** What the user asks the reviewer to look at; reaches the agent (the original only stored it). */
  instructions: OptionalText(20_000),
  provider: z.preprocess(blankIsMissing, ReviewProvider.default('codex')),
  /** The branch to check out when the ticket has no worktree yet. */
  branchName: z.preprocess(blankIsMissing, BranchName.optional()),
  /** Review in the repository itself instead of the ticket's worktree. */
  useBaseRepo: Flag.optional(),
});
export type ReviewBody = z.infer<typeof ReviewBody>;

/** `repo` (the original's name) or `repoPath`; `provider` optional where the route can infer it. */
export const ReviewScopeQuery = z
  .object({ repo: UserPath.optional(), repoPath: UserPath.optional(), provider: z.preprocess(blankIsMissing, ReviewProvider.optional()) })
  .refine((query) => query.repo ?? query.repoPath, { message: 'repo is required', path: ['repo'] })
  .transform((query) => ({ repoPath: (query.repo ?? query.repoPath)!, provider: query.provider }));

export const StopBody = z
  .object({ repo: UserPath.optional(), repoPath: UserPath.optional(), provider: z.preprocess(blankIsMissing, ReviewProvider.default('codex')) })
  .refine((body) => body.repo ?? body.repoPath, { message: 'repo is required', path: ['repo'] })
  .transform((body) => ({ repoPath: (body.repo ?? body.repoPath)!, provider: body.provider }));

/** A finding as a client sends it (the original's fields; ours optional). */
export const FindingInput = z.object({
  severity: z.preprocess((value) => (value === undefined ? 'info' : value), z.string().max(40)),
  priority: Priority.nullish(),
  file: z.string().max(4096).nullish(),
  line: z.number().int().nonnegative().nullish(),
  message: z.string().min(1).max(100_000),
  suggestion: z.string().max(100_000).nullish(),
  commented: z.boolean().optional(),
  humanizedBody: z.string().max(100_000).nullish(),
  title: z.string().max(2000).optional(),
  body: z.string().max(100_000).optional(),
  confidence: z.number().min(0).max(1).nullish(),
  status: FindingStatus.optional(),
});
export type FindingInput = z.infer<typeof FindingInput>;

// POST /codex/review-findings/:ticketId — the first mode that matches wins (as the original).
export const FindingsPostBody = z.union([
  z.object({ commentedIndex: z.number().int().nonnegative(), humanizedBody: z.string().max(100_000).optional() }),
  z.object({ declined: z.literal(true), declineReason: z.string().max(20_000).optional() }),
  z.object({ findings: z.array(FindingInput).max(1000), provider: ReviewProvider.optional(), model: z.string().max(100).optional() }),
  /** Ours: set one finding's status by its stable id (the Reviews view). */
  z.object({ findingId: z.string().min(1).max(200), status: FindingStatus }),
]);
export type FindingsPostBody = z.infer<typeof FindingsPostBody>;

export const Finding = z.object({
  id: z.string(),
  index: z.number().int(),
  provider: ReviewProvider,
  runId: z.string().nullable(),
  severity: Severity,
  priority: Priority,
  file: z.string().nullable(),
  line: z.number().int().nullable(),
  endLine: z.number().int().nullable(),
  title: z.string(),
  body: z.string(),
  /** title + "\n" + body, as the original's clients read it. */
  message: z.string(),
  suggestion: z.string().nullable(),
  confidence: z.number().nullable(),
  status: FindingStatus,
  commented: z.boolean(),
  humanizedBody: z.string().nullable(),
  /** An earlier run's finding (commented or dismissed) this one repeats. */
  duplicateOf: z.string().nullable(),
  createdAt: z.string(),
});
export type Finding = z.infer<typeof Finding>;

export const InvalidFinding = z.object({ index: z.number().int(), error: z.string(), raw: z.unknown() });
export type InvalidFinding = z.infer<typeof InvalidFinding>;

export const FindingsResponse = z.object({
  provider: ReviewProvider,
  model: z.string(),
  findings: z.array(Finding),
  declined: z.boolean().optional(),
  declineReason: z.string().optional(),
});

// POST /codex/review-dedup/:ticketId
const DedupItem = z
  .object({
    message: z.string().max(100_000).optional(),
    title: z.string().max(2000).optional(),
    body: z.string().max(100_000).optional(),
    file: z.string().max(4096).nullish(),
    path: z.string().max(4096).nullish(),
  })
  .loose();
export const DedupBody = z.object({
  repoPath: UserPath,
  providerA: z.enum(['codex', 'claude', 'pr-comments']),
  providerB: z.enum(['codex', 'claude', 'pr-comments']),
  findingsA: z.array(DedupItem).max(2000).default([]),
  findingsB: z.array(DedupItem).max(2000).default([]),
});
export const DedupResponse = z.object({ duplicates: z.array(z.tuple([z.number().int(), z.number().int()])) });

export const ExtractBody = z.object({ repoPath: UserPath, sessionId: z.string().min(1).max(200), provider: ReviewProvider.optional() }).loose();
export const ExtractResponse = z.object({ findings: z.array(FindingInput.extend({ title: z.string(), body: z.string() })), invalid: z.array(InvalidFinding) });

export const VerdictBody = z.object({ repoPath: UserPath, sessionId: z.string().min(1).max(200), provider: ReviewProvider }).loose();
export const Verdict = z.object({ verdict: z.enum(['approve', 'needs_attention', 'decline']), reason: z.string() });
export type Verdict = z.infer<typeof Verdict>;
export const VerdictResponse = z.object({ verdict: Verdict.nullable(), error: z.string().optional() });

// POST /codex/argue/:ticketId
export const ArgueBody = z
  .object({
    repo: UserPath.optional(),
    repoPath: UserPath.optional(),
    /** The finding argued about; its text and its reviewer come from the store. */
    findingId: z.string().min(1).max(200).optional(),
    findingSummary: OptionalText(100_000),
    /** The first side's case (the original's name: claude found it, codex argues). */
    claudeArgument: OptionalText(100_000),
    /** Who argues the other side; default: the provider that did not report the finding, else codex. */
    provider: z.preprocess(blankIsMissing, ReviewProvider.optional()),
    model: ModelName,
    reasoningEffort: ReasoningEffort,
  })
  .refine((body) => body.repo ?? body.repoPath, { message: 'repoPath is required', path: ['repoPath'] })
  .refine((body) => body.findingId ?? (body.findingSummary && body.claudeArgument), {
    message: 'findingSummary and claudeArgument are required without findingId',
    path: ['findingSummary'],
  });
export type ArgueBody = z.infer<typeof ArgueBody>;

// POST /codex/chat/:ticketId
export const ReviewChatBody = z.object({
  prompt: z.string().min(1).max(100_000),
  repoPath: UserPath,
  /** `review`: the chat beside the review; anything else: the general ticket chat. */
  chatContextId: z.string().max(200).optional(),
  provider: z.preprocess(blankIsMissing, ReviewProvider.default('codex')),
  model: ModelName,
});

// /codex/finding-chat/:findingId
export const FindingChatQuery = z.object({ ticketId: TicketId, repo: UserPath });
export const FindingChatPost = z.object({
  message: z.string().min(1).max(100_000),
  displayMessage: z.string().max(100_000).optional(),
  findingContext: z
    .object({
      severity: z.string().max(40).optional(),
      priority: z.string().max(10).optional(),
      file: z.string().max(4096).nullish(),
      line: z.number().int().nullish(),
      message: z.string().max(100_000).optional(),
      suggestion: z.string().max(100_000).nullish(),
    })
    .optional(),
  provider: z.preprocess(blankIsMissing, ReviewProvider.default('claude')),
});
/** `{messageId?, responded}` marks; the old client's `{message}` appends a message. */
export const FindingChatPatch = z.union([
  z.object({ message: z.string().min(1).max(100_000), role: z.enum(['user', 'assistant']).optional() }),
  z.object({ messageId: z.union([z.string(), z.number()]).optional(), responded: z.boolean().default(true) }),
]);

export type DedupBody = z.infer<typeof DedupBody>;
