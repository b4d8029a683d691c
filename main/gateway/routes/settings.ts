// Binary path overrides for claude, codex, gh, git and python3. (A paired origin is always
// asked before PATCH: a repointed git would run anything; the policy handles that.)
import { BinaryPathsPatchBody, BinaryPathsResponse } from '../../../shared/schemas/settings.js';
import { binaryPathsView, updateBinaryPaths } from '../../supervisor/binary-settings.js';
import { defineRoute, type AnyRoute } from '../route.js';

const PATH = '/api/gateway/settings/binary-paths';

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: PATH,
    summary: 'Each managed CLI: effective path, where it came from (override, PATH, login shell), version.',
    response: BinaryPathsResponse,
    handler: (_input, { services }) => binaryPathsView(services.supervisor.binaries),
  }),
  defineRoute({
    method: 'PATCH',
    path: PATH,
    summary: 'Set (absolute path, checked with --version) or clear (null) overrides; all saved or none.',
    body: BinaryPathsPatchBody,
    response: BinaryPathsResponse,
    handler: async ({ body }, { services }) => {
      await updateBinaryPaths(services.supervisor.binaries, services.settings, body.binaryPaths);
      return binaryPathsView(services.supervisor.binaries);
    },
  }),
];
