// Run as a child with DBUS_SESSION_BUS_ADDRESS pointing nowhere, so libsecret finds
// no Secret Service: opens the data dir's secret store once per mode given on the
// command line and prints one JSON line per attempt.
import { openDatabase } from '../../store/database.js';
import { SettingsStore } from '../../store/settings.js';
import { pino } from 'pino';
import path from 'node:path';
import { openSecretStore, type SecretStoreMode } from '../open.js';

const [dataDir, ...modes] = process.argv.slice(2);
const db = openDatabase(path.join(dataDir, 'symphony.db'));
const settings = new SettingsStore(db);
const warnings: string[] = [];
const log = pino({ level: 'info' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });

for (const mode of modes as SecretStoreMode[]) {
  warnings.length = 0;
  try {
    const store = await openSecretStore({ mode, dataDir, settings, log });
    const token = await store.get('gateway-token');
    if (token === null) await store.set('gateway-token', `token-from-${mode}`);
    console.log(JSON.stringify({ mode, kind: store.kind, token, warnings }));
  } catch (error) {
    console.log(JSON.stringify({ mode, error: (error as Error).message, warnings }));
  }
}
db.close();
