import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { AppError } from '../errors.js';
import { openDatabase } from '../store/database.js';
import { SettingsStore } from '../store/settings.js';
import { Supervisor } from './supervisor.js';
import { tempDir, writeScript } from './test-support.js';

const NODE_BIN = resolve('node_modules/.bin');

function settingsIn(dir: string, t: { after: (fn: () => void) => void }): SettingsStore {
  const db = openDatabase(join(dir, 'db.sqlite'));
  t.after(() => db.close());
  return new SettingsStore(db);
}

/** Runs the test with our PATH replaced (the resolver reads it on each call). */
function withPath(t: { after: (fn: () => void) => void }, path: string): void {
  const saved = process.env.PATH;
  process.env.PATH = path;
  t.after(() => (process.env.PATH = saved));
}

/** And with $SHELL pointing at a fake login shell. */
function withShell(t: { after: (fn: () => void) => void }, shell: string | undefined): void {
  const saved = process.env.SHELL;
  if (shell === undefined) delete process.env.SHELL;
  else process.env.SHELL = shell;
  t.after(() => (saved === undefined ? delete process.env.SHELL : (process.env.SHELL = saved)));
}

test('an override from settings wins, with its version', async (t) => {
  const dir = tempDir(t);
  const fakeGh = writeScript(join(dir, 'my-gh'), 'echo "gh version 9.9.9 (fake)"');
  const settings = settingsIn(dir, t);
  settings.set('binaryPaths', { gh: fakeGh });
  const supervisor = new Supervisor({ settings });
  assert.deepEqual(await supervisor.binaries.describe('gh'), { name: 'gh', path: fakeGh, source: 'override', version: 'gh version 9.9.9 (fake)' });
  const result = await supervisor.run('gh', ['--version']);
  assert.equal(result.stdout, 'gh version 9.9.9 (fake)\n', 'run() resolves a bare managed name');
});

test('claude and codex resolve from an extra search dir (node_modules/.bin) and report their versions', async () => {
  const supervisor = new Supervisor({ extraSearchDirs: [NODE_BIN] });
  const claude = await supervisor.binaries.describe('claude');
  assert.equal(claude.path, join(NODE_BIN, 'claude'));
  assert.equal(claude.source, 'path');
  assert.match(claude.version ?? '', /Claude Code/);
  const codex = await supervisor.binaries.resolve('codex');
  assert.deepEqual(codex, { name: 'codex', path: join(NODE_BIN, 'codex'), source: 'path', note: undefined });
});

test("falls back to the login shell's PATH, reading it past any banner its rc files print", async (t) => {
  const dir = tempDir(t);
  const shellBin = join(dir, 'shell-bin');
  mkdirSync(shellBin);
  writeScript(join(shellBin, 'python3'), 'echo "Python 3.99.0"');
  // `$SHELL -lic SCRIPT`: print a banner, then run SCRIPT with the PATH a login shell would set.
  const fakeShell = writeScript(join(dir, 'fake-shell'), `echo "Welcome!"\nPATH=${shellBin}:/usr/bin:/bin; export PATH\nexec /bin/sh -c "$2"`);
  withPath(t, join(dir, 'empty'));
  withShell(t, fakeShell);
  const supervisor = new Supervisor();
  const python = await supervisor.binaries.describe('python3');
  assert.deepEqual(python, { name: 'python3', path: join(shellBin, 'python3'), source: 'login-shell', note: undefined, version: 'Python 3.99.0' });
  assert.equal(await supervisor.binaries.loginShellPath(), `${shellBin}:/usr/bin:/bin`);
  const result = await supervisor.run('sh', ['-c', 'echo $PATH']);
  assert.equal(result.stdout, `${shellBin}:/usr/bin:/bin\n`, 'other bare names resolve there too, and the child gets that PATH');
});

test('missing everywhere: source missing, and running it is a 424', async (t) => {
  const dir = tempDir(t);
  withPath(t, join(dir, 'empty'));
  withShell(t, undefined);
  const supervisor = new Supervisor();
  assert.deepEqual(await supervisor.binaries.describe('codex'), { name: 'codex', path: null, source: 'missing', note: undefined, version: null });
  await assert.rejects(supervisor.run('codex', ['--version']), (error: unknown) => error instanceof AppError && error.status === 424);
});

test('an unusable or malformed override is ignored, never thrown', async (t) => {
  const dir = tempDir(t);
  const notExecutable = join(dir, 'git');
  writeFileSync(notExecutable, 'not a program');
  chmodSync(notExecutable, 0o644);
  const settings = settingsIn(dir, t);
  settings.set('binaryPaths', { git: notExecutable, claude: 'relative/claude', nonsense: '/bin/sh' });
  const supervisor = new Supervisor({ settings });
  const git = await supervisor.binaries.resolve('git');
  assert.equal(git.source, 'path');
  assert.match(git.note ?? '', /not an executable/);
  assert.deepEqual(supervisor.binaries.overrides(), { git: notExecutable });
  settings.set('binaryPaths', ['/usr/bin/git']);
  assert.deepEqual(supervisor.binaries.overrides(), {});
  settings.set('binaryPaths', 'garbage');
  assert.equal((await supervisor.binaries.resolve('git')).source, 'path');
});

