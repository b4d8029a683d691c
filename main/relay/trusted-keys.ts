// The public keys whose signed cloud commands this desktop accepts (`relay trust-key`, the
// desktop UI). Apart from the signature check (signatures.ts, which imports zod and loads with
// the relay), so the composition root builds it without loading zod before the port opens.
import { createHash, createPublicKey } from 'node:crypto';
import type { SettingsStore } from '../store/settings.js';

const TRUSTED_KEYS = 'relayTrustedKeys';

export interface TrustedKey {
  fingerprint: string;
  /** Raw 32-byte Ed25519 public key, base64url. */
  publicKey: string;
  label: string | null;
  addedAt: string;
}

function rawKey(text: string): Buffer {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    const jwk = createPublicKey(trimmed).export({ format: 'jwk' });
    if (jwk.crv !== 'Ed25519' || !jwk.x) throw new Error('not an Ed25519 public key');
    return Buffer.from(jwk.x, 'base64url');
  }
  const raw = Buffer.from(trimmed.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
  if (raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes (base64) or a PEM block');
  return raw;
}

export const fingerprintOf = (raw: Buffer) => `cl:${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}`;

/** The public keys whose signatures this desktop accepts (not secrets: kept in the settings). */
export class TrustedKeys {
  constructor(private readonly settings: SettingsStore) {}

  list(): TrustedKey[] {
    return this.settings.get<TrustedKey[]>(TRUSTED_KEYS) ?? [];
  }

  add(publicKey: string, label: string | null = null): TrustedKey {
    const raw = rawKey(publicKey);
    const key: TrustedKey = { fingerprint: fingerprintOf(raw), publicKey: raw.toString('base64url'), label, addedAt: new Date().toISOString() };
    this.settings.set(TRUSTED_KEYS, [...this.list().filter((k) => k.fingerprint !== key.fingerprint), key]);
    return key;
  }

  remove(fingerprint: string): boolean {
    const all = this.list();
    const rest = all.filter((k) => k.fingerprint !== fingerprint);
    this.settings.set(TRUSTED_KEYS, rest);
    return rest.length !== all.length;
  }

  find(fingerprint: string): TrustedKey | undefined {
    return this.list().find((k) => k.fingerprint === fingerprint);
  }
}

