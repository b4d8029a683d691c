// Cloud-driven loops: the body the cloud sends to POST /symphony/loop (spec:
// original-loop-protocol.md §1a), the kill, and the plan-loop helpers.
import { z } from 'zod';

export const LOOP_COMMANDS = [
  'PLAN', 'EXECUTE', 'REQUEST_CHANGES', 'REQUEST_PRD_CHANGES', 'DECOMPOSE', 'GENERATE_PRD',
  'EVALUATE_PRD', 'EVALUATE_PLAN', 'EVALUATE_CODE', 'EVALUATE_FEATURE', 'BOOTSTRAP',
] as const;
export type LoopCommand = (typeof LOOP_COMMANDS)[number];

const Uuid = z.string().uuid('must be a valid UUID');
const Text = (max: number) => z.string().max(max);
const RepoRef = z.object({ fullName: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/name').max(200), branch: Text(200).nullish() });

export const LoopArtifact = z.object({
  id: Text(200),
  type: z.enum(['PRD', 'IMPLEMENTATION_PLAN', 'FEATURE']),
  title: Text(1000),
  content: Text(2_000_000),
  raw: z.unknown().optional(),
});

export const LoopBody = z.object({
  loopId: Uuid,
  command: z.enum(LOOP_COMMANDS, { message: `must be one of ${LOOP_COMMANDS.join(', ')}` }),
  closedLoopAuthToken: z.string().min(10).max(16_384),
  /** Ignored: callbacks go to the configured API origin only. */
  apiBaseUrl: z.unknown().optional(),
  artifacts: z.array(LoopArtifact).max(100),
  prompt: Text(1_000_000).nullish(),
  repo: RepoRef.nullish(),
  committer: z.object({ name: Text(200), email: Text(320) }).nullish(),
  artifactSlug: Text(200).nullish(),
  parentLoopId: Uuid.nullish(),
  parentBranchName: Text(200).nullish(),
  parentSessionId: Text(200).nullish(),
  localRepoPath: Text(4096).nullish(),
  s3StateKey: Text(1000).optional(),
  userContext: z.unknown().optional(),
  attachments: z.array(z.record(z.string(), z.unknown())).max(50).optional(),
  supportingArtifacts: z.array(z.unknown()).max(100).optional(),
  codeEvaluationContext: z.unknown().optional(),
  additionalRepos: z.array(RepoRef).max(5).optional(),
  primaryArtifactId: Text(200).nullish(),
  agents: z.array(z.object({ slug: Text(200), name: Text(200), prompt: Text(200_000) })).max(50).optional(),
  repoConfigs: z.array(z.unknown()).max(20).optional(),
  branchMaterialization: z.unknown().optional(),
  harness: z.enum(['claude', 'codex', 'cursor', 'opencode']).nullish(),
  /** A signed launch: the intent the user signed (checked by the relay before this runs). */
  userIntent: z.record(z.string(), z.unknown()).optional(),
});
export type LoopBody = z.infer<typeof LoopBody>;

export const LoopResponse = z.object({ success: z.literal(true), loopId: z.string(), pid: z.number().int().nullable(), worktreePath: z.string() });

export const LoopKillBody = z.object({ loopId: Uuid, userIntent: z.record(z.string(), z.unknown()).optional() });
export const LoopKillResponse = z.object({ success: z.literal(true), message: z.string() });

export const PlanLoopParams = z.object({ action: z.string().min(1).max(400) });
/** Each plan-loop action checks its own fields (below). */
export const PlanLoopAnyBody = z.record(z.string(), z.unknown()).optional();
export const PlanLoopPrepareBody = z.object({ repoPath: Text(4096).min(1), baseBranch: Text(200).optional() });
/** Both the artifact names and the old web client's document/feature names. */
export const PlanLoopConfirmBody = z.object({
  repoPath: Text(4096).min(1),
  loopId: Uuid.optional(),
  artifactId: Text(200).optional(),
  artifactSlug: Text(200).optional(),
  issueId: Text(200).optional(),
  documentId: Text(200).optional(),
  documentSlug: Text(200).optional(),
  featureId: Text(200).optional(),
  ticketTitle: Text(1000).optional(),
  outcome: Text(100).optional(),
});
export const PlanLoopCancelBody = z.object({ repoPath: Text(4096).min(1), loopId: Uuid });

export const LoopView = z.object({
  loopId: z.string(),
  command: z.string(),
  status: z.string(),
  repoPath: z.string().nullable(),
  worktreePath: z.string(),
  pid: z.number().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  pendingCallbacks: z.number().int(),
  lastError: z.string().nullable(),
});
