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
} from './schemas/gateway.js';
import type { RepoView } from './schemas/git.js';
import type { SupervisedProcess as ProcessView } from './schemas/processes.js';
import type { BinaryInfo as BinaryInfoSchema, BinaryPathsPatch, BinaryPathsResponse } from './schemas/settings.js';

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
export type VersionInfo = z.infer<typeof VersionResponse>;
/** A user override as PUT /desktop/policies takes it. */
export type PolicyOverride = z.infer<typeof PolicyEntry>;
/** The effective policy as GET /desktop/policies lists it. */
export type PolicyRow = PolicyOverride & { action?: string | null; source: 'default' | 'user' };

export type PendingApproval = z.infer<typeof PendingApprovalView>;
export type AllowRule = z.infer<typeof RuleView>;

export type SupervisedProcess = z.infer<typeof ProcessView>;
export type Repo = z.infer<typeof RepoView>;
export type BinaryInfo = z.infer<typeof BinaryInfoSchema>;
export type BinaryPaths = z.infer<typeof BinaryPathsResponse>;
export type BinaryName = keyof BinaryPaths['binaries'];
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
  addRepo = (path: string, description?: string) =>
    this.call<{ repo: Repo }>('POST', '/api/gateway/repos', description ? { path, description } : { path });
  /** Forgets the repository; its files and worktrees stay on disk. */
  removeRepo = (path: string) => this.call<{ removed: true; repo: Repo }>('DELETE', `/api/gateway/repos?path=${enc(path)}`);
  getBinaryPaths = () => this.call<BinaryPaths>('GET', '/api/gateway/settings/binary-paths');
  setBinaryPaths = (binaryPaths: BinaryPathsPatch) => this.call<BinaryPaths>('PATCH', '/api/gateway/settings/binary-paths', { binaryPaths });

  private async call<T>(method: Method, path: string, body?: unknown, authenticated = true): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (authenticated && this.credential && 'session' in this.credential) {
      headers['X-Desktop-Session-Token'] = this.credential.session;
    } else if (authenticated && this.credential && 'gatewayToken' in this.credential) {
      headers['X-Desktop-Gateway-Token'] = this.credential.gatewayToken;
    }
    let response: Response;
    try {
      response = await this.fetchImpl(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // The session token is the credential; cookies never are.
        credentials: 'omit',
      });
    } catch (cause) {
      throw new GatewayError(0, 'network_error', `The gateway could not be reached (${describe(cause)}).`);
    }
    const payload = await readJson(response);
    if (!response.ok) {
      const error = toGatewayError(response.status, payload);
      if (response.status === 401) this.options.onUnauthorized?.(error);
      throw error;
    }
    return payload as T;
  }
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
