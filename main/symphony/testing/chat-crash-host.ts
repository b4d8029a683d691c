// A stand-in gateway for the crash test: it starts one chat turn with a real CLI, says
// which session and pid, and keeps reading until the test SIGKILLs it mid-turn.
// Usage: node --import tsx chat-crash-host.ts '{"dataDir","homes","cwd","apiUrl","provider"}'
import { join } from 'node:path';
import { pino } from 'pino';
import { ClaudeProvider } from '../../providers/claude.js';
import { CodexProvider } from '../../providers/codex.js';
import { ProviderRegistry } from '../../providers/registry.js';
import { claudeTestConfig, codexTestConfig, NODE_MODULES_BIN } from '../../providers/testing/cli-env.js';
import type { ProviderId } from '../../providers/types.js';
import { openDatabase } from '../../store/database.js';
import { Supervisor } from '../../supervisor/supervisor.js';
import { ChatService } from '../chat-sessions.js';

const { dataDir, homes, cwd, apiUrl, provider } = JSON.parse(process.argv[2]) as {
  dataDir: string; homes: string; cwd: string; apiUrl: string; provider: ProviderId;
};
const log = pino({ level: 'silent' });
const db = openDatabase(join(dataDir, 'symphony.db'));
const supervisor = new Supervisor({ db, dataDir, log, extraSearchDirs: [NODE_MODULES_BIN] });
const providers = new ProviderRegistry([
  new ClaudeProvider(supervisor, claudeTestConfig({ url: apiUrl }, homes)),
  new CodexProvider(supervisor, codexTestConfig({ url: apiUrl }, homes)),
]);
const chats = new ChatService({ db, providers, log, supervisor });
const events = await chats.send({
  kind: 'terminal', scope: '', provider, cwd, message: 'this turn never ends', confinement: { level: 'write', root: cwd },
  signal: new AbortController().signal,
});
for await (const event of events) {
  if (event.type === 'status') process.stdout.write(`${JSON.stringify({ pid: event.pid, sessionId: chats.list('terminal')[0].id })}\n`);
}
