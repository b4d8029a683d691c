// Where the gateway keeps its secrets (the gateway token, the desktop API key):
// the OS keychain when there is one, else 0600 files the user asked for explicitly
// (or `auto` fell back to, with a warning).

export type SecretStoreKind = 'keychain' | 'file';

/** The secrets the desktop keeps; a closed list so a typo cannot create a new one. */
export const SECRET_NAMES = ['gateway-token', 'desktop-api-key'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

export interface SecretStore {
  readonly kind: SecretStoreKind;
  get(name: SecretName): Promise<string | null>;
  set(name: SecretName, value: string): Promise<void>;
  delete(name: SecretName): Promise<void>;
}

/** No usable keychain (keytar not installed, or no Secret Service answering). */
export class KeychainUnavailable extends Error {
  constructor(reason: string) {
    super(`The OS keychain is not available: ${reason}`);
    this.name = 'KeychainUnavailable';
  }
}
