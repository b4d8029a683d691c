// `npm start`: build, then launch the desktop app with Electron.
// `npm start -- --headless [serve options]`: build, then run the same gateway under plain
// Node (dist/main/cli.js serve), no Electron needed.
// package.json's allowScripts skips electron's postinstall so `npm ci` works offline; the
// binary is fetched here on the first start instead (Electron 45's installer asks for
// Node >= 22.12; the headless gateway runs on Node 20).
// The native modules (better-sqlite3, keytar) are compiled for one ABI at a time: Node's
// after `npm ci` (tests and headless), Electron's for the app. Each mode rebuilds them in
// place when they were last built for the other one.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const headless = args.includes('--headless');

function runOrExit(command, commandArgs, what) {
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) {
    console.error(`start: ${what} failed (exit ${result.status ?? result.signal}).`);
    process.exit(result.status ?? 1);
  }
}

/** The Electron executable, downloading it first when this checkout has never had it. */
function electronExecutable() {
  const electronDir = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(electronDir, 'path.txt');
  const executable = () => path.join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(pathFile) || !existsSync(executable())) {
    const [major, minor] = process.versions.node.split('.').map(Number);
    if (major < 22 || (major === 22 && minor < 12)) cannotFetchElectron(`Electron's installer needs Node >= 22.12; this is Node ${process.versions.node}.`);
    console.log('start: fetching the Electron binary (first start only)...');
    // Its output is kept: on failure a person gets what went wrong, not the downloader's stack trace.
    const result = spawnSync(process.execPath, [path.join(electronDir, 'install.js')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
    if (result.status !== 0) cannotFetchElectron(downloaderReason(result.stderr ?? ''));
  }
  return executable();
}

/** The downloader's own one-line reason (e.g. `getaddrinfo ENOTFOUND github.com`), not its stack. */
function downloaderReason(stderr) {
  const line = stderr.split('\n').map((l) => l.trim()).find((l) => /^(Error|RequestError|HTTPError)\b|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN/.test(l));
  return line ? `The download failed: ${line.replace(/^Error:\s*/, '')}` : 'The download failed (offline?).';
}

function cannotFetchElectron(reason) {
  console.error(
    `start: could not fetch the Electron binary for the desktop window. ${reason}\n` +
      'start: `npm start -- --headless` runs the same gateway and UI without a window (open the /ui/ link it prints);\n' +
      'start: or connect to the internet (with Node >= 22.12) and run `npm start` again.',
  );
  process.exit(1);
}

const NATIVE_MODULES = ['better-sqlite3', 'keytar'];

/** Whether a native module is currently compiled for another ABI than this Node's (i.e. Electron's). */
function nativeModulesBuiltForElectron() {
  const probe = `for (const name of ${JSON.stringify(NATIVE_MODULES)}) {
    try { require(name); } catch (error) { if (/NODE_MODULE_VERSION/.test(error.message)) process.exit(3); }
  }`;
  return spawnSync(process.execPath, ['-e', probe], { cwd: root, stdio: 'ignore' }).status === 3;
}

function rebuildNativeModulesForElectron() {
  console.log('start: rebuilding native modules for Electron (`npm rebuild better-sqlite3 keytar` switches them back for Node)...');
  const cli = path.join(root, 'node_modules', '@electron', 'rebuild', 'lib', 'cli.js');
  runOrExit(process.execPath, [cli, '--force', '--which-module', NATIVE_MODULES.join(',')], 'Rebuilding native modules for Electron');
}

function rebuildNativeModulesForNode() {
  console.log('start: rebuilding native modules for Node...');
  runOrExit('npm', ['rebuild', ...NATIVE_MODULES], 'npm rebuild');
}

/** Runs the app in the foreground: signals go to it, its exit code is ours. */
function launch(command, commandArgs, env) {
  const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

// The window needs the Electron binary: found (or fetched) before the build, so that an
// offline first start says at once what to do instead of after a long build.
const electron = headless ? null : electronExecutable();
runOrExit('npm', ['run', 'build'], 'npm run build');
if (headless) {
  if (nativeModulesBuiltForElectron()) rebuildNativeModulesForNode();
  const serveArgs = args.filter((arg) => arg !== '--headless');
  launch(process.execPath, [path.join(root, 'dist', 'main', 'cli.js'), 'serve', ...serveArgs], process.env);
} else {
  // An inherited ELECTRON_RUN_AS_NODE would start Electron as plain Node, without a window.
  const { ELECTRON_RUN_AS_NODE: _ignored, ...env } = process.env;
  if (!nativeModulesBuiltForElectron()) rebuildNativeModulesForElectron();
  launch(electron, ['.', ...args], env);
}
