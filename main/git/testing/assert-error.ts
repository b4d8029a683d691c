// Asserts that a domain call fails with one typed error (status and code), and returns it.
import assert from 'node:assert/strict';
import { AppError } from '../../errors.js';

export async function rejectsWith(promise: Promise<unknown>, status: number, code: string): Promise<AppError> {
  const error = await promise.then(
    () => assert.fail(`expected ${status} ${code}, but it succeeded`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
  assert.deepEqual([error.status, error.code], [status, code], error.message);
  return error;
}
