// Requests of the repos, git and GitHub routes. Field names are the ones the cloud
// web app already sends (repoPath, branchName, baseBranch, message, ...). Bodies the
// cloud app sends drop unknown fields rather than refuse them (it may send more than
// these routes read); PATCH /repos is strict so that a misspelt setting is a 400.
import { z } from 'zod';
import { BRANCH_NAME_PATTERN, PR_COMMENTS_FAILURES, REVIEW_DECISIONS } from '../names.js';

export { BRANCH_NAME_PATTERN, PR_COMMENTS_FAILURES, REVIEW_DECISIONS };

const LocalPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((value) => !value.includes('\0'), 'must not contain NUL');
const BranchName = z.string().regex(BRANCH_NAME_PATTERN, "use letters, digits and . _ / + # @ -, not starting with '-' or '.'");
// `.` and `..` match the characters but are path segments, never names.
const notDots = (name: string) => name !== '.' && name !== '..';
const GitHubName = z.string().regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}$/, 'not a GitHub owner or repository name').refine(notDots, 'not a GitHub owner or repository name');
const FullName = z
  .string()
  .regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}\/[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}$/, 'expected owner/repo')
  .refine((name) => name.split('/').every(notDots), 'expected owner/repo');
const PositiveInt = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const Flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')]);

// Repositories
export const RepoAddBody = z.object({ path: LocalPath, description: z.string().max(2000).nullish() });
/**
 * PATCH /repos, two forms in one schema (strict, so a misspelt setting is a 400 naming it):
 * with `path`, one repository's settings; without, the web client's global form
 * `{worktreeParentDir, worktreeParentDirConfirmed}` (where every worktree created after goes; `~/...` allowed).
 */
export const RepoPatchBody = z
  .object({
    path: LocalPath.optional(),
    // It names the repository's worktree folder: one path segment.
    name: z
      .string()
      .min(1)
      .max(200)
      .refine((name) => name !== '.' && name !== '..' && !/[/\\\0]/.test(name), 'one folder name: no "/", "\\", "." or ".."')
      .optional(),
    description: z.string().max(2000).nullable().optional(),
    defaultBranch: BranchName.optional(),
    worktreeParentDir: LocalPath.nullable().optional(),
    worktreeParentDirConfirmed: z.boolean().optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.path !== undefined) {
      if (body.worktreeParentDirConfirmed !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['worktreeParentDirConfirmed'], message: 'is a global setting: send it without `path`' });
      }
      return;
    }
    for (const field of ['name', 'description', 'defaultBranch'] as const) {
      if (body[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'needs `path` (the repository to change)' });
    }
    if (body.worktreeParentDir === null) ctx.addIssue({ code: 'custom', path: ['worktreeParentDir'], message: 'the global worktree folder cannot be cleared, only changed' });
    if (body.worktreeParentDir === undefined && body.worktreeParentDirConfirmed === undefined) {
      ctx.addIssue({ code: 'custom', path: ['worktreeParentDir'], message: 'No settings to update: send worktreeParentDir and/or worktreeParentDirConfirmed' });
    }
  });
export const RepoPathQuery = z.object({ path: LocalPath });

// git
export const GIT_ACTIONS = ['status', 'branch', 'commit', 'push', 'pull', 'branch-diff', 'sync-status'] as const;
/** Actions that only read (the approval policy's access for POST /git). */
export const READ_GIT_ACTIONS: ReadonlySet<string> = new Set(['status', 'branch-diff', 'sync-status']);

export const GitActionBody = z
  .object({
    action: z.enum(GIT_ACTIONS),
    repoPath: LocalPath,
    branchName: BranchName.optional(),
    message: z.string().min(1).max(100_000).optional(),
    baseBranch: BranchName.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.action === 'branch' && !body.branchName) ctx.addIssue({ code: 'custom', path: ['branchName'], message: 'required for action branch' });
    if (body.action === 'commit' && !body.message?.trim()) ctx.addIssue({ code: 'custom', path: ['message'], message: 'required for action commit' });
  });

export const BranchesQuery = z.object({ repo: LocalPath });

// Local changes of a PR's worktree (the web client's Branch View). `repoPath` is the worktree.
const LocalIdentity = {
  repoPath: LocalPath,
  repoFullName: FullName,
  headBranch: BranchName,
  prNumber: z.union([PositiveInt, z.string().regex(/^\d+$/)]).optional(),
};
export const LocalChangesQuery = z.object(LocalIdentity);
export const LocalDiffBody = z.object({
  ...LocalIdentity,
  path: z.string().min(1).max(4096),
  previousPath: z.string().min(1).max(4096).nullish(),
});
export const LocalCommitPushBody = z.object({ ...LocalIdentity, message: z.string().trim().min(1).max(100_000) });
export const LocalChangesResponse = z.object({
  repoPath: z.string(),
  branch: z.string(),
  files: z.array(
    z.object({
      path: z.string(),
      previousPath: z.string().optional(),
      status: z.enum(['added', 'removed', 'renamed', 'copied', 'modified']),
      additions: z.number().optional(),
      deletions: z.number().optional(),
    }),
  ),
});
export const FileDiffResponse = z.object({
  path: z.string(),
  oldContent: z.string(),
  newContent: z.string(),
  isNew: z.boolean(),
  isDeleted: z.boolean(),
  isBinary: z.boolean(),
});
export const LocalCommitPushResponse = z.object({
  success: z.literal(true),
  commitSha: z.string(),
  branch: z.string(),
  pushed: z.boolean(),
  filesCommitted: z.number().int(),
});

