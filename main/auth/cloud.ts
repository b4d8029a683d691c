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
    throw new ServiceUnavailable(
      'No cloud API origin is configured: run `symphony-gateway config --api-origin URL` (or set it on the Pairing screen), then pair again.',
      'api_origin_required',
    );
  }
  const response = await postVerify(request);
  const payload = await response.json().catch(() => undefined);
  if (!response.ok) throw cloudRefusal(response.status, cloudMessage(payload) ?? response.statusText);
  const parsed = CloudReply.safeParse(payload);
  if (!parsed.success) throw new AppError(403, 'cloud_rejected', 'The cloud did not confirm the challenge; reload the web app to get a new one.');
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
      throw new AppError(504, 'cloud_timeout', 'The cloud did not answer the challenge verification in time; check the network and try again.');
    }
    throw new AppError(
      502,
      'cloud_unreachable',
      'The cloud could not be reached to verify the challenge; check the network and the API origin (`symphony-gateway config --api-origin URL`).',
    );
  }
}

/** The cloud's refusal, in the exchange's statuses. Never 401: a web client drops its session on
 *  any 401, and this is about the desktop's API key, not the tab's credential. */
function cloudRefusal(status: number, said: string): AppError {
  if (status === 401) {
    return new AppError(
      403,
      'api_key_rejected',
      `The cloud refused the desktop API key (${said}): run \`symphony-gateway set-api-key\` (or the Pairing screen) with a current key, then pair again.`,
    );
  }
  if (status === 429) return new AppError(429, 'cloud_rate_limited', `The cloud is rate limiting pairing (${said}); wait a minute and try again.`);
  if (status >= 500) return new AppError(502, 'cloud_error', `The cloud failed to verify the challenge (${said}); try again shortly.`);
  return new AppError(403, 'cloud_rejected', `The cloud refused the challenge (${said}); reload the web app to get a new one.`);
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
