// Local git: the /git action dispatch, branches, diffs, worktrees and lookups.
import {
  BranchesQuery,
  BranchesResponse,
  BranchWorktreeQuery,
  BranchWorktreeResponse,
  DiffBody,
  DiffResponse,
  GitActionBody,
  READ_GIT_ACTIONS,
  RepoFullNameQuery,
  RepoPathResponse,
  WorktreeBody,
  WorktreeDeleteBody,
  WorktreeRemovedResponse,
  WorktreeResponse,
} from '../../../shared/schemas/git.js';
import { defineRoute, type AnyRoute } from '../route.js';

const API = '/api/gateway/git';

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'POST',
    path: API,
    summary: 'Run a git action: status | branch | commit | push | pull | branch-diff | sync-status.',
    body: GitActionBody,
    classify: ({ body }) => ({ access: READ_GIT_ACTIONS.has(body.action) ? 'read' : 'write', action: body.action, repoPath: body.repoPath }),
    handler: ({ body }, { services, signal }) => services.git.runAction(body, signal),
  }),
  defineRoute({
    method: 'GET',
    path: `${API}/branches`,
    summary: 'Local and remote branches of a repository.',
    response: BranchesResponse,
    query: BranchesQuery,
    classify: ({ query }) => ({ repoPath: query.repo }),
    handler: ({ query }, { services, signal }) => services.git.branches(query.repo, signal),
  }),
  defineRoute({
    method: 'POST',
    path: `${API}/diff`,
    summary: 'Per-file stats and unified diff (capped; binary flagged; lockfiles summarised).',
    response: DiffResponse,
    body: DiffBody,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ body: { repoPath, ...options } }, { services, signal }) => services.git.diff(repoPath, options, signal),
  }),
  defineRoute({
    method: 'POST',
    path: `${API}/worktree`,
    summary: 'Create a worktree for a branch (action create), or remove worktrees of merged PRs (action cleanup).',
    response: WorktreeResponse,
    body: WorktreeBody,
    classify: ({ body }) => ({ action: `worktree-${body.action}`, repoPath: body.repoPath }),
    handler: ({ body }, { services, signal }) =>
      body.action === 'cleanup'
        ? services.git.worktrees.cleanupMerged(body.repoPath, signal)
        : services.git.worktrees.create({ repoPath: body.repoPath, branchName: body.branchName!, baseBranch: body.baseBranch }, signal),
  }),
  defineRoute({
    method: 'DELETE',
    path: `${API}/worktree`,
    summary: 'Remove a worktree; refuses uncommitted changes unless force.',
    response: WorktreeRemovedResponse,
    body: WorktreeDeleteBody,
    classify: ({ body }) => ({ action: body.force ? 'worktree-delete-force' : 'worktree-delete', repoPath: body.worktreePath }),
    handler: ({ body }, { services, signal }) => services.git.worktrees.remove(body, signal),
  }),
  defineRoute({
    method: 'GET',
    path: `${API}/branch-worktree`,
    summary: 'Where a branch of a managed repository (by owner/repo) is checked out.',
    response: BranchWorktreeResponse,
    query: BranchWorktreeQuery,
    handler: ({ query }, { services, signal }) => services.git.worktrees.findBranchWorktree(query.repoFullName, query.headBranch, signal),
  }),
  defineRoute({
    method: 'GET',
    path: `${API}/repo-path`,
    summary: 'The local path of a managed repository, by owner/repo.',
    response: RepoPathResponse,
    query: RepoFullNameQuery,
    handler: ({ query }, { services }) => ({ path: services.repos.requireByFullName(query.repoFullName).path }),
  }),
];
