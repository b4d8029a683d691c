import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanEnv } from './env.js';
import { Supervisor, type SupervisedChild } from './supervisor.js';

const SECRETS: Record<string, string> = {
  SYMPHONY_GATEWAY_TOKEN: 'sym-gateway-secret-1',
  SYMPHONY_DATA_DIR: '/secret/data/dir',
  GH_TOKEN: 'ghp-secret-2',
  MY_API_KEY: 'api-secret-3',
  AWS_SECRET_ACCESS_KEY: 'aws-secret-4',
  UNRELATED_SETTING: 'not-on-the-allowlist-5',
};

/** Puts our fake secrets into this process's environment for the duration of one test. */
function withSecrets(t: { after: (fn: () => void) => void }): void {
  for (const [name, value] of Object.entries(SECRETS)) process.env[name] = value;
  t.after(() => {
    for (const name of Object.keys(SECRETS)) delete process.env[name];
  });
}

async function output(child: SupervisedChild): Promise<string> {
  const lines: string[] = [];
  for await (const entry of child.lines()) lines.push(entry.line);
  return lines.join('\n');
}

function assertClean(envText: string): void {
  for (const value of Object.values(SECRETS)) assert.ok(!envText.includes(value), `child saw ${value}`);
  assert.match(envText, /^PATH=/m);
  assert.match(envText, /^HOME=/m);
}

test('run() children get no token, secret or unlisted variable', async (t) => {
  withSecrets(t);
  const result = await new Supervisor().run('env', []);
  assert.equal(result.exitCode, 0);
  assertClean(result.stdout);
});

test('start() children get no token either, but do get what the caller passes on purpose', async (t) => {
  withSecrets(t);
  const child = await new Supervisor().start({
    command: 'env',
    args: [],
    cwd: process.cwd(),
    stdin: 'ignore',
    label: 'env',
    env: { ANTHROPIC_API_KEY: 'test', CLAUDE_CONFIG_DIR: '/tmp/claude-config' },
  });
  const text = await output(child);
  assertClean(text);
  assert.match(text, /^ANTHROPIC_API_KEY=test$/m);
  assert.match(text, /^CLAUDE_CONFIG_DIR=\/tmp\/claude-config$/m);
});

test('the allowlist keeps locale and XDG variables and drops credential-like names', () => {
  const env = cleanEnv(
    {},
    { PATH: '/bin', LC_ALL: 'C.UTF-8', XDG_CONFIG_HOME: '/x', HOME: '/h', GITHUB_TOKEN: 't', XDG_SESSION_TOKEN: 't', EDITOR: 'vi' },
  );
  assert.deepEqual(env, { PATH: '/bin', LC_ALL: 'C.UTF-8', XDG_CONFIG_HOME: '/x', HOME: '/h' });
});

test('a caller cannot hand a SYMPHONY_* variable to a child', async () => {
  assert.throws(() => cleanEnv({ SYMPHONY_SESSION_TOKEN: 'x' }), /SYMPHONY_/);
  await assert.rejects(new Supervisor().run('env', [], { env: { SYMPHONY_X: 'y' } }), /SYMPHONY_/);
});
