// Ticket runs in tests: a real repository (bare remote + clone) whose `node check.js`
// judge passes once fixed.txt exists, a real gateway whose run hosts talk to the mock
// model API through the real claude/codex CLIs, and waits on the status route.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from '../../gateway/testing.js';
import { claudeTestConfig, codexTestConfig, NODE_MODULES_BIN, testHomesDir } from '../../providers/testing/cli-env.js';
import type { MockModelApi } from '../../providers/testing/mock-model-api.js';
import { Supervisor } from '../../supervisor/supervisor.js';
import { RUN_SETTINGS } from '../runs.js';

const git = new Supervisor();

export async function sh(cwd: string, ...args: string[]): Promise<string> {
  const result = await git.run('git', args, { cwd, timeoutMs: 30_000 });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

export const CHECK_JS = `const fs = require('fs');
if (fs.existsSync('fixed.txt')) { console.log('ok: fixed.txt is there'); process.exit(0); }
console.log('FAIL: fixed.txt is missing'); process.exit(1);
`;

/** <root>/remote.git and its clone <root>/<name> with package.json and check.js on main. */
export async function createRunRepo(root: string, name = 'repo'): Promise<string> {
  const remote = path.join(root, `${name}-remote.git`);
  const repo = path.join(root, name);
  await sh(root, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  await sh(root, 'clone', '--quiet', remote, repo);
  await sh(repo, 'config', 'user.name', 'Test User');
  await sh(repo, 'config', 'user.email', 'test@example.com');
  writeFileSync(path.join(repo, 'package.json'), JSON.stringify({ name: 'demo', scripts: { test: 'node check.js' } }, null, 2));
  writeFileSync(path.join(repo, 'check.js'), CHECK_JS);
  await sh(repo, 'add', '.');
  await sh(repo, 'commit', '--quiet', '-m', 'initial');
  await sh(repo, 'push', '--quiet', '-u', 'origin', 'main');
  await sh(repo, 'remote', 'set-head', 'origin', 'main');
  return repo;
}

export interface RunGatewayOptions extends TestGatewayOptions {
  root: string;
  api: Pick<MockModelApi, 'url'>;
  /** The CLIs' homes, kept across gateways on one data dir (else a fresh one removed on close). */
  homes?: string;
  settings?: Record<string, unknown>;
}

/** A gateway whose workspace root is `root`, with quick backoff and stall settings for tests. */
export async function startRunGateway(options: RunGatewayOptions): Promise<TestGateway> {
  // The CLIs' homes never under TMPDIR (codex's sandbox mounts a fresh /tmp).
  const cliRoot = options.homes ?? mkdtempSync(path.join(testHomesDir(), 'runs-'));
  const { root, api, settings, configure, homes, ...rest } = options;
  const gw = await startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    // A serving gateway: it reattaches live runs at start and follows PRs.
    reapOrphans: true,
    ...rest,
    configure: async (services) => {
      await services.setWorkspaceRoot(root);
      await services.load('runs');
      services.runs.setProviderConfigs({ claude: claudeTestConfig(api, cliRoot), codex: codexTestConfig(api, cliRoot) });
      services.settings.set(RUN_SETTINGS.backoffBaseMs, 200);
      for (const [key, value] of Object.entries(settings ?? {})) services.settings.set(key, value);
      await configure?.(services);
    },
  });
  const close = gw.close.bind(gw);
  gw.close = async () => {
    await close();
    if (!homes) rmSync(cliRoot, { recursive: true, force: true });
  };
  return gw;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Polls GET /symphony/status/:ticketId until `done(status)` holds; fails with the last status after `timeoutMs`. */
export async function waitForStatus(gw: Pick<TestGateway, 'request'>, ticketId: string, repo: string, done: (status: Json) => boolean, timeoutMs = 45_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  let last: Json;
  while (Date.now() < deadline) {
    const res = await gw.request(`/api/gateway/symphony/status/${encodeURIComponent(ticketId)}?repo=${encodeURIComponent(repo)}`, { auth: 'token' });
    last = res.json;
    if (res.status === 200 && done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting; last status: ${JSON.stringify(last)}`);
}

export const PLAN_ANSWER = 'Here is my plan.\n<plan>\n{"summary": "Add the missing file", "tasks": [{"id": "T1", "description": "Create fixed.txt"}], "openQuestions": ["Which content?"]}\n</plan>';

/** An iteration answer that ticks T1 and signals completion. */
export const DONE_ANSWER = '<task-done id="T1"/>\n<promise>COMPLETE</promise>';

/** A run that ended and holds no process. */
export const isResting = (s: { status: string; processRunning: boolean }) => ['COMPLETED', 'FAILED', 'STOPPED'].includes(s.status) && !s.processRunning;

/** POST /symphony/launch with the gateway token. */
export const launchRun = (gw: Pick<TestGateway, 'request'>, json: Record<string, unknown>) =>
  gw.request('/api/gateway/symphony/launch', { method: 'POST', json, auth: 'token' });

/** The run's event log, parsed. */
export async function runEvents(gw: Pick<TestGateway, 'request'>, ticketId: string, repo: string): Promise<Json[]> {
  const res = await gw.request(`/api/gateway/symphony/logs/${ticketId}?repo=${encodeURIComponent(repo)}&lines=1000`, { auth: 'token' });
  return (res.json.lines as string[]).map((line) => JSON.parse(line) as Json);
}
