// /health-check of a GUI-launched gateway (the CLIs are not on its PATH, only on the login
// shell's) while the background login-shell probe is still running: a shell that answers
// within the check's budget makes the rows pass; a slower one gives "check again", never
// "not installed", and the next check after the probe finds the CLI.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeScript } from '../supervisor/test-support.js';
import { startTestGateway, type TestGateway } from './testing.js';

const APP = 'https://app.example.test';
let dir: string;
const saved = { PATH: process.env.PATH, SHELL: process.env.SHELL };

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'symphony-login-shell-'));
  const shellBin = join(dir, 'shell-bin');
  mkdirSync(shellBin);
  writeScript(join(shellBin, 'claude'), 'echo "9.9.9 (Claude Code)"');
  // The login shell sleeps SLEEP seconds (read from a file, so each gateway's probe can differ).
  writeScript(join(dir, 'slow-shell'), `/bin/sleep "$(/bin/cat ${join(dir, 'sleep')})"\nPATH=${shellBin}:/usr/bin:/bin; export PATH\nexec /bin/sh -c "$2"`);
  process.env.PATH = join(dir, 'empty');
  process.env.SHELL = join(dir, 'slow-shell');
});

after(() => {
  process.env.PATH = saved.PATH;
  if (saved.SHELL === undefined) delete process.env.SHELL;
  else process.env.SHELL = saved.SHELL;
  rmSync(dir, { recursive: true, force: true });
});

async function gatewayWithProbe(sleepSeconds: number): Promise<{ gw: TestGateway; check: () => Promise<{ ms: number; claude: Record<string, unknown> }> }> {
  writeFileSync(join(dir, 'sleep'), String(sleepSeconds));
  const gw = await startTestGateway();
  gw.services.supervisor.binaries.probeLoginShell();
  const session = await gw.pair(APP);
  const check = async () => {
    const started = performance.now();
    const res = await gw.request('/api/gateway/health-check', { auth: { session, origin: APP } });
    assert.equal(res.status, 200, res.text);
    return { ms: performance.now() - started, claude: res.json.checks.find((row: { id: string }) => row.id === 'claude-cli') };
  };
  return { gw, check };
}

test('a login shell slower than the old 3 s limit but within the check budget: /health-check waits and finds claude', async () => {
  const { gw, check } = await gatewayWithProbe(1.5);
  try {
    const { ms, claude } = await check();
    assert.equal(claude.passed, true, JSON.stringify(claude));
    assert.equal(claude.version, '9.9.9 (Claude Code)');
    assert.ok(ms < 4_000, `took ${Math.round(ms)} ms; the web client aborts at 5 s`);
  } finally {
    await gw.close();
  }
});

test('a login shell slower than the check budget: "check again", not "not found", then found once the probe is done', async () => {
  const { gw, check } = await gatewayWithProbe(4);
  try {
    const first = await check();
    assert.ok(first.ms < 4_000, `took ${Math.round(first.ms)} ms; the web client aborts at 5 s`);
    assert.equal(first.claude.passed, false, JSON.stringify(first.claude));
    assert.match(String(first.claude.error), /Still reading your login shell's PATH/);
    assert.equal((first.claude.debug as Record<string, string>).errorCode, 'login_shell_pending');
    assert.match(String(first.claude.remediation), /Check again/);
    assert.equal(await gw.services.supervisor.binaries.loginShellPath(), `${join(dir, 'shell-bin')}:/usr/bin:/bin`);
    const second = await check();
    assert.equal(second.claude.passed, true, JSON.stringify(second.claude));
    assert.equal(gw.services.supervisor.binaries.loginShellProbes, 1, 'the login shell ran once');
  } finally {
    await gw.close();
  }
});
