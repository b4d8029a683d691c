// The binary-paths setting as the desktop edits it: a view of every managed CLI and an
// update that checks each new override (exists, executable, answers --version) and
// saves all of them or none.
import { Unprocessable } from '../errors.js';
import type { SettingsStore } from '../store/settings.js';
import { BINARY_PATHS_KEY, MANAGED_BINARIES, isExecutableFile, type BinaryName, type BinaryResolver, type DescribedBinary } from './binaries.js';

export interface BinaryView extends Omit<DescribedBinary, 'name'> {
  override: string | null;
}

export type BinaryPathsUpdate = Partial<Record<BinaryName, string | null | undefined>>;

const CHECK_VERSION_TIMEOUT_MS = 5_000;

export async function binaryPathsView(resolver: BinaryResolver) {
  const overrides = resolver.overrides();
  const described = await Promise.all(MANAGED_BINARIES.map((name) => resolver.describe(name)));
  const binaries = Object.fromEntries(
    described.map(({ name, ...info }) => [name, { ...info, override: overrides[name] ?? null } satisfies BinaryView]),
  ) as Record<BinaryName, BinaryView>;
  const binaryPaths = Object.fromEntries(MANAGED_BINARIES.map((name) => [name, overrides[name] ?? null]));
  return { binaries, binaryPaths };
}

/** Throws Unprocessable naming every field that failed; nothing is saved then. */
export async function updateBinaryPaths(resolver: BinaryResolver, settings: Pick<SettingsStore, 'set'>, update: BinaryPathsUpdate): Promise<void> {
  await checkBinaryPaths(resolver, update);
  saveBinaryPaths(resolver, settings, update);
}

/** Checks every new override (exists, executable, answers --version); Unprocessable naming each that failed. */
export async function checkBinaryPaths(resolver: BinaryResolver, update: BinaryPathsUpdate): Promise<void> {
  const problems = await Promise.all(
    entriesOf(update).map(async ([name, path]) => (path === null ? null : checkOverride(resolver, name, path))),
  );
  const failures = problems.filter((problem) => problem !== null);
  if (failures.length > 0) {
    throw new Unprocessable(failures.map((f) => `${f.field}: ${f.message}`).join('; '), 'invalid_binary_path', { fields: failures });
  }
}

/** Stores overrides already checked (checkBinaryPaths); null clears one. */
export function saveBinaryPaths(resolver: BinaryResolver, settings: Pick<SettingsStore, 'set'>, update: BinaryPathsUpdate): void {
  const entries = entriesOf(update);
  if (!entries.length) return;
  const next: Partial<Record<BinaryName, string>> = { ...resolver.overrides() };
  for (const [name, path] of entries) {
    if (path === null) delete next[name];
    else next[name] = path;
  }
  settings.set(BINARY_PATHS_KEY, next);
}

function entriesOf(update: BinaryPathsUpdate): Array<[BinaryName, string | null]> {
  return Object.entries(update).filter((entry): entry is [BinaryName, string | null] => entry[1] !== undefined);
}

async function checkOverride(resolver: BinaryResolver, name: BinaryName, path: string) {
  const field = `binaryPaths.${name}`;
  if (!isExecutableFile(path)) return { field, message: `${path} does not exist or is not an executable file` };
  const version = await resolver.version(path, CHECK_VERSION_TIMEOUT_MS);
  if (version === null) return { field, message: `${path} did not answer --version within ${CHECK_VERSION_TIMEOUT_MS / 1000} s` };
  return null;
}
