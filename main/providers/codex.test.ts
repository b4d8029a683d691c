// The real codex CLI (node_modules/.bin) against the loopback mock model API, offline.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUG_FILE, BUG_LINE, seededBugRepo } from '../review/testing/seeded-repo.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { CodexProvider, refuseCodexHomeInTemp } from './codex.js';
import { codexTestConfig, groupAlive, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from './testing/cli-env.js';
import { collect, ofType, text } from './testing/events.js';
import { MockModelApi } from './testing/mock-model-api.js';
import type { ApprovalAnswer, ApprovalAsk, TurnOptions } from './types.js';

let api: MockModelApi;
let dirs: TestDirs;
let supervisor: Supervisor;
let provider: CodexProvider;

before(async () => {
  api = await MockModelApi.start();
  dirs = makeTestDirs('codex-provider');
  supervisor = new Supervisor({ extraSearchDirs: [NODE_MODULES_BIN], graceMs: 1000 });
  provider = new CodexProvider(supervisor, codexTestConfig(api, dirs.homes));
});

after(async () => {
  await supervisor.stopAll();
  await api.close();
  dirs.cleanup();
});

function turnOptions(extra: Partial<TurnOptions> = {}): TurnOptions {
  return { prompt: 'hello', cwd: dirs.cwd, confinement: { level: 'write', root: dirs.cwd }, signal: new AbortController().signal, ...extra };
}


/** The input items codex sent in its last model call. */
function lastInput(): Array<Record<string, unknown>> {
  return (api.modelRequests().at(-1)?.body as { input: Array<Record<string, unknown>> }).input;
}

describe('CodexProvider with the real codex CLI', () => {
  test('a text turn gives the thread id, the text, usage and a successful result', async () => {
    api.script({ kind: 'text', text: 'Hello from the mock' });
    const events = await collect(await provider.startTurn(turnOptions({ prompt: '-starts with a dash' })));

    assert.equal(ofType(events, 'status')[0].status, 'started');
    assert.equal(ofType(events, 'status')[0].mode, 'workspace-write');
    assert.ok(ofType(events, 'status')[0].pid! > 0);
    assert.equal(ofType(events, 'sessionId').length, 1);
    assert.equal(text(events), 'Hello from the mock');
    assert.equal(ofType(events, 'usage')[0].inputTokens, 12);
    assert.deepEqual(ofType(events, 'result'), [{ type: 'result', success: true }]);
    assert.deepEqual(events.at(-1), { type: 'done' });
    assert.match(JSON.stringify(lastInput()), /-starts with a dash/);
  });

  test('a tool turn: codex runs the command and sends its output back to the model', async () => {
    api.script(
      { kind: 'tool', name: 'exec_command', input: { cmd: 'echo tool-ran-42' }, id: 'call_echo' },
      { kind: 'text', text: 'The tool said tool-ran-42' },
    );
    const events = await collect(await provider.startTurn(turnOptions({ prompt: 'run echo' })));

    const use = ofType(events, 'tool_use')[0];
    assert.equal(use.name, 'command_execution');
    assert.match(JSON.stringify(use.input), /echo tool-ran-42/);
    const result = ofType(events, 'tool_result')[0];
    assert.equal(result.toolUseId, use.id);
    assert.match(result.content, /tool-ran-42/);
    assert.equal(result.isError, false);
    const output = lastInput().find((item) => item.type === 'function_call_output');
    assert.equal(output?.call_id, 'call_echo');
    assert.match(String(output?.output), /tool-ran-42/);
    assert.equal(text(events), 'The tool said tool-ran-42');
  });

  test('a file edit (apply_patch) comes as a file_change tool, and reasoning as thinking', async () => {
    api.script(
      { kind: 'patch', patch: '*** Begin Patch\n*** Add File: patched.txt\n+hello patch\n*** End Patch\n', id: 'call_patch' },
      { kind: 'text', text: 'patched', thinking: 'the file is there now' },
    );
    const events = await collect(await provider.startTurn(turnOptions({ prompt: 'add a file' })));
    const use = ofType(events, 'tool_use')[0];
    assert.equal(use.name, 'file_change');
    assert.match(JSON.stringify(use.input), /patched\.txt/);
    assert.equal(ofType(events, 'tool_result')[0].isError, false);
    assert.equal(readFileSync(join(dirs.cwd, 'patched.txt'), 'utf8'), 'hello patch\n');
    assert.equal(lastInput().find((item) => item.type === 'custom_tool_call_output')?.call_id, 'call_patch');
    assert.deepEqual(ofType(events, 'thinking'), [{ type: 'thinking', content: 'the file is there now' }]);
    assert.equal(text(events), 'patched');
  });

  test('read-only mode: codex runs in the read-only sandbox and a write fails', async () => {
    api.script({ kind: 'tool', name: 'exec_command', input: { cmd: 'touch made.txt' } }, { kind: 'text', text: 'ok' });
    const events = await collect(await provider.startTurn(turnOptions({ confinement: { level: 'read', root: dirs.cwd } })));
    assert.equal(ofType(events, 'status')[0].mode, 'read-only');
    assert.equal(existsSync(join(dirs.cwd, 'made.txt')), false);
    const output = lastInput().find((item) => item.type === 'function_call_output');
    assert.match(String(output?.output), /Read-only file system/);
    // codex sometimes emits no command_execution item for a failing command; when it does, it is an error.
    for (const result of ofType(events, 'tool_result')) assert.equal(result.isError, true);
  });

  test('resume continues the thread with the earlier messages', async () => {
    api.script({ kind: 'text', text: 'first answer' }, { kind: 'text', text: 'second answer' });
    const first = await collect(await provider.startTurn(turnOptions({ prompt: 'first question' })));
    const threadId = ofType(first, 'sessionId')[0].sessionId;

    const priorUsageTotals = ofType(first, 'usage')[0].totals;
    assert.deepEqual(priorUsageTotals, { inputTokens: 12, outputTokens: 7, cachedInputTokens: 0 });

    const second = await collect(
      await provider.startTurn(turnOptions({ prompt: 'second question', resumeSessionId: threadId, priorUsageTotals })),
    );
    assert.equal(ofType(second, 'status')[0].status, 'resumed');
    assert.equal(ofType(second, 'sessionId')[0].sessionId, threadId);
    // codex reports running totals per thread; the event carries this turn's share and the totals.
    const usage = ofType(second, 'usage')[0];
    assert.deepEqual([usage.inputTokens, usage.outputTokens, usage.totals?.inputTokens], [12, 7, 24]);
    assert.equal(text(second), 'second answer');
    const sent = JSON.stringify(lastInput());
    assert.match(sent, /first question/);
    assert.match(sent, /first answer/);
    assert.match(sent, /second question/);
  });

  test('resuming a thread codex does not know starts a new one seeded with the transcript', async () => {
    api.script({ kind: 'text', text: 'fresh answer' });
    const events = await collect(
      await provider.startTurn(
        turnOptions({
          prompt: 'and now?',
          resumeSessionId: '01a2240a-0000-7000-8000-000000000000',
          transcript: [
            { role: 'user', content: 'remember the word pelican' },
            { role: 'assistant', content: 'noted' },
          ],
        }),
      ),
    );
    assert.deepEqual(ofType(events, 'status').map((e) => e.status), ['resumed', 'new_session']);
    assert.match(text(events), /could not be resumed[\s\S]*fresh answer$/);
    assert.deepEqual(ofType(events, 'result'), [{ type: 'result', success: true }]);
    assert.equal(ofType(events, 'error').length, 0);
    assert.match(JSON.stringify(lastInput()), /pelican[\s\S]*and now\?/);
  });

  test('an API error ends the turn with one error and a failed result', async () => {
    api.script({ kind: 'error', status: 400, message: 'the mock refuses' });
    const events = await collect(await provider.startTurn(turnOptions()));
    assert.equal(ofType(events, 'error').length, 1);
    assert.equal(ofType(events, 'result')[0].success, false);
    assert.deepEqual(events.at(-1), { type: 'done' });
  });

  test('kill mid-turn stops the whole tree and ends the turn as killed', async () => {
    api.script({ kind: 'hang' });
    const requests = api.modelRequests().length;
    const turn = await provider.startTurn(turnOptions());
    const pid = turn.pid!;
    const collecting = collect(turn);
    await api.waitForModelRequests(requests + 1);
    assert.ok(groupAlive(pid));
    await turn.kill();
    const events = await collecting;
    assert.equal(groupAlive(pid), false);
    assert.equal(ofType(events, 'status').at(-1)?.status, 'killed');
    assert.deepEqual(ofType(events, 'result'), [{ type: 'result', success: false, reason: 'killed' }]);
    assert.deepEqual(events.at(-1), { type: 'done' });
  });

  test('the CLI crashing mid-stream ends the turn with an error, not a hang', async () => {
    api.script({ kind: 'hang' });
    const requests = api.modelRequests().length;
    const turn = await provider.startTurn(turnOptions());
    const collecting = collect(turn);
    await api.waitForModelRequests(requests + 1);
    process.kill(-turn.pid!, 'SIGKILL');
    const events = await collecting;
    assert.match(ofType(events, 'error')[0].message, /codex stopped before finishing the turn/);
    assert.deepEqual(ofType(events, 'result'), [{ type: 'result', success: false, reason: 'crashed' }]);
    assert.deepEqual(events.at(-1), { type: 'done' });
  });

  test('a CODEX_HOME inside the temp folder is refused before codex starts (its sandbox helper cannot run there)', async () => {
    const inTemp = new CodexProvider(supervisor, { ...codexTestConfig(api, dirs.homes), env: { CODEX_HOME: join(dirs.root, 'codex-home') } });
    const before = supervisor.list().length;
    await assert.rejects(inTemp.startTurn(turnOptions()), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'codex_home_in_temp');
      assert.match(error.message, /outside the temp folder/);
      return true;
    });
    assert.equal(supervisor.list().length, before);
    assert.throws(() => refuseCodexHomeInTemp({ HOME: '/tmp/somebody' }), /CODEX_HOME \(\/tmp\/somebody\/\.codex\)/);
    assert.doesNotThrow(() => refuseCodexHomeInTemp({ CODEX_HOME: join(dirs.homes, 'codex-home') }));
  });

  test('a model stream cut mid-way fails the turn', async () => {
    api.script({ kind: 'cut', text: 'partial answer that never ends' });
    const events = await collect(await provider.startTurn(turnOptions()));
    assert.equal(ofType(events, 'result')[0].success, false);
    assert.ok(ofType(events, 'error').length >= 1);
    assert.deepEqual(events.at(-1), { type: 'done' });
  });

  test('exec review: --base reviews the branch read-only, and the structured findings come back rendered', async () => {
    const repo = join(dirs.root, 'review-repo');
    mkdirSync(repo);
    await seededBugRepo(supervisor, repo);
    const finding = { title: 'add() subtracts', body: 'It returns a - b.', file: join(repo, BUG_FILE), line: BUG_LINE, priority: 1 as const };
    api.script({ kind: 'review', findings: [finding], correct: false, explanation: 'The change breaks add.' });
    const events = await collect(
      await provider.review({
        cwd: repo, target: { kind: 'base', branch: 'main' }, confinement: { level: 'read', root: repo }, signal: new AbortController().signal,
      }),
    );
    assert.equal(ofType(events, 'status')[0].mode, 'read-only');
    assert.equal(ofType(events, 'sessionId').length, 1);
    assert.match(text(events), new RegExp(`- \\[P1\\] add\\(\\) subtracts — ${repo}/${BUG_FILE}:2-2\\n  It returns a - b\\.`));
    assert.deepEqual(ofType(events, 'result'), [{ type: 'result', success: true }]);
    // codex's own review prompt names the base and its merge base.
    assert.match(JSON.stringify(lastInput()), /against the base branch 'main'\. The merge base commit/);
  });

  test('exec review with instructions: they reach the model, with the target spelled out', async () => {
    const repo = join(dirs.root, 'review-repo');
    api.script({ kind: 'review', findings: [] });
    const argv: string[][] = [];
    const recording = new CodexProvider({ start: (spec) => (argv.push([...spec.args]), supervisor.start(spec)) }, codexTestConfig(api, dirs.homes));
    const events = await collect(
      await recording.review({
        cwd: repo, target: { kind: 'uncommitted' }, instructions: 'Look hard at arithmetic (XYZZY).', reasoningEffort: 'low',
        confinement: { level: 'read', root: repo }, signal: new AbortController().signal,
      }),
    );
    assert.deepEqual(ofType(events, 'result'), [{ type: 'result', success: true }]);
    const sent = JSON.stringify(lastInput());
    assert.match(sent, /staged, unstaged, and untracked files/);
    assert.match(sent, /Look hard at arithmetic \(XYZZY\)/);
    assert.equal(argv.length, 1);
    assert.doesNotMatch(argv[0].join(' '), /XYZZY/, 'the instructions go on stdin, never argv');
    assert.equal(argv[0].at(-1), '-');
    assert.equal((api.modelRequests().at(-1)?.body as { reasoning?: { effort?: string } }).reasoning?.effort, 'low');
  });
});

