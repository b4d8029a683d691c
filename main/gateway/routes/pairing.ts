// Pairing: the desktop mints local challenges; a tab trades one for a session.
import { ChallengeRequest, ChallengeResponse, ExchangeRequest, ExchangeResponse } from '../../../shared/schemas/gateway.js';
import { requireOrigin } from '../../auth/origins.js';
import { reply } from '../reply.js';
import { defineRoute, type AnyRoute } from '../route.js';

export const routes: AnyRoute[] = [
  defineRoute({
    method: 'POST',
    path: '/gateway-auth/challenge',
    summary: 'Mint a single-use local challenge for one exact origin (gateway token or renderer).',
    body: ChallengeRequest,
    response: ChallengeResponse,
    handler: ({ body }, { services }) =>
      services.challenges.mint(requireOrigin(body.origin, 'origin', services.config.customSchemes())),
  }),
  defineRoute({
    method: 'POST',
    path: '/gateway-auth/exchange',
    summary: 'Trade a challenge token for a session token bound to the calling origin (loopback only).',
    body: ExchangeRequest,
    response: ExchangeResponse,
    handler: async ({ body }, { services, req }) => {
      const result = await services.pairing.exchange({
        challengeToken: body.challengeToken,
        origin: req.headers.origin ?? null,
        peerAddress: req.socket.remoteAddress,
        userAgent: String(req.headers['user-agent'] ?? '').slice(0, 500),
      });
      return reply(200, result, { 'Cache-Control': 'no-store' });
    },
  }),
];
