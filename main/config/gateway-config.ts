// Gateway settings that the user changes (CLI `config`, desktop UI), kept in the data dir.
import type { SettingsStore } from '../store/settings.js';
import { parseOrigin } from '../auth/origins.js';

/** The stored list as strings; anything else reads as no origins (no zod here: this loads before the port opens). */
function originList(stored: unknown): string[] {
  return Array.isArray(stored) && stored.every((item) => typeof item === 'string') ? stored : [];
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

export class GatewayConfig {
  /** Origins of the app's own renderer (e.g. app://symphony, or the gateway's /ui/ origin). */
  private readonly rendererOrigins = new Set<string>();
  /** The parsed allowed origins: the CORS check asks on every request with an Origin. */
  private allowed: Set<string> | null = null;

  constructor(
    private readonly settings: SettingsStore,
    rendererOrigins: readonly string[] = [],
  ) {
    for (const origin of rendererOrigins) this.rendererOrigins.add(origin);
    settings.onChange((key) => {
      if (key === null || key === 'allowedOrigins') this.allowed = null;
    });
  }

  apiOrigin(): string | undefined {
    return this.settings.get<string>('apiOrigin') ?? undefined;
  }

  /** The gateway log's level (the `serve --log-level` flag wins for that run). */
  logLevel(): LogLevel | null {
    const stored = this.settings.get<string>('logLevel');
    return isLogLevel(stored) ? stored : null;
  }

  setLogLevel(level: LogLevel | null): void {
    if (level === null) this.settings.delete('logLevel');
    else this.settings.set('logLevel', level);
  }

  setApiOrigin(origin: string | null): void {
    if (origin === null) this.settings.delete('apiOrigin');
    else this.settings.set('apiOrigin', origin);
  }

  /** The cloud web app's origins: their preflights are answered before any pairing. */
  allowedOrigins(): string[] {
    return [...this.allowedSet()];
  }

  isAllowedOrigin(origin: string): boolean {
    return this.allowedSet().has(origin);
  }

  private allowedSet(): Set<string> {
    // Reading the setting first lets the store notice another process's change (and drop our copy).
    const stored = this.settings.get('allowedOrigins');
    return (this.allowed ??= new Set(originList(stored).filter((o) => parseOrigin(o) === o)));
  }

  setAllowedOrigins(origins: string[]): void {
    this.settings.set('allowedOrigins', [...new Set(origins)]);
  }

  addRendererOrigin(origin: string): void {
    this.rendererOrigins.add(origin);
  }

  isRendererOrigin(origin: string): boolean {
    return this.rendererOrigins.has(origin);
  }

  /** Non-web schemes our renderer uses (e.g. `app:`), accepted as origins for challenges. */
  customSchemes(): string[] {
    const schemes = [...this.rendererOrigins].map((origin) => origin.slice(0, origin.indexOf(':') + 1));
    return [...new Set(schemes.filter((scheme) => scheme !== 'http:' && scheme !== 'https:'))];
  }
}
