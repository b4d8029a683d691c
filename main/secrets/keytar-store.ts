// Secrets in the OS keychain through keytar (libsecret on Linux, Keychain on macOS,
// Credential Manager on Windows). keytar is an optional dependency: it may not have
// built, and on Linux a Secret Service may not be running, so opening probes both.
import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { KeychainUnavailable, type SecretName, type SecretStore } from './secret-store.js';

export const KEYCHAIN_SERVICE = 'symphony-desktop';
const PROBE_TIMEOUT_MS = 5_000;

type Keytar = typeof import('keytar');

export class KeytarSecretStore implements SecretStore {
  readonly kind = 'keychain' as const;

  private constructor(
    private readonly keytar: Keytar,
    /** Distinguishes data dirs, so two gateways on one machine keep separate tokens. */
    private readonly dataDirTag: string,
  ) {}

  /** Loads keytar and asks the keychain a harmless question; throws KeychainUnavailable. */
  static async open(dataDir: string): Promise<KeytarSecretStore> {
    const keytar = await loadKeytar();
    await probe(keytar);
    return new KeytarSecretStore(keytar, await dataDirTag(dataDir));
  }

  get(name: SecretName): Promise<string | null> {
    return this.keytar.getPassword(KEYCHAIN_SERVICE, this.account(name));
  }

  set(name: SecretName, value: string): Promise<void> {
    return this.keytar.setPassword(KEYCHAIN_SERVICE, this.account(name), value);
  }

  async delete(name: SecretName): Promise<void> {
    await this.keytar.deletePassword(KEYCHAIN_SERVICE, this.account(name));
  }

  private account(name: SecretName): string {
    return `${name}:${this.dataDirTag}`;
  }
}

async function loadKeytar(): Promise<Keytar> {
  try {
    const mod = (await import('keytar')) as Keytar & { default?: Keytar };
    return mod.default ?? mod;
  } catch (error) {
    throw new KeychainUnavailable(
      `the optional keytar module could not be loaded (${(error as Error).message}); ` +
        'on Linux install libsecret-1-dev and run npm ci again, or use --secret-store file',
    );
  }
}

async function probe(keytar: Keytar): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s (is the keyring locked?)`)),
      PROBE_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([keytar.findCredentials(KEYCHAIN_SERVICE), timeout]);
  } catch (error) {
    const hint = process.platform === 'linux' ? '; is a Secret Service (gnome-keyring, KWallet) running and unlocked?' : '';
    throw new KeychainUnavailable(`${(error as Error).message}${hint}`);
  } finally {
    clearTimeout(timer);
  }
}

async function dataDirTag(dataDir: string): Promise<string> {
  const canonical = await realpath(dataDir).catch(() => dataDir);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
