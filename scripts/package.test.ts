// Packaging check: runs electron-builder with our electron-builder.yml for `--linux dir`
// against a stub Electron (the real binary cannot be downloaded here), then checks that
// app.asar ships what the gateway needs and nothing it should not, and that the packed
// gateway starts under plain Node and answers /health.
// Needs `npm run build` output (dist/); without it the test is skipped with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { extractAll, extractFile, listPackage } from '@electron/asar';

const root = fileURLToPath(new URL('..', import.meta.url));
const NEEDED_BUILD = ['dist/main/app/main.js', 'dist/main/app/preload.cjs', 'dist/main/cli.js'];
const missing = NEEDED_BUILD.filter((file) => !existsSync(path.join(root, file)));
const skip = missing.length > 0 ? `needs \`npm run build\` output; missing ${missing.join(', ')}` : false;
if (skip) console.log(`# skipping the packaging test: ${skip}`);

const BUILDER_TIMEOUT_MS = 100_000;
const START_TIMEOUT_MS = 15_000;

/** A directory electron-builder accepts as an unpacked Electron: just an `electron` executable. */
function stubElectronDist(dir: string): string {
  const dist = path.join(dir, 'electron-stub');
  mkdirSync(dist);
  writeFileSync(path.join(dist, 'electron'), '#!/bin/sh\necho "stub Electron for packaging tests" >&2\nexit 1\n');
  chmodSync(path.join(dist, 'electron'), 0o755);
  return dist;
}

async function runElectronBuilder(output: string, electronDist: string): Promise<void> {
  const cli = path.join(root, 'node_modules', 'electron-builder', 'cli.js');
  const args = [cli, '--linux', 'dir', '--publish', 'never', `-c.electronDist=${electronDist}`, '-c.npmRebuild=false', `-c.directories.output=${output}`];
  // Nothing may be downloaded: any attempt goes to a dead proxy and fails fast instead of
  // hanging (or silently succeeding on a machine with network).
  const env = { ...process.env, HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' };
  try {
    await promisify(execFile)(process.execPath, args, { cwd: root, env, timeout: BUILDER_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`electron-builder failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  }
}

interface Listening {
  url: string;
  stop(): Promise<number | null>;
}

/** Starts `node dist/main/cli.js serve --port 0` from the extracted app and waits for its listening line. */
async function servePacked(appDir: string, dataDir: string): Promise<Listening> {
  const child = spawn(process.execPath, [path.join(appDir, 'dist', 'main', 'cli.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--secret-store', 'file'], {
    cwd: appDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = async () => {
    child.kill('SIGTERM');
    return exited;
  };
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  try {
    for await (const line of lines) {
      const event = parseJson(line);
      if (event?.event === 'listening' && typeof event.url === 'string') return { url: event.url, stop };
    }
    throw new Error(`the packed gateway exited before listening (code ${await exited}):\n${stderr}`);
  } finally {
    clearTimeout(timer);
  }
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

test('electron-builder packs an app.asar whose gateway runs under plain Node', { skip, timeout: 150_000 }, async () => {
  const work = mkdtempSync(path.join(tmpdir(), 'symphony-package-'));
  try {
    const output = path.join(work, 'out');
    await runElectronBuilder(output, stubElectronDist(work));

    const unpackedApp = path.join(output, 'linux-unpacked');
    assert.ok(existsSync(path.join(unpackedApp, 'symphony-desktop')), 'the stub Electron is renamed to the executableName');
    const archive = path.join(unpackedApp, 'resources', 'app.asar');
    const entries = new Set(listPackage(archive, { isPack: false }).map((entry) => entry.replaceAll('\\', '/')));

    for (const needed of [
      '/package.json',
      '/dist/main/app/main.js',
      '/dist/main/app/preload.cjs',
      '/dist/main/cli.js',
      '/dist/main/services.js',
      '/dist/main/gateway/server.js',
      '/dist/shared/operations.js',
      '/resources/icon.png',
      '/node_modules/koa/package.json',
      '/node_modules/zod/package.json',
      '/node_modules/pino/package.json',
      '/node_modules/better-sqlite3/package.json',
    ]) {
      assert.ok(entries.has(needed), `app.asar holds ${needed}`);
    }
    if (existsSync(path.join(root, 'dist', 'renderer', 'index.html'))) {
      assert.ok(entries.has('/dist/renderer/index.html'), 'app.asar holds the built renderer');
    }
    const shipped = [...entries];
    const unwanted = [
      { what: 'TypeScript sources', match: (entry: string) => /^\/(main|shared|renderer|scripts|e2e)\//.test(entry) },
      { what: 'tests', match: (entry: string) => /^\/dist\/.*\.test\.js$/.test(entry) },
      { what: 'test support', match: (entry: string) => /^\/dist\/.*\/(testing\/|testing\.js$|test-support\.js$)/.test(entry) },
      { what: 'type packages', match: (entry: string) => entry.startsWith('/node_modules/@types/') },
      { what: 'native sources', match: (entry: string) => /^\/node_modules\/better-sqlite3\/(deps|src)\//.test(entry) },
      { what: 'source maps', match: (entry: string) => entry.startsWith('/dist/') && entry.endsWith('.map') },
      { what: 'dev dependencies', match: (entry: string) => /^\/node_modules\/(electron|electron-builder|typescript|vite|vitest|tsx|@playwright|playwright-core|@anthropic-ai|@openai)\//.test(entry) },
    ];
    for (const { what, match } of unwanted) {
      assert.deepEqual(shipped.filter(match).slice(0, 5), [], `app.asar ships no ${what}`);
    }

    const packedManifest = JSON.parse(extractFile(archive, 'package.json').toString('utf8')) as Record<string, unknown>;
    assert.equal(packedManifest.main, 'dist/main/app/main.js');
    assert.equal(packedManifest.desktopName, 'symphony-desktop.desktop', 'Electron takes its Linux app_id from desktopName');
    assert.equal(packedManifest.devDependencies, undefined);

    // Native modules must sit outside the archive to be loadable.
    const unpackedNative = path.join(unpackedApp, 'resources', 'app.asar.unpacked', 'node_modules');
    assert.ok(existsSync(path.join(unpackedNative, 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')), 'better-sqlite3 is unpacked');
    if (existsSync(path.join(root, 'node_modules', 'keytar', 'build', 'Release', 'keytar.node'))) {
      assert.ok(existsSync(path.join(unpackedNative, 'keytar', 'build', 'Release', 'keytar.node')), 'keytar is unpacked');
    }

    // extractAll also copies the unpacked files back in, giving the app as Node sees it.
    const appDir = path.join(work, 'app');
    extractAll(archive, appDir);
    const gateway = await servePacked(appDir, path.join(work, 'data'));
    try {
      const port = Number(new URL(gateway.url).port);
      const response = await fetch(`${gateway.url}/health`);
      assert.equal(response.status, 200);
      const health = (await response.json()) as { status: string; port: number };
      assert.equal(health.status, 'ok');
      assert.equal(health.port, port);
    } finally {
      assert.equal(await gateway.stop(), 0, 'the packed gateway stops cleanly on SIGTERM');
    }
    assert.deepEqual(readdirSync(path.join(work, 'data')).includes('symphony.db'), true, 'it used the given data dir');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
