// Trading a challenge for a session. A local challenge (minted by the desktop for an
// origin the user approved) is checked here; any other is verified with the cloud.
// Every failure counts against the origin's rate limit and creates nothing.
import { isIP } from 'node:net';
import type { GatewayConfig } from '../config/gateway-config.js';
import { AppError, BadRequest, Forbidden, TooManyRequests } from '../errors.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { ChallengeStore } from './challenges.js';
import { parseOrigin } from './origins.js';
import type { CloudVerification } from './cloud.js';
import type { FailureLimiter } from './rate-limit.js';
import type { SessionStore } from './sessions.js';
import { hashToken } from './tokens.js';

/** How long a traded cloud challenge is remembered when the cloud gives no expiry. */
const CLAIM_TTL_MS = 10 * 60_000;

export interface ExchangeRequest {
  challengeToken: string;
  origin: string | null;
  peerAddress: string | undefined;
  userAgent: string;
}

export interface ExchangeResult {
  sessionToken: string;
  expiresAt: string;
  origin: string;
}

export interface PairingDeps {
  challenges: ChallengeStore;
  sessions: SessionStore;
  config: GatewayConfig;
  secrets: SecretStore;
  failures: FailureLimiter;
  log: { warn: (obj: object, msg: string) => void };
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}

export class PairingService {
  /** Cloud challenges already traded here, until they expire: a replay never pairs twice. */
  private readonly usedCloudChallenges = new Map<string, number>();

  constructor(private readonly deps: PairingDeps) {}

  async exchange(request: ExchangeRequest): Promise<ExchangeResult> {
    if (!isLoopbackAddress(request.peerAddress)) {
      throw new Forbidden('Pairing is only possible from this machine.', 'not_loopback');
    }
    if (!request.origin) throw new BadRequest('The exchange needs the Origin header of the page that pairs.', undefined, 'origin_required');
    // A serialized origin, exactly (scheme://host[:port]); `null` (sandboxed frames, file pages) never pairs.
    const origin = request.origin;
    if (parseOrigin(origin, this.deps.config.customSchemes()) !== origin) {
      throw new BadRequest('The Origin header is not one exact origin (scheme://host[:port]); a page with Origin null cannot pair.', { field: 'Origin' }, 'invalid_origin');
    }
    const wait = this.deps.failures.retryAfterSeconds(origin);
    if (wait > 0) throw new TooManyRequests('Too many failed pairing attempts from this origin; try again later.', wait);
    try {
      return await this.trade(request.challengeToken, origin, request.userAgent);
    } catch (error) {
      this.deps.failures.recordFailure(origin);
      this.deps.log.warn({ origin, code: (error as AppError).code }, 'pairing refused');
      throw error;
    }
  }

  private async trade(token: string, origin: string, userAgent: string): Promise<ExchangeResult> {
    const local = this.deps.challenges.consume(token, origin);
    if (local.outcome === 'ok') {
      const kind = this.deps.config.isRendererOrigin(origin) ? 'renderer' : 'origin';
      return this.issue(origin, kind);
    }
    if (local.outcome === 'used') throw new Forbidden('This challenge was already used; reload the web app to pair again.', 'challenge_used');
    if (local.outcome === 'expired') throw new Forbidden('The challenge has expired; reload the web app to pair again.', 'challenge_expired');
    if (local.outcome === 'origin_mismatch') {
      throw new Forbidden('The challenge was issued to another origin; pair again from the page that uses it.', 'challenge_origin_mismatch');
    }
    return this.tradeCloudChallenge(token, origin, userAgent);
  }

  private async tradeCloudChallenge(token: string, origin: string, userAgent: string): Promise<ExchangeResult> {
    const key = hashToken(token);
    this.pruneUsed();
    if (this.usedCloudChallenges.has(key)) throw new Forbidden('This challenge was already used; reload the web app to pair again.', 'challenge_used');
    // Claimed before the round trip, in the same turn as the check: a concurrent second
    // exchange of the same challenge sees it as used and never reaches the cloud.
    this.usedCloudChallenges.set(key, Date.now() + CLAIM_TTL_MS);
    let verified: CloudVerification;
    try {
      // Its reply schema (zod) loads with the first cloud challenge, not at start.
      const { verifyCloudChallenge } = await import('./cloud.js');
      verified = await verifyCloudChallenge({
        apiOrigin: this.deps.config.apiOrigin(),
        apiKey: await this.deps.secrets.get('desktop-api-key'),
        challengeToken: token,
        requestOrigin: origin,
        userAgent,
      });
    } catch (error) {
      // The cloud never judged it (no key, unreachable, too slow): the user may retry it.
      if (!(error instanceof AppError) || error.code !== 'cloud_rejected') this.usedCloudChallenges.delete(key);
      throw error;
    }
    this.usedCloudChallenges.set(key, Math.max(verified.challengeExpiresAt ?? 0, Date.now() + CLAIM_TTL_MS));
    const ttlMs = verified.sessionTtlSeconds ? verified.sessionTtlSeconds * 1000 : undefined;
    // A cloud challenge never yields a renderer session: the renderer pairs locally.
    return this.issue(origin, 'origin', ttlMs);
  }

  private issue(origin: string, kind: 'origin' | 'renderer', ttlMs?: number): ExchangeResult {
    const session = this.deps.sessions.create(origin, kind, ttlMs);
    return { sessionToken: session.token, expiresAt: new Date(session.expiresAt).toISOString(), origin };
  }

  private pruneUsed(): void {
    const now = Date.now();
    for (const [key, expiresAt] of this.usedCloudChallenges) if (expiresAt <= now) this.usedCloudChallenges.delete(key);
  }
}
