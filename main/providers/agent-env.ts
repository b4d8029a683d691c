// The one place an agent CLI's environment is built (chats, reviews, learnings, loops and
// the run hosts alike). The supervisor's clean environment gives every child only PATH,
// HOME, locale and the like; on top of it an agent CLI gets:
//   1. the names on the allowlist, copied from the gateway's own environment when set there:
//      the CLI's model-API settings, the CLIs' privacy switches, proxies, retries, the key
//      a custom codex provider names (`env_key` in $CODEX_HOME/config.toml), and names the
//      user added (`config --agent-env NAME`);
//   2. values the user set (`config --agent-env NAME=VALUE`): plain ones in the settings,
//      credential-like ones (…_KEY, …_TOKEN, …) in the secret store, never in SQLite or a log.
// Nothing else of the gateway's environment reaches an agent.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { BadRequest } from '../errors.js';
import type { SecretName } from '../secrets/secret-store.js';
import { looksLikeCredential } from '../supervisor/env.js';

export type AgentCli = 'claude' | 'codex';

/** The stored setting: names to pass through and plain values (secret values are in the secret store). */
export const AGENT_ENV_SETTING = 'agentEnv';

/** Passed to every agent CLI when the gateway's environment has them (documented in the README). */
export const DEFAULT_AGENT_ENV_NAMES = [
  // privacy switches
  'DISABLE_TELEMETRY', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', 'DISABLE_ERROR_REPORTING', 'DISABLE_AUTOUPDATER',
  // proxies and the CA bundle a proxy needs
  'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy', 'NODE_EXTRA_CA_CERTS',
  'CLAUDE_CODE_MAX_RETRIES',
] as const;

/** Each CLI's model-API settings (endpoint, key, config home), passed to that CLI only. */
export const CLI_ENV_NAMES: Record<AgentCli, readonly string[]> = {
  claude: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_MODEL', 'CLAUDE_CONFIG_DIR'],
  codex: ['CODEX_HOME', 'OPENAI_API_KEY', 'OPENAI_BASE_URL'],
};

/**
 * Names that would undo the confinement or the gateway's own setup (where the CLI looks
 * for its home and temp folder, what code it loads first); refused as settings.
 */
const REFUSED = new Set(['PATH', 'HOME', 'TMPDIR', 'TEMP', 'TMP', 'USER', 'SHELL', 'IS_SANDBOX', 'NODE_OPTIONS', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'BASH_ENV', 'ENV']);
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_VALUE = 32 * 1024;

interface StoredAgentEnv {
  /** Extra names copied from the gateway's environment. */
  pass?: string[];
  /** Plain values the user set. */
  values?: Record<string, string>;
  /** Names whose value the user set and the secret store holds. */
  secrets?: string[];
}

export interface AgentEnvEntry {
  name: string;
  /** `setting`: the user set a value; `inherited`: copied from the gateway's environment. */
  source: 'setting' | 'inherited';
  /** Credential-like values are never shown (null). */
  value: string | null;
  secret: boolean;
}

export interface AgentEnvView {
  /** The default allowlist (without each CLI's own model-API names). */
  defaults: string[];
  /** Each CLI's model-API names, plus for codex the `env_key` its config names. */
  cliNames: Record<AgentCli, string[]>;
  /** Names the user added to the allowlist. */
  pass: string[];
  /** What an agent gets beyond the basic environment, by name (values of secrets hidden). */
  entries: AgentEnvEntry[];
}

export interface AgentEnvPatch {
  /** NAME → VALUE, stored (credential-like names in the secret store). */
  set?: Record<string, string>;
  /** Names to copy from the gateway's environment. */
  pass?: string[];
  /** Names to forget: a stored value and/or an added allowlist name. */
  unset?: string[];
}

export interface AgentEnvSecrets {
  get(name: SecretName): Promise<string | null>;
  set?(name: SecretName, value: string): Promise<void>;
  delete?(name: SecretName): Promise<void>;
}

