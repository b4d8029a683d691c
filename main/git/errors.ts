// The one place that turns a failed git run into a typed error. git's own refusals
// (a conflict, a rejected push, a stale lock, ...) are the user's situation to fix,
// not a bug of ours: they become 409/422 with git's message and a hint, never 500.
import { AppError, Conflict, FailedDependency, Unprocessable } from '../errors.js';
import type { RunResult } from '../supervisor/supervisor.js';

interface Rule {
  pattern: RegExp;
  status: 409 | 422 | 424;
  code: string;
  hint: string;
}

// Order matters: the first rule whose pattern matches git's stderr wins.
const RULES: readonly Rule[] = [
  {
    pattern: /not a git repository/i,
    status: 422,
    code: 'not_a_git_repository',
    hint: 'Pick the folder of a git work tree (one that contains .git), or run `git init` there first.',
  },
  {
    pattern: /index\.lock': File exists|Unable to create '.*\.lock'/i,
    status: 409,
    code: 'git_locked',
    hint: 'Another git process is using this repository. Wait for it to finish; if none is running, delete the .git/index.lock file.',
  },
  {
    pattern: /is already (?:checked out|used by worktree) at '([^']+)'/i,
    status: 409,
    code: 'branch_checked_out_elsewhere',
    hint: 'A branch can be checked out in one worktree at a time: use that worktree, or switch it to another branch first.',
  },
  {
    pattern: /\[rejected\].*\((?:fetch first|non-fast-forward)\)|non-fast-forward|Updates were rejected/i,
    status: 409,
    code: 'non_fast_forward',
    hint: 'The remote has commits this branch does not have. Pull (or rebase) first, then push again.',
  },
  {
    pattern: /Not possible to fast-forward|diverging branches|divergent branches|Need to specify how to reconcile/i,
    status: 409,
    code: 'diverged',
    hint: 'The local and remote branches have both moved. Merge or rebase them yourself, then pull again.',
  },
  {
    pattern: /CONFLICT|Merge conflict|unmerged files|you need to resolve your current index first|fix conflicts|while (?:merging|rebasing|cherry-picking|reverting)|not concluded your merge|MERGE_HEAD exists/i,
    status: 409,
    code: 'merge_conflict',
    hint: 'Resolve the conflicted files (or abort the merge/rebase), then try again.',
  },
  {
    pattern: /would be overwritten by (?:checkout|merge)|Please commit your changes or stash them/i,
    status: 409,
    code: 'local_changes_would_be_overwritten',
    hint: 'Commit or stash the local changes first.',
  },
  {
    pattern: /You are not currently on a branch|HEAD detached|detached HEAD/i,
    status: 409,
    code: 'detached_head',
    hint: 'HEAD is detached. Switch to (or create) a branch first.',
  },
  {
    pattern: /has no upstream branch|no tracking information|There is no tracking information/i,
    status: 422,
    code: 'no_upstream',
    hint: 'This branch has no upstream yet. Push it once to set one.',
  },
  {
    pattern: /nothing to commit|nothing added to commit|no changes added to commit/i,
    status: 422,
    code: 'nothing_to_commit',
    hint: 'There are no changes to commit.',
  },
  {
    pattern: /Please tell me who you are|Author identity unknown|empty ident name/i,
    status: 422,
    code: 'git_identity_missing',
    hint: 'Set your name and email: git config --global user.name "Your Name" and git config --global user.email you@example.com.',
  },
  {
    pattern: /already exists/i,
    status: 409,
    code: 'already_exists',
    hint: 'Pick another name, or use the existing one.',
  },
  {
    pattern: /invalid reference|unknown revision|bad revision|not a valid object name|did not match any|couldn't find remote ref|pathspec .* did not match/i,
    status: 422,
    code: 'unknown_ref',
    hint: 'Check the branch name: it does not exist here (fetch first if it is only on the remote).',
  },
  {
    pattern: /does not appear to be a git repository|No such remote|No configured push destination/i,
    status: 422,
    code: 'no_remote',
    hint: 'The repository has no such remote. Add one with `git remote add origin <url>`.',
  },
  {
    pattern: /Authentication failed|could not read Username|Permission denied \(publickey\)|terminal prompts disabled/i,
    status: 424,
    code: 'git_auth_failed',
    hint: 'git could not authenticate to the remote. Set up credentials (SSH key or `gh auth setup-git`) and try again.',
  },
  {
    pattern: /Could not resolve host|unable to access|Connection refused|Connection timed out|Could not read from remote repository/i,
    status: 424,
    code: 'remote_unreachable',
    hint: 'The remote could not be reached. Check the network and the remote URL.',
  },
];

/** git's message without the noise: the lines that say what went wrong. */
function gitMessage(result: Pick<RunResult, 'stdout' | 'stderr'>): string {
  const text = (result.stderr.trim() || result.stdout.trim()).replace(/\r/g, '');
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

/**
 * The typed error for a git run that failed. `operation` names what we tried
 * ("push", "create worktree", ...) so the message reads well on its own.
 */
export function gitError(operation: string, result: RunResult): AppError {
  if (result.timedOut) {
    return new AppError(504, 'git_timeout', `git ${operation} took too long and was stopped.`, {
      hint: 'Try again; if it keeps happening, run the command in a terminal to see what it waits for.',
    });
  }
  const message = gitMessage(result);
  // stdout matters too: `git commit` says "nothing to commit" there.
  const haystack = `${result.stderr}\n${result.stdout}`;
  for (const rule of RULES) {
    const match = rule.pattern.exec(haystack);
    if (!match) continue;
    const details: Record<string, unknown> = { hint: rule.hint, gitMessage: message };
    if (rule.code === 'branch_checked_out_elsewhere' && match[1]) details.path = match[1];
    const text = `git ${operation} failed: ${message}`;
    if (rule.status === 409) return new Conflict(text, rule.code, details);
    if (rule.status === 424) return new FailedDependency(text, rule.code, details);
    return new Unprocessable(text, rule.code, details);
  }
  return new Unprocessable(`git ${operation} failed: ${message || `exit code ${result.exitCode}`}`, 'git_failed', {
    gitMessage: message,
    exitCode: result.exitCode,
  });
}

/** git (or gh) could not be started at all. */
export function toolMissing(tool: 'git' | 'gh'): FailedDependency {
  return tool === 'git'
    ? new FailedDependency('git is not installed or not on PATH.', 'git_not_installed', {
        hint: 'Install git, or set its path under Settings → Binary paths.',
      })
    : new FailedDependency('The GitHub CLI (gh) is not installed or not on PATH.', 'gh_not_installed', {
        hint: 'Install it from https://cli.github.com, then run `gh auth login`; or set its path under Settings → Binary paths.',
      });
}