export const DiffBody = z
  .object({
    repoPath: LocalPath,
    filePath: z.string().min(1).max(4096).refine((value) => !value.includes('\0'), 'must not contain NUL').optional(),
    baseBranch: BranchName.optional(),
    maxBytes: z.number().int().min(1024).max(10 * 1024 * 1024).optional(),
  });

export const WorktreeBody = z
  .object({
    action: z.enum(['create', 'cleanup']).default('create'),
    repoPath: LocalPath,
    branchName: BranchName.optional(),
    baseBranch: BranchName.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.action === 'create' && !body.branchName) ctx.addIssue({ code: 'custom', path: ['branchName'], message: 'required to create a worktree' });
  });
export const WorktreeDeleteBody = z.object({ worktreePath: LocalPath, force: Flag.optional() });

export const BranchWorktreeQuery = z.object({ repoFullName: FullName, headBranch: BranchName });
export const RepoFullNameQuery = z.object({ repoFullName: FullName });

// GitHub
export const PrCreateBody = z
  .object({
    repoPath: LocalPath,
    title: z.string().trim().min(1).max(256),
    body: z.string().max(65_536).default(''),
    ticketUrl: z.url({ protocol: /^https?$/ }).max(2048).optional(),
    baseBranch: BranchName.optional(),
    draft: z.boolean().optional(),
  });
export const PrListQuery = z.object({
  repo: z.union([FullName, LocalPath]).describe('owner/repo, or the path of a local repository'),
  state: z.enum(['open', 'closed', 'merged', 'all']).default('open'),
});
export const PrRefQuery = z.object({ owner: GitHubName, repo: GitHubName, number: PositiveInt });
/** The web client's branch scope: `encodeURIComponent(repoFullName)::encodeURIComponent(branch)`, repo part `local` when none. */
const BranchId = z.string().min(3).max(1024).regex(/^[^:]+::[^:]+$/, 'expected encodeURIComponent(owner/repo)::encodeURIComponent(branch)');
export const PrCommentsQuery = PrRefQuery.extend({ branchId: BranchId });
/** A path inside the repository: relative, no `..` segment, no NUL. */
const RepoFilePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((value) => !value.includes('\0') && !value.startsWith('/') && !value.split('/').some((segment) => segment === '..' || segment === '.' || segment === ''), 'a repository-relative file path');
export const PrFileDiffQuery = PrRefQuery.extend({ path: RepoFilePath, branchId: BranchId.optional(), previousPath: RepoFilePath.optional() });
export const PrReplyBody = z
  .object({ owner: GitHubName, repo: GitHubName, number: PositiveInt, commentId: PositiveInt, body: z.string().min(1).max(65_536) });
export const PrInlineCommentBody = z
  .object({
    owner: GitHubName,
    repo: GitHubName,
    number: PositiveInt,
    body: z.string().min(1).max(65_536),
    path: z.string().min(1).max(4096),
    line: PositiveInt,
    startLine: PositiveInt.optional(),
    side: z.enum(['LEFT', 'RIGHT']).optional(),
    commitId: z.string().regex(/^[0-9a-f]{40}$/, 'a 40-hex commit SHA').optional(),
  });

// Responses (for the OpenAPI document and typed clients).
export const RepoView = z.object({
  path: z.string(),
  name: z.string(),
  /** Absent when the repository has none (the web client's schema refuses null). */
  description: z.string().optional(),
  defaultBranch: z.string(),
  remoteUrl: z.string().nullable(),
  fullName: z.string().nullable().describe('owner/repo from the origin remote'),
  projectType: z.enum(['node', 'python', 'rust', 'go', 'java', 'ruby', 'php', 'dotnet', 'unknown']),
  worktreeParentDir: z.string().nullable(),
  /** ISO 8601. */
  addedAt: z.string(),
  updatedAt: z.string(),
});
/** Optional fields are absent until set. */
export const WorktreeSettingsView = z.object({
  worktreeParentDir: z.string().optional(),
  worktreeParentDirConfirmed: z.boolean().optional(),
});
export const ReposResponse = z.object({ repos: z.array(RepoView), settings: WorktreeSettingsView });
export const WorktreeSettingsResponse = z.object({ success: z.literal(true), settings: WorktreeSettingsView });
export const RepoResponse = z.object({ repo: RepoView });
export const RepoRemovedResponse = z.object({ removed: z.literal(true), repo: RepoView });

