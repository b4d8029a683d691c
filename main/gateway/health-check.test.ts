// GET /health-check as the web client reads it (rows, ids, order, absent-not-null,
// mcpServers from the CLIs' own configuration, well under its 5 s budget), and the
// per-operation telemetry that moved to the desktop-only /desktop/telemetry.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HealthCheckResponse } from '../../shared/schemas/gateway.js';
import { createFakeGh, type FakeGh } from '../git/testing/fake-gh.js';
import { defaultReadinessChecks } from '../health/checks.js';
import { findOnPath } from '../providers/os-sandbox.js';
import { startTestGateway, type TestGateway } from './testing.js';

const APP = 'https://app.example.test';
const MCP_URL = 'https://mcp.example.test/mcp';
const BIN = path.resolve('node_modules/.bin');
const sandboxSkip =
  process.platform !== 'linux' || !findOnPath('bwrap', `${process.env.PATH}:/usr/bin`) || !findOnPath('socat', `${process.env.PATH}:/usr/bin`)
    ? 'bubblewrap and socat are not installed here (apt install bubblewrap socat)'
    : false;
if (sandboxSkip) console.log(`# agent-sandbox row test skipped: ${sandboxSkip}`);

describe('GET /api/gateway/health-check', () => {
  let gw: TestGateway;
  let fake: FakeGh;
  let session: string;
  let homes: string;
  const saved = { claude: process.env.CLAUDE_CONFIG_DIR, codex: process.env.CODEX_HOME };

  const check = (query = '') => gw.request(`/api/gateway/health-check${query}`, { auth: { session, origin: APP } });

  before(async () => {
    fake = await createFakeGh();
    await fake.answer([
      { args: ['--version'], stdout: 'gh version 2.60.0 (2024-10-01)\n' },
      { args: ['auth', 'status'], stderr: 'You are not logged into any GitHub hosts. To log in, run: gh auth login\n', exitCode: 1 },
    ]);
    homes = await mkdtemp(path.join(tmpdir(), 'symphony-mcp-'));
    await mkdir(path.join(homes, 'claude'));
    await mkdir(path.join(homes, 'codex'));
    await writeFile(
      path.join(homes, 'claude', '.claude.json'),
      JSON.stringify({ mcpServers: { other: { type: 'stdio', command: 'x' } }, projects: { '/p': { mcpServers: { symphony: { type: 'http', url: `${MCP_URL}/` } } } } }),
    );
    await writeFile(path.join(homes, 'codex', 'config.toml'), '[mcp_servers.elsewhere]\nurl = "https://other.example.test/mcp"\n');
    process.env.CLAUDE_CONFIG_DIR = path.join(homes, 'claude');
    process.env.CODEX_HOME = path.join(homes, 'codex');
    gw = await startTestGateway({
      binarySearchDirs: [BIN],
      configure: async (services) => {
        await services.setWorkspaceRoot(homes);
        services.settings.set('binaryPaths', { gh: fake.path });
      },
    });
    session = await gw.pair(APP);
  });
  after(async () => {
    await gw.close();
    await fake.close();
    await rm(homes, { recursive: true, force: true });
    for (const [name, value] of [['CLAUDE_CONFIG_DIR', saved.claude], ['CODEX_HOME', saved.codex]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  test('answers the rows the client keys on, in order, with optional fields absent (never null)', async () => {
    const started = performance.now();
    const res = await check(`?expectedMcpUrl=${encodeURIComponent(MCP_URL)}&pluginAutoUpdate=1`);
    const elapsed = performance.now() - started;
    assert.equal(res.status, 200, res.text);
    assert.ok(elapsed < 4000, `health-check took ${Math.round(elapsed)} ms; the client aborts at 5 s`);
    HealthCheckResponse.strict().parse(res.json);
    const ids = res.json.checks.map((row: { id: string }) => row.id);
    // The original's rows in its order, ours appended last.
    assert.deepEqual(ids, ['git', 'claude-cli', 'gh-cli', 'gh-auth', 'worktree-dir', 'codex', 'python3', 'agent-sandbox']);
    for (const row of res.json.checks) {
      for (const key of ['version', 'error', 'remediation', 'debug', 'remediationLinks']) {
        assert.notEqual(row[key], null, `${row.id}.${key} is null`);
      }
      assert.equal(typeof row.label, 'string');
      assert.ok(row.label.length > 0);
    }
    const byId = Object.fromEntries(res.json.checks.map((row: { id: string }) => [row.id, row]));
    assert.deepEqual(
      Object.fromEntries(Object.entries(byId).map(([id, row]) => [id, (row as { required: boolean }).required])),
      { git: true, 'claude-cli': true, 'gh-cli': true, 'gh-auth': true, 'worktree-dir': true, codex: false, python3: true, 'agent-sandbox': false },
    );
    assert.equal(byId.git.passed, true);
    assert.match(byId.git.version, /git version/);
    assert.equal(byId['claude-cli'].passed, true, JSON.stringify(byId['claude-cli']));
    assert.equal(byId['gh-cli'].version, 'gh version 2.60.0 (2024-10-01)');
    // gh is there but not logged in: a failing required row with one actionable sentence.
    assert.deepEqual([byId['gh-auth'].passed, byId['gh-auth'].remediation], [false, 'Run `gh auth login` in a terminal, then check again.']);
    assert.equal(byId['worktree-dir'].passed, false);
    assert.ok(!('version' in byId['worktree-dir']));
    assert.equal(res.json.allRequiredPassed, false);
    assert.ok(!ids.some((id: string) => id.startsWith('plugin-') || id.endsWith('-mcp')));

    // MCP from the CLIs' own configuration: claude has it (per project, trailing slash), codex has another URL.
    assert.deepEqual({ ...res.json.mcpServers.claude, checkedAt: undefined }, { available: true, serverName: 'symphony', matchedUrl: `${MCP_URL}/`, checkedAt: undefined });
    assert.ok(!Number.isNaN(Date.parse(res.json.mcpServers.claude.checkedAt)));
    assert.equal(res.json.mcpServers.codex.available, false);
    assert.equal(res.json.mcpServers.codex.serverName, null);
    assert.equal(res.json.mcpServers.codex.matchedUrl, null);
    assert.equal(typeof res.json.mcpServers.codex.error, 'string');
  });

  test('worktree-dir passes once the folder is set and confirmed, with the folder as its version', async () => {
    const dir = path.join(homes, 'worktrees');
    await gw.services.repos.setWorktreeSettings({ worktreeParentDir: dir, worktreeParentDirConfirmed: true });
    const row = (await check()).json.checks.find((r: { id: string }) => r.id === 'worktree-dir');
    assert.deepEqual([row.passed, row.version], [true, dir]);
  });

  test('adds app-version only with latestVersion; it fails when ours is older', async () => {
    const ours = gw.services.version;
    const older = await check('?latestVersion=0.0.1');
    const row = older.json.checks.at(-2);
    assert.equal(older.json.checks.at(-1).id, 'agent-sandbox', 'ours stays last');
    assert.deepEqual([row.id, row.label, row.required, row.passed, row.version], ['app-version', 'Gateway Version', true, true, ours]);
    const newer = (await check('?latestVersion=v999.0.0')).json.checks.at(-2);
    assert.deepEqual([newer.id, newer.passed], ['app-version', false]);
    assert.match(newer.remediation, /Update Symphony Desktop to v999\.0\.0/);
  });

  test('agent-sandbox (ours, last, not required): passes with bwrap and socat and confinement on; says so when off', { skip: sandboxSkip }, async () => {
    const on = (await check()).json.checks.find((r: { id: string }) => r.id === 'agent-sandbox');
    assert.deepEqual([on.label, on.required, on.passed, on.version], ['Agent sandbox', false, true, 'bubblewrap']);
    assert.match(on.debug.limitations[0], /^codex: a command you approve runs outside codex's own sandbox/);
    const off = await gw.request('/api/gateway/desktop/config', { method: 'PATCH', auth: 'token', json: { agentConfinement: { enabled: false } } });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.json.agentConfinement.enabled, false);
    try {
      const row = (await check()).json.checks.find((r: { id: string }) => r.id === 'agent-sandbox');
      assert.deepEqual([row.passed, row.version], [false, 'off']);
      assert.match(row.error, /turned off.*whole home folder/);
      assert.match(row.remediation, /--agent-confinement on/);
    } finally {
      await gw.request('/api/gateway/desktop/config', { method: 'PATCH', auth: 'token', json: { agentConfinement: { enabled: true } } });
    }
  });

  test('agent-sandbox names what to install when bwrap or socat is missing', async () => {
    const rows = defaultReadinessChecks({
      resolve: async () => ({ name: 'git', path: null, source: 'missing' }) as never, version: async () => null, run: async () => ({}) as never,
      worktreeSettings: () => ({ worktreeParentDir: null, worktreeParentDirConfirmed: false }), appVersion: '1.0.0',
      confinement: () => ({ enabled: true, osSandbox: 'bubblewrap', missing: ['bwrap', 'socat'], limitations: [] }),
    });
    const row = await rows.find((r) => r.id === 'agent-sandbox')!.run({}, new AbortController().signal);
    assert.equal(row.passed, false);
    assert.match(row.error!, /needs bwrap and socat/);
    assert.match(row.remediation!, /apt install bubblewrap.*apt install socat/);
  });

  test('a second check is quick (tool versions are cached)', async () => {
    await check();
    const started = performance.now();
    assert.equal((await check()).status, 200);
    assert.ok(performance.now() - started < 1500, 'cached health-check should take well under the 5 s budget');
  });

  test('per-operation telemetry is desktop-only at /desktop/telemetry', async () => {
    const denied = await gw.request('/api/gateway/desktop/telemetry', { auth: { session, origin: APP } });
    assert.deepEqual([denied.status, denied.json.code], [403, 'desktop_only']);
    const res = await gw.request('/api/gateway/desktop/telemetry', { auth: 'token' });
    assert.equal(res.status, 200);
    assert.equal(res.json.status, 'ok');
    assert.ok(res.json.operations.health_check.count >= 4);
    assert.equal(typeof res.json.operations.health_check.p95Ms, 'number');
  });
});
