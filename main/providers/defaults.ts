// The registry the gateway starts with. Each CLI gets the model-API settings the user
// gave it in our own environment (its endpoint, key, config home) and nothing else:
// the supervisor's clean environment drops every other credential, ours above all.
import { ClaudeProvider } from './claude.js';
import type { ChildLauncher } from './cli-turn.js';
import type { Confiner } from './confinement.js';
import { CodexProvider } from './codex.js';
import { ProviderRegistry } from './registry.js';
import type { CliProviderConfig } from './types.js';

const CLAUDE_ENV = ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_MODEL', 'CLAUDE_CONFIG_DIR'];
const CODEX_ENV = ['CODEX_HOME', 'OPENAI_API_KEY', 'OPENAI_BASE_URL'];

/** A turn that prints nothing for this long is stuck (the CLIs print status lines while they work). */
const IDLE_TIMEOUT_MS = 10 * 60_000;

export function createProviderRegistry(launcher: ChildLauncher, confiner: Confiner, env: NodeJS.ProcessEnv = process.env): ProviderRegistry {
  const configs = cliProviderConfigs(env);
  return new ProviderRegistry([
    new ClaudeProvider(launcher, { ...configs.claude, confiner }),
    new CodexProvider(launcher, { ...configs.codex, confiner }),
  ]);
}

/**
 * Each CLI's settings from our environment (also handed to run hosts, which rebuild their
 * providers from them; their default Confiner confines as the gateway's does).
 */
export function cliProviderConfigs(env: NodeJS.ProcessEnv = process.env): { claude: CliProviderConfig; codex: CliProviderConfig } {
  return {
    claude: { env: pick(env, CLAUDE_ENV), idleTimeoutMs: IDLE_TIMEOUT_MS },
    codex: { env: pick(env, CODEX_ENV), idleTimeoutMs: IDLE_TIMEOUT_MS },
  };
}

function pick(env: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value) picked[name] = value;
  }
  return picked;
}
