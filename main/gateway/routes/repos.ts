// Managed repositories: list, add, change settings, forget (never deletes files), and
// the global worktree settings the web client's picker saves (PATCH without `path`).
import type { z } from 'zod';
import {
  RepoAddBody,
  RepoPatchBody,
  RepoPathQuery,
  RepoRemovedResponse,
  RepoResponse,
  ReposResponse,
  WorktreeSettingsResponse,
  type RepoView,
  type WorktreeSettingsView,
} from '../../../shared/schemas/git.js';
import type { Repo, WorktreeSettings } from '../../git/repos.js';
import { reply } from '../reply.js';
import { defineRoute, type AnyRoute } from '../route.js';

const PATH = '/api/gateway/repos';

/** The wire form: ISO timestamps, and no `description` rather than null (the web client's schema). */
export function repoView({ description, addedAt, updatedAt, ...rest }: Repo): z.infer<typeof RepoView> {
  return { ...rest, ...(description === null ? {} : { description }), addedAt: new Date(addedAt).toISOString(), updatedAt: new Date(updatedAt).toISOString() };
}

function settingsView(settings: WorktreeSettings): z.infer<typeof WorktreeSettingsView> {
  return {
    ...(settings.worktreeParentDir === null ? {} : { worktreeParentDir: settings.worktreeParentDir }),
    worktreeParentDirConfirmed: settings.worktreeParentDirConfirmed,
  };
}

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: PATH,
    summary: 'List managed repositories and the global worktree settings.',
    response: ReposResponse,
    handler: (_input, { services }) => ({ repos: services.repos.list().map(repoView), settings: settingsView(services.repos.worktreeSettings()) }),
  }),
  defineRoute({
    method: 'POST',
    path: PATH,
    summary: 'Add a repository (a git work tree inside the workspace); 409 when already managed.',
    response: RepoResponse,
    body: RepoAddBody,
    classify: ({ body }) => ({ repoPath: body.path }),
    handler: async ({ body }, { services, signal }) => reply(201, { repo: repoView(await services.repos.add(body, signal)) }),
  }),
  defineRoute({
    method: 'PATCH',
    path: PATH,
    summary:
      'With `path`: change a repository setting (name, description, defaultBranch, worktreeParentDir). ' +
      'Without: the global worktree settings (worktreeParentDir, created when missing; worktreeParentDirConfirmed) → {success, settings}.',
    response: RepoResponse.or(WorktreeSettingsResponse),
    body: RepoPatchBody,
    classify: ({ body }) => (body.path === undefined ? {} : { repoPath: body.path }),
    handler: async ({ body: { path, worktreeParentDir, worktreeParentDirConfirmed, ...changes } }, { services }) => {
      if (path !== undefined) return { repo: repoView(await services.repos.patch(path, { ...changes, worktreeParentDir })) };
      const settings = await services.repos.setWorktreeSettings({ worktreeParentDir: worktreeParentDir ?? undefined, worktreeParentDirConfirmed });
      return { success: true, settings: settingsView(settings) };
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: PATH,
    summary: 'Forget a repository; its files and worktrees stay on disk.',
    response: RepoRemovedResponse,
    query: RepoPathQuery,
    classify: ({ query }) => ({ repoPath: query.path }),
    handler: ({ query }, { services }) => ({ removed: true, repo: repoView(services.repos.remove(query.path)) }),
  }),
];
