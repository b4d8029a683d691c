// Provider id → Provider. Chats pick their provider by id; a new agent registers here.
import { BadRequest } from '../errors.js';
import type { Provider, ProviderId } from './types.js';

export class ProviderRegistry {
  private readonly providers = new Map<ProviderId, Provider>();

  constructor(providers: Provider[] = []) {
    for (const provider of providers) this.register(provider);
  }

  register(provider: Provider): void {
    this.providers.set(provider.id, provider);
  }

  get(id: ProviderId): Provider {
    const provider = this.providers.get(id);
    if (!provider) throw new BadRequest(`Unknown provider: ${id}`, undefined, 'unknown_provider');
    return provider;
  }

  has(id: ProviderId): boolean {
    return this.providers.has(id);
  }

  ids(): ProviderId[] {
    return [...this.providers.keys()];
  }
}