export interface AgentEnvironmentOptions {
  settings: { get<T>(key: string): T | undefined; set?(key: string, value: unknown): void };
  /** Where credential-like values live (the run host: the values handed over at launch). */
  secrets: AgentEnvSecrets;
  /** The gateway's own environment (default: process.env). */
  inherited?: NodeJS.ProcessEnv;
  homeDir?: string;
}

export interface AgentEnvHandover {
  inherited: Record<string, string>;
  /** Secret-store name → value. */
  secrets: Record<string, string>;
}

/** A run host's agent environment: the handed-over part, and the settings it reads itself. */
export function handedOverEnvironment(settings: AgentEnvironmentOptions['settings'], handover: AgentEnvHandover | undefined): AgentEnvironment {
  const secrets = handover?.secrets ?? {};
  return new AgentEnvironment({
    settings,
    secrets: { get: (name) => Promise.resolve(Object.hasOwn(secrets, name) ? secrets[name] : null) },
    inherited: handover?.inherited ?? {},
  });
}

export function agentEnvSecretName(name: string): SecretName {
  return `agent-env-${name}`;
}

export class AgentEnvironment {
  constructor(private readonly options: AgentEnvironmentOptions) {}

  /** The variables one start of `cli` gets on top of the supervisor's clean environment. Read at every start. */
  async forCli(cli: AgentCli): Promise<Record<string, string>> {
    const stored = this.stored();
    const inherited = this.options.inherited ?? process.env;
    const env: Record<string, string> = {};
    for (const name of this.allowlist(cli, stored)) {
      const value = inherited[name];
      if (value) env[name] = value;
    }
    Object.assign(env, stored.values ?? {});
    for (const name of stored.secrets ?? []) {
      const value = await this.options.secrets.get(agentEnvSecretName(name));
      if (value !== null) env[name] = value;
    }
    return env;
  }

  /**
   * What a run host needs to build the same environment in its own process: the allowlisted
   * part of our environment and the stored secret values (it has neither our environment nor
   * the secret store). Handed over once, on its stdin; the plain settings it reads itself at
   * every turn from the shared database.
   */
  async handover(): Promise<AgentEnvHandover> {
    const stored = this.stored();
    const inherited = this.options.inherited ?? process.env;
    const passed: Record<string, string> = {};
    for (const name of new Set([...this.allowlist('claude', stored), ...this.allowlist('codex', stored)])) {
      const value = inherited[name];
      if (value) passed[name] = value;
    }
    const secrets: Record<string, string> = {};
    for (const name of stored.secrets ?? []) {
      const value = await this.options.secrets.get(agentEnvSecretName(name));
      if (value !== null) secrets[agentEnvSecretName(name)] = value;
    }
    return { inherited: passed, secrets };
  }

