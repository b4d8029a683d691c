// The one place gateway settings are read and changed, for the desktop config route and
// the CLI's `config` alike. Every value is checked before anything is written (the workspace
// root on disk, binary paths by running them), so a bad one leaves every setting as it was;
// the reply is the state after the change.
import { requireOrigin, requireSecureOrigin } from '../auth/origins.js';
import type { WorkspaceGuard } from '../files/workspace.js';
import type { AgentEnvironment, AgentEnvPatch, AgentEnvView } from '../providers/agent-env.js';
import { setConfinementEnabled, type ConfinementStatus } from '../providers/confinement.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { BinaryResolver } from '../supervisor/binaries.js';
import { checkBinaryPaths, saveBinaryPaths, type BinaryPathsUpdate } from '../supervisor/binary-settings.js';
import type { RelaySettings } from '../relay/settings.js';
import { AppError } from '../errors.js';
import { isLogLevel, LOG_LEVELS, type GatewayConfig, type LogLevel } from './gateway-config.js';
import { checkLimits, LIMITS_SETTING, readLimits, type Limits } from './limits.js';

export interface SettingsView {
  apiOrigin: string | null;
  /** Where the relay client connects: the setting, else the API origin. */
  relayOrigin: string | null;
  /** The relay origin the user set (null: the API origin). */
  relayOriginSetting: string | null;
  /** Loop and write commands from the cloud run only with a valid signature. */
  requireSignedCommands: boolean;
  allowedOrigins: string[];
  workspaceRoot: string | null;
  apiKeySet: boolean;
  secretStore: 'keychain' | 'file';
  port: number | null;
  /** The stored log level (null: info, or $SYMPHONY_LOG_LEVEL). */
  logLevel: LogLevel | null;
  /** What agent CLIs get of the environment (secret values hidden). */
  agentEnv: AgentEnvView;
  /** The OS sandbox around agents: on unless the user turned it off; what this machine lacks for it. */
  agentConfinement: ConfinementStatus;
  /** Caps on remote callers: agents at once, run-viewer storage (limits.ts). */
  limits: Limits;
}

export interface SettingsPatch {
  apiOrigin?: string | null;
  /** https, or http on loopback; null follows the API origin. */
  relayOrigin?: string | null;
  requireSignedCommands?: boolean;
  /** Replaces the whole list. */
  allowedOrigins?: string[];
  addAllowedOrigins?: string[];
  removeAllowedOrigins?: string[];
  workspaceRoot?: string | null;
  logLevel?: LogLevel | null;
  agentEnv?: AgentEnvPatch;
  /** Off: agents run without the OS and CLI sandboxes (logged at every start). */
  agentConfinement?: { enabled: boolean };
  /** Binary overrides (`config --binary`): checked with the rest, saved with the rest or not at all. */
  binaryPaths?: BinaryPathsUpdate;
  /** Only the limits named change. */
  limits?: Partial<Limits>;
}

export interface GatewaySettingsDeps {
  config: GatewayConfig;
  relay: RelaySettings;
  workspace: Pick<WorkspaceGuard, 'workspaceRoot' | 'setWorkspaceRoot' | 'checkWorkspaceRoot'>;
  secrets: Pick<SecretStore, 'get' | 'kind'>;
  gatewayPort: () => number | null;
  agentEnv: Pick<AgentEnvironment, 'view' | 'check' | 'update'>;
  confinement: { status(): ConfinementStatus };
  settings: { get<T>(key: string): T | undefined; set(key: string, value: unknown): void; refresh(): void };
  binaries: BinaryResolver;
}

export class GatewaySettings {
  constructor(private readonly deps: GatewaySettingsDeps) {}

  async view(): Promise<SettingsView> {
    // What `symphony-gateway config` just saved in another process shows at once.
    this.deps.settings.refresh();
    const { config, workspace, secrets } = this.deps;
    return {
      apiOrigin: config.apiOrigin() ?? null,
      relayOrigin: this.deps.relay.relayOrigin() ?? null,
      relayOriginSetting: this.deps.relay.relayOriginSetting(),
      requireSignedCommands: this.deps.relay.requireSignatures(),
      allowedOrigins: config.allowedOrigins(),
      workspaceRoot: workspace.workspaceRoot(),
      apiKeySet: (await secrets.get('desktop-api-key')) !== null,
      secretStore: secrets.kind,
      port: this.deps.gatewayPort(),
      logLevel: config.logLevel(),
      agentEnv: this.deps.agentEnv.view(),
      agentConfinement: this.deps.confinement.status(),
      limits: readLimits(this.deps.settings),
    };
  }

  async update(patch: SettingsPatch): Promise<SettingsView> {
    const { config, workspace } = this.deps;
    const apiOrigin = patch.apiOrigin === undefined || patch.apiOrigin === null ? patch.apiOrigin : requireSecureOrigin(patch.apiOrigin, 'apiOrigin');
    const relayOrigin = patch.relayOrigin === undefined || patch.relayOrigin === null ? patch.relayOrigin : requireSecureOrigin(patch.relayOrigin, 'relayOrigin');
    const origins = (field: string, list: string[] | undefined) => list?.map((origin, i) => requireOrigin(origin, `${field}.${i}`));
    const replaced = origins('allowedOrigins', patch.allowedOrigins);
    const added = origins('addAllowedOrigins', patch.addAllowedOrigins) ?? [];
    const removed = new Set(origins('removeAllowedOrigins', patch.removeAllowedOrigins) ?? []);
    if (patch.logLevel !== undefined && patch.logLevel !== null && !isLogLevel(patch.logLevel)) {
      throw new AppError(400, 'invalid_input', `logLevel must be one of ${LOG_LEVELS.join(', ')}.`, { issues: [{ field: 'logLevel', message: 'unknown level' }] });
    }
    if (patch.agentEnv) this.deps.agentEnv.check(patch.agentEnv);
    const workspaceRoot = typeof patch.workspaceRoot === 'string' ? await workspace.checkWorkspaceRoot(patch.workspaceRoot) : patch.workspaceRoot;
    const limits = patch.limits ? checkLimits(readLimits(this.deps.settings), patch.limits) : undefined;
    if (patch.binaryPaths) await checkBinaryPaths(this.deps.binaries, patch.binaryPaths);
    // Everything was checked: from here on nothing is refused.
    if (workspaceRoot !== undefined) await workspace.setWorkspaceRoot(workspaceRoot);
    if (patch.binaryPaths) saveBinaryPaths(this.deps.binaries, this.deps.settings, patch.binaryPaths);
    if (apiOrigin !== undefined) config.setApiOrigin(apiOrigin);
    if (patch.agentEnv) await this.deps.agentEnv.update(patch.agentEnv);
    if (limits) this.deps.settings.set(LIMITS_SETTING, limits);
    if (patch.agentConfinement) setConfinementEnabled(this.deps.settings, patch.agentConfinement.enabled);
    if (patch.logLevel !== undefined) config.setLogLevel(patch.logLevel);
    if (relayOrigin !== undefined) this.deps.relay.setRelayOrigin(relayOrigin);
    if (patch.requireSignedCommands !== undefined) this.deps.relay.setRequireSignatures(patch.requireSignedCommands);
    if (replaced || added.length > 0 || removed.size > 0) {
      config.setAllowedOrigins([...(replaced ?? config.allowedOrigins()), ...added].filter((origin) => !removed.has(origin)));
    }
    return this.view();
  }
}
