// The one table of every gateway route and the operation it belongs to.
// Approval policy and telemetry key on the operation ID; it always comes from this
// table (through the matched route), never from anything the client sends.

export const OPERATION_IDS = [
  'symphony_launch',
  'symphony_loop',
  'symphony_loop_kill',
  'symphony_plan_loop',
  'symphony_status',
  'symphony_kill',
  'symphony_chat',
  'symphony_comment_chat',
  'symphony_commit_message',
  'symphony_sessions',
  'symphony_plan',
  'symphony_judges',
  'symphony_logs',
  'symphony_chat_history',
  'terminal_chat',
  'ticket_chat',
  'run_viewer_chat',
  'codex_review',
  'codex_argue',
  'git_action',
  'git_pr',
  'git_branch_worktree',
  'health_check',
  'repos_config',
  'deploy',
  'learnings',
  'filesystem',
  'binary_paths_settings',
  // Beyond the reference's 28: routes the web client calls.
  'git_local_changes',
  'git_local_commit_push',
  'chat',
] as const;

export type OperationId = (typeof OPERATION_IDS)[number];

/** `desktop`: the renderer or the gateway token only, never a paired external origin.
 *  `public`: no credential (health probe, pairing exchange). */
export type RouteKind = OperationId | 'desktop' | 'public';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Whether a request reads or changes things; the policy decides per access. */
export type Access = 'read' | 'write';

export interface RouteEntry {
  method: HttpMethod;
  /** Koa router path (path-to-regexp v8 syntax). */
  path: string;
  kind: RouteKind;
  /** Default access; GET reads, everything else writes unless stated. */
  access: Access;
  /** Bodies other than JSON accepted on this route. */
  multipart?: boolean;
  /** The route starts an agent: a write for the policy whatever the agent's tool level (action `agent_start`). */
  agent?: true;
}

const API = '/api/gateway';

function entries(kind: RouteKind, path: string, methods: HttpMethod[], extra: Partial<RouteEntry> = {}): RouteEntry[] {
  return methods.map((method) => ({
    method,
    path: path.startsWith('/api/') || path.startsWith('/gateway-auth') || path === '/health' ? path : API + path,
    kind,
    access: method === 'GET' ? 'read' : 'write',
    ...extra,
  }));
}

/** Routes that start an agent: always a write, with their own default (a paired origin is asked). */
const AGENT = { access: 'write', agent: true } as const;

