// Verifies a challenge that the cloud issued to a browser tab, as the cloud web app
// pairs: POST {apiOrigin}/compute-targets/local-auth/verify with the desktop API key.
import { z } from 'zod';
import { AppError, ServiceUnavailable } from '../errors.js';

export const CLOUD_VERIFY_TIMEOUT_MS = 5_000;

const Verified = z.object({
  ok: z.literal(true),
  sessionTtlSeconds: z.number().int().positive().max(30 * 24 * 3600).optional(),
  challengeExpiresAt: z.union([z.string(), z.number()]).optional(),
});
const CloudReply = z.union([Verified, z.object({ success: z.literal(true), data: Verified })]);

export interface CloudVerification {
  sessionTtlSeconds?: number;
  challengeExpiresAt?: number;
}

export interface CloudVerifyRequest {
  apiOrigin: string | undefined;
  apiKey: string | null;
  challengeToken: string;
  requestOrigin: string;
  userAgent: string;
  timeoutMs?: number;
}

export async function verifyCloudChallenge(request: CloudVerifyRequest): Promise<CloudVerification> {
  if (!request.apiKey) {
    throw new ServiceUnavailable(
      'API key required: set the desktop API key (symphony-gateway set-api-key, or the Pairing screen) to pair through the cloud.',
      'api_key_required',
    );
  }
  if (!request.apiOrigin) {
    throw new ServiceUnavailable('No cloud API origin is configured (symphony-gateway config --api-origin URL).', 'api_origin_required');
  }
  const response = await postVerify(request);
  const payload = await response.json().catch(() => undefined);
  if (!response.ok) {
    const status = response.status >= 500 ? 502 : response.status;
    throw new AppError(status, 'cloud_rejected', `The cloud refused the challenge: ${cloudMessage(payload) ?? response.statusText}`);
  }
  const parsed = CloudReply.safeParse(payload);
  if (!parsed.success) throw new AppError(403, 'cloud_rejected', 'The cloud did not confirm the challenge.');
  const verified = 'data' in parsed.data ? parsed.data.data : parsed.data;
  return { sessionTtlSeconds: verified.sessionTtlSeconds, challengeExpiresAt: toEpochMs(verified.challengeExpiresAt) };
}

async function postVerify(request: CloudVerifyRequest): Promise<Response> {
  try {
    return await fetch(new URL('/compute-targets/local-auth/verify', request.apiOrigin), {
      method: 'POST',
      headers: { authorization: `Bearer ${request.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        challengeToken: request.challengeToken,
        requestOrigin: request.requestOrigin,
        userAgent: request.userAgent,
      }),
      redirect: 'error',
      signal: AbortSignal.timeout(request.timeoutMs ?? CLOUD_VERIFY_TIMEOUT_MS),
    });
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') {
      throw new AppError(504, 'cloud_timeout', 'The cloud did not answer the challenge verification in time.');
    }
    throw new AppError(502, 'cloud_unreachable', 'The cloud could not be reached to verify the challenge.');
  }
}

function cloudMessage(payload: unknown): string | undefined {
  if (!payload || typeof payload !== 'object') return undefined;
  const record = payload as Record<string, unknown>;
  const error = record.error;
  if (typeof error === 'string') return error.slice(0, 300);
  if (error && typeof error === 'object' && typeof (error as Record<string, unknown>).message === 'string') {
    return String((error as Record<string, unknown>).message).slice(0, 300);
  }
  return typeof record.message === 'string' ? record.message.slice(0, 300) : undefined;
}

function toEpochMs(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'number' ? (value < 1e12 ? value * 1000 : value) : Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}
