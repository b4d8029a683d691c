// Managed repositories: list, add, change settings, forget (never deletes files).
import { RepoAddBody, RepoPatchBody, RepoPathQuery, RepoRemovedResponse, RepoResponse, ReposResponse } from '../../../shared/schemas/git.js';
import { reply } from '../reply.js';
import { defineRoute, type AnyRoute } from '../route.js';

const PATH = '/api/gateway/repos';

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: PATH,
    summary: 'List managed repositories.',
    response: ReposResponse,
    handler: (_input, { services }) => ({ repos: services.repos.list() }),
  }),
  defineRoute({
    method: 'POST',
    path: PATH,
    summary: 'Add a repository (a git work tree inside the workspace); 409 when already managed.',
    response: RepoResponse,
    body: RepoAddBody,
    classify: ({ body }) => ({ repoPath: body.path }),
    handler: async ({ body }, { services, signal }) => reply(201, { repo: await services.repos.add(body, signal) }),
  }),
  defineRoute({
    method: 'PATCH',
    path: PATH,
    summary: 'Change a repository setting (name, description, defaultBranch, worktreeParentDir).',
    response: RepoResponse,
    body: RepoPatchBody,
    classify: ({ body }) => ({ repoPath: body.path }),
    handler: async ({ body: { path, ...changes } }, { services }) => ({ repo: await services.repos.patch(path, changes) }),
  }),
  defineRoute({
    method: 'DELETE',
    path: PATH,
    summary: 'Forget a repository; its files and worktrees stay on disk.',
    response: RepoRemovedResponse,
    query: RepoPathQuery,
    classify: ({ query }) => ({ repoPath: query.path }),
    handler: ({ query }, { services }) => ({ removed: true, repo: services.repos.remove(query.path) }),
  }),
];
