// The agents' environment: what of the gateway's environment and the user's settings an
// agent CLI gets, proved on the real claude and codex CLIs (inside the real sandbox where
// bubblewrap is installed) against the mock model API.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { openDatabase, type Db } from '../store/database.js';
import { SettingsStore } from '../store/settings.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { AgentEnvironment, AGENT_ENV_SETTING, handedOverEnvironment, type AgentEnvPatch, type AgentEnvSecrets } from './agent-env.js';
import { ClaudeProvider } from './claude.js';
import { CodexProvider } from './codex.js';
import { Confiner } from './confinement.js';
import { claudeTestConfig, codexTestConfig, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from './testing/cli-env.js';
import { collect, ofType } from './testing/events.js';
import { MockModelApi } from './testing/mock-model-api.js';

function memorySecrets(): AgentEnvSecrets & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    get: async (name) => values.get(name) ?? null,
    set: async (name, value) => void values.set(name, value),
    delete: async (name) => void values.delete(name),
  };
}

let root: string;
let db: Db;
let settings: SettingsStore;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'agent-env-'));
  db = openDatabase(join(root, 'symphony.db'));
  settings = new SettingsStore(db);
});
after(() => {
  db.close();
  rmSync(root, { recursive: true, force: true });
});

test('the default allowlist is copied from the environment, nothing else is; user values and added names join it', async () => {
  settings.delete(AGENT_ENV_SETTING);
  const secrets = memorySecrets();
  const inherited = {
    DISABLE_TELEMETRY: '1', HTTPS_PROXY: 'http://proxy:3128', NODE_EXTRA_CA_CERTS: '/etc/ca.pem', CLAUDE_CODE_MAX_RETRIES: '3',
    ANTHROPIC_BASE_URL: 'http://model', OPENAI_API_KEY: 'sk-openai', UNLISTED: 'no', GH_TOKEN: 'ghp-no', SYMPHONY_GATEWAY_TOKEN: 'no', EXTRA_ONE: 'yes',
  };
  const env = new AgentEnvironment({ settings, secrets, inherited, homeDir: root });
  assert.deepEqual(await env.forCli('claude'), {
    DISABLE_TELEMETRY: '1', HTTPS_PROXY: 'http://proxy:3128', NODE_EXTRA_CA_CERTS: '/etc/ca.pem', CLAUDE_CODE_MAX_RETRIES: '3', ANTHROPIC_BASE_URL: 'http://model',
  });
  assert.equal((await env.forCli('codex')).OPENAI_API_KEY, 'sk-openai');
  assert.equal((await env.forCli('claude')).OPENAI_API_KEY, undefined, "one CLI's key never reaches the other");

  await env.update({ set: { MY_SETTING: 'hello', ANTHROPIC_API_KEY: 'sk-ant-secret-1' }, pass: ['EXTRA_ONE'] });
  const claude = await env.forCli('claude');
  assert.equal(claude.MY_SETTING, 'hello');
  assert.equal(claude.ANTHROPIC_API_KEY, 'sk-ant-secret-1');
  assert.equal(claude.EXTRA_ONE, 'yes');
  assert.equal(secrets.values.get('agent-env-ANTHROPIC_API_KEY'), 'sk-ant-secret-1', 'a credential-like value lives in the secret store');
  assert.doesNotMatch(JSON.stringify(settings.get(AGENT_ENV_SETTING)), /sk-ant-secret-1/, 'and never in SQLite');
  const view = env.view();
  assert.doesNotMatch(JSON.stringify(view), /sk-ant-secret-1|sk-openai/, 'the view never shows a secret value');
  assert.deepEqual(view.entries.find((entry) => entry.name === 'ANTHROPIC_API_KEY'), { name: 'ANTHROPIC_API_KEY', source: 'setting', secret: true, value: null });
  assert.deepEqual(view.pass, ['EXTRA_ONE']);

  await env.update({ unset: ['ANTHROPIC_API_KEY', 'EXTRA_ONE', 'MY_SETTING'] });
  assert.deepEqual(Object.keys(await env.forCli('claude')).sort(), ['ANTHROPIC_BASE_URL', 'CLAUDE_CODE_MAX_RETRIES', 'DISABLE_TELEMETRY', 'HTTPS_PROXY', 'NODE_EXTRA_CA_CERTS']);
  assert.equal(secrets.values.size, 0);
});

