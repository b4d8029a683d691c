// What the web client reads from GitHub's answers about a pull request (spec §5): review
// counts and decision, file entries without nulls, the comment projection with its
// budget, and the branch scope check. Pure functions over gh's JSON; github.ts fetches.
import { Buffer } from 'node:buffer';
import type { PrComment, PrCommentsReply, ReviewDecision } from '../../shared/schemas/git.js';
import { REVIEW_DECISIONS, type PR_COMMENTS_FAILURES } from '../../shared/names.js';
import { BadRequest, Forbidden, isAppError, WithReason, type AppError } from '../errors.js';

type Json = Record<string, unknown>;

/** `gh pr view --json reviews`: one entry per submitted review. */
export interface GhReview {
  author?: { login?: string } | null;
  state?: string;
  submittedAt?: string | null;
}

/** States that change what a reviewer thinks of the PR; a later plain comment does not undo an approval. */
const DECISIVE = new Set(['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED']);

export function reviewSummary(decision: unknown, reviews: GhReview[]) {
  const latest = new Map<string, string>();
  const ordered = [...reviews].sort((a, b) => String(a.submittedAt ?? '').localeCompare(String(b.submittedAt ?? '')));
  for (const review of ordered) {
    const login = review.author?.login;
    if (login && review.state && DECISIVE.has(review.state)) latest.set(login, review.state);
  }
  const count = (state: string) => [...latest.values()].filter((s) => s === state).length;
  return {
    reviewDecision: (REVIEW_DECISIONS as readonly string[]).includes(String(decision)) ? (decision as ReviewDecision) : null,
    approvalCount: count('APPROVED'),
    changesRequestedCount: count('CHANGES_REQUESTED'),
    reviews: reviews.map((review) => ({ author: review.author?.login ?? null, state: review.state ?? 'UNKNOWN', submittedAt: review.submittedAt ?? null })),
  };
}

/** A file entry as GitHub sent it, minus keys whose value is null (the client's optional fields refuse null). */
export function withoutNulls(entry: Json): Json {
  return Object.fromEntries(Object.entries(entry).filter(([, value]) => value !== null));
}

export interface BranchScope {
  /** `owner/repo`, or null for `local`. */
  repoFullName: string | null;
  branch: string;
}

/** `encodeURIComponent(repoFullName)::encodeURIComponent(branch)`; 400 when it does not decode. */
export function parseBranchId(branchId: string): BranchScope {
  const [repoPart, branchPart] = branchId.split('::');
  try {
    const repo = decodeURIComponent(repoPart);
    return { repoFullName: repo === 'local' ? null : repo, branch: decodeURIComponent(branchPart) };
  } catch {
    throw new BadRequest('branchId is not encodeURIComponent(owner/repo)::encodeURIComponent(branch).', { issues: [{ field: 'branchId', message: 'does not decode' }] }, 'invalid_input');
  }
}

/** The client's branch must be this PR's head branch (and its repository this one): else 403 forbidden_mismatch. */
export function checkBranchScope(branchId: string, fullName: string, headRef: string): void {
  const scope = parseBranchId(branchId);
  const repoMatches = scope.repoFullName === null || scope.repoFullName.toLowerCase() === fullName.toLowerCase();
  if (!repoMatches || scope.branch !== headRef) {
    throw new WithReason(
      new Forbidden(`branchId names ${scope.repoFullName ?? 'a local repository'} on ${scope.branch}, but this pull request is ${fullName} on ${headRef}.`, 'forbidden_mismatch', {
        expectedRepo: fullName,
        expectedBranch: headRef,
      }),
      'forbidden_mismatch',
    );
  }
}

export const COMMENT_BUDGET = { maxComments: 100, pageSize: 50, maxBodyBytes: 16 * 1024, maxResponseBytes: 512 * 1024 } as const;

