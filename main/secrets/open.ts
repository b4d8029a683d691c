// Picks the secret store for a data dir. The data dir remembers which store holds
// its secrets (setting `secretStore`), so later commands that pass only --data-dir
// find the same gateway token; an explicit different choice moves the secrets over.
import type { Logger } from 'pino';
import type { SettingsStore } from '../store/settings.js';
import { FileSecretStore } from './file-store.js';
import { KeytarSecretStore } from './keytar-store.js';
import {
  KeychainUnavailable,
  SECRET_NAMES,
  type SecretStore,
  type SecretStoreKind,
} from './secret-store.js';

export type SecretStoreMode = SecretStoreKind | 'auto';

export const SECRET_STORE_SETTING = 'secretStore';

export interface OpenSecretStoreOptions {
  /** `auto` (the default): the remembered store, else the keychain, else files with a warning. */
  mode?: SecretStoreMode;
  dataDir: string;
  settings: Pick<SettingsStore, 'get' | 'set'>;
  log: Pick<Logger, 'info' | 'warn'>;
}

export async function openSecretStore(options: OpenSecretStoreOptions): Promise<SecretStore> {
  const { mode = 'auto', dataDir, settings, log } = options;
  const remembered = rememberedKind(settings);
  let store: SecretStore;
  if (mode !== 'auto') {
    store = await openKind(mode, dataDir);
    if (remembered && remembered !== mode) await moveSecrets(remembered, store, dataDir, log);
  } else if (remembered) {
    store = await openRemembered(remembered, dataDir);
  } else {
    store = await openKeychainOrFile(dataDir, log);
  }
  if (remembered !== store.kind) settings.set(SECRET_STORE_SETTING, store.kind);
  return store;
}

function rememberedKind(settings: OpenSecretStoreOptions['settings']): SecretStoreKind | undefined {
  const value = settings.get<unknown>(SECRET_STORE_SETTING);
  return value === 'keychain' || value === 'file' ? value : undefined;
}

function openKind(kind: SecretStoreKind, dataDir: string): Promise<SecretStore> {
  return kind === 'keychain' ? KeytarSecretStore.open(dataDir) : FileSecretStore.open(dataDir);
}

async function openRemembered(kind: SecretStoreKind, dataDir: string): Promise<SecretStore> {
  try {
    return await openKind(kind, dataDir);
  } catch (error) {
    if (!(error instanceof KeychainUnavailable)) throw error;
    // Falling back silently would mint a new gateway token and lock out every client.
    throw new KeychainUnavailable(
      `${error.message.replace(/^The OS keychain is not available: /, '')}. ` +
        'This data dir keeps its secrets in the keychain; start it, or pass --secret-store file ' +
        'to keep new secrets in files (the gateway token is then created anew)',
    );
  }
}

async function openKeychainOrFile(dataDir: string, log: OpenSecretStoreOptions['log']): Promise<SecretStore> {
  try {
    return await KeytarSecretStore.open(dataDir);
  } catch (error) {
    if (!(error instanceof KeychainUnavailable)) throw error;
    log.warn(
      { reason: error.message },
      'OS keychain not available: keeping secrets in 0600 files under the data dir instead',
    );
    return FileSecretStore.open(dataDir);
  }
}

/** Copies each secret the new store lacks, then removes it from the old one. */
async function moveSecrets(
  fromKind: SecretStoreKind,
  to: SecretStore,
  dataDir: string,
  log: OpenSecretStoreOptions['log'],
): Promise<void> {
  let from: SecretStore;
  try {
    from = await openKind(fromKind, dataDir);
  } catch (error) {
    log.warn(
      { reason: (error as Error).message, from: fromKind, to: to.kind },
      'Secret store changed but the old one cannot be opened: its secrets are not moved',
    );
    return;
  }
  let moved = 0;
  for (const name of SECRET_NAMES) {
    const value = await from.get(name);
    if (value === null) continue;
    if ((await to.get(name)) === null) {
      await to.set(name, value);
      moved++;
    }
    await from.delete(name);
  }
  log.info({ from: fromKind, to: to.kind, moved }, 'Moved secrets to the newly chosen store');
}
