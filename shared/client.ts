// A small typed client for the gateway's desktop and settings routes, used by the
// renderer (in the Electron window and at /ui/) and by tests. Fetch-based, no state
// beyond the credential it holds in memory: it never persists a token anywhere.

import type { z } from 'zod';
import type {
  ConfigPatch,
  ConfigResponse,
  ExchangeResponse,
  HealthCheckResponse,
  PendingApprovalView,
  PolicyEntry,
  RuleView,
  SessionView,
  TelemetryResponse,
  VersionResponse,
  ActivityResponse,
} from './schemas/gateway.js';
import type { DeployStartView, DeployStatusView } from './schemas/deploy.js';
import type { RepoView } from './schemas/git.js';
import type { RelayStatusResponse } from './schemas/relay.js';
import type { Finding, FindingsResponse, ReviewBody, Verdict, VerdictResponse } from './schemas/review.js';
import type { SupervisedProcess as ProcessView } from './schemas/processes.js';
import type { BinaryInfo as BinaryInfoSchema, BinaryPathsPatch, BinaryPathsResponse } from './schemas/settings.js';
import type { LaunchBody } from './schemas/symphony.js';
import type { CloudLoopView, NoRunStatus, RunDetailView, RunEvent, RunStatusView, WorktreePruneOutcome } from './runs.js';

export type { CloudLoopView, JudgeCase, JudgesReport, NoRunStatus, PlanTask, RetentionView, RunDetailView, RunEvent, RunFeedbackView, RunStatusName, RunStatusView, WorktreePruneOutcome } from './runs.js';

/** Timestamps arrive as ISO strings (or epoch milliseconds from older routes). */
export type Timestamp = string | number;

export type CallerKind = PolicyOverride['callerKind'];
export type Access = PolicyOverride['access'];
export type PolicyDecision = PolicyOverride['decision'];
export type ApprovalDecision = 'allow_once' | 'allow_always' | 'deny';

export type ExchangeReply = z.infer<typeof ExchangeResponse>;
export type DesktopSession = z.infer<typeof SessionView>;
export type DesktopConfig = z.infer<typeof ConfigResponse>;
export type DesktopConfigPatch = z.infer<typeof ConfigPatch>;
/** The web client's readiness check. */
export type HealthCheck = z.infer<typeof HealthCheckResponse>;
/** Per-operation request figures (desktop-only). */
export type TelemetryReport = z.infer<typeof TelemetryResponse>;
/** The recent requests, newest first (desktop-only). */
export type ActivityReport = z.infer<typeof ActivityResponse>;
export type ActivityItem = ActivityReport['entries'][number];
export type VersionInfo = z.infer<typeof VersionResponse>;
/** A user override as PUT /desktop/policies takes it. */
export type PolicyOverride = z.infer<typeof PolicyEntry>;
/** The effective policy as GET /desktop/policies lists it. */
export type PolicyRow = PolicyOverride & { action?: string | null; source: 'default' | 'user' };

export type PendingApproval = z.infer<typeof PendingApprovalView>;
export type AllowRule = z.infer<typeof RuleView>;

export type SupervisedProcess = z.infer<typeof ProcessView>;
export type RelayStatus = z.infer<typeof RelayStatusResponse>;
export type RelayCommand = RelayStatus['commands']['recent'][number];
export type RelayRefusal = RelayStatus['commands']['refused'][number];
export type Repo = z.infer<typeof RepoView>;
export type BinaryInfo = z.infer<typeof BinaryInfoSchema>;
export type BinaryPaths = z.infer<typeof BinaryPathsResponse>;
export type BinaryName = keyof BinaryPaths['binaries'];

export type ReviewFinding = Finding;
export type ReviewVerdict = Verdict;
export type ReviewProviderId = ReviewFinding['provider'];
export type ReviewStartBody = Partial<z.input<typeof ReviewBody>> & { repoPath: string };
export type ReviewFindings = z.infer<typeof FindingsResponse>;
/** GET /codex/status: the latest review of a ticket by one reviewer. */
export type ReviewStatus =
  | { hasReview: false; worktreeDir: string; message: string }
  | {
      hasReview: true; runId: string; worktreeDir: string; status: 'running' | 'completed' | 'failed' | 'stopped' | 'interrupted';
      processRunning: boolean; pid: number | null; provider: ReviewProviderId; sessionId: string | null; startedAt: string;
      completedAt: string | null; verdict: ReviewVerdict | null; summary: string | null; log: string; logSize: number;
    };
