// Token primitives: 256-bit random tokens, stored and compared as SHA-256 hashes.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN_BYTES = 32;
/** The length of every token newToken makes (base64url, no padding): 43 characters. */
const TOKEN_LENGTH = Math.ceil((TOKEN_BYTES * 8) / 6);

export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

/** One shot (no Hash object): this runs on every authenticated request. */
export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/** Constant-time equality of two strings (compared through their hashes, so lengths never leak). */
export function tokensEqual(a: string, b: string): boolean {
  return hashesEqual(hashToken(a), hashToken(b));
}

/** Constant-time equality of two hex SHA-256 hashes. */
export function hashesEqual(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/**
 * One secret that presented tokens are checked against in constant time, allocating nothing
 * per check (this runs on every request): the candidate's bytes go into a buffer kept for it.
 * Only a candidate of another length is refused before the comparison, which tells nothing
 * but the secret's length (our tokens have one public length: 256 bits, 43 characters).
 */
export class SecretMatcher {
  private readonly secret: Buffer;
  private readonly candidate: Buffer;

  constructor(secret: string) {
    this.secret = Buffer.from(secret);
    this.candidate = Buffer.alloc(this.secret.length);
  }

  matches(candidate: string): boolean {
    if (Buffer.byteLength(candidate) !== this.secret.length) return false;
    this.candidate.write(candidate);
    return timingSafeEqual(this.candidate, this.secret);
  }
}

/**
 * hashToken, remembering the last token it hashed: a paired page sends the same session token
 * on every request, and its SHA-256 hex costs ~0.1 KB a request. The candidate is compared with
 * the last token by a SecretMatcher (constant time, no allocation but on a new token); only
 * tokens of our one length are remembered.
 */
export class LastTokenHash {
  private last: SecretMatcher | null = null;
  private lastHash = '';

  of(token: string): string {
    if (Buffer.byteLength(token) !== TOKEN_LENGTH) return hashToken(token);
    if (this.last?.matches(token)) return this.lastHash;
    this.last = new SecretMatcher(token);
    return (this.lastHash = hashToken(token));
  }
}