export const BranchesResponse = z.object({
  current: z.string().nullable(),
  branches: z.array(
    z.object({
      name: z.string(),
      current: z.boolean(),
      remote: z.boolean(),
      sha: z.string(),
      upstream: z.string().nullable(),
      date: z.string(),
      subject: z.string(),
    }),
  ),
});

const DiffFileView = z.object({
  path: z.string(),
  oldPath: z.string().optional(),
  status: z.enum(['added', 'modified', 'deleted', 'renamed', 'copied', 'typechange', 'untracked']),
  additions: z.number().nullable(),
  deletions: z.number().nullable(),
  binary: z.boolean(),
  lockfile: z.boolean(),
  summary: z.string().optional().describe('For lockfiles, in place of their text'),
});
export const DiffResponse = z.object({
  base: z.string(),
  files: z.array(DiffFileView),
  diff: z.string().describe('Unified diff, lockfiles left out, cut at a line end when truncated'),
  truncated: z.boolean(),
  filesTruncated: z.boolean(),
  additions: z.number(),
  deletions: z.number(),
});

const WorktreeCreated = z.object({ path: z.string(), branch: z.string(), repoPath: z.string(), created: z.boolean() });
const WorktreeCleanup = z.object({
  removed: z.array(z.object({ path: z.string(), branch: z.string().nullable() })),
  kept: z.array(z.object({ path: z.string(), branch: z.string().nullable(), reason: z.string() })),
  errors: z.array(z.object({ path: z.string(), message: z.string() })),
});
export const WorktreeResponse = z.union([WorktreeCreated, WorktreeCleanup]);
export const WorktreeRemovedResponse = z.object({
  success: z.literal(true),
  removed: z.string(),
  branch: z.string().nullable(),
  repoPath: z.string(),
});
export const BranchWorktreeResponse = z.object({ path: z.string(), repoPath: z.string() });
export const RepoPathResponse = z.object({ path: z.string() });

/** GitHub's review decision as the web client keeps it (GitHub's `REVIEW_REQUIRED` and none are null). */
export const PrReviewsResponse = z.object({
  reviewDecision: z.enum(REVIEW_DECISIONS).nullable(),
  /** Reviewers whose latest decisive review (approve, request changes, dismissed) approves. */
  approvalCount: z.number().int(),
  changesRequestedCount: z.number().int(),
  reviews: z.array(z.object({ author: z.string().nullable(), state: z.string(), submittedAt: z.string().nullable() })),
});
/** GitHub's file entries (other keys pass through); `previous_filename` only on renames, never null. */
export const PrFilesResponse = z.object({
  files: z.array(
    z.looseObject({
      filename: z.string(),
      additions: z.number(),
      deletions: z.number(),
      status: z.string().optional(),
      previous_filename: z.string().optional(),
    }),
  ),
});
export const PR_COMMENTS_STATES = ['unsynced_unknown', 'populated', 'synced_empty', 'provider_error', 'stale_mixed', 'over_limit_truncated', 'forbidden_mismatch'] as const;
/** What the web client's pr/comments reader switches on in an error reply's `reason`. */
export const PrCommentView = z.object({
  id: z.string(),
  providerNodeId: z.string().nullable(),
  providerCommentId: z.string().nullable(),
  threadId: z.string().nullable(),
  inReplyToId: z.string().nullable(),
  path: z.string().nullable(),
  kind: z.enum(['issue', 'review', 'review_reply']),
  line: z.number().nullable(),
  resolved: z.boolean().nullable(),
  author: z.object({ login: z.string(), displayName: z.string().nullable(), avatarUrl: z.string().nullable(), profileUrl: z.string().nullable() }),
  body: z.string(),
  createdAt: z.string(),
  updatedAt: z.string().nullable(),
  providerUrl: z.string().nullable(),
  stale: z.boolean(),
  bodyTruncated: z.boolean(),
});
export const PrCommentsResponse = z.object({
  branchId: z.string(),
  state: z.enum(PR_COMMENTS_STATES),
  failureReason: z.enum(PR_COMMENTS_FAILURES).optional(),
  comments: z.array(PrCommentView),
  budget: z.object({
    maxComments: z.number(),
    pageSize: z.number(),
    maxBodyBytes: z.number(),
    maxResponseBytes: z.number(),
    omittedComments: z.number(),
    bodyTruncatedCount: z.number(),
    providerTruncated: z.boolean(),
    responseTruncated: z.boolean(),
  }),
  providerProofedAt: z.string().nullable(),
  stale: z.boolean(),
  mixedProjection: z.boolean(),
  prNumber: z.number().nullable(),
  prUrl: z.string().nullable(),
});
export type PrCommentsReply = z.infer<typeof PrCommentsResponse>;
export type PrComment = z.infer<typeof PrCommentView>;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

export const PrCreateResponse = z.object({ success: z.literal(true), url: z.string(), number: z.number(), existing: z.boolean() });
export const GitUserResponse = z.object({ login: z.string(), name: z.string().nullable() });
export const HeadShaResponse = z.object({ sha: z.string() });

export type GitActionRequest = z.infer<typeof GitActionBody>;
export type PrCreateRequest = z.infer<typeof PrCreateBody>;
