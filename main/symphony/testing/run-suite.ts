// A whole test file of ticket runs on one set-up: the mock model API, a run repository and
// a run gateway (run-fixture.ts), started in node:test's `before` and removed in its `after`.
// Kept apart from run-fixture.ts, which the benchmarks and the Playwright specs import too.
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { TestGateway } from '../../gateway/testing.js';
import { testHomesDir } from '../../providers/testing/cli-env.js';
import { MockModelApi } from '../../providers/testing/mock-model-api.js';
import { createRunRepo, launchRun, runEvents, startRunGateway } from './run-fixture.js';

/** What the file's tests share; every field is set once `before` has run. */
export interface RunSuite {
  api: MockModelApi;
  root: string;
  /** `<root>/repo`, from createRunRepo. */
  repo: string;
  /** The CLIs' homes, kept for the whole file (their session files are under `<homes>/home`). */
  homes: string;
  gw: TestGateway;
  /** POST /symphony/launch with the gateway token. */
  launch(json: Record<string, unknown>): ReturnType<typeof launchRun>;
  /** The run's event log in `repo`, parsed. */
  events(ticketId: string): ReturnType<typeof runEvents>;
}

/** Call at the file's top level; `prefix` names the temp folders, `settings` go to the gateway. */
export function runSuite(prefix: string, settings?: Record<string, unknown>): RunSuite {
  const suite = {
    launch: (json: Record<string, unknown>) => launchRun(suite.gw, json),
    events: (ticketId: string) => runEvents(suite.gw, ticketId, suite.repo),
  } as RunSuite;
  before(async () => {
    suite.api = await MockModelApi.start();
    suite.root = realpathSync(mkdtempSync(path.join(tmpdir(), prefix)));
    suite.repo = await createRunRepo(suite.root);
    suite.homes = mkdtempSync(path.join(testHomesDir(), prefix));
    suite.gw = await startRunGateway({ root: suite.root, api: suite.api, homes: suite.homes, settings });
  });
  after(async () => {
    await suite.gw?.close();
    await suite.api?.close();
    if (suite.root) rmSync(suite.root, { recursive: true, force: true });
    if (suite.homes) rmSync(suite.homes, { recursive: true, force: true });
  });
  return suite;
}
