// Gateway core benchmark: authenticated GET /api/gateway/version against a bare Koa
// hello-world in the same run (50 connections), headless start to listening, idle RSS.
// Run: node --import tsx bench/gateway.ts [--seconds 10]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { LoadResult } from './load.js';

const ROOT = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' } } });
const durationMs = Number(values.seconds) * 1000;
const connections = Number(values.connections);

interface Started {
  child: ChildProcess;
  port: number;
  startMs: number;
}

/** The built gateway, as the app and `npx symphony-gateway` run it (npm run build first). */
const CLI = join(ROOT, 'dist', 'main', 'cli.js');
if (!existsSync(CLI)) throw new Error('Build first: npm run build (the benchmark measures dist/main/cli.js).');

async function start(args: string[], viaTsx = false): Promise<Started> {
  const begun = performance.now();
  const child = spawn(process.execPath, [...(viaTsx ? ['--import', 'tsx'] : []), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, SYMPHONY_LOG_LEVEL: 'info' } });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
  return { child, port: JSON.parse(line).port, startMs: performance.now() - begun };
}

function load(port: number, path: string, headers: Record<string, string>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const options = JSON.stringify({ port, path, headers: { Host: `127.0.0.1:${port}`, ...headers }, connections, durationMs });
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/load.ts'), options], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited ${code}`))));
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
}

async function stop(child: ChildProcess) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const dataDir = mkdtempSync(join(tmpdir(), 'symphony-bench-'));
try {
  // Start-to-listening: median of 5 starts of the headless gateway, process spawn to the "listening" line.
  const starts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = await start([CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--secret-store', 'file']);
    starts.push(started.startMs);
    await stop(started.child);
  }
  starts.sort((a, b) => a - b);

  const gateway = await start([CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--secret-store', 'file']);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const idleRss = rssMb(gateway.child.pid!);
  const token = readFileSync(join(dataDir, 'secrets', 'gateway-token'), 'utf8').trim();
  const bare = await start(['bench/bare-koa.ts'], true);

  await load(gateway.port, '/api/gateway/version', { 'X-Desktop-Gateway-Token': token }); // warm-up
  await load(bare.port, '/', {});
  const koa = await load(bare.port, '/', {});
  const ours = await load(gateway.port, '/api/gateway/version', { 'X-Desktop-Gateway-Token': token });
  const loadedRss = rssMb(gateway.child.pid!);
  await stop(bare.child);
  await stop(gateway.child);

  const ratio = Math.round((ours.requestsPerSecond / koa.requestsPerSecond) * 100) / 100;
  const report = {
    connections,
    seconds: durationMs / 1000,
    bareKoa: koa,
    gatewayVersion: ours,
    throughputRatio: ratio,
    startToListeningMs: { median: Math.round(starts[2]), min: Math.round(starts[0]), max: Math.round(starts[4]) },
    idleRssMb: idleRss,
    rssAfterLoadMb: loadedRss,
    targets: { throughputRatio: '>= 0.8', p99Ms: '< 5', startToListeningMs: '< 500', idleRssMb: '< 120' },
  };
  console.log(JSON.stringify(report, null, 2));
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