  view(): AgentEnvView {
    const stored = this.stored();
    const inherited = this.options.inherited ?? process.env;
    const entries = new Map<string, AgentEnvEntry>();
    const names = new Set([...this.allowlist('claude', stored), ...this.allowlist('codex', stored)]);
    for (const name of names) {
      const value = inherited[name];
      if (value) entries.set(name, { name, source: 'inherited', secret: looksLikeCredential(name), value: looksLikeCredential(name) ? null : value });
    }
    for (const [name, value] of Object.entries(stored.values ?? {})) entries.set(name, { name, source: 'setting', secret: false, value });
    for (const name of stored.secrets ?? []) entries.set(name, { name, source: 'setting', secret: true, value: null });
    return {
      defaults: [...DEFAULT_AGENT_ENV_NAMES],
      cliNames: { claude: [...CLI_ENV_NAMES.claude], codex: [...CLI_ENV_NAMES.codex, ...this.codexEnvKeys()] },
      pass: [...(stored.pass ?? [])],
      entries: [...entries.values()].sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  /** 400 naming the field for any bad name or value; nothing is written. */
  check(patch: AgentEnvPatch): void {
    Object.entries(patch.set ?? {}).forEach(([name, value]) => {
      checkName(name, `agentEnv.set.${name}`);
      if (typeof value !== 'string' || value.length > MAX_VALUE || value.includes('\0')) {
        throw invalid(`agentEnv.set.${name}`, `The value of ${name} must be text of at most ${MAX_VALUE} characters, without NUL.`);
      }
    });
    (patch.pass ?? []).forEach((name, i) => checkName(name, `agentEnv.pass.${i}`));
    (patch.unset ?? []).forEach((name, i) => checkName(name, `agentEnv.unset.${i}`, false));
  }

  /** Checks every name and value first, then writes: all or nothing. */
  async update(patch: AgentEnvPatch): Promise<AgentEnvView> {
    this.check(patch);
    const set = Object.entries(patch.set ?? {});
    const { settings, secrets } = this.options;
    if (!settings.set) throw new Error('this agent environment is read-only');
    const stored = this.stored();
    const values = { ...(stored.values ?? {}) };
    const secretNames = new Set(stored.secrets ?? []);
    const pass = new Set(stored.pass ?? []);
    for (const name of patch.unset ?? []) {
      delete values[name];
      pass.delete(name);
      if (secretNames.delete(name)) await secrets.delete?.(agentEnvSecretName(name));
    }
    for (const name of patch.pass ?? []) pass.add(name);
    for (const [name, value] of set) {
      if (looksLikeCredential(name)) {
        if (!secrets.set) throw new Error('no secret store to keep agent credentials in');
        await secrets.set(agentEnvSecretName(name), value);
        secretNames.add(name);
        delete values[name];
      } else {
        values[name] = value;
        if (secretNames.delete(name)) await secrets.delete?.(agentEnvSecretName(name));
      }
    }
    settings.set(AGENT_ENV_SETTING, { pass: [...pass].sort(), values, secrets: [...secretNames].sort() } satisfies StoredAgentEnv);
    return this.view();
  }

  private allowlist(cli: AgentCli, stored: StoredAgentEnv): string[] {
    const names = new Set<string>([...DEFAULT_AGENT_ENV_NAMES, ...CLI_ENV_NAMES[cli], ...(stored.pass ?? [])]);
    if (cli === 'codex') for (const name of this.codexEnvKeys()) names.add(name);
    return [...names];
  }

  /** The `env_key` of every custom provider in codex's config (the variable holding that provider's key). */
  private codexEnvKeys(): string[] {
    const stored = this.stored().values ?? {};
    const inherited = this.options.inherited ?? process.env;
    const home = stored.CODEX_HOME ?? inherited.CODEX_HOME ?? join(this.options.homeDir ?? homedir(), '.codex');
    return codexEnvKeys(home);
  }

  private stored(): StoredAgentEnv {
    const value = this.options.settings.get<StoredAgentEnv>(AGENT_ENV_SETTING);
    return value && typeof value === 'object' ? value : {};
  }
}

/** `env_key = "NAME"` lines of $CODEX_HOME/config.toml (a missing or unreadable file names none). */
export function codexEnvKeys(codexHome: string): string[] {
  let text: string;
  try {
    text = readFileSync(join(codexHome, 'config.toml'), 'utf8');
  } catch {
    return [];
  }
  const names = new Set<string>();
  for (const match of text.matchAll(/^\s*env_key\s*=\s*["']([A-Za-z_][A-Za-z0-9_]*)["']/gm)) {
    if (!REFUSED.has(match[1].toUpperCase()) && !/^SYMPHONY_/i.test(match[1])) names.add(match[1]);
  }
  return [...names];
}

function checkName(name: string, field: string, strict = true): void {
  if (!NAME.test(name)) throw invalid(field, `${name.slice(0, 130)} is not a variable name (letters, digits and _, not starting with a digit).`);
  if (!strict) return;
  if (/^SYMPHONY_/i.test(name)) throw invalid(field, `${name}: SYMPHONY_* variables are the gateway's own and never reach an agent.`);
  if (REFUSED.has(name.toUpperCase())) throw invalid(field, `${name} cannot be set for agents: the gateway sets it to keep them confined.`);
}

function invalid(field: string, message: string): BadRequest {
  return new BadRequest(message, { issues: [{ field, message }] }, 'invalid_agent_env');
}
