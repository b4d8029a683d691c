// Directory listing (repository picker) and fuzzy file search; every path goes
// through the workspace guard inside the domain modules.
import { DirectoriesQuery, DirectoriesResponse, FileSearchQuery, FileSearchResponse } from '../../../shared/schemas/files.js';
import { listDirectories } from '../../files/directories.js';
import { defineRoute, type AnyRoute } from '../route.js';

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/api/gateway/directories',
    summary: 'List the folders of a directory (git repositories first) for the repository picker.',
    query: DirectoriesQuery,
    response: DirectoriesResponse,
    handler: ({ query }, { services }) => listDirectories(services.workspace, query),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/gateway/files/search',
    summary: "Fuzzy search (ranked like fzf) of a repository's tracked and untracked-but-not-ignored files.",
    query: FileSearchQuery,
    response: FileSearchResponse,
    classify: ({ query }) => ({ access: 'read', repoPath: query.repo }),
    handler: async ({ query: { ticket, base, ...query } }, { services, signal }) => {
      if (ticket === undefined || base) return services.fileSearch.search(query);
      const worktree = await services.ticketWorktrees.find(query.repo, ticket, signal);
      if (!worktree) {
        return { repo: query.repo, files: [], matches: [], truncated: false, total: 0, error: `Ticket ${ticket} has no worktree yet; search with base=true for the repository.` };
      }
      return services.fileSearch.search({ ...query, repo: worktree.path });
    },
  }),
];