export const ROUTE_TABLE: readonly RouteEntry[] = [
  // Unauthenticated.
  ...entries('public', '/health', ['GET']),
  ...entries('public', '/gateway-auth/exchange', ['POST']),

  // Desktop-only: the renderer or the gateway token.
  ...entries('desktop', '/gateway-auth/challenge', ['POST']),
  ...entries('desktop', '/desktop/sessions', ['GET']),
  ...entries('desktop', '/desktop/sessions/:sessionId', ['DELETE']),
  ...entries('desktop', '/desktop/approvals', ['GET']),
  ...entries('desktop', '/desktop/approvals/:approvalId', ['POST']),
  ...entries('desktop', '/desktop/policies', ['GET', 'PUT']),
  ...entries('desktop', '/desktop/rules', ['GET']),
  ...entries('desktop', '/desktop/rules/:ruleId', ['DELETE']),
  ...entries('desktop', '/desktop/config', ['GET', 'PATCH']),
  ...entries('desktop', '/desktop/repos/trust', ['GET', 'PUT']),
  ...entries('desktop', '/desktop/api-key', ['PUT', 'DELETE']),
  ...entries('desktop', '/desktop/processes', ['GET']),
  ...entries('desktop', '/desktop/processes/:processId', ['DELETE']),
  ...entries('desktop', '/desktop/telemetry', ['GET']),
  ...entries('desktop', '/desktop/activity', ['GET']),
  ...entries('desktop', '/desktop/gateway-token/rotate', ['POST']),
  ...entries('desktop', '/desktop/relay', ['GET', 'PATCH']),

  ...entries('health_check', '/health-check', ['GET']),
  ...entries('health_check', '/version', ['GET']),
  ...entries('health_check', '/mcp-auth', ['GET']),
  ...entries('health_check', '/openapi.json', ['GET']),

  ...entries('repos_config', '/repos', ['GET', 'POST', 'DELETE', 'PATCH']),
  ...entries('binary_paths_settings', '/settings/binary-paths', ['GET', 'PATCH']),

  // /git dispatches on `action`; the route classifies read or write per action.
  ...entries('git_action', '/git', ['POST']),
  ...entries('git_action', '/git/branches', ['GET']),
  ...entries('git_action', '/git/diff', ['POST'], { access: 'read' }),
  ...entries('git_action', '/git/worktree', ['POST', 'DELETE']),
  ...entries('git_action', '/git/repo-path', ['GET']),
  ...entries('git_branch_worktree', '/git/branch-worktree', ['GET']),
  ...entries('git_local_changes', '/git/local-changes', ['GET']),
  ...entries('git_local_changes', '/git/local-changes/diff', ['POST'], { access: 'read' }),
  ...entries('git_local_commit_push', '/git/local-changes/commit-push', ['POST']),
  ...entries('chat', '/chat', ['POST'], AGENT),

  ...entries('git_pr', '/git/pr', ['POST']),
  ...entries('git_pr', '/git/pr/list', ['GET']),
  ...entries('git_pr', '/git/pr/comments', ['GET']),
  ...entries('git_pr', '/git/pr/reviews', ['GET']),
  ...entries('git_pr', '/git/pr/reply', ['POST']),
  ...entries('git_pr', '/git/pr/files', ['GET']),
  ...entries('git_pr', '/git/pr/file-diff', ['GET']),
  ...entries('git_pr', '/git/pr/head-sha', ['GET']),
  ...entries('git_pr', '/git/pr/inline-comment', ['POST']),
  ...entries('git_pr', '/git/user', ['GET']),

  ...entries('filesystem', '/directories', ['GET']),
  ...entries('filesystem', '/files/search', ['GET']),
  ...entries('filesystem', '/run-viewer-extract', ['GET', 'DELETE']),
  ...entries('filesystem', '/run-viewer-extract', ['POST'], { multipart: true }),
  ...entries('filesystem', '/work-directory/:ticketId', ['GET']),
  ...entries('filesystem', '/symphony/attachments/:ticketId/*attachmentPath', ['GET']),
  ...entries('filesystem', '/symphony/upload/:ticketId', ['POST'], { multipart: true }),

  ...entries('symphony_launch', '/symphony/launch', ['POST'], AGENT),
  ...entries('symphony_loop', '/symphony/loop', ['POST'], AGENT),
  ...entries('symphony_loop_kill', '/symphony/loop/kill', ['POST']),
  ...entries('desktop', '/symphony/loop/list', ['GET']),
  ...entries('symphony_plan_loop', '/symphony/plan-loop/*action', ['POST']),
  ...entries('symphony_status', '/symphony/status', ['GET']),
  ...entries('symphony_status', '/symphony/status/:ticketId', ['GET']),
  ...entries('symphony_kill', '/symphony/kill', ['POST']),
  ...entries('symphony_logs', '/symphony/logs/:ticketId', ['GET']),
  ...entries('symphony_plan', '/symphony/plan/:ticketId', ['GET']),
  ...entries('symphony_judges', '/symphony/judges/:ticketId', ['GET']),
  ...entries('symphony_status', '/symphony/runs/:runId', ['GET']),
  ...entries('symphony_launch', '/symphony/runs/:runId/follow-pr', ['POST']),
  ...entries('symphony_launch', '/symphony/runs/:runId/accept', ['POST']),
  ...entries('symphony_kill', '/symphony/runs/:runId/discard', ['POST']),
  ...entries('git_branch_worktree', '/symphony/worktrees/prune', ['POST']),
  ...entries('desktop', '/symphony/worktrees/retention', ['GET', 'PUT']),
  ...entries('symphony_sessions', '/symphony/sessions', ['GET', 'POST', 'DELETE']),
  ...entries('symphony_sessions', '/symphony/sessions/unread-count', ['GET']),
  ...entries('symphony_chat', '/symphony/chat/:ticketId', ['POST'], AGENT),
  ...entries('symphony_comment_chat', '/symphony/comment-chat/:commentId', ['GET', 'PATCH', 'DELETE']),
  ...entries('symphony_comment_chat', '/symphony/comment-chat/:commentId', ['POST'], AGENT),
  ...entries('symphony_commit_message', '/symphony/commit-message/:ticketId', ['GET'], AGENT),
  ...entries('symphony_chat_history', '/symphony/chat-history/:ticketId', ['GET', 'POST', 'DELETE']),

  ...entries('codex_review', '/codex/available', ['GET']),
  ...entries('codex_review', '/codex/review/:ticketId', ['POST'], AGENT),
  ...entries('codex_review', '/codex/status/:ticketId', ['GET', 'DELETE']),
  ...entries('codex_review', '/codex/stop/:ticketId', ['POST', 'DELETE']),
  ...entries('codex_review', '/codex/review-findings/:ticketId', ['GET', 'POST']),
  ...entries('codex_review', '/codex/review-dedup/:ticketId', ['POST']),
  ...entries('codex_review', '/codex/review-extract/:ticketId', ['POST']),
  ...entries('codex_review', '/codex/review-verdict/:ticketId', ['POST'], AGENT),
  ...entries('codex_review', '/codex/chat/:ticketId', ['POST'], AGENT),
  ...entries('codex_review', '/codex/finding-chat/:findingId', ['GET', 'PATCH', 'DELETE']),
  ...entries('codex_review', '/codex/finding-chat/:findingId', ['POST'], AGENT),
  ...entries('codex_argue', '/codex/argue/:ticketId', ['POST'], AGENT),

  ...entries('terminal_chat', '/terminal-chat', ['GET', 'DELETE']),
  ...entries('terminal_chat', '/terminal-chat', ['POST'], AGENT),
  ...entries('ticket_chat', '/ticket-chat', ['GET', 'DELETE']),
  ...entries('ticket_chat', '/ticket-chat', ['POST'], AGENT),
  ...entries('run_viewer_chat', '/run-viewer-chat', ['GET', 'DELETE']),
  ...entries('run_viewer_chat', '/run-viewer-chat', ['POST'], AGENT),

  ...entries('deploy', '/deploy', ['POST']),
  ...entries('deploy', '/deploy/health', ['POST'], { access: 'read' }),
  ...entries('deploy', '/deploy/kill', ['POST']),
  ...entries('deploy', '/deploy/teardown', ['POST']),
  ...entries('deploy', '/deploy/status/:ticketId', ['GET']),
  ...entries('deploy', '/deploy/check-existing', ['POST'], { access: 'read' }),
  ...entries('deploy', '/deploy/detect', ['POST'], { access: 'read' }),
  ...entries('deploy', '/deploy/redetect', ['POST'], { access: 'read' }),
  ...entries('deploy', '/deploy/extract-info', ['POST'], { access: 'read' }),
  // Ours beyond the reference: a repository's editable deploy config and the port range.
  ...entries('deploy', '/deploy/config', ['GET', 'PUT']),
  ...entries('deploy', '/deploy/settings', ['GET', 'PUT']),

  ...entries('learnings', '/learnings', ['GET']),
  ...entries('learnings', '/symphony/extract-learnings', ['POST'], AGENT),
  ...entries('learnings', '/symphony/process-learnings', ['GET', 'POST']),
  ...entries('learnings', '/symphony/process-all-learnings', ['GET', 'POST']),
  ...entries('learnings', '/symphony/pending-learnings', ['GET']),
  ...entries('learnings', '/symphony/learnings-status/:ticketId', ['GET']),
  ...entries('learnings', '/symphony/record-learning-use', ['POST']),
  // Ours beyond the reference: whether runs are offered learnings.
  ...entries('learnings', '/learnings/settings', ['GET', 'PUT']),
];

