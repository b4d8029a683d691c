// Branch names come from the network. Two gates: a strict character allowlist in
// JS (so `--upload-pack=...`, `-x` or `main;id` never reach a git argv at all),
// then `git check-ref-format --branch` for git's own rules (`..`, `.lock`, `@{`...).
import { BRANCH_NAME_PATTERN } from '../../shared/names.js';
import { BadRequest } from '../errors.js';
import type { GitRunner } from './runner.js';


// What git's ref rules forbid within those characters: "..", "//", "@{", a "/." segment,
// and a trailing "/", "." or ".lock".
const GIT_FORBIDDEN = /\.\.|\/\/|@\{|\/\.|[/.]$|\.lock$|\.lock\//;

/** Cheap check without git: throws 400 naming the field. */
export function assertBranchShape(name: string, field: string): void {
  if (!BRANCH_NAME_PATTERN.test(name) || GIT_FORBIDDEN.test(name)) {
    throw new BadRequest(
      `${field} is not an acceptable branch name: use letters, digits and . _ / + # @ -, not starting with '-' or '.'.`,
      { field },
      'invalid_ref',
    );
  }
}

/** Full check: the allowlist, then git's own ref-format rules. */
export async function assertBranchName(git: GitRunner, cwd: string, name: string, field: string): Promise<void> {
  assertBranchShape(name, field);
  const ok = await git.succeeds(cwd, ['check-ref-format', '--branch', name], 'check-ref-format');
  if (!ok) throw new BadRequest(`${field} is not a valid git branch name.`, { field }, 'invalid_ref');
}

/** A branch name as a directory name: one path segment, no surprises. */
export function branchSlug(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 100) || 'branch';
}