test('a program that does not answer --version in time has no version', async (t) => {
  const dir = tempDir(t);
  const slow = writeScript(join(dir, 'slow'), 'sleep 30');
  const supervisor = new Supervisor({ graceMs: 200 });
  const started = Date.now();
  assert.equal(await supervisor.binaries.version(slow, 300), null);
  assert.ok(Date.now() - started < 2_000);
});

test('a login shell that hangs is given up on after its timeout (and its tree killed)', async (t) => {
  const dir = tempDir(t);
  const hangingShell = writeScript(join(dir, 'hanging-shell'), '/bin/sleep 30');
  withPath(t, join(dir, 'empty'));
  withShell(t, hangingShell);
  const supervisor = new Supervisor({ loginShellTimeoutMs: 300, graceMs: 200 });
  const started = Date.now();
  assert.equal((await supervisor.binaries.resolve('gh')).source, 'missing');
  assert.ok(Date.now() - started < 2_000);
  assert.deepEqual(supervisor.list(), []);
});

/** A login shell that takes `seconds` (an nvm or oh-my-zsh rc file), counts its runs in `runs`, then reports `path`. */
function slowShell(dir: string, seconds: number, path: string): { shell: string; runs: () => number } {
  const runs = join(dir, 'shell-runs');
  const shell = writeScript(join(dir, 'slow-shell'), `echo run >> ${runs}\n/bin/sleep ${seconds}\nPATH=${path}; export PATH\nexec /bin/sh -c "$2"`);
  return { shell, runs: () => (existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean).length : 0) };
}

test('a slow login shell (4 s, past the old 3 s limit): the background probe runs once and the CLIs are found, not missing', async (t) => {
  const dir = tempDir(t);
  const shellBin = join(dir, 'shell-bin');
  mkdirSync(shellBin);
  writeScript(join(shellBin, 'claude'), 'echo "9.9.9 (Claude Code)"');
  writeScript(join(shellBin, 'python3'), 'echo "Python 3.99.0"');
  const { shell, runs } = slowShell(dir, 4, `${shellBin}:/usr/bin:/bin`);
  withPath(t, join(dir, 'empty'));
  withShell(t, shell);
  const supervisor = new Supervisor();
  const started = Date.now();
  supervisor.binaries.probeLoginShell();
  // While the probe runs: what /health-check asks (describe), and an agent start (run by bare name), both wait for it.
  const [claude, python, ran] = await Promise.all([
    supervisor.binaries.describe('claude'),
    supervisor.binaries.resolve('python3'),
    supervisor.run('claude', ['--version']),
  ]);
  const waited = Date.now() - started;
  assert.deepEqual(claude, { name: 'claude', path: join(shellBin, 'claude'), source: 'login-shell', note: undefined, version: '9.9.9 (Claude Code)' });
  assert.equal(python.source, 'login-shell');
  assert.equal(ran.stdout, '9.9.9 (Claude Code)\n');
  assert.ok(waited >= 3_500 && waited < 10_000, `waited ${waited} ms: for the probe, bounded by its 10 s`);
  // Cached: later lookups do not ask the shell again.
  const again = Date.now();
  assert.equal((await supervisor.binaries.resolve('claude')).source, 'login-shell');
  assert.ok(Date.now() - again < 1_000);
  supervisor.binaries.probeLoginShell();
  await supervisor.binaries.loginShellPath();
  assert.equal(runs(), 1, 'the login shell ran once');
  assert.equal(supervisor.binaries.loginShellProbes, 1);
});

test('a login shell slower than the limit: missing within the limit, not asked again on every lookup, asked again after the retry delay', async (t) => {
  const dir = tempDir(t);
  const { shell, runs } = slowShell(dir, 30, '/nowhere');
  withPath(t, join(dir, 'empty'));
  withShell(t, shell);
  const supervisor = new Supervisor({ loginShellTimeoutMs: 400, loginShellRetryMs: 1_500, graceMs: 200 });
  const started = Date.now();
  assert.equal((await supervisor.binaries.resolve('codex')).source, 'missing');
  assert.ok(Date.now() - started < 3_000, 'bounded by the limit');
  assert.equal((await supervisor.binaries.resolve('gh')).source, 'missing');
  assert.equal(runs(), 1, 'a failure is cached too');
  await new Promise((resolve) => setTimeout(resolve, 1_600));
  assert.equal((await supervisor.binaries.resolve('gh')).source, 'missing');
  assert.equal(runs(), 2, 'asked again once the retry delay passed');
  assert.deepEqual(supervisor.list(), []);
});
