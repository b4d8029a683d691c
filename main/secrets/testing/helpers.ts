// Test support for the secret stores: a temp data dir with real SQLite settings and
// a pino logger whose lines the test can read.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { openDatabase } from '../../store/database.js';
import { SettingsStore } from '../../store/settings.js';

export interface TestDataDir {
  dataDir: string;
  settings: SettingsStore;
  log: pino.Logger;
  logLines: Array<{ level: number; msg: string; [key: string]: unknown }>;
  cleanup(): Promise<void>;
}

export async function makeTestDataDir(): Promise<TestDataDir> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'symphony-secrets-'));
  const db = openDatabase(path.join(dataDir, 'symphony.db'));
  const logLines: TestDataDir['logLines'] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => logLines.push(JSON.parse(line)) });
  return {
    dataDir,
    settings: new SettingsStore(db),
    log,
    logLines,
    async cleanup() {
      db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Why the real keychain cannot be used here, or null when it can. */
export async function keychainUnavailableReason(): Promise<string | null> {
  const { KeytarSecretStore } = await import('../keytar-store.js');
  const probeDir = await mkdtemp(path.join(os.tmpdir(), 'symphony-keychain-probe-'));
  try {
    await KeytarSecretStore.open(probeDir);
    return null;
  } catch (error) {
    return `${(error as Error).message} (npm test starts a throwaway gnome-keyring when dbus-run-session is installed)`;
  } finally {
    await rm(probeDir, { recursive: true, force: true });
  }
}
