// Offline set-ups for the real claude and codex CLIs in tests: every home and config
// directory is fresh, and the model API is the loopback mock. Nothing of the developer's
// own CLI configuration or credentials is read. The CLI homes lie OUTSIDE the temp folder:
// codex 0.171 cannot start its sandbox helper (CODEX_HOME/tmp/arg0) when CODEX_HOME is
// under TMPDIR, because its bubblewrap sandbox mounts a fresh /tmp over it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasProcfs, liveGroupMembers } from '../../supervisor/procfs.js';
import type { CliProviderConfig } from '../types.js';
import type { MockModelApi } from './mock-model-api.js';

/** node_modules/.bin of this checkout, where the dev-dependency CLIs live. */
export const NODE_MODULES_BIN = resolve(fileURLToPath(new URL('../../../node_modules/.bin', import.meta.url)));

export interface TestDirs {
  /** A temp folder for the test's files (repositories, data dirs, uploads). */
  root: string;
  /** A working directory for the CLI (the chat session's cwd). */
  cwd: string;
  /** Where the CLIs' homes and config folders go: a fresh folder outside the temp folder. */
  homes: string;
  cleanup(): void;
}

/** Parent of the test CLI homes: never under TMPDIR (see above). */
export function testHomesDir(): string {
  const dir = process.env.SYMPHONY_TEST_HOMES ?? join(homedir(), '.cache', 'symphony-desktop', 'test-homes');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function makeTestDirs(prefix: string): TestDirs {
  const root = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const cwd = join(root, 'work');
  mkdirSync(cwd);
  const homes = mkdtempSync(join(testHomesDir(), `${prefix}-`));
  return {
    root,
    cwd,
    homes,
    cleanup: () => {
      rmSync(root, { recursive: true, force: true });
      rmSync(homes, { recursive: true, force: true });
    },
  };
}

/** `homes`: TestDirs.homes (a folder outside the temp folder). */
export function claudeTestConfig(api: Pick<MockModelApi, 'url'>, homes: string): CliProviderConfig {
  const home = join(homes, 'home');
  mkdirSync(join(home, '.claude'), { recursive: true });
  return {
    command: 'claude',
    env: {
      HOME: home,
      CLAUDE_CONFIG_DIR: join(home, '.claude'),
      ANTHROPIC_BASE_URL: api.url,
      ANTHROPIC_API_KEY: 'test',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      CLAUDE_CODE_MAX_RETRIES: '0',
    },
  };
}

/** `homes`: TestDirs.homes (a folder outside the temp folder, as codex needs). */
export function codexTestConfig(api: Pick<MockModelApi, 'url'>, homes: string): CliProviderConfig {
  const codexHome = join(homes, 'codex-home');
  mkdirSync(codexHome, { recursive: true });
  writeFileSync(
    join(codexHome, 'config.toml'),
    [
      'model = "gpt-5.5"',
      'model_provider = "mock"',
      '',
      '[model_providers.mock]',
      'name = "mock"',
      `base_url = "${api.url}/v1"`,
      'wire_api = "responses"',
      'env_key = "MOCK_MODEL_API_KEY"',
      'request_max_retries = 0',
      'stream_max_retries = 0',
      '',
      '[analytics]',
      'enabled = false',
      '',
      '[features]',
      'plugins = false',
      '',
    ].join('\n'),
  );
  return { command: 'codex', env: { HOME: join(homes, 'home'), CODEX_HOME: codexHome, MOCK_MODEL_API_KEY: 'test' } };
}

/** True while any process of the group `pgid` is alive (zombies, which PID 1 here may never reap, do not count). */
export function groupAlive(pgid: number): boolean {
  if (hasProcfs) return liveGroupMembers(pgid).length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