/** Operations with a route that starts an agent. */
export const AGENT_OPERATIONS: readonly OperationId[] = [
  ...new Set(ROUTE_TABLE.flatMap((entry) => (entry.agent && isOperationId(entry.kind) ? [entry.kind] : []))),
];

export function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

const byKey = new Map(ROUTE_TABLE.map((entry) => [routeKey(entry.method, entry.path), entry]));

/** The table entry for a registered route, or undefined when the table lacks it. */
export function findRouteEntry(method: string, path: string): RouteEntry | undefined {
  return byKey.get(routeKey(method, path));
}

export function isOperationId(value: string): value is OperationId {
  return (OPERATION_IDS as readonly string[]).includes(value);
}

/** A table path as a matcher: `:name` is one segment, `*name` one or more. */
function compile(path: string): RegExp {
  const pattern = path
    .split('/')
    .map((segment) =>
      segment.startsWith(':') ? '[^/]+' : segment.startsWith('*') ? '[^/]+(?:/[^/]+)*' : segment.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${pattern}$`);
}

const matchers = ROUTE_TABLE.map((entry) => ({ entry, regex: compile(entry.path) }));

/** The table entry a concrete request path (no query) belongs to, for callers outside the router (the relay). */
export function matchRouteEntry(method: string, path: string): RouteEntry | undefined {
  const upper = method.toUpperCase();
  // Exact (static) paths win over parameterised ones, as in the router.
  const exact = findRouteEntry(upper, path);
  if (exact) return exact;
  return matchers.find(({ entry, regex }) => entry.method === upper && regex.test(path))?.entry;
}
