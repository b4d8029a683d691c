// Where the gateway keeps its secrets (the gateway token, the desktop API key, the gateway's signing identity):
// the OS keychain when there is one, else 0600 files the user asked for explicitly
// (or `auto` fell back to, with a warning).

export type SecretStoreKind = 'keychain' | 'file';

/** The secrets the desktop keeps; a closed list so a typo cannot create a new one. */
export const SECRET_NAMES = ['gateway-token', 'desktop-api-key', 'gateway-identity'] as const;
/** A cloud loop's own token, kept only while the loop reports (deleted when it ends). */
export type LoopTokenName = `loop-token-${string}`;
/** A value the user set for agent CLIs whose name looks like a credential (`config --agent-env`). */
export type AgentEnvSecretName = `agent-env-${string}`;
export type SecretName = (typeof SECRET_NAMES)[number] | LoopTokenName | AgentEnvSecretName;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The secret name for a loop's token; the id is checked to be a UUID (it becomes a file or keychain name). */
export function loopTokenName(loopId: string): LoopTokenName {
  if (!UUID.test(loopId)) throw new Error('a loop id is a UUID');
  return `loop-token-${loopId.toLowerCase()}`;
}

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