/** Issue (conversation) and inline review comments, newest first, within the budget. */
export function commentProjection(input: {
  branchId: string;
  prNumber: number;
  prUrl: string | null;
  issueComments: Json[];
  reviewComments: Json[];
  now: Date;
}): PrCommentsReply {
  const all = [...input.issueComments.map((c) => projectComment(c, 'issue')), ...input.reviewComments.map((c) => projectComment(c, 'review'))];
  all.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const kept = all.slice(0, COMMENT_BUDGET.maxComments);
  let responseTruncated = false;
  // Drop the oldest until the comments fit the response budget.
  while (kept.length > 0 && Buffer.byteLength(JSON.stringify(kept)) > COMMENT_BUDGET.maxResponseBytes) {
    kept.pop();
    responseTruncated = true;
  }
  const omittedComments = all.length - kept.length;
  const state = omittedComments > 0 ? 'over_limit_truncated' : kept.length > 0 ? 'populated' : 'synced_empty';
  return {
    branchId: input.branchId,
    state,
    comments: kept,
    budget: {
      ...COMMENT_BUDGET,
      omittedComments,
      bodyTruncatedCount: kept.filter((c) => c.bodyTruncated).length,
      providerTruncated: false,
      responseTruncated,
    },
    providerProofedAt: input.now.toISOString(),
    stale: false,
    mixedProjection: false,
    prNumber: input.prNumber,
    prUrl: input.prUrl,
  };
}

function projectComment(c: Json, source: 'issue' | 'review'): PrComment {
  const str = (value: unknown) => (typeof value === 'string' ? value : null);
  const idOf = (value: unknown) => (typeof value === 'number' || typeof value === 'string' ? String(value) : null);
  const user = (c.user ?? {}) as Json;
  const replyTo = source === 'review' ? idOf(c.in_reply_to_id) : null;
  const providerCommentId = idOf(c.id);
  const { body, truncated } = cutUtf8(str(c.body) ?? '', COMMENT_BUDGET.maxBodyBytes);
  return {
    id: `${source}:${providerCommentId ?? str(c.node_id) ?? ''}`,
    providerNodeId: str(c.node_id),
    providerCommentId,
    threadId: source === 'review' ? (replyTo ?? providerCommentId) : null,
    inReplyToId: replyTo,
    path: source === 'review' ? str(c.path) : null,
    kind: source === 'issue' ? 'issue' : replyTo ? 'review_reply' : 'review',
    line: typeof c.line === 'number' ? c.line : typeof c.original_line === 'number' ? c.original_line : null,
    // REST does not say whether a thread is resolved.
    resolved: null,
    author: { login: str(user.login) ?? 'ghost', displayName: null, avatarUrl: str(user.avatar_url), profileUrl: str(user.html_url) },
    body,
    createdAt: str(c.created_at) ?? '',
    updatedAt: str(c.updated_at),
    providerUrl: str(c.html_url),
    // An inline comment whose line no longer exists in the diff (GitHub nulls its position).
    stale: source === 'review' && 'position' in c && c.position === null,
    bodyTruncated: truncated,
  };
}

/** At most `max` bytes of UTF-8, cut at a character boundary. */
function cutUtf8(text: string, max: number): { body: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return { body: text, truncated: false };
  let end = max;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return { body: bytes.subarray(0, end).toString('utf8'), truncated: true };
}

/** A gh failure as the web client's pr/comments reader wants it: the same error, plus the `reason` it switches on. */
export function withFailureReason(error: unknown): unknown {
  if (!isAppError(error) || error instanceof WithReason) return error;
  return new WithReason(error, failureReason(error));
}

function failureReason(error: AppError): (typeof PR_COMMENTS_FAILURES)[number] {
  if (error.code === 'gh_not_authenticated') return 'auth';
  if (error.code === 'github_rate_limited') return 'rate_limit';
  if (error.code === 'github_not_found') return 'not_found';
  if (error.status === 504) return 'timeout';
  if (error.code === 'gh_not_installed') return 'provider_unavailable';
  return 'provider_error';
}