test('names that would undo the confinement or are ours are refused, naming the field, and nothing is written', async () => {
  settings.delete(AGENT_ENV_SETTING);
  const env = new AgentEnvironment({ settings, secrets: memorySecrets(), inherited: {} });
  const cases: Array<[AgentEnvPatch, string]> = [
    [{ set: { OK_NAME: 'x', LD_PRELOAD: '/evil.so' } }, 'agentEnv.set.LD_PRELOAD'],
    [{ set: { HOME: '/' } }, 'agentEnv.set.HOME'],
    [{ pass: ['SYMPHONY_GATEWAY_TOKEN'] }, 'agentEnv.pass.0'],
    [{ set: { 'BAD-NAME': 'x' } }, 'agentEnv.set.BAD-NAME'],
    [{ set: { NUL: 'a\0b' } }, 'agentEnv.set.NUL'],
  ];
  for (const [patch, field] of cases) {
    await assert.rejects(env.update(patch), (error: { status: number; details: { issues: Array<{ field: string }> } }) => {
      assert.equal(error.status, 400);
      assert.equal(error.details.issues[0].field, field);
      return true;
    });
  }
  assert.equal(settings.get(AGENT_ENV_SETTING), undefined, 'a refused patch wrote nothing');
});

test("a custom codex provider's env_key joins codex's allowlist", async () => {
  const codexHome = join(root, 'codex-home');
  mkdirSync(codexHome, { recursive: true });
  writeFileSync(join(codexHome, 'config.toml'), '[model_providers.corp]\nname = "corp"\nbase_url = "https://llm.corp/v1"\nenv_key = "CORP_LLM_KEY"\n');
  const env = new AgentEnvironment({ settings, secrets: memorySecrets(), inherited: { CODEX_HOME: codexHome, CORP_LLM_KEY: 'k-1' } });
  assert.equal((await env.forCli('codex')).CORP_LLM_KEY, 'k-1');
  assert.equal((await env.forCli('claude')).CORP_LLM_KEY, undefined);
  assert.ok(env.view().cliNames.codex.includes('CORP_LLM_KEY'));
});

test("a run host's environment: the handed-over part plus the settings it reads at each start", async () => {
  settings.delete(AGENT_ENV_SETTING);
  const gateway = new AgentEnvironment({ settings, secrets: memorySecrets(), inherited: { DISABLE_TELEMETRY: '1', UNLISTED: 'x' } });
  await gateway.update({ set: { OPENAI_API_KEY: 'sk-o-2' } });
  const handover = await gateway.handover();
  assert.deepEqual(handover, { inherited: { DISABLE_TELEMETRY: '1' }, secrets: { 'agent-env-OPENAI_API_KEY': 'sk-o-2' } });
  const host = handedOverEnvironment(settings, handover);
  assert.deepEqual(await host.forCli('codex'), { DISABLE_TELEMETRY: '1', OPENAI_API_KEY: 'sk-o-2' });
  await gateway.update({ set: { LATER: 'on' } });
  assert.equal((await host.forCli('codex')).LATER, 'on', 'a setting changed after launch reaches the next start');
});

