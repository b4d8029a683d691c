// Local pairing challenges: single use, short lived, bound to one exact origin.
// Kept in memory only: a challenge outliving a restart would only widen the window.
import { hashToken, newToken } from './tokens.js';

export const CHALLENGE_TTL_MS = 2 * 60_000;

export interface Challenge {
  challengeToken: string;
  origin: string;
  expiresAt: string;
}

// Keyed by the token's SHA-256: finding the entry is the comparison (a 256-bit token
// leaks nothing through the map's timing that would help guess another).
interface Pending {
  origin: string;
  expiresAt: number;
}

export type LocalChallengeResult =
  | { outcome: 'ok'; origin: string }
  | { outcome: 'unknown' }
  | { outcome: 'used' }
  | { outcome: 'expired' }
  | { outcome: 'origin_mismatch' };

export class ChallengeStore {
  private readonly pending = new Map<string, Pending>();
  /** Hashes of challenges already presented, until they would have expired: a replay says so. */
  private readonly used = new Map<string, number>();
  /**
   * Each origin with pending challenges, and when the last of them expires: the CORS check
   * asks on every browser request, and walking `pending` made an iterator each time.
   */
  private readonly lastExpiryByOrigin = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  mint(origin: string): Challenge {
    this.prune();
    const token = newToken();
    const expiresAt = this.now() + CHALLENGE_TTL_MS;
    this.pending.set(hashToken(token), { origin, expiresAt });
    this.lastExpiryByOrigin.set(origin, Math.max(expiresAt, this.lastExpiryByOrigin.get(origin) ?? 0));
    return { challengeToken: token, origin, expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * Uses up a local challenge. Any presentation burns it, even a failed one: a token
   * that was shown to the wrong origin is no longer secret enough to trust.
   */
  consume(token: string, origin: string): LocalChallengeResult {
    const key = hashToken(token);
    const entry = this.pending.get(key);
    if (!entry) return { outcome: this.used.has(key) ? 'used' : 'unknown' };
    this.pending.delete(key);
    this.indexOrigins();
    this.used.set(key, entry.expiresAt);
    if (entry.expiresAt <= this.now()) return { outcome: 'expired' };
    if (entry.origin !== origin) return { outcome: 'origin_mismatch' };
    return { outcome: 'ok', origin };
  }

  /** Origins with a live challenge: their CORS preflights are answered. */
  hasPendingOrigin(origin: string): boolean {
    const lastExpiry = this.lastExpiryByOrigin.get(origin);
    return lastExpiry !== undefined && lastExpiry > this.now();
  }

  private prune(): void {
    const now = this.now();
    for (const [key, entry] of this.pending) if (entry.expiresAt <= now) this.pending.delete(key);
    for (const [key, expiresAt] of this.used) if (expiresAt <= now) this.used.delete(key);
    this.indexOrigins();
  }

  /** After challenges leave `pending` (rare: a presentation, a prune). */
  private indexOrigins(): void {
    this.lastExpiryByOrigin.clear();
    for (const { origin, expiresAt } of this.pending.values()) {
      this.lastExpiryByOrigin.set(origin, Math.max(expiresAt, this.lastExpiryByOrigin.get(origin) ?? 0));
    }
  }
}
