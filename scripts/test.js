#!/usr/bin/env node
// `npm test`: every test, as it is, on a fresh clone.
// 1. Without a Secret Service (no D-Bus session) it re-runs itself inside
//    dbus-run-session with a throwaway unlocked gnome-keyring, so keytar is tested
//    for real; where those are not installed the keychain tests skip with a reason.
//    Native modules last built for Electron by `npm start` are rebuilt for Node first.
// 2. Builds (`npm run build`: the e2e and the packaging test use dist/), then runs every
//    *.test.ts under main/, shared/, scripts/, bench/ with node:test + tsx.
// 3. Runs the Playwright e2e in Debian's Chromium when both are there.
// 4. Ends with what could not run and why, then `tests: N passed, N failed, N skipped`.
//    Under CI=true a part that could not run fails the run: CI installs every part.
// Arguments narrow the run: `npm test -- main/secrets` runs the tests under that path
// (the e2e only when `e2e` or an e2e spec file is among them).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { emptyCounts, parsePlaywrightReport, parseTap } from './test-report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const UNIT_DIRS = ['main', 'shared', 'scripts', 'bench'];
const E2E_CONFIGS = ['e2e/playwright.config.ts', 'playwright.config.ts'];
const CHROMIUM = '/usr/bin/chromium';
const IN_KEYRING = 'SYMPHONY_TEST_IN_KEYRING';

const filters = process.argv.slice(2);

if (shouldStartKeyring()) {
  process.exitCode = await rerunInsideThrowawayKeyring();
} else {
  process.exitCode = await runAll();
}

function shouldStartKeyring() {
  return (
    process.platform === 'linux' &&
    !process.env.DBUS_SESSION_BUS_ADDRESS &&
    !process.env[IN_KEYRING] &&
    hasCommand('dbus-run-session') &&
    hasCommand('gnome-keyring-daemon')
  );
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** The keyring's files live in a temp XDG_DATA_HOME that is removed afterwards. */
async function rerunInsideThrowawayKeyring() {
  const keyringHome = mkdtempSync(path.join(os.tmpdir(), 'symphony-test-keyring-'));
  // If the keyring does not start, the tests still run and the keychain ones skip.
  const script =
    'echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null ' +
    '|| echo "could not start gnome-keyring-daemon" >&2; exec "$@"';
  try {
    return await run('dbus-run-session', ['--', 'sh', '-c', script, 'sh', process.execPath, ...process.argv.slice(1)], {
      env: { ...process.env, XDG_DATA_HOME: keyringHome, [IN_KEYRING]: '1' },
    });
  } finally {
    rmSync(keyringHome, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

async function runAll() {
  const rebuilt = await rebuildNativeModulesBuiltForElectron();
  if (rebuilt !== 0) return rebuilt;
  const notRun = [];
  const keychain = await keychainStatus();
  if (keychain) notRun.push(`keychain tests: ${keychain}`);

  // Only whole runs (and e2e runs) build; `npm test -- main/x` uses dist/ as it is.
  const build = wantsE2e() ? await run('npm', ['run', '--silent', 'build']) : 0;
  const unit = await runUnitTests();
  const e2e = wantsE2e() ? await runE2e(notRun, build) : emptyCounts();

  const total = {
    passed: unit.passed + e2e.passed,
    failed: unit.failed + e2e.failed,
    skipped: unit.skipped + e2e.skipped,
  };
  console.log('');
  for (const [reason, names] of [...unit.skipReasons, ...e2e.skipReasons]) {
    console.log(`skipped (${names.length}): ${reason}`);
  }
  for (const reason of notRun) console.log(`not run: ${reason}`);
  for (const failure of [...unit.failures, ...e2e.failures]) console.log(`failed: ${failure}`);
  const incompleteInCi = process.env.CI === 'true' && notRun.length > 0;
  if (incompleteInCi) console.log('CI=true: every part must run here, so the run fails.');
  console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  return total.failed > 0 || unit.exitCode !== 0 || e2e.exitCode !== 0 || incompleteInCi ? 1 : 0;
}

const NATIVE_MODULES = ['better-sqlite3', 'keytar'];

/** `npm start` compiles the native modules for Electron's ABI; the tests run on Node's. */
async function rebuildNativeModulesBuiltForElectron() {
  const require = createRequire(import.meta.url);
  const wrongAbi = (load) => {
    try {
      load();
      return false;
    } catch (error) {
      return /NODE_MODULE_VERSION/.test(String(error?.message));
    }
  };
  const mismatched =
    wrongAbi(() => new (require('better-sqlite3'))(':memory:').close()) || wrongAbi(() => require('keytar'));
  if (!mismatched) return 0;
  console.log('test: the native modules were last built for Electron (npm start); rebuilding them for Node...');
  return run('npm', ['rebuild', ...NATIVE_MODULES]);
}

/** Why the OS keychain cannot be used, or null when keytar reaches one. */
async function keychainStatus() {
  let keytar;
  try {
    const mod = await import('keytar');
    keytar = mod.default ?? mod;
  } catch (error) {
    return `keytar is not installed or did not build (${firstLine(error)})`;
  }
  try {
    await Promise.race([
      keytar.findCredentials('symphony-desktop-test-probe'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref()),
    ]);
    return null;
  } catch (error) {
    const hint = hasCommand('dbus-run-session') && hasCommand('gnome-keyring-daemon') ? '' : ' (install dbus and gnome-keyring to test it)';
    return `no Secret Service: ${firstLine(error)}${hint}`;
  }
}

function firstLine(error) {
  return String(error?.message ?? error).split('\n')[0];
}

function findTestFiles() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.isFile() && entry.name.endsWith('.test.ts')) files.push(rel);
    }
  };
  for (const dir of UNIT_DIRS) if (existsSync(path.join(ROOT, dir))) walk(dir);
  const wanted = filters.filter((f) => !isE2eFilter(f));
  return files.sort().filter((file) => filters.length === 0 || wanted.some((f) => file.startsWith(path.normalize(f))));
}

