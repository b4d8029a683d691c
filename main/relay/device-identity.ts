// The gateway's device identity for the cloud: a gateway id and an Ed25519 key pair, made
// with node:crypto on first need and kept in the secret store the desktop API key uses (the
// private key never leaves it: not logged, not in argv or a child's environment). With a
// managed `sk_live_` key, every call to the cloud carries proof of possession (spec:
// original-loop-protocol.md "PoP"): `X-Desktop-Gateway-Id`, `X-Desktop-Timestamp` (unix
// seconds) and `X-Desktop-Signature`, Ed25519 in base64url over
// `METHOD\npathname\nunixSeconds\ngatewayId`. The public key (raw, base64url) is what the
// user registers with the cloud; `symphony-gateway relay status` shows it.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import type { PopSigner } from '../http/cloud-call.js';
import type { SecretStore } from '../secrets/secret-store.js';

export const POP_HEADERS = { gatewayId: 'x-desktop-gateway-id', timestamp: 'x-desktop-timestamp', signature: 'x-desktop-signature' } as const;
/** How far a PoP timestamp may be from the cloud's clock (the cloud's window, ±60 s). */
export const POP_FRESH_S = 60;

/** Only managed keys prove possession; any other token sends no PoP. */
export const isManagedKey = (token: string): boolean => token.startsWith('sk_live_');


export interface GatewayIdentityView {
  gatewayId: string;
  /** The Ed25519 public key, raw 32 bytes in base64url. */
  publicKey: string;
}

export const popPayload = (method: string, pathname: string, unixSeconds: string, gatewayId: string): string =>
  `${method.toUpperCase()}\n${pathname}\n${unixSeconds}\n${gatewayId}`;

const rawPublicKey = (key: KeyObject): string => String(key.export({ format: 'jwk' }).x);

interface Loaded {
  gatewayId: string;
  privateKey: KeyObject;
  publicKey: string;
}

export class DeviceIdentity {
  private loading: Promise<Loaded> | null = null;

  constructor(private readonly options: { secrets: Pick<SecretStore, 'get' | 'set'>; now?: () => number }) {}

  async describe(): Promise<GatewayIdentityView> {
    const { gatewayId, publicKey } = await this.load();
    return { gatewayId, publicKey };
  }

  /** The PoP headers for a request; `{}` unless `token` is a managed `sk_live_` key. */
  readonly popHeaders: PopSigner = async (method, pathname, token): Promise<Record<string, string>> => {
    if (!isManagedKey(token)) return {};
    const { gatewayId, privateKey } = await this.load();
    const unixSeconds = String(Math.floor((this.options.now ?? Date.now)() / 1000));
    const signature = sign(null, Buffer.from(popPayload(method, pathname, unixSeconds, gatewayId)), privateKey).toString('base64url');
    return { [POP_HEADERS.gatewayId]: gatewayId, [POP_HEADERS.timestamp]: unixSeconds, [POP_HEADERS.signature]: signature };
  };

  /** Single-flight: two first calls at once must not make two identities. */
  private load(): Promise<Loaded> {
    this.loading ??= this.readOrCreate().catch((error: unknown) => {
      this.loading = null;
      throw error;
    });
    return this.loading;
  }

  private async readOrCreate(): Promise<Loaded> {
    const stored = await this.options.secrets.get('gateway-identity');
    if (stored) {
      const parsed = JSON.parse(stored) as { gatewayId: string; privateKey: string };
      const privateKey = createPrivateKey({ key: Buffer.from(parsed.privateKey, 'base64url'), format: 'der', type: 'pkcs8' });
      return { gatewayId: parsed.gatewayId, privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
    }
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const gatewayId = `gw_${randomUUID()}`;
    const der = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64url');
    await this.options.secrets.set('gateway-identity', JSON.stringify({ gatewayId, privateKey: der }));
    return { gatewayId, privateKey, publicKey: rawPublicKey(publicKey) };
  }
}

/** What the cloud checks (used by the test doubles): the signature with the registered key, freshness, this request's method and path. */
export function verifyPop(
  headers: Record<string, string | string[] | undefined>, method: string, pathname: string, publicKeys: ReadonlyMap<string, string>, nowS = Math.floor(Date.now() / 1000),
): string | null {
  const get = (name: string) => (typeof headers[name] === 'string' ? (headers[name] as string) : '');
  const gatewayId = get(POP_HEADERS.gatewayId);
  const timestamp = get(POP_HEADERS.timestamp);
  const signature = get(POP_HEADERS.signature);
  if (!gatewayId || !timestamp || !signature) return 'PoP headers missing';
  const raw = publicKeys.get(gatewayId);
  if (!raw) return 'unknown gateway id';
  if (!/^\d+$/.test(timestamp) || Math.abs(nowS - Number(timestamp)) > POP_FRESH_S) return 'PoP timestamp is not fresh';
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw }, format: 'jwk' });
  const ok = verify(null, Buffer.from(popPayload(method, pathname, timestamp, gatewayId)), key, Buffer.from(signature, 'base64url'));
  return ok ? null : 'PoP signature is invalid';
}
