// Names and patterns that the zod schemas share with code running before zod loads (the
// gateway's start: the port opens before any schema module is imported, see ARCHITECTURE
// "Start: what loads when"). No zod here.

/** The tools /health reports (HealthResponse in schemas/gateway.ts). */
export const TOOL_NAMES = ['claude', 'codex', 'git', 'gh', 'python3'] as const;

// Letters, digits and . _ / + # @ -, not starting with '-' or '.': an option-looking
// or shell-looking name (`--upload-pack=x`, `main;id`) is refused before git runs.
export const BRANCH_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._/+#@-]{0,199}$/;

/** GitHub's review decisions as the PR reviews reply names them (PrReviewsResponse). */
export const REVIEW_DECISIONS = ['APPROVED', 'CHANGES_REQUESTED', 'COMMENTED', 'DISMISSED'] as const;

/** Why a PR's comments could not be read (PrCommentsReply's `reason`). */
export const PR_COMMENTS_FAILURES = ['rate_limit', 'secondary_limit', 'timeout', 'auth', 'not_found', 'forbidden_mismatch', 'provider_unavailable', 'provider_error'] as const;
