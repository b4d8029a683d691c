// The headless CLI as a user runs it, for tests: real processes on one data dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claudeTestConfig, NODE_MODULES_BIN, testHomesDir } from '../../providers/testing/cli-env.js';
import { MockModelApi } from '../../providers/testing/mock-model-api.js';
import { createInterface } from 'node:readline';

const CLI = join(import.meta.dirname, '..', '..', 'cli.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one `symphony-gateway` command to its end. */
export function runCli(args: string[], input?: string, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** The "listening" line, parsed. */
  listening: Record<string, unknown>;
  /** Every stdout line so far (the first is the listening line). */
  stdoutLines: string[];
  /** stderr as received so far. */
  stderr(): string;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number | null>;
  kill(): void;
}

/** `serve --port 0` on `dataDir`, resolved once it printed its listening line (`nodeArgs` go to node, after tsx). */
export async function startServe(dataDir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = process.env, nodeArgs: string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--secret-store', 'file', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stdoutLines: string[] = [];
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => stdoutLines.push(line));
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then((code) => Promise.reject(new Error(`serve exited (${code}) before listening: ${stderr}`))),
  ]);
  const listening = JSON.parse(first) as Record<string, unknown>;
  return {
    child,
    port: listening.port as number,
    url: listening.url as string,
    listening,
    stdoutLines,
    stderr: () => stderr,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface ServeSetup {
  api: MockModelApi;
  /** A temp folder, the workspace root; the data dir is `root/data`. */
  root: string;
  dataDir: string;
  /** What serve and the CLI run with: claude finds the mock model API and itself as a user's setup would (environment and PATH). */
  env: NodeJS.ProcessEnv;
  /** The gateway token of the data dir. */
  token: string;
  cleanup(): Promise<void>;
}

/** A mock model API, a data dir configured through the CLI with `root` as its workspace root, and its token. */
export async function setUpServe(prefix: string): Promise<ServeSetup> {
  const api = await MockModelApi.start();
  const root = realpathSync(mkdtempSync(join(tmpdir(), `${prefix}-`)));
  const homes = mkdtempSync(join(testHomesDir(), `${prefix}-`));
  const dataDir = join(root, 'data');
  const env = { ...process.env, ...claudeTestConfig(api, homes).env, PATH: `${NODE_MODULES_BIN}:${process.env.PATH}`, SYMPHONY_LOG_LEVEL: 'warn' };
  const configured = await runCli(['config', '--workspace-root', root, '--data-dir', dataDir, '--secret-store', 'file'], undefined, env);
  if (configured.code !== 0) throw new Error(`config failed: ${configured.stderr}`);
  const token = (await runCli(['token', '--data-dir', dataDir, '--secret-store', 'file'], undefined, env)).stdout.trim();
  return {
    api, root, dataDir, env, token,
    async cleanup() {
      await api.close();
      rmSync(root, { recursive: true, force: true });
      rmSync(homes, { recursive: true, force: true });
    },
  };
}
