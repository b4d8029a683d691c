// Request and response schemas of the gateway core: health, pairing, desktop-only routes.
import { z } from 'zod';
import { OPERATION_IDS } from '../operations.js';
import { TOOL_NAMES } from '../names.js';

export { TOOL_NAMES };

export const HealthResponse = z.object({
  status: z.literal('ok'),
  port: z.number().int(),
  version: z.string(),
  capabilities: z.object({
    tools: z.object(Object.fromEntries(TOOL_NAMES.map((name) => [name, z.boolean()])) as Record<(typeof TOOL_NAMES)[number], z.ZodBoolean>),
    pairing: z.array(z.enum(['local-challenge', 'cloud-challenge'])),
    streaming: z.array(z.literal('ndjson')),
  }),
});

export const OperationStats = z.object({
  count: z.number(),
  errors: z.number(),
  p50Ms: z.number(),
  p95Ms: z.number(),
  p99Ms: z.number(),
});

/** Per-operation request figures, for the Activity screen (desktop-only). */
export const TelemetryResponse = z.object({
  status: z.literal('ok'),
  version: z.string(),
  uptimeSeconds: z.number(),
  operations: z.record(z.string(), OperationStats),
});

// GET /api/gateway/desktop/activity: the recent requests (a bounded ring), newest first.
export const ActivityQuery = z.object({
  after: z.coerce.number().int().min(0).optional(),
  caller: z.string().min(1).max(300).optional(),
  operation: z.string().regex(/^[a-z_]{1,64}$/).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export const ActivityEntry = z.object({
  seq: z.number(),
  time: z.string(),
  requestId: z.string(),
  operation: z.string(),
  callerKind: z.string().nullable(),
  callerOrigin: z.string().nullable(),
  claimedSource: z.string().nullable(),
  method: z.string(),
  path: z.string(),
  route: z.string().nullable(),
  status: z.number(),
  durationMs: z.number(),
  approval: z.object({ decision: z.string(), decidedBy: z.string().nullable() }).nullable(),
});

export const ActivityResponse = z.object({
  entries: z.array(ActivityEntry),
  latestSeq: z.number(),
  capacity: z.number(),
  /** Where older requests are: the gateway's log file (null when this process writes none). */
  logFile: z.string().nullable(),
});

export const RotateTokenResponse = z.object({ rotated: z.literal(true) });

// GET /api/gateway/health-check: the web client's readiness check (its zod schema is strict
// about types: optional fields are absent, never null).
export const HealthCheckQuery = z.object({
  /** The MCP server URL the web app wants each CLI to have configured. */
  expectedMcpUrl: z.string().max(2048).optional(),
  /** The latest released gateway version: adds an `app-version` row. */
  latestVersion: z.string().max(64).optional(),
  /** The original's plugin auto-update; we have no plugins, so it is accepted and ignored. */
  pluginAutoUpdate: z.string().max(8).optional(),
});

export const ReadinessRow = z.object({
  id: z.string().min(1),
  label: z.string().min(1),
  required: z.boolean(),
  passed: z.boolean(),
  version: z.string().optional(),
  error: z.string().optional(),
  /** One actionable sentence. */
  remediation: z.string().optional(),
  remediationLinks: z.array(z.object({ label: z.string(), url: z.string().startsWith('https://') })).optional(),
  debug: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
});

export const McpServerStatus = z.object({
  available: z.boolean(),
  serverName: z.string().nullable(),
  matchedUrl: z.string().nullable(),
  checkedAt: z.string(),
  error: z.string().optional(),
});

export const HealthCheckResponse = z.object({
  checks: z.array(ReadinessRow),
  allRequiredPassed: z.boolean(),
  mcpServers: z.object({ claude: McpServerStatus, codex: McpServerStatus }),
});

export const VersionResponse = z.object({ version: z.string(), apiVersion: z.number().int(), platform: z.string() });

export const ChallengeRequest = z.object({ origin: z.string().min(1).max(2048) }).strict();
export const ChallengeResponse = z.object({ challengeToken: z.string(), origin: z.string(), expiresAt: z.string() });

export const ExchangeRequest = z.object({ challengeToken: z.string().min(16).max(4096) });
export const ExchangeResponse = z.object({ sessionToken: z.string(), expiresAt: z.string(), origin: z.string() });

export const SessionView = z.object({
  id: z.string(),
  origin: z.string(),
  kind: z.enum(['origin', 'renderer']),
  createdAt: z.string(),
  lastUsedAt: z.string(),
  expiresAt: z.string(),
});
export const SessionsResponse = z.object({ sessions: z.array(SessionView) });
export const SessionIdParams = z.object({ sessionId: z.string().min(1).max(100) });

export const ApprovalIdParams = z.object({ approvalId: z.string().min(1).max(100) });
export const ApprovalDecisionRequest = z
  .object({
    decision: z.enum(['allow_once', 'allow_always', 'deny']),
    ruleExpiresInSeconds: z.number().int().min(60).max(365 * 24 * 3600).optional(),
  })
  .strict();

/** `relay`: cloud commands replayed by the desktop's own relay client. */
const CallerKind = z.enum(['renderer', 'token', 'origin', 'relay']);

export const PolicyEntry = z.object({
  callerKind: CallerKind,
  operation: z.enum(OPERATION_IDS),
  access: z.enum(['read', 'write']),
  action: z.string().min(1).max(64).nullable().optional(),
  decision: z.enum(['allow', 'ask', 'deny']),
});
export const PolicyView = PolicyEntry.extend({ action: z.string().nullable(), source: z.enum(['default', 'user']) });
export const PoliciesResponse = z.object({ policies: z.array(PolicyView) });

export const PendingApprovalView = z.object({
  id: z.string(),
  operation: z.enum(OPERATION_IDS),
  method: z.string(),
  path: z.string(),
  access: z.enum(['read', 'write']),
  action: z.string().nullable(),
  caller: z.object({ kind: CallerKind, origin: z.string().nullable(), claimedSource: z.string().nullable() }),
  /** X-Desktop-Approval-Reason: what the caller claims, never verified. */
  claimedReason: z.string().nullable(),
  args: z.unknown(),
  repoPath: z.string().nullable(),
  /** The conversation an agent start is about (e.g. `ticket:T-1`): "allow always" covers that scope only. */
  scope: z.string().nullable().optional(),
  createdAt: z.string(),
  expiresAt: z.string(),
});
export const ApprovalsResponse = z.object({ approvals: z.array(PendingApprovalView) });

export const RuleView = z.object({
  id: z.string(),
  callerKind: CallerKind,
  origin: z.string().nullable(),
  operation: z.enum(OPERATION_IDS),
  method: z.string(),
  path: z.string(),
  /** The sub-action the rule is for (e.g. `commit`), null for the route's plain operation. */
  action: z.string().nullable(),
  /** read or write; null for a rule made before rules recorded it (it matches nothing). */
  access: z.enum(['read', 'write']).nullable(),
  repoPath: z.string().nullable(),
  /** The conversation scope an agent-start rule covers; null: any. */
  scope: z.string().nullable(),
  expiresAt: z.string(),
});
export const RulesResponse = z.object({ rules: z.array(RuleView) });

export const PoliciesRequest = z.object({ policies: z.array(PolicyEntry).max(2000) }).strict();
export const RuleIdParams = z.object({ ruleId: z.string().min(1).max(100) });

const EnvName = z.string().min(1).max(128);
/** What agent CLIs get of the environment (main/providers/agent-env.ts); credential-like values are never shown. */
export const AgentEnvView = z.object({
  defaults: z.array(z.string()).describe('The default allowlist, copied from the gateway\'s environment when set there'),
  cliNames: z.object({ claude: z.array(z.string()), codex: z.array(z.string()) }).describe('Each CLI\'s model-API names (codex: plus its custom providers\' env_key)'),
  pass: z.array(z.string()).describe('Names the user added to the allowlist'),
  entries: z.array(
    z.object({ name: z.string(), source: z.enum(['setting', 'inherited']), value: z.string().nullable(), secret: z.boolean() }),
  ),
});
export const AgentEnvPatch = z
  .object({
    set: z.record(EnvName, z.string().max(32 * 1024)).optional().describe('NAME → value; credential-like names go to the secret store'),
    pass: z.array(EnvName).max(100).optional().describe('Names to copy from the gateway\'s environment'),
    unset: z.array(EnvName).max(100).optional(),
  })
  .strict();
export const AgentConfinementStatus = z.object({
  enabled: z.boolean(),
  osSandbox: z.enum(['bubblewrap', 'sandbox-exec', 'none']),
  missing: z.array(z.string()).describe('Programs the sandbox needs that this machine lacks'),
  limitations: z.array(z.string()).describe('What the sandbox layers do not cover, one sentence each'),
});

/** Repositories trusted for their own project settings (hooks, MCP servers, CLAUDE.md); default untrusted. */
export const RepoTrustResponse = z.object({ trusted: z.array(z.string()).describe('Paths of the trusted repositories') });
export const RepoTrustRequest = z.object({ path: z.string().min(1).max(4096), trusted: z.boolean() }).strict();

/** Caps on remote callers (main/config/limits.ts has the defaults and ranges). */
export const Limits = z.object({
  concurrentAgents: z.number().int().describe('Agent processes one paired origin may have at once (default 4); more wait in a queue of 16, beyond that 429'),
  runViewerMaxGiB: z.number().describe('Run-viewer uploads kept in all, in GiB (default 5); the oldest are removed first'),
  runViewerMaxAgeDays: z.number().int().describe('Run-viewer uploads older than this are removed (default 7)'),
});

export const ConfigResponse = z.object({
  apiOrigin: z.string().nullable(),
  relayOrigin: z.string().nullable(),
  relayOriginSetting: z.string().nullable(),
  requireSignedCommands: z.boolean(),
  allowedOrigins: z.array(z.string()),
  workspaceRoot: z.string().nullable(),
  apiKeySet: z.boolean(),
  secretStore: z.enum(['keychain', 'file']),
  port: z.number().int().nullable(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).nullable(),
  agentEnv: AgentEnvView,
  agentConfinement: AgentConfinementStatus,
  limits: Limits,
});
export const ConfigPatch = z
  .object({
    apiOrigin: z.string().max(2048).nullable().optional(),
    relayOrigin: z.string().max(2048).nullable().optional(),
    requireSignedCommands: z.boolean().optional(),
    allowedOrigins: z.array(z.string().max(2048)).max(50).optional(),
    addAllowedOrigins: z.array(z.string().max(2048)).max(50).optional(),
    removeAllowedOrigins: z.array(z.string().max(2048)).max(50).optional(),
    workspaceRoot: z.string().max(4096).nullable().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).nullable().optional(),
    agentEnv: AgentEnvPatch.optional(),
    agentConfinement: z.object({ enabled: z.boolean() }).strict().optional(),
    limits: z.object({ concurrentAgents: z.number().optional(), runViewerMaxGiB: z.number().optional(), runViewerMaxAgeDays: z.number().optional() }).strict().optional(),
  })
  .strict();
export const ApiKeyRequest = z.object({ apiKey: z.string().min(8).max(4096) }).strict();
