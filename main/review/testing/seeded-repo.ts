// A real git repository with one seeded bug for review tests: `main` has a correct
// add(), branch `feature/bug` makes it subtract. The bug is on line 2 of src/math.js.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RepoRegistry } from '../../git/repos.js';
import type { Supervisor } from '../../supervisor/supervisor.js';

export const BUG_FILE = 'src/math.js';
export const BUG_LINE = 2;

/** `checkout`: the branch left checked out (main, to review the bug branch in its own worktree). */
export async function seededBugRepo(supervisor: Pick<Supervisor, 'run'>, repo: string, checkout = 'feature/bug'): Promise<string> {
  const git = async (...args: string[]) => {
    const result = await supervisor.run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', ...args], { cwd: repo });
    if (result.exitCode !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  mkdirSync(join(repo, 'src'), { recursive: true });
  await git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, BUG_FILE), 'export function add(a, b) {\n  return a + b;\n}\n');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'add()');
  await git('checkout', '-q', '-b', 'feature/bug');
  writeFileSync(join(repo, BUG_FILE), 'export function add(a, b) {\n  return a - b;\n}\n');
  await git('commit', '-q', '-am', 'tweak add()');
  if (checkout !== 'feature/bug') await git('checkout', '-q', checkout);
  return repo;
}

/** The gateway tests' review repository: `<parent>/app` on main, registered with the gateway. */
export async function registeredBugRepo(services: { supervisor: Pick<Supervisor, 'run'>; repos: Pick<RepoRegistry, 'add'> }, parent: string): Promise<string> {
  const repo = await seededBugRepo(services.supervisor, join(parent, 'app'), 'main');
  await services.repos.add({ path: repo });
  return repo;
}
