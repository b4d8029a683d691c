// The confinement with the real OS sandbox (bubblewrap), the real claude and codex CLIs
// and the loopback mock model API: a secret in another temp folder and one in the test
// home's ~/.ssh never reach the stream or the model, whatever tool asks; a write outside
// the root fails in the OS even when the approver allowed the tool call.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Supervisor } from '../supervisor/supervisor.js';
import { ClaudeProvider } from './claude.js';
import { CodexProvider } from './codex.js';
import { Confiner, type ConfinementLevel } from './confinement.js';
import { findOnPath } from './os-sandbox.js';
import { claudeTestConfig, codexTestConfig, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from './testing/cli-env.js';
import { collect, ofType } from './testing/events.js';
import { MockModelApi, type MockTurn } from './testing/mock-model-api.js';
import type { NormalizedEvent } from '../../shared/events.js';
import type { Provider, TurnOptions } from './types.js';

const skip =
  process.platform !== 'linux'
    ? 'the bubblewrap view is Linux only (macOS: sandbox-exec, typechecked only here)'
    : !findOnPath('bwrap', `${process.env.PATH}:/usr/bin`) || !findOnPath('socat', `${process.env.PATH}:/usr/bin`)
      ? 'bubblewrap and socat are not installed (apt install bubblewrap socat)'
      : false;
if (skip) console.log(`# confinement tests skipped: ${skip}`);

const TEMP_SECRET = 'temp-secret-5f1c';
const SSH_SECRET = 'ssh-secret-93ab';

let api: MockModelApi;
let dirs: TestDirs;
let other: TestDirs;
let supervisor: Supervisor;
let claude: ClaudeProvider;
let codex: CodexProvider;
let tempSecret: string;
let sshSecret: string;

before(async () => {
  if (skip) return;
  api = await MockModelApi.start();
  dirs = makeTestDirs('confinement');
  other = makeTestDirs('confinement-other');
  tempSecret = join(other.root, 'secret.txt');
  writeFileSync(tempSecret, TEMP_SECRET);
  supervisor = new Supervisor({ extraSearchDirs: [NODE_MODULES_BIN], graceMs: 1000 });
  const claudeConfig = claudeTestConfig(api, dirs.homes);
  claude = new ClaudeProvider(supervisor, claudeConfig);
  codex = new CodexProvider(supervisor, { ...codexTestConfig(api, dirs.homes), env: { ...codexTestConfig(api, dirs.homes).env, HOME: claudeConfig.env!.HOME } });
  mkdirSync(join(claudeConfig.env!.HOME, '.ssh'), { recursive: true });
  sshSecret = join(claudeConfig.env!.HOME, '.ssh', 'id_ed25519');
  writeFileSync(sshSecret, SSH_SECRET);
});

after(async () => {
  if (skip) return;
  await supervisor.stopAll();
  await api.close();
  dirs.cleanup();
  other.cleanup();
});

function options(level: ConfinementLevel, extra: Partial<TurnOptions> = {}): TurnOptions {
  return {
    prompt: 'go', cwd: dirs.cwd, confinement: { level, root: dirs.cwd }, signal: new AbortController().signal,
    onApproval: async () => 'allow', ...extra,
  };
}

/** Nothing of either secret in the events or in anything the CLI sent to the model. */
function assertNoSecret(events: NormalizedEvent[], requestsBefore: number): void {
  const seen = JSON.stringify(events) + JSON.stringify(api.modelRequests().slice(requestsBefore).map((r) => r.body));
  assert.doesNotMatch(seen, new RegExp(`${TEMP_SECRET}|${SSH_SECRET}`));
}

async function turn(provider: Provider, level: ConfinementLevel, ...script: MockTurn[]): Promise<NormalizedEvent[]> {
  const before = api.modelRequests().length;
  api.script(...script, { kind: 'text', text: 'done' });
  const events = await collect(await provider.startTurn(options(level)));
  assertNoSecret(events, before);
  assert.deepEqual(events.at(-1), { type: 'done' });
  return events;
}

describe('confined agents (real bubblewrap, real CLIs)', { skip }, () => {
  for (const level of ['read', 'write'] as const) {
    test(`claude ${level}: Read${level === 'read' ? ' and Grep' : ''} of a secret outside the root are refused by the tool check`, async () => {
      const events = await turn(
        claude, level,
        { kind: 'tool', name: 'Read', input: { file_path: tempSecret } },
        { kind: 'tool', name: 'Read', input: { file_path: sshSecret } },
        // claude offers Grep only with its read toolset (with Bash it greps through Bash, tested below).
        ...(level === 'read' ? [{ kind: 'tool' as const, name: 'Grep', input: { pattern: 'secret', path: other.root, output_mode: 'content' } }] : []),
      );
      const results = ofType(events, 'tool_result');
      assert.equal(results.length, level === 'read' ? 3 : 2);
      for (const result of results) {
        assert.equal(result.isError, true);
        assert.match(result.content, /refused: Path not allowed/);
      }
    });
  }

  test('claude write: Bash cat of the secrets finds nothing there (the view has neither), and Bash runs in both sandboxes', async () => {
    const events = await turn(claude, 'write', {
      kind: 'tool', name: 'Bash',
      input: { command: `cat ${tempSecret} ${sshSecret}; grep -r secret ${other.root} ~/.ssh; cat ~/.claude/*.json | head -c 300; ls -a ~; echo out > ${join(other.root, 'escaped.txt')}; echo in > inside.txt; echo exit=$?`, description: 'try' },
    });
    const result = ofType(events, 'tool_result')[0];
    assert.match(result.content, /No such file or directory/);
    assert.match(result.content, /exit=0/);
    assert.equal(existsSync(join(other.root, 'escaped.txt')), false, 'a write outside the root fails in the OS although the tool was allowed');
    assert.equal(existsSync(join(dirs.cwd, 'inside.txt')), true);
  });

  test('claude write with a write root (a loop\'s work folder): Bash and Write reach it, the folders beside it stay out of reach', async () => {
    const work = mkdtempSync(join(other.root, 'work-'));
    const beside = join(other.root, 'beside.txt');
    const before = api.modelRequests().length;
    api.script(
      { kind: 'tool', name: 'Bash', input: { command: `echo plan > ${join(work, 'plan.json')}; echo x > ${beside}; echo exit=$?`, description: 'write' } },
      { kind: 'tool', name: 'Write', input: { file_path: join(work, 'notes.md'), content: 'notes' } },
      { kind: 'text', text: 'done' },
    );
    const events = await collect(await claude.startTurn(options('write', { confinement: { level: 'write', root: dirs.cwd, writeRoots: [work] } })));
    assertNoSecret(events, before);
    assert.equal(readFileSync(join(work, 'plan.json'), 'utf8'), 'plan\n', 'Bash wrote into the write root');
    assert.equal(readFileSync(join(work, 'notes.md'), 'utf8'), 'notes', 'Write passed the tool check there');
    assert.equal(existsSync(beside), false, 'a write beside it fails in the OS');
  });

  test('claude read: Bash is not offered and a call to it is refused without asking', async () => {
    let asked = false;
    api.script({ kind: 'tool', name: 'Bash', input: { command: `cat ${tempSecret}`, description: 'x' } }, { kind: 'text', text: 'done' });
    const before = api.modelRequests().length;
    const events = await collect(await claude.startTurn(options('read', { onApproval: async () => ((asked = true), 'allow') })));
    assertNoSecret(events, before);
    assert.equal(asked, false);
    assert.equal(ofType(events, 'tool_result')[0].isError, true);
  });

  test('claude write: a Write outside the root is refused by the tool check, even with an approver that allows everything', async () => {
    const target = join(other.root, 'written.txt');
    const events = await turn(claude, 'write', { kind: 'tool', name: 'Write', input: { file_path: target, content: 'x' } });
    assert.equal(ofType(events, 'tool_result')[0].isError, true);
    assert.equal(existsSync(target), false);
  });

  for (const level of ['read', 'write'] as const) {
    test(`codex ${level}: its shell sees neither secret and cannot write outside the root`, async () => {
      const events = await turn(codex, level, {
        kind: 'tool', name: 'exec_command',
        input: { cmd: `cat ${tempSecret} ${sshSecret}; echo out > ${join(other.root, `codex-${level}.txt`)}; ls ~/.ssh; echo finished` },
      });
      assert.equal(existsSync(join(other.root, `codex-${level}.txt`)), false);
      const output = api.modelRequests().at(-1)?.body as { input: Array<Record<string, unknown>> };
      const sent = JSON.stringify(output.input.find((item) => item.type === 'function_call_output'));
      assert.match(sent, /No such file or directory/);
      assert.ok(ofType(events, 'result')[0]);
    });
  }

  test('the per-run temp folder is the agent\'s /tmp and is removed after the turn', async () => {
    const before = api.modelRequests().length;
    api.script(
      { kind: 'tool', name: 'exec_command', input: { cmd: 'echo tmpdir=$TMPDIR; ls /tmp; touch /tmp/mark && echo made; grep -o "symphony-agent-codex-[A-Za-z0-9]*" /proc/self/mountinfo | head -1' } },
      { kind: 'text', text: 'done' },
    );
    const events = await collect(await codex.startTurn(options('write')));
    const sent = JSON.stringify((api.modelRequests().at(-1)?.body as { input: unknown[] }).input);
    assert.match(sent, /tmpdir=\/tmp\\n/);
    assert.match(sent, /made/);
    assert.doesNotMatch(sent, /confinement-other/);
    assertNoSecret(events, before);
    const name = /symphony-agent-codex-[A-Za-z0-9]+/.exec(sent)?.[0];
    assert.ok(name, 'the view\'s /tmp is a per-run folder');
    assert.equal(existsSync(join(tmpdir(), name)), false);
  });
});

describe("claude's npm shim (real bubblewrap, real npm)", { skip }, () => {
  // claude's sandbox runs `npm root -g` at every start: inside a claude view that is answered
  // by the gateway's shim, without starting node; every other npm command is the real npm.
  const noNode = 'NODE_OPTIONS=--require=/symphony-no-node-marker.cjs';

  test('`npm root -g` prints the cached root without node, `npm --version` is the real npm, the shim cannot be changed', async (t) => {
    if (!findOnPath('npm', process.env.PATH)) return t.skip('no npm on PATH: no shim to test');
    const expectedRoot = (await supervisor.run('npm', ['root', '-g'], { cwd: '/' })).stdout.trim();
    const version = (await supervisor.run('npm', ['--version'], { cwd: '/' })).stdout.trim();
    const confiner = new Confiner({ processes: supervisor });
    const prepared = await confiner.prepare({ level: 'write', root: dirs.cwd }, { cli: 'claude', env: claudeTestConfig(api, dirs.homes).env! });
    try {
      const script = [
        'echo "which=$(command -v npm)"',
        `${noNode} npm root -g; echo "root-rc=$?"`,
        `${noNode} npm root --global`,
        // The control: the same marker makes the real npm (node) fail.
        `${noNode} npm --version >/dev/null 2>&1; echo "node-rc=$?"`,
        'echo "version=$(npm --version)"',
        'echo hacked > /tmp/.symphony-bin/npm; echo "write-rc=$?"',
        'rm -f /tmp/.symphony-bin/npm-root; echo "rm-rc=$?"',
        'mv /tmp/.symphony-bin /tmp/moved; echo "mv-rc=$?"',
        'echo "head=$(head -1 /tmp/.symphony-bin/npm)"',
      ].join('\n');
      const spawned = prepared.wrapper(dirs.cwd, process.env.PATH)!('/bin/sh', ['-c', script], { PATH: process.env.PATH ?? '' });
      const { stdout } = await supervisor.run(spawned.command, spawned.args, { cwd: dirs.cwd, env: prepared.env });
      assert.match(stdout, /^which=\/tmp\/\.symphony-bin\/npm$/m);
      assert.match(stdout, new RegExp(`^${expectedRoot}\\nroot-rc=0\\n${expectedRoot}\\n`, 'm'), stdout);
      assert.match(stdout, /^node-rc=[1-9]\d*$/m, 'the marker stops node: the root came from the shim');
      assert.match(stdout, new RegExp(`^version=${version.replaceAll('.', '\\.')}$`, 'm'));
      for (const step of ['write', 'rm', 'mv']) assert.match(stdout, new RegExp(`^${step}-rc=[1-9]\\d*$`, 'm'), `${step} in the shim folder fails`);
      assert.match(stdout, /^head=#!\/bin\/sh$/m);
    } finally {
      prepared.dispose();
    }
  });

  test("claude starts with the shim, and its Bash (inside claude's own sandbox too) gets it and cannot change it", async (t) => {
    if (!findOnPath('npm', process.env.PATH)) return t.skip('no npm on PATH: no shim to test');
    const shimmed = new ClaudeProvider(supervisor, { ...claudeTestConfig(api, dirs.homes), confiner: new Confiner({ processes: supervisor }) });
    const events = await turn(shimmed, 'write', {
      kind: 'tool', name: 'Bash',
      input: { command: `echo "which=$(command -v npm)"; ${noNode} npm root -g; echo hacked > /tmp/.symphony-bin/npm; echo "write-rc=$?"; head -1 /tmp/.symphony-bin/npm`, description: 'npm' },
    });
    const { content } = ofType(events, 'tool_result')[0];
    assert.match(content, /which=\/tmp\/\.symphony-bin\/npm\n\/\S*node_modules\n/, content);
    assert.match(content, /write-rc=[1-9]\d*\n#!\/bin\/sh/);
  });
});

describe('a sandbox layer that cannot start', () => {
  test('the start fails naming what to install; with confinement turned off it runs, logged as not confined', async () => {
    const missing = new Confiner({ programs: () => null, platform: 'linux' });
    await assert.rejects(missing.prepare({ level: 'read', root: process.cwd() }, { cli: 'claude', env: {} }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'sandbox_unavailable');
      assert.match(error.message, /`bwrap` and `socat` were not found\. Install bubblewrap \(Debian\/Ubuntu: `sudo apt install bubblewrap`/);
      assert.match(error.message, /turn agent confinement off in Settings/);
      return true;
    });
    const lines: string[] = [];
    const { pino } = await import('pino');
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const off = new Confiner({ programs: () => null, platform: 'linux', enabled: () => false, log });
    const prepared = await off.prepare({ level: 'read', root: process.cwd() }, { cli: 'codex', env: {} });
    assert.equal(prepared.osSandbox, 'off');
    assert.equal(prepared.wrapper(process.cwd(), process.env.PATH), undefined);
    prepared.dispose();
    assert.match(lines.join(''), /NOT confined/);
    assert.deepEqual(off.status(), { enabled: false, osSandbox: 'bubblewrap', missing: [], limitations: [] });
    assert.deepEqual(missing.status().missing, ['bwrap', 'socat']);
  });
});

describe('what the layers do not cover', () => {
  test("the status says an approved codex command runs outside codex's own sandbox, and what still holds", () => {
    const [linux] = new Confiner({ programs: () => '/usr/bin/x', platform: 'linux' }).status().limitations;
    assert.match(linux, /^codex: a command you approve runs outside codex's own sandbox .*the OS sandbox still holds: it can write only the working folder/);
    const [windows] = new Confiner({ programs: () => '/usr/bin/x', platform: 'win32' }).status().limitations;
    assert.match(windows, /no OS sandbox around it/);
  });
});
