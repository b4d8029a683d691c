// The gateway token: the credential of the executor and local tools. Held in memory (every
// request is compared with it in constant time); rotating it stores the new one first, then
// swaps, so the old token is refused from the very next request.
import type { SecretStore } from '../secrets/secret-store.js';
import { newToken, SecretMatcher } from './tokens.js';

const SECRET = 'gateway-token';

export class GatewayToken {
  private token: string;
  private matcher: SecretMatcher;

  private constructor(private readonly secrets: SecretStore, token: string) {
    this.token = token;
    this.matcher = new SecretMatcher(token);
  }

  /** The stored token, or a new one stored on first start. */
  static async load(secrets: SecretStore): Promise<GatewayToken> {
    let token = await secrets.get(SECRET);
    if (!token) {
      token = newToken();
      await secrets.set(SECRET, token);
    }
    return new GatewayToken(secrets, token);
  }

  current(): string {
    return this.token;
  }

  /** Constant-time check of a presented token. */
  matches(candidate: string): boolean {
    return this.matcher.matches(candidate);
  }

  /** A fresh token replaces the old one, in the secret store and here. */
  async rotate(): Promise<void> {
    const token = newToken();
    await this.secrets.set(SECRET, token);
    this.token = token;
    this.matcher = new SecretMatcher(token);
  }
}
