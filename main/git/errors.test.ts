// git's messages (as printed by git 2.3x-2.4x under LC_ALL=C) map to typed errors.
// A fake runner appears once: to produce a cut output on demand, which real git cannot.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../errors.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { gitError } from './errors.js';
import { GitRunner } from './runner.js';

const failed = (stderr: string, stdout = '') => ({ exitCode: 1, stdout, stderr, timedOut: false, truncated: false });

test('each refusal of git becomes 409/422/424 with a hint, never 500', () => {
  const cases: Array<[string, number, string]> = [
    ['fatal: not a git repository (or any of the parent directories): .git', 422, 'not_a_git_repository'],
    ["fatal: Unable to create '/r/.git/index.lock': File exists.", 409, 'git_locked'],
    ["fatal: 'feat' is already checked out at '/w/feat'", 409, 'branch_checked_out_elsewhere'],
    ["fatal: 'feat' is already used by worktree at '/w/feat'", 409, 'branch_checked_out_elsewhere'],
    [' ! [rejected]        main -> main (fetch first)\nerror: failed to push some refs', 409, 'non_fast_forward'],
    [' ! [rejected]        main -> main (non-fast-forward)', 409, 'non_fast_forward'],
    ['fatal: Not possible to fast-forward, aborting.', 409, 'diverged'],
    ['CONFLICT (content): Merge conflict in a.txt', 409, 'merge_conflict'],
    ['error: Your local changes to the following files would be overwritten by checkout:\n\ta.txt', 409, 'local_changes_would_be_overwritten'],
    ['fatal: You are not currently on a branch.', 409, 'detached_head'],
    ['There is no tracking information for the current branch.', 422, 'no_upstream'],
    ['fatal: The current branch topic has no upstream branch.', 422, 'no_upstream'],
    ['*** Please tell me who you are.', 422, 'git_identity_missing'],
    ["fatal: a branch named 'x' already exists", 409, 'already_exists'],
    ["fatal: invalid reference: nope", 422, 'unknown_ref'],
    ["fatal: 'upstream' does not appear to be a git repository", 422, 'no_remote'],
    ["fatal: could not read Username for 'https://github.com': terminal prompts disabled", 424, 'git_auth_failed'],
    ["fatal: unable to access 'https://github.com/a/b.git/': Could not resolve host: github.com", 424, 'remote_unreachable'],
  ];
  for (const [stderr, status, code] of cases) {
    const error = gitError('op', failed(stderr));
    assert.deepEqual([error.status, error.code], [status, code], stderr);
    assert.ok((error.details as { hint?: string }).hint, `hint for ${code}`);
  }
  assert.equal(gitError('commit', failed('', 'On branch main\nnothing to commit, working tree clean\n')).code, 'nothing_to_commit');
  assert.equal((gitError('worktree add', failed("fatal: 'f' is already checked out at '/w/f'")).details as { path: string }).path, '/w/f');
});

test('an unknown failure is a 422 with git message; a timeout is a 504', () => {
  const unknown = gitError('frob', failed('fatal: something new'));
  assert.deepEqual([unknown.status, unknown.code], [422, 'git_failed']);
  assert.match(unknown.message, /something new/);
  const slow = gitError('fetch', { exitCode: null, stdout: '', stderr: '', timedOut: true, truncated: false });
  assert.deepEqual([slow.status, slow.code], [504, 'git_timeout']);
});

test('GitRunner.run refuses a cut output instead of returning half an answer', async () => {
  const cut = { run: async () => ({ exitCode: null, stdout: '1 .M N...', stderr: '', timedOut: false, truncated: true }) };
  await assert.rejects(new GitRunner(cut).run('/tmp', ['status'], 'status'), (e: unknown) => (e as { code?: string }).code === 'git_output_too_large');
  const raw = await new GitRunner(cut).raw('/tmp', ['diff'], 'diff');
  assert.equal(raw.truncated, true);
});

test('git missing is a 424 saying how to fix it', async () => {
  const saved = { PATH: process.env.PATH, SHELL: process.env.SHELL };
  process.env.PATH = '';
  delete process.env.SHELL; // no login shell to ask for its PATH either
  try {
    const runner = new GitRunner(new Supervisor());
    await assert.rejects(runner.run('/tmp', ['status'], 'status'), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.deepEqual([e.status, e.code], [424, 'git_not_installed']);
      assert.match((e.details as { hint: string }).hint, /Binary paths/);
      return true;
    });
  } finally {
    process.env.PATH = saved.PATH;
    if (saved.SHELL === undefined) delete process.env.SHELL;
    else process.env.SHELL = saved.SHELL;
  }
});
