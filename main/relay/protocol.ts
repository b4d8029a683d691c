// The relay's wire: the Socket.IO namespace, message names and payload shapes the cloud
// speaks (spec: original-review-deploy-learnings-relay.md §5). Everything the cloud sends
// is parsed here before anything acts on it.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

export const RELAY_NAMESPACE = '/desktop-gateway';
export const PROTOCOL_VERSION = '1';
export const GATEWAY_PROTOCOL_VERSION = '0.1.0';
export const MAX_IN_FLIGHT_COMMANDS = 2;

/** Desktop → cloud. */
export const OUT = {
  hello: 'desktop.hello',
  ack: 'desktop.command.ack',
  event: 'desktop.command.event',
  presence: 'desktop.presence',
} as const;

/** Cloud → desktop. */
export const IN = {
  helloAck: 'desktop.hello.ack',
  helloNack: 'desktop.hello.nack',
  command: 'desktop.command',
  eventAck: 'desktop.command.event.ack',
  cancel: 'desktop.cancel',
} as const;

export type RelayEventType = 'status' | 'chunk' | 'result' | 'error' | 'done';
export type PresenceState = 'online' | 'degraded' | 'paused';

/** Every message carries the protocol version, its own id and when it was sent. */
export function envelope<T extends object>(payload: T): T & { protocolVersion: string; messageId: string; timestamp: string } {
  return { ...payload, protocolVersion: PROTOCOL_VERSION, messageId: randomUUID(), timestamp: new Date().toISOString() };
}

const QueryValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]);

/** `desktop.command`. The required fields are checked by hand first, for the spec's ack reasons. */
export const DesktopCommand = z.object({
  commandId: z.string().min(1).max(200),
  operationId: z.string().min(1).max(100),
  method: z.string(),
  path: z.string().max(4096),
  headers: z.record(z.string(), z.unknown()).nullish(),
  query: z.union([z.record(z.string(), QueryValue), z.array(z.tuple([z.string(), z.string()]))]).nullish(),
  body: z.unknown().optional(),
  timeoutMs: z.number().int().positive().max(24 * 3600_000).nullish(),
  queuedAt: z.union([z.string(), z.number()]).nullish(),
  lockKey: z.string().max(1000).nullish(),
  requiresApproval: z.boolean().nullish(),
  approvalReason: z.string().max(2000).nullish(),
  signature: z.string().max(1000).nullish(),
  signaturePayload: z.string().max(64 * 1024).nullish(),
  publicKeyFingerprint: z.string().max(200).nullish(),
});
export type DesktopCommand = z.infer<typeof DesktopCommand>;

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The spec's failed-ack reasons for a malformed command, or null when the shape is right. */
export function commandShapeError(raw: unknown): string | null {
  const record = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  if (typeof record.commandId !== 'string' || !record.commandId) return 'commandId is required';
  if (typeof record.method !== 'string' || !(METHODS as readonly string[]).includes(record.method.toUpperCase())) return 'unsupported method';
  if (typeof record.path !== 'string' || !record.path.startsWith('/api/gateway/')) return 'path must start with /api/gateway/';
  const parsed = DesktopCommand.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `invalid ${issue.path.map(String).join('.') || 'command'}: ${issue.message}`;
  }
  return null;
}

export const HelloAck = z.object({
  computeTargetId: z.string().max(200).nullish(),
  sessionId: z.string().max(200).nullish(),
  serverTime: z.union([z.string(), z.number()]).nullish(),
  /** A floor for every command, or one per command id. */
  resumeFromSequence: z.union([z.number().int().min(0), z.record(z.string(), z.number().int().min(0))]).nullish(),
  serverCapabilities: z.record(z.string(), z.unknown()).nullish(),
});
export type HelloAck = z.infer<typeof HelloAck>;

export const EventAck = z.object({ commandId: z.string().min(1).max(200), sequence: z.number().int().min(0) });
export const Cancel = z.object({ commandId: z.string().min(1).max(200), reason: z.string().max(2000).nullish() });

export interface CommandAck {
  commandId: string;
  accepted: boolean;
  state: 'accepted' | 'failed';
  reason?: string;
}

export interface CommandEvent {
  commandId: string;
  sequence: number;
  eventType: RelayEventType;
  data: Record<string, unknown>;
}
