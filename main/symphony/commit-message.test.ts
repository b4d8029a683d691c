// The commit-message turn without git or a CLI: the timeout gives the default, and what
// the model is sent never holds a secret file's section or a credential-looking value,
// even when git's own exclusion missed it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import type { DiffResult } from '../git/diff.js';
import { isSecretFile } from '../git/secret-files.js';
import { FakeProvider } from '../providers/testing/fake-provider.js';
import { ProviderRegistry } from '../providers/registry.js';
import type { Provider, Turn, TurnOptions } from '../providers/types.js';
import { CommitMessages, firstMessageObject } from './commit-message.js';

const dataDir = mkdtempSync(join(tmpdir(), 'commit-message-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const diff: DiffResult = {
  base: 'HEAD', truncated: false, filesTruncated: false, additions: 2, deletions: 0,
  files: [
    { path: 'src/app.ts', status: 'modified', additions: 1, deletions: 0, binary: false, lockfile: false },
    { path: 'deploy/.env.production', status: 'added', additions: 1, deletions: 0, binary: false, lockfile: false },
  ],
  diff: [
    'diff --git a/src/app.ts b/src/app.ts', '+const token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";', '+export const x = 1;',
    'diff --git a/deploy/.env.production b/deploy/.env.production', '+DB_PASSWORD=hunter2', '',
  ].join('\n'),
};

/** Answers with `answer` after `delayMs`, and keeps the prompt it was sent. */
class ScriptedProvider implements Provider {
  readonly id = 'claude' as const;
  prompts: TurnOptions[] = [];
  constructor(private readonly answer: string) {}
  async startTurn(options: TurnOptions): Promise<Turn> {
    this.prompts.push(options);
    const answer = this.answer;
    return {
      pid: null,
      kill: async () => undefined,
      events: (async function* () {
        yield { type: 'text' as const, content: answer };
        yield { type: 'result' as const, success: true };
        yield { type: 'done' as const };
      })(),
    };
  }
}

const service = (provider: Provider, timeoutMs?: number) =>
  new CommitMessages({ git: { diff: async () => diff }, providers: new ProviderRegistry([provider]), dataDir, log: pino({ level: 'silent' }), timeoutMs });

test('the model sees neither the secret file nor credential-looking values, in an empty folder with the read profile', async () => {
  const provider = new ScriptedProvider('{"title": "Export x", "description": "Adds x."}');
  const message = await service(provider).write({ ticketId: 'T-1', cwd: '/nowhere', signal: new AbortController().signal });
  assert.deepEqual(message, { title: 'Export x', description: 'Adds x.', source: 'claude', excludedFiles: ['deploy/.env.production'] });
  const [sent] = provider.prompts;
  assert.match(sent.prompt, /export const x = 1/);
  for (const secret of ['hunter2', '.env.production', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789']) assert.equal(sent.prompt.includes(secret), false, secret);
  assert.equal(sent.confinement.level, 'read');
  assert.equal(sent.cwd, join(dataDir, 'chats', 'commit-message'));
  assert.equal(sent.model, 'haiku');
});

test('a turn slower than the timeout gives the default message (title from the ticket, the changed files)', async () => {
  const started = Date.now();
  const message = await service(new FakeProvider({ deltas: 100_000, intervalMs: 5 }), 300).write({
    ticketId: 'T-2', cwd: '/nowhere', signal: new AbortController().signal,
  });
  assert.ok(Date.now() - started < 5_000, 'it did not wait for the turn');
  assert.equal(message.source, 'default');
  assert.equal(message.title, 'Work on T-2');
  assert.match(message.description, /src\/app\.ts/);
});

test('an answer without a {title, description} object gives the default', async () => {
  const message = await service(new ScriptedProvider('Sure! Here is a message: fix things')).write({
    ticketId: 'T-3', cwd: '/nowhere', signal: new AbortController().signal,
  });
  assert.equal(message.source, 'default');
});

test('firstMessageObject takes the first object with both fields, past braces in prose', () => {
  assert.deepEqual(firstMessageObject('x {not json} {"a":1} {"title":" T ","description":"D"} {"title":"later","description":""}'), { title: 'T', description: 'D' });
  assert.equal(firstMessageObject('{"title": "", "description": "x"}'), null);
});

test('secret file names: env files, keys and credentials match; ordinary sources do not', () => {
  for (const name of ['.env', 'a/.env.local', 'x.ENV', 'id_rsa', 'certs/server.pem', 'tls.key', 'credentials.json', 'secrets.yaml', '.npmrc']) {
    assert.equal(isSecretFile(name), true, name);
  }
  for (const name of ['src/env.ts', 'README.md', 'keyboard.ts', 'secret-files.ts', 'docs/credentials-guide.md']) assert.equal(isSecretFile(name), false, name);
});