/** One line of a review's NDJSON stream (status, text, sessionId, keepalive, findings, error, result, done, ...). */
export type ReviewStreamEvent = { type: string; [field: string]: unknown };
export type DeployStatus = DeployStatusView;
export type RunLaunchBody = z.input<typeof LaunchBody>;
export interface RunLaunchReply {
  success: true; runId: string; ticketId: string; branchName: string; worktreePath: string; pid: number | null; status: string;
  alreadyRunning?: boolean; resumed?: boolean;
}
export interface RunRetentionView {
  /** Days a merged or discarded run's worktree is kept. */
  days: number;
  /** The gateway removes due worktrees by itself (else only on a prune). */
  auto: boolean;
}
export interface RunKillReply {
  success: true; message: string; pid: number | null; status: string | null;
}
export type DeployStart = DeployStartView;
export interface DeployStopReply {
  success: boolean;
  error?: string;
  message?: string;
  foreignPorts?: number[];
}
/** The managed CLIs, in display order (a value here so the renderer does not bundle zod). */
export const BINARY_NAMES: readonly BinaryName[] = ['claude', 'codex', 'gh', 'git', 'python3'];

/** An error reply `{error, code?, details?}` (schemas/errors.ts), or a network failure (status 0).
 *  A reply without `code` (an unknown route) gets `http_<status>`. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export type Credential = { session: string } | { gatewayToken: string } | null;

export interface GatewayClientOptions {
  /** e.g. http://127.0.0.1:19432 (no trailing slash needed). */
  baseUrl: string;
  credential?: Credential;
  /** Called on every 401, after the error is built; the caller decides how to re-pair. */
  onUnauthorized?: (error: GatewayError) => void;
  fetch?: typeof fetch;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export class GatewayClient {
  private readonly baseUrl: string;
  private credential: Credential;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: GatewayClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.credential = options.credential ?? null;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Trades a one-time challenge for a session; the client keeps the session token. */
  async exchange(challengeToken: string): Promise<ExchangeReply> {
    const reply = await this.call<ExchangeReply>('POST', '/gateway-auth/exchange', { challengeToken }, false);
    this.credential = { session: reply.sessionToken };
    return reply;
  }

  version = () => this.call<VersionInfo>('GET', '/api/gateway/version');
  healthCheck = () => this.call<HealthCheck>('GET', '/api/gateway/health-check');
  telemetry = () => this.call<TelemetryReport>('GET', '/api/gateway/desktop/telemetry');
  activity = (filter: { after?: number; caller?: string; operation?: string; limit?: number } = {}) =>
    this.call<ActivityReport>(
      'GET',
      `/api/gateway/desktop/activity?${query(Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => [k, String(v)])))}`,
    );

  relayStatus = () => this.call<RelayStatus>('GET', '/api/gateway/desktop/relay');
  setRelayPaused = (paused: boolean) => this.call<RelayStatus>('PATCH', '/api/gateway/desktop/relay', { paused });

  listSessions = () => this.call<{ sessions: DesktopSession[] }>('GET', '/api/gateway/desktop/sessions');
  revokeSession = (sessionId: string) => this.call<unknown>('DELETE', `/api/gateway/desktop/sessions/${enc(sessionId)}`);

  listApprovals = () => this.call<{ approvals: PendingApproval[] }>('GET', '/api/gateway/desktop/approvals');
  decideApproval = (approvalId: string, decision: ApprovalDecision, ruleExpiresInSeconds?: number) =>
    this.call<unknown>('POST', `/api/gateway/desktop/approvals/${enc(approvalId)}`, {
      decision,
      ...(decision === 'allow_always' && ruleExpiresInSeconds ? { ruleExpiresInSeconds } : {}),
    });

  listPolicies = () => this.call<{ policies: PolicyRow[] }>('GET', '/api/gateway/desktop/policies');
  replacePolicies = (policies: PolicyOverride[]) => this.call<unknown>('PUT', '/api/gateway/desktop/policies', { policies });

  listRules = () => this.call<{ rules: AllowRule[] }>('GET', '/api/gateway/desktop/rules');
  deleteRule = (ruleId: string) => this.call<unknown>('DELETE', `/api/gateway/desktop/rules/${enc(ruleId)}`);

  getConfig = () => this.call<DesktopConfig>('GET', '/api/gateway/desktop/config');
  patchConfig = (patch: DesktopConfigPatch) => this.call<DesktopConfig>('PATCH', '/api/gateway/desktop/config', patch);
  setApiKey = (apiKey: string) => this.call<unknown>('PUT', '/api/gateway/desktop/api-key', { apiKey });
  clearApiKey = () => this.call<unknown>('DELETE', '/api/gateway/desktop/api-key');

  listProcesses = () => this.call<{ processes: SupervisedProcess[] }>('GET', '/api/gateway/desktop/processes');
  killProcess = (processId: string) => this.call<unknown>('DELETE', `/api/gateway/desktop/processes/${enc(processId)}`);

  listRepos = () => this.call<{ repos: Repo[] }>('GET', '/api/gateway/repos');
  /** Repositories trusted for their own project settings (desktop only). */
  trustedRepos = () => this.call<{ trusted: string[] }>('GET', '/api/gateway/desktop/repos/trust');
  setRepoTrusted = (path: string, trusted: boolean) => this.call<{ trusted: string[] }>('PUT', '/api/gateway/desktop/repos/trust', { path, trusted });
  addRepo = (path: string, description?: string) =>
    this.call<{ repo: Repo }>('POST', '/api/gateway/repos', description ? { path, description } : { path });
  /** Forgets the repository; its files and worktrees stay on disk. */
  removeRepo = (path: string) => this.call<{ removed: true; repo: Repo }>('DELETE', `/api/gateway/repos?path=${enc(path)}`);
  getBinaryPaths = () => this.call<BinaryPaths>('GET', '/api/gateway/settings/binary-paths');
  setBinaryPaths = (binaryPaths: BinaryPathsPatch) => this.call<BinaryPaths>('PATCH', '/api/gateway/settings/binary-paths', { binaryPaths });

  reviewStatus = (ticketId: string, repo: string, provider: ReviewProviderId) =>
    this.call<ReviewStatus>('GET', `/api/gateway/codex/status/${enc(ticketId)}?${query({ repo, provider })}`);
  reviewFindings = (ticketId: string, repo: string, provider: ReviewProviderId) =>
    this.call<ReviewFindings>('GET', `/api/gateway/codex/review-findings/${enc(ticketId)}?${query({ repo, provider })}`);
  setFindingStatus = (ticketId: string, repo: string, provider: ReviewProviderId, findingId: string, status: ReviewFinding['status']) =>
    this.call<{ success: true }>('POST', `/api/gateway/codex/review-findings/${enc(ticketId)}?${query({ repo, provider })}`, { findingId, status });
  dedupFindings = (ticketId: string, repoPath: string, a: { provider: ReviewProviderId; findings: ReviewFinding[] }, b: { provider: ReviewProviderId; findings: ReviewFinding[] }) =>
    this.call<{ duplicates: Array<[number, number]> }>('POST', `/api/gateway/codex/review-dedup/${enc(ticketId)}`, {
      repoPath, providerA: a.provider, providerB: b.provider, findingsA: a.findings, findingsB: b.findings,
    });
  reviewVerdict = (ticketId: string, repoPath: string, provider: ReviewProviderId, sessionId: string) =>
    this.call<z.infer<typeof VerdictResponse>>('POST', `/api/gateway/codex/review-verdict/${enc(ticketId)}`, { repoPath, provider, sessionId });
  stopReview = (ticketId: string, repo: string, provider: ReviewProviderId) =>
    this.call<{ stopped: boolean; pid?: number | null; message?: string }>('POST', `/api/gateway/codex/stop/${enc(ticketId)}`, { repo, provider });
  /** Starts a review and calls `onEvent` for each line of its stream; resolves when it ends. Aborting `signal` stops it. */
  startReview = (ticketId: string, body: ReviewStartBody, onEvent: (event: ReviewStreamEvent) => void, signal?: AbortSignal) =>
    this.stream('POST', `/api/gateway/codex/review/${enc(ticketId)}`, body, onEvent, signal);

  /** Ticket runs: every run, one ticket's, one run's detail; launch (also resume and accept), stop, accept, discard. */
  listRuns = () => this.call<{ runs: RunStatusView[] }>('GET', '/api/gateway/symphony/status');
  ticketRun = (ticketId: string, repo: string) =>
    this.call<RunStatusView | NoRunStatus>('GET', `/api/gateway/symphony/status/${enc(ticketId)}?${query({ repo })}`);
  runDetail = (runId: string) => this.call<RunDetailView>('GET', `/api/gateway/symphony/runs/${enc(runId)}`);
  launchRun = (body: RunLaunchBody) => this.call<RunLaunchReply>('POST', '/api/gateway/symphony/launch', body);
  stopRun = (ticketId: string, repoPath: string) => this.call<RunKillReply>('POST', '/api/gateway/symphony/kill', { ticketId, repoPath });
  acceptRunPlan = (runId: string) => this.call<RunLaunchReply>('POST', `/api/gateway/symphony/runs/${enc(runId)}/accept`);
  discardRun = (runId: string) => this.call<RunStatusView>('POST', `/api/gateway/symphony/runs/${enc(runId)}/discard`);
  /** Worktree retention of finished runs: the setting, and pruning what is due (dryRun: only say which). */
  runRetention = () => this.call<RunRetentionView>('GET', '/api/gateway/symphony/worktrees/retention');
  setRunRetention = (body: { days?: number; auto?: boolean }) => this.call<RunRetentionView>('PUT', '/api/gateway/symphony/worktrees/retention', body);
  pruneRunWorktrees = (dryRun: boolean) =>
    this.call<{ retentionDays: number; dryRun: boolean; worktrees: WorktreePruneOutcome[] }>('POST', '/api/gateway/symphony/worktrees/prune', { dryRun });
  /** Cloud loops (their own table), newest first, with the events each sent or queues for the cloud. */
  listCloudLoops = () => this.call<{ loops: CloudLoopView[] }>('GET', '/api/gateway/symphony/loop/list');
  setRunFollowPr = (runId: string, enabled: boolean) =>
    this.call<{ success: true; followPr: boolean }>('POST', `/api/gateway/symphony/runs/${enc(runId)}/follow-pr`, { enabled });
  /** The run's whole log, then each new event as it is written, until the run rests (resolves) or `signal` aborts. */
  followRunLog = (ticketId: string, repo: string, onEvent: (event: RunEvent) => void, signal?: AbortSignal) =>
    this.stream<RunEvent>('GET', `/api/gateway/symphony/logs/${enc(ticketId)}?${query({ repo, follow: '1' })}`, undefined, onEvent, signal);

  /** An NDJSON reply read line by line as it arrives. */
  private async stream<E = ReviewStreamEvent>(method: Method, path: string, body: unknown, onEvent: (event: E) => void, signal?: AbortSignal): Promise<void> {
    const response = await this.send(method, path, body, true, signal);
    if (!response.ok) throw this.failure(response.status, await readJson(response));
    const reader = response.body?.getReader();
    if (!reader) return;
    const decoder = new TextDecoder();
    let buffered = '';
    for (;;) {
      const { done, value } = await reader.read();
      buffered += decoder.decode(value, { stream: !done });
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onEvent(JSON.parse(line) as E);
      if (done) return;
    }
  }
  /** A ticket's dev server: start (answers at once), status with the log tail, stop (ours only). */
  startDeploy = (repoPath: string, ticketId: string) => this.call<DeployStart>('POST', '/api/gateway/deploy', { repoPath, ticketId });
  deployStatus = (repoPath: string, ticketId: string) =>
    this.call<DeployStatus>('GET', `/api/gateway/deploy/status/${enc(ticketId)}?repo=${enc(repoPath)}`);
  stopDeploy = (repoPath: string, ticketId: string) => this.call<DeployStopReply>('POST', '/api/gateway/deploy/teardown', { repoPath, ticketId });

  private async call<T>(method: Method, path: string, body?: unknown, authenticated = true): Promise<T> {
    const response = await this.send(method, path, body, authenticated);
    const payload = await readJson(response);
    if (!response.ok) throw this.failure(response.status, payload);
    return payload as T;
  }

  private async send(method: Method, path: string, body: unknown, authenticated: boolean, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (authenticated && this.credential && 'session' in this.credential) {
      headers['X-Desktop-Session-Token'] = this.credential.session;
    } else if (authenticated && this.credential && 'gatewayToken' in this.credential) {
      headers['X-Desktop-Gateway-Token'] = this.credential.gatewayToken;
    }
    try {
      return await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // The session token is the credential; cookies never are.
        credentials: 'omit',
        signal,
      });
    } catch (cause) {
      throw new GatewayError(0, 'network_error', `The gateway could not be reached (${describe(cause)}).`);
    }
  }

  private failure(status: number, payload: unknown): GatewayError {
    const error = toGatewayError(status, payload);
    if (status === 401) this.options.onUnauthorized?.(error);
    return error;
  }
}

function query(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { error: text.slice(0, 200), code: 'bad_reply' };
  }
}

function toGatewayError(status: number, payload: unknown): GatewayError {
  const reply = (payload ?? {}) as { error?: unknown; code?: unknown; details?: unknown };
  const code = typeof reply.code === 'string' ? reply.code : `http_${status}`;
  const message = typeof reply.error === 'string' ? reply.error : `The gateway answered ${status}.`;
  return new GatewayError(status, code, message, reply.details);
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
