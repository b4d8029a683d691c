// The relay's status and settings as the desktop UI and the CLI read them.
import { z } from 'zod';

export const RelayCommandView = z.object({
  commandId: z.string(),
  operationId: z.string(),
  method: z.string(),
  path: z.string(),
  state: z.enum(['queued', 'running', 'finished']),
  outcome: z.enum(['ok', 'error', 'cancelled', 'timeout']).nullable(),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  receivedAt: z.string(),
  startedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  events: z.number().int(),
});

/** A command refused at its ack (paused, malformed, unsigned): it never ran. */
export const RelayRefusalView = z.object({
  commandId: z.string(),
  operationId: z.string(),
  method: z.string(),
  path: z.string(),
  reason: z.string(),
  receivedAt: z.string(),
});

export const RelayStatusResponse = z.object({
  state: z.enum(['stopped', 'disconnected', 'connecting', 'connected']),
  presence: z.enum(['online', 'degraded', 'paused']).nullable(),
  paused: z.boolean(),
  relayOrigin: z.string().nullable(),
  /** The relay origin the user set (null: the API origin is used). */
  relayOriginSetting: z.string().nullable(),
  reason: z.string().nullable(),
  lastError: z.object({ message: z.string(), at: z.string() }).nullable(),
  connectedAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  computeTargetId: z.string().nullable(),
  sessionId: z.string().nullable(),
  signingRequired: z.boolean(),
  /** The gateway's id and Ed25519 public key (raw, base64url): what the cloud registers for PoP. */
  identity: z.object({ gatewayId: z.string(), publicKey: z.string() }).optional(),
  commands: z.object({ inFlight: z.array(RelayCommandView), queued: z.array(RelayCommandView), recent: z.array(RelayCommandView), refused: z.array(RelayRefusalView) }),
});

/** Settings (relay origin, signatures) change through PATCH /desktop/config; this is the switch. */
export const RelayPatch = z.object({ paused: z.boolean() }).strict();
