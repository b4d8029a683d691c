// Token primitives: 256-bit random tokens, stored and compared as SHA-256 hashes.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
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
