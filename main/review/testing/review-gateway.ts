// The setup of the whole-gateway tests about whose review (or review chat) it is: a gateway with
// real claude against the mock model API, the seeded review repository registered, and two
// paired origins whose agent starts of the given operations are allowed (the tests are about
// ownership, not the approval).
import type { OperationId } from '../../../shared/operations.js';
import { AGENT_START } from '../../auth/policy.js';
import { ClaudeProvider } from '../../providers/claude.js';
import { claudeTestConfig, makeTestDirs, NODE_MODULES_BIN, type TestDirs } from '../../providers/testing/cli-env.js';
import { MockModelApi } from '../../providers/testing/mock-model-api.js';
import { registeredBugRepo } from './seeded-repo.js';
import { startTestGateway, type TestGateway } from '../../gateway/testing.js';

export const ORIGIN = 'https://app.example.test';
export const OTHER = 'https://other.example.test';

export type PairedOrigin = { session: string; origin: string };
export type Auth = 'token' | PairedOrigin;

export interface ReviewGateway {
  api: MockModelApi;
  dirs: TestDirs;
  gw: TestGateway;
  repo: string;
  origin: PairedOrigin;
  other: PairedOrigin;
  close(): Promise<void>;
}

export async function startReviewGateway(name: string, allowed: readonly OperationId[]): Promise<ReviewGateway> {
  const api = await MockModelApi.start();
  const dirs = makeTestDirs(name);
  const gw = await startTestGateway({
    binarySearchDirs: [NODE_MODULES_BIN],
    configure: async (services) => {
      services.providers.register(new ClaudeProvider(services.supervisor, { ...claudeTestConfig(api, dirs.homes), confiner: services.confiner }));
      await services.setWorkspaceRoot(dirs.cwd);
    },
  });
  const origin = { session: await gw.pair(ORIGIN), origin: ORIGIN };
  const other = { session: await gw.pair(OTHER), origin: OTHER };
  gw.services.policy.replaceOverrides(allowed.map((operation) => ({
    callerKind: 'origin' as const, operation, access: 'write' as const, action: AGENT_START, decision: 'allow' as const,
  })));
  const repo = await registeredBugRepo(gw.services, dirs.cwd);
  return {
    api, dirs, gw, repo, origin, other,
    close: async () => {
      await gw.close();
      await api.close();
      dirs.cleanup();
    },
  };
}