function isE2eFilter(filter) {
  return path.normalize(filter).split(path.sep)[0] === 'e2e';
}

function wantsE2e() {
  return filters.length === 0 || filters.some(isE2eFilter);
}

async function runUnitTests() {
  const files = findTestFiles();
  if (files.length === 0) return emptyCounts();
  const tapDir = mkdtempSync(path.join(os.tmpdir(), 'symphony-test-tap-'));
  const tapFile = path.join(tapDir, 'unit.tap');
  try {
    const exitCode = await run(process.execPath, [
      '--import', 'tsx',
      '--test', '--test-concurrency=2', '--test-timeout=600000',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
      ...files,
    ]);
    const counts = existsSync(tapFile) ? parseTap(readFileSync(tapFile, 'utf8'), ROOT) : emptyCounts();
    if (exitCode !== 0 && counts.failed === 0) counts.failures.push(`node --test exited with ${exitCode}`);
    return { ...counts, exitCode };
  } finally {
    rmSync(tapDir, { recursive: true, force: true });
  }
}

async function runE2e(notRun, build) {
  const config = E2E_CONFIGS.find((file) => existsSync(path.join(ROOT, file)));
  if (!config) {
    notRun.push('e2e: no Playwright config yet (e2e/playwright.config.ts)');
    return emptyCounts();
  }
  if (!existsSync(CHROMIUM)) {
    notRun.push(`e2e: ${CHROMIUM} not found (install Debian's chromium)`);
    return emptyCounts();
  }
  const counts = emptyCounts();
  // The e2e drive the built renderer (served at /ui/) and, where Electron is installed, dist/main.
  if (build !== 0) {
    counts.failed = 1;
    counts.failures.push('e2e: `npm run build` failed, so the e2e did not run');
    return { ...counts, exitCode: build };
  }
  const specs = filters.filter(isE2eFilter).filter((f) => path.normalize(f) !== 'e2e');
  const reportDir = mkdtempSync(path.join(os.tmpdir(), 'symphony-test-e2e-'));
  const report = path.join(reportDir, 'report.json');
  try {
    const exitCode = await run('npx', ['playwright', 'test', '-c', config, '--reporter=list,json', ...specs], {
      env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: report },
    });
    if (existsSync(report)) Object.assign(counts, parsePlaywrightReport(JSON.parse(readFileSync(report, 'utf8'))));
    if (exitCode !== 0 && counts.failed === 0) {
      counts.failed = 1;
      counts.failures.push(`e2e: playwright exited with ${exitCode}`);
    }
    return { ...counts, exitCode };
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
}

/**
 * Runs a command with inherited output; resolves with its exit code. The child gets a
 * process group of its own and Ctrl-C / SIGTERM are passed to that whole group, so
 * this process lives on to remove its temp dirs (dbus-run-session alone would not pass
 * a SIGTERM on to the tests).
 */
function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const windows = process.platform === 'win32';
    // npm and npx are .cmd scripts on Windows, which only a shell can start.
    const shell = windows && (command === 'npm' || command === 'npx');
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', shell, detached: !windows, ...options });
    const forward = (signal) => {
      try {
        if (windows) child.kill(signal);
        else process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const done = (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code);
    };
    child.on('error', (error) => {
      console.error(`${command}: ${error.message}`);
      done(127);
    });
    child.on('exit', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}
