// The relay's settings, kept with the others in the data dir: where the relay is (default:
// the API origin), whether the user paused it, and whether signatures are required.
import { requireSecureOrigin } from '../auth/origins.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { SettingsStore } from '../store/settings.js';

const ORIGIN = 'relayOrigin';
const PAUSED = 'relayPaused';
const REQUIRE_SIGNATURES = 'relayRequireSignatures';

export class RelaySettings {
  constructor(
    private readonly settings: SettingsStore,
    private readonly config: Pick<GatewayConfig, 'apiOrigin'>,
  ) {}

  /** The relay's own origin when set, else the API origin. */
  relayOrigin(): string | undefined {
    return this.settings.get<string>(ORIGIN) ?? this.config.apiOrigin();
  }

  /** Only what the user set (null: follow the API origin). */
  relayOriginSetting(): string | null {
    return this.settings.get<string>(ORIGIN) ?? null;
  }

  /** https, or http on a loopback host; null follows the API origin again. */
  setRelayOrigin(origin: string | null): void {
    if (origin === null) this.settings.delete(ORIGIN);
    else this.settings.set(ORIGIN, requireSecureOrigin(origin, 'relayOrigin'));
  }

  paused(): boolean {
    return this.settings.get<boolean>(PAUSED) === true;
  }

  setPaused(paused: boolean): void {
    this.settings.set(PAUSED, paused);
  }

  /** Loop and write operations run only when the command carries a valid signature. */
  requireSignatures(): boolean {
    return this.settings.get<boolean>(REQUIRE_SIGNATURES) === true;
  }

  setRequireSignatures(required: boolean): void {
    this.settings.set(REQUIRE_SIGNATURES, required);
  }
}