describe('the real CLIs get the agent environment (and the log only names it)', () => {
  let api: MockModelApi;
  let dirs: TestDirs;
  let supervisor: Supervisor;
  const logged: string[] = [];

  before(async () => {
    api = await MockModelApi.start();
    dirs = makeTestDirs('agent-env');
    supervisor = new Supervisor({ extraSearchDirs: [NODE_MODULES_BIN], graceMs: 1000 });
  });
  after(async () => {
    await supervisor.stopAll();
    await api.close();
    dirs.cleanup();
  });

  function confiner(environment: AgentEnvironment): Confiner {
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (logged.push(chunk.toString()), done()) });
    return new Confiner({ environment, log: pino({ level: 'debug' }, sink) });
  }

  test('claude: its API key from the settings (secret store) reaches the model API; Bash sees the allowlist and nothing else', async () => {
    settings.delete(AGENT_ENV_SETTING);
    const environment = new AgentEnvironment({ settings, secrets: memorySecrets(), inherited: { DISABLE_TELEMETRY: '1', UNLISTED_VAR: 'leak-1', GITHUB_TOKEN: 'ghp-leak-2' } });
    await environment.update({ set: { ANTHROPIC_API_KEY: 'sk-ant-from-settings', MY_SETTING: 'hello-agent' } });
    const base = claudeTestConfig(api, dirs.homes);
    const { ANTHROPIC_API_KEY: _dropped, ...env } = base.env!;
    const claude = new ClaudeProvider(supervisor, { ...base, env, confiner: confiner(environment) });
    const before = api.modelRequests().length;
    api.script({ kind: 'tool', name: 'Bash', input: { command: 'env', description: 'env' } }, { kind: 'text', text: 'done' });
    const events = await collect(
      await claude.startTurn({ prompt: 'go', cwd: dirs.cwd, confinement: { level: 'write', root: dirs.cwd }, signal: new AbortController().signal, onApproval: async () => 'allow' }),
    );
    assert.deepEqual(events.at(-1), { type: 'done' });
    const sent = api.modelRequests().slice(before);
    assert.ok(sent.length >= 1 && sent.every((request) => request.headers['x-api-key'] === 'sk-ant-from-settings'), 'the key set in the settings is the one claude used');
    const shown = ofType(events, 'tool_result')[0]?.content ?? '';
    assert.match(shown, /^MY_SETTING=hello-agent$/m);
    assert.match(shown, /^DISABLE_TELEMETRY=1$/m);
    assert.doesNotMatch(shown, /leak-1|ghp-leak-2/);
    assert.ok(logged.some((line) => line.includes('MY_SETTING')), 'the start is logged with the names');
    assert.doesNotMatch(logged.join(''), /sk-ant-from-settings|hello-agent/, 'values never reach the log');
  });

  test("the user's GH_TOKEN/GITHUB_TOKEN in the gateway's own environment (they go to gh) never reach an agent or its tools", async () => {
    settings.delete(AGENT_ENV_SETTING);
    const saved = { GH_TOKEN: process.env.GH_TOKEN, GITHUB_TOKEN: process.env.GITHUB_TOKEN };
    Object.assign(process.env, { GH_TOKEN: 'ghp-user-login-1', GITHUB_TOKEN: 'ghp-user-login-2' });
    try {
      const environment = new AgentEnvironment({ settings, secrets: memorySecrets() });
      assert.equal((await environment.forCli('claude')).GH_TOKEN, undefined);
      const claude = new ClaudeProvider(supervisor, { ...claudeTestConfig(api, dirs.homes), confiner: confiner(environment) });
      api.script({ kind: 'tool', name: 'Bash', input: { command: 'env', description: 'env' } }, { kind: 'text', text: 'done' });
      const events = await collect(
        await claude.startTurn({ prompt: 'go', cwd: dirs.cwd, confinement: { level: 'write', root: dirs.cwd }, signal: new AbortController().signal, onApproval: async () => 'allow' }),
      );
      assert.deepEqual(events.at(-1), { type: 'done' });
      const shown = ofType(events, 'tool_result')[0]?.content ?? '';
      assert.match(shown, /^PATH=/m, 'the tool did print its environment');
      assert.doesNotMatch(shown, /ghp-user-login|GH_TOKEN|GITHUB_TOKEN/);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  test("codex: the custom provider's env_key, set only in the gateway's environment, reaches the model API", async () => {
    const base = codexTestConfig(api, dirs.homes);
    const { MOCK_MODEL_API_KEY: _dropped, ...env } = base.env!;
    const environment = new AgentEnvironment({ settings, secrets: memorySecrets(), inherited: { MOCK_MODEL_API_KEY: 'mock-key-from-env', CODEX_HOME: env.CODEX_HOME } });
    const codex = new CodexProvider(supervisor, { ...base, env, confiner: confiner(environment) });
    const before = api.modelRequests().length;
    api.script({ kind: 'text', text: 'hello' });
    const events = await collect(
      await codex.startTurn({ prompt: 'go', cwd: dirs.cwd, confinement: { level: 'read', root: dirs.cwd }, signal: new AbortController().signal }),
    );
    assert.deepEqual(events.at(-1), { type: 'done' });
    const sent = api.modelRequests().slice(before);
    assert.ok(sent.length >= 1 && sent.every((request) => request.headers.authorization === 'Bearer mock-key-from-env'));
  });
});