describe('codex asks before it writes (app-server approvals through the turn\'s approver, inside bubblewrap)', () => {
  /** A turn whose writes are asked; `answer` decides each approval, and what was asked is recorded. */
  async function askedTurn(answer: ApprovalAnswer, extra: Partial<TurnOptions> = {}) {
    const asked: ApprovalAsk[] = [];
    const events = await collect(
      await provider.startTurn(
        turnOptions({
          confinement: { level: 'write', root: dirs.cwd, approveWrites: true },
          onApproval: async (ask) => (asked.push(ask), answer),
          ...extra,
        }),
      ),
    );
    return { events, asked };
  }
  const escalated = (cmd: string) => ({ kind: 'tool' as const, name: 'exec_command', input: { cmd, sandbox_permissions: 'require_escalated', justification: 'write the file' } });
  const addFile = (path: string) => ({ kind: 'patch' as const, patch: `*** Begin Patch\n*** Add File: ${path}\n+asked\n*** End Patch\n` });
  /** What codex told the model about its last tool call. */
  const lastToolOutput = () => JSON.stringify(lastInput().filter((item) => /_call_output$/.test(String(item.type))).at(-1) ?? null);

  test('a write in its own sandbox fails unasked: the sandbox stays read-only where writes are asked', async () => {
    api.script({ kind: 'tool', name: 'exec_command', input: { cmd: 'touch unasked.txt' } }, { kind: 'text', text: 'ok' });
    const { events, asked } = await askedTurn('allow');
    assert.equal(ofType(events, 'status')[0].mode, 'ask');
    assert.equal(asked.length, 0);
    assert.equal(existsSync(join(dirs.cwd, 'unasked.txt')), false);
    assert.match(lastToolOutput(), /Read-only file system/);
  });

  test('a shell command that writes waits for the approver: denied, no file and the model is told', async () => {
    api.script(escalated('touch denied-shell.txt && echo made'), { kind: 'text', text: 'ok' });
    const { events, asked } = await askedTurn('deny');
    assert.equal(asked.length, 1);
    assert.equal(asked[0].toolName, 'command_execution');
    assert.match(JSON.stringify(asked[0].input), /touch denied-shell\.txt/);
    assert.deepEqual(ofType(events, 'approval_request').map((e) => e.decision), [undefined, 'deny']);
    assert.equal(existsSync(join(dirs.cwd, 'denied-shell.txt')), false);
    assert.doesNotMatch(lastToolOutput(), /made/);
    assert.deepEqual(ofType(events, 'result'), [{ type: 'result', success: true }]);
  });

  test('allowed, the command runs and writes inside the root', async () => {
    api.script(escalated('touch allowed-shell.txt && echo made'), { kind: 'text', text: 'ok' });
    const { events, asked } = await askedTurn('allow');
    assert.equal(asked.length, 1);
    assert.equal(existsSync(join(dirs.cwd, 'allowed-shell.txt')), true);
    assert.match(ofType(events, 'tool_result')[0].content, /made/);
  });

  test('allowed, a write outside the root still fails: the filesystem view has nothing else writable', async () => {
    // A folder the agent may read (a ticket chat's context repository) is there, read-only;
    // any other folder of the host is not there at all.
    const context = join(dirs.root, 'context-repo');
    mkdirSync(context, { recursive: true });
    const inContext = join(context, 'written.txt');
    const elsewhere = join(dirs.homes, 'outside-allowed.txt');
    // touch's error through stdout: the tool output joins two pipes in no fixed order.
    api.script(escalated(`touch ${inContext} 2>&1; echo context=$?; touch ${elsewhere} 2>&1; echo elsewhere=$?`), { kind: 'text', text: 'ok' });
    const { asked } = await askedTurn('allow', { confinement: { level: 'write', root: dirs.cwd, readRoots: [context], approveWrites: true } });
    assert.equal(asked.length, 1);
    assert.equal(existsSync(inContext), false);
    assert.equal(existsSync(elsewhere), false);
    assert.match(lastToolOutput(), /Read-only file system[\s\S]*context=1/);
  });

  test('a patch waits for the approver: denied, no file; allowed, the file is there', async () => {
    api.script(addFile('denied-patch.txt'), { kind: 'text', text: 'ok' });
    const denied = await askedTurn('deny');
    assert.equal(denied.asked.length, 1);
    assert.equal(denied.asked[0].toolName, 'file_change');
    assert.match(JSON.stringify(denied.asked[0].input), /denied-patch\.txt/);
    assert.equal(existsSync(join(dirs.cwd, 'denied-patch.txt')), false);

    api.script(addFile('allowed-patch.txt'), { kind: 'text', text: 'ok' });
    const allowed = await askedTurn('allow');
    assert.equal(allowed.asked.length, 1);
    assert.equal(readFileSync(join(dirs.cwd, 'allowed-patch.txt'), 'utf8'), 'asked\n');
  });

  test('a patch outside the root is refused by the confinement before anyone is asked', async () => {
    const outside = join(dirs.root, 'outside-patch.txt');
    api.script(addFile(outside), { kind: 'text', text: 'ok' });
    const { events, asked } = await askedTurn('allow');
    assert.equal(asked.length, 0);
    assert.deepEqual(ofType(events, 'approval_request').map((e) => e.decision), ['deny']);
    assert.equal(existsSync(outside), false);
  });

  test('a kill while an approval is pending stops the turn and withdraws the question; nothing was written', async () => {
    api.script(escalated('touch killed-pending.txt'));
    let withdrawn: AbortSignal | null = null;
    let asked!: () => void;
    const askedOnce = new Promise<void>((resolve) => (asked = resolve));
    const turn = await provider.startTurn(
      turnOptions({
        confinement: { level: 'write', root: dirs.cwd, approveWrites: true },
        onApproval: (_ask, signal) => ((withdrawn = signal), asked(), new Promise<ApprovalAnswer>(() => {})),
      }),
    );
    const collecting = collect(turn);
    await askedOnce;
    const pid = turn.pid!;
    await turn.kill();
    const events = await collecting;
    assert.equal(withdrawn!.aborted, true);
    assert.equal(groupAlive(pid), false);
    assert.deepEqual(ofType(events, 'result'), [{ type: 'result', success: false, reason: 'killed' }]);
    assert.deepEqual(ofType(events, 'approval_request').map((e) => e.decision), [undefined]);
    assert.equal(existsSync(join(dirs.cwd, 'killed-pending.txt')), false);
  });

  test('a caller whose writes are not asked keeps the workspace-write sandbox: a write in the root runs unasked', async () => {
    api.script({ kind: 'tool', name: 'exec_command', input: { cmd: 'touch unasked-allowed.txt' } }, { kind: 'text', text: 'ok' });
    const asked: ApprovalAsk[] = [];
    const events = await collect(await provider.startTurn(turnOptions({ onApproval: async (ask) => (asked.push(ask), 'allow') })));
    assert.equal(ofType(events, 'status')[0].mode, 'workspace-write');
    assert.equal(asked.length, 0);
    assert.equal(existsSync(join(dirs.cwd, 'unasked-allowed.txt')), true);
  });
});
