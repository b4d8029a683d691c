// The registry the gateway starts with. Each CLI's environment (its model API, key and
// config home, the privacy switches, proxies, what the user set) is built at every start
// by the Confiner's AgentEnvironment (agent-env.ts); the supervisor's clean environment
// drops every other variable, ours above all.
import { ClaudeProvider } from './claude.js';
import type { ChildLauncher } from './cli-turn.js';
import type { Confiner } from './confinement.js';
import { CodexProvider } from './codex.js';
import { ProviderRegistry } from './registry.js';
import type { CliProviderConfig } from './types.js';

/** A turn that prints nothing for this long is stuck (the CLIs print status lines while they work). */
const IDLE_TIMEOUT_MS = 10 * 60_000;

export function createProviderRegistry(launcher: ChildLauncher, confiner: Confiner): ProviderRegistry {
  const configs = cliProviderConfigs();
  return new ProviderRegistry([
    new ClaudeProvider(launcher, { ...configs.claude, confiner }),
    new CodexProvider(launcher, { ...configs.codex, confiner }),
  ]);
}

/** Each CLI's settings beyond its environment (also handed to run hosts, which rebuild their providers from them). */
export function cliProviderConfigs(): { claude: CliProviderConfig; codex: CliProviderConfig } {
  return {
    claude: { idleTimeoutMs: IDLE_TIMEOUT_MS },
    codex: { idleTimeoutMs: IDLE_TIMEOUT_MS },
  };
}
