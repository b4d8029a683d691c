// The cloud relay's state and the user's switches for it (desktop-only).
import { RelayPatch, RelayStatusResponse } from '../../../shared/schemas/relay.js';
import type { LazyServiceName, Services } from '../../services.js';
import { defineRoute, type AnyRoute } from '../route.js';

const PATH = '/api/gateway/desktop/relay';

export const needs: readonly LazyServiceName[] = ['relay'];

const view = async (services: Services) => ({
  ...services.relay.status(),
  relayOriginSetting: services.relaySettings.relayOriginSetting(),
  identity: await services.deviceIdentity.describe(),
});

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'GET',
    path: PATH,
    summary: 'Relay connection state, last error, commands in flight and recent ones.',
    response: RelayStatusResponse,
    handler: (_input, { services }) => view(services),
  }),
  defineRoute({
    method: 'PATCH',
    path: PATH,
    summary: 'Pause or resume cloud commands (the relay origin and signatures are in /desktop/config).',
    body: RelayPatch,
    response: RelayStatusResponse,
    handler: ({ body }, { services }) => {
      if (body.paused) services.relay.pause();
      else services.relay.resume();
      return view(services);
    },
  }),
];
