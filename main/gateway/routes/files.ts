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
    handler: ({ query }, { services }) => services.fileSearch.search(query),
  }),
];
