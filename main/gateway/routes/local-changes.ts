// The web client's Branch View on a PR's local worktree: list, one file's diff, and
// commit-everything-and-push (its own operation, which always asks a paired origin).
import {
  FileDiffResponse,
  LocalChangesQuery,
  LocalChangesResponse,
  LocalCommitPushBody,
  LocalCommitPushResponse,
  LocalDiffBody,
} from '../../../shared/schemas/git.js';
import { defineRoute, type AnyRoute } from '../route.js';

const BASE = '/api/gateway/git/local-changes';

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: BASE,
    summary: "The uncommitted changes of a PR's worktree (checked to be repoFullName on headBranch).",
    query: LocalChangesQuery,
    response: LocalChangesResponse,
    classify: ({ query }) => ({ repoPath: query.repoPath }),
    handler: ({ query }, { services, signal }) => services.git.localChanges.list(query, signal),
  }),
  defineRoute({
    method: 'POST',
    path: `${BASE}/diff`,
    summary: 'One changed file: its content at HEAD and in the worktree.',
    body: LocalDiffBody,
    response: FileDiffResponse,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ body }, { services, signal }) => services.git.localChanges.diff(body, signal),
  }),
  defineRoute({
    method: 'POST',
    path: `${BASE}/commit-push`,
    summary: "Commit every change in the worktree and push HEAD to the PR's headBranch.",
    body: LocalCommitPushBody,
    response: LocalCommitPushResponse,
    classify: ({ body }) => ({ repoPath: body.repoPath }),
    handler: ({ body }, { services, signal }) => services.git.localChanges.commitPush(body, signal),
  }),
];
