// Run-viewer archives: an uploaded run (.zip, .tar.gz or a .jsonl transcript) is
// streamed to disk, unpacked into a staging directory and only then renamed to
// <dataDir>/run-viewer/<id>/, so a failure at any step leaves nothing behind.
import { randomUUID } from 'node:crypto';
import { lstat, mkdir, readdir, realpath, rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Forbidden, NotFound } from '../errors.js';
import type { RunViewerExtract, RunViewerFiles } from '../../shared/schemas/run-viewer.js';
import type { UnpackLimits } from './run-archive-unpack.js';

export interface RunArchiveLimits extends UnpackLimits {
  maxUploadBytes: number;
  /** All unpacked runs together: beyond it the oldest are removed (never the one just unpacked). */
  maxTotalBytes: number;
  /** A run older than this is removed at the next upload. */
  maxAgeMs: number;
}

export const DEFAULT_RUN_ARCHIVE_LIMITS: RunArchiveLimits = {
  maxUploadBytes: 200 * 1024 * 1024,
  maxUnpackedBytes: 2 * 1024 * 1024 * 1024,
  maxEntries: 20_000,
  maxTotalBytes: 5 * 1024 * 1024 * 1024,
  maxAgeMs: 7 * 24 * 60 * 60_000,
};

/** The reply names at most this many left-out files (the count is always complete). */
const MAX_LISTED_DROPS = 100;
const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const WORK_PREFIXES = ['.upload-', '.staging-'];

export class RunArchives {
  /** <dataDir>/run-viewer, as configured (may differ from its realpath). */
  readonly root: string;
  private realRoot: Promise<string> | null = null;

  constructor(
    dataDir: string,
    private readonly limits: RunArchiveLimits = DEFAULT_RUN_ARCHIVE_LIMITS,
    /** The storage caps as the user set them (read at each upload); default: `limits`'. */
    private readonly storageCaps?: () => Pick<RunArchiveLimits, 'maxTotalBytes' | 'maxAgeMs'>,
  ) {
    this.root = path.join(dataDir, 'run-viewer');
  }

  /** Receives the multipart upload in `req` and unpacks it; returns the new run directory. */
  async extract(req: IncomingMessage, signal: AbortSignal): Promise<RunViewerExtract> {
    const root = await this.prepare();
    const id = randomUUID();
    const upload = path.join(root, `.upload-${id}`);
    const staging = path.join(root, `.staging-${id}`);
    // busboy, tar and yauzl load with the first archive, not at start.
    const [{ receiveUpload }, { unpackRunArchive }] = await Promise.all([import('./multipart-upload.js'), import('./run-archive-unpack.js')]);
    try {
      const received = await receiveUpload(req, upload, this.limits.maxUploadBytes, signal);
      await mkdir(staging, { mode: 0o700 });
      const { dropped } = await unpackRunArchive(upload, received.filename, staging, this.limits, signal);
      const runDir = path.join(root, id);
      await rename(staging, runDir);
      const storage = await this.prune(root, id);
      return { runDir, dropped: { count: dropped.length, files: dropped.slice(0, MAX_LISTED_DROPS) }, storage };
    } finally {
      await Promise.all([rm(upload, { force: true }), rm(staging, { recursive: true, force: true })]);
    }
  }

  /** Every regular file in a run directory, sorted, with /-separated relative paths. */
  async list(runDir: string): Promise<RunViewerFiles> {
    const dir = await this.resolveRunDir(runDir);
    const files: RunViewerFiles['files'] = [];
    const walk = async (relative: string) => {
      for (const entry of await readdir(path.join(dir, relative), { withFileTypes: true })) {
        const child = relative ? `${relative}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(child);
        else if (entry.isFile()) files.push({ path: child, size: (await lstat(path.join(dir, child))).size });
      }
    };
    await walk('');
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { files };
  }

  async remove(runDir: string): Promise<void> {
    await rm(await this.resolveRunDir(runDir), { recursive: true, force: true });
  }

  /**
   * The real path of one of our run directories (<root>/<uuid>, existing); 403 for any
   * other path, 404 for a run that is gone. Other modules (the run-viewer chat) use it too.
   */
  async resolveRunDir(runDir: string): Promise<string> {
    const root = await this.prepare();
    const resolved = path.resolve(runDir);
    const id = path.basename(resolved);
    const parent = path.dirname(resolved);
    if (!path.isAbsolute(runDir) || !RUN_ID.test(id) || (parent !== root && parent !== this.root)) {
      throw new Forbidden('runDir is not a run-viewer directory of this gateway.', 'path_not_allowed');
    }
    const dir = path.join(root, id);
    const stat = await lstat(dir).catch(() => null);
    if (!stat?.isDirectory()) throw new NotFound('There is no such run-viewer directory.', 'run_dir_not_found');
    return dir;
  }

  /**
   * Keeps the run viewer's storage within its caps after an upload: runs older than the age
   * limit go first, then the oldest others until the total fits; the new run `keep` stays.
   */
  private async prune(root: string, keep: string): Promise<RunViewerExtract['storage']> {
    const { maxTotalBytes, maxAgeMs } = { ...this.limits, ...this.storageCaps?.() };
    const runs = [];
    for (const name of await readdir(root)) {
      if (!RUN_ID.test(name)) continue;
      const stat = await lstat(path.join(root, name)).catch(() => null);
      if (stat?.isDirectory()) runs.push({ name, createdAt: stat.mtimeMs, bytes: await treeBytes(path.join(root, name)) });
    }
    runs.sort((a, b) => a.createdAt - b.createdAt);
    let total = runs.reduce((sum, run) => sum + run.bytes, 0);
    const removed: RunViewerExtract['storage']['removed'] = [];
    const now = Date.now();
    for (const run of runs) {
      if (run.name === keep) continue;
      const reason = now - run.createdAt > maxAgeMs ? 'age' : total > maxTotalBytes ? 'size' : null;
      if (!reason) continue;
      await rm(path.join(root, run.name), { recursive: true, force: true });
      total -= run.bytes;
      removed.push({ runDir: path.join(root, run.name), reason, bytes: run.bytes });
    }
    return { totalBytes: total, maxTotalBytes, maxAgeDays: maxAgeMs / 86_400_000, removed };
  }

  /** Creates the root once and removes work files a crash left behind. */
  private prepare(): Promise<string> {
    this.realRoot ??= (async () => {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      const root = await realpath(this.root);
      for (const name of await readdir(root)) {
        if (WORK_PREFIXES.some((prefix) => name.startsWith(prefix))) {
          await rm(path.join(root, name), { recursive: true, force: true });
        }
      }
      return root;
    })().catch((error: unknown) => {
      this.realRoot = null; // try again next time
      throw error;
    });
    return this.realRoot;
  }
}

/** Bytes of the regular files under `dir` (run directories hold nothing else). */
async function treeBytes(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) bytes += await treeBytes(child);
    else if (entry.isFile()) bytes += (await lstat(child)).size;
  }
  return bytes;
}
