// The loop's calls to the cloud: ONLY to the configured API origin (a URL in a request body
// is never contacted), with the loop's own token, which is kept in the secret store while
// the loop reports, refreshed before it expires and once on a 401 (the new token is in
// `data.token` of the `{success, data}` envelope), and deleted when the loop ends.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { callCloud, type CloudOutcome, type PopSigner } from '../../http/cloud-call.js';
import { isManagedKey } from '../device-identity.js';
import { loopTokenName, type SecretStore } from '../../secrets/secret-store.js';

export const REFRESH_BEFORE_EXP_MS = 30 * 60_000;
/** A heartbeat falls back to the managed key (with PoP) when the loop token is this close to `exp`. */
export const HEARTBEAT_FALLBACK_MS = 30_000;
const CALL_TIMEOUT_MS = 30_000;
const REFRESH_TIMEOUT_MS = 10_000;

export type { CloudOutcome } from '../../http/cloud-call.js';

export type LoopCall = 'events' | 'upload-artifacts' | 'heartbeat' | 'refresh-token';

/** `exp` of a JWT in ms, or null (the desktop only decodes it, never verifies it). */
export function tokenExpiry(token: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

export interface LoopCloudOptions {
  apiOrigin(): string | undefined;
  secrets: Pick<SecretStore, 'get' | 'set' | 'delete'>;
  log: Logger;
  /** The desktop API key: the heartbeat's fallback when the loop token is about to expire. */
  apiKey?: () => Promise<string | null>;
  /** The gateway's proof of possession, sent with every call made with a managed key. */
  pop?: PopSigner;
  now?: () => number;
}

export class LoopCloud {
  private readonly tokens = new Map<string, string>();
  private readonly refreshing = new Map<string, Promise<boolean>>();
  private readonly now: () => number;

  constructor(private readonly options: LoopCloudOptions) {
    this.now = options.now ?? Date.now;
  }

  async saveToken(loopId: string, token: string): Promise<void> {
    this.tokens.set(loopId, token);
    await this.options.secrets.set(loopTokenName(loopId), token);
  }

  async forgetToken(loopId: string): Promise<void> {
    this.tokens.delete(loopId);
    await this.options.secrets.delete(loopTokenName(loopId));
  }

  async token(loopId: string): Promise<string | null> {
    const cached = this.tokens.get(loopId);
    if (cached) return cached;
    const stored = await this.options.secrets.get(loopTokenName(loopId));
    if (stored) this.tokens.set(loopId, stored);
    return stored;
  }

  /** One call for a loop; a 401 refreshes the token once and tries again. */
  async call(loopId: string, call: Exclude<LoopCall, 'refresh-token'>, body?: unknown, headers: Record<string, string> = {}): Promise<CloudOutcome> {
    let token = await this.token(loopId);
    if (!token) return { kind: 'rejected', status: 401, error: 'no token is kept for this loop' };
    const exp = tokenExpiry(token);
    if (exp !== null && exp - REFRESH_BEFORE_EXP_MS < this.now() && (await this.refresh(loopId))) token = (await this.token(loopId))!;
    if (call === 'heartbeat') token = await this.heartbeatAuth(loopId, token);
    let outcome = await this.send(loopId, call, token, body, headers);
    if (outcome.kind === 'rejected' && outcome.status === 401 && (await this.refresh(loopId))) {
      outcome = await this.send(loopId, call, (await this.token(loopId))!, body, headers);
    }
    return outcome;
  }

  /** The loop token, or the managed API key when the token is within 30 s of `exp` (the cloud accepts it, with PoP, for heartbeats). */
  private async heartbeatAuth(loopId: string, token: string): Promise<string> {
    const exp = tokenExpiry(token);
    if (exp === null || exp - HEARTBEAT_FALLBACK_MS > this.now()) return token;
    const apiKey = await this.options.apiKey?.();
    if (!apiKey || !isManagedKey(apiKey)) return token;
    this.options.log.info({ loopId }, 'loop token about to expire: heartbeat with the managed key');
    return apiKey;
  }

  /** Single-flight per loop: the cloud rotates the token's id, so two refreshes would race. */
  refresh(loopId: string): Promise<boolean> {
    const running = this.refreshing.get(loopId);
    if (running) return running;
    const attempt = this.doRefresh(loopId).finally(() => this.refreshing.delete(loopId));
    this.refreshing.set(loopId, attempt);
    return attempt;
  }

  private async doRefresh(loopId: string): Promise<boolean> {
    const token = await this.token(loopId);
    if (!token) return false;
    const outcome = await this.send(loopId, 'refresh-token', token, undefined, { 'idempotency-key': randomUUID() }, REFRESH_TIMEOUT_MS);
    const next = outcome.kind === 'ok' ? (outcome.data as { token?: unknown } | null)?.token : undefined;
    if (typeof next !== 'string' || next.length < 10) {
      this.options.log.warn({ loopId, outcome: outcome.kind, status: 'status' in outcome ? outcome.status : null }, 'loop token refresh failed');
      return false;
    }
    await this.saveToken(loopId, next);
    this.options.log.info({ loopId }, 'loop token refreshed');
    return true;
  }

  private send(loopId: string, call: LoopCall, token: string, body: unknown, headers: Record<string, string>, timeoutMs = CALL_TIMEOUT_MS): Promise<CloudOutcome> {
    return callCloud({ origin: this.options.apiOrigin(), path: `/loops/${encodeURIComponent(loopId)}/${call}`, token, body, headers, timeoutMs, pop: this.options.pop });
  }
}
