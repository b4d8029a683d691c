// Unpacks a run archive (.zip, .tar/.tar.gz, or a lone .jsonl transcript) into a
// fresh directory. Every entry goes through one EntryWriter, which refuses anything
// that could land outside the target (`../`, absolute paths, links, devices) and
// enforces the entry-count and unpacked-size caps on the bytes really written,
// whatever the archive's headers claim.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { Parser, type ReadEntry } from 'tar';
import yauzl from 'yauzl';
import { AppError, PayloadTooLarge, Unprocessable } from '../errors.js';

export interface UnpackLimits {
  maxUnpackedBytes: number;
  maxEntries: number;
}

type ArchiveKind = 'zip' | 'tar' | 'jsonl';

/**
 * Unpacks `file` into the existing, empty directory `target`. Returns the entries left out
 * because an agent CLI would load them as the folder's own configuration (see agentConfigEntry).
 */
export async function unpackRunArchive(
  file: string,
  filename: string,
  target: string,
  limits: UnpackLimits,
  signal: AbortSignal,
): Promise<{ dropped: string[] }> {
  const writer = new EntryWriter(target, limits, signal);
  const kind = await detectKind(file, filename);
  if (kind === 'zip') await unpackZip(file, writer);
  else if (kind === 'tar') await unpackTar(file, writer);
  else await placeTranscript(file, filename, writer);
  return { dropped: writer.dropped };
}

/** Files an agent CLI or git reads as instructions or runs: `.claude/` (settings, hooks, commands), `.mcp.json`, `.codex/`, memory files. */
const AGENT_CONFIG_DIRS = new Set(['.claude', '.codex']);
const AGENT_CONFIG_FILES = new Set(['.mcp.json', 'claude.md', 'claude.local.md', 'agents.md', 'agents.override.md']);

/**
 * True for an entry an agent started on the unpacked folder would load as project
 * configuration (hooks and MCP servers run commands; memory files are instructions), or
 * git would run (`.git/hooks/*`; `.git/config` can name hooks and an fsmonitor command).
 * Such entries are left out at any depth: the archive is untrusted input.
 */
export function agentConfigEntry(relative: string): boolean {
  const parts = relative.split('/');
  const base = parts.at(-1)!.toLowerCase();
  if (parts.some((part) => AGENT_CONFIG_DIRS.has(part.toLowerCase()))) return true;
  if (AGENT_CONFIG_FILES.has(base)) return true;
  const git = parts.findIndex((part) => part.toLowerCase() === '.git');
  return git !== -1 && (parts[git + 1]?.toLowerCase() === 'hooks' || (parts.length === git + 2 && base === 'config'));
}

async function detectKind(file: string, filename: string): Promise<ArchiveKind> {
  const head = Buffer.alloc(512);
  const handle = await open(file, 'r');
  const { bytesRead } = await handle.read(head, 0, head.length, 0).finally(() => handle.close());
  const bytes = head.subarray(0, bytesRead);
  if (bytes.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return 'zip';
  if (bytes.subarray(0, 4).equals(Buffer.from('PK\x05\x06', 'latin1'))) return 'zip'; // empty zip
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'tar'; // gzip; the tar parser unzips it
  if (bytes.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  if (/\.jsonl$/i.test(filename)) return 'jsonl';
  throw new Unprocessable('Upload a .zip, a .tar.gz or a .jsonl transcript.', 'unsupported_archive');
}

/** The one place entries touch the disk. */
class EntryWriter {
  private entries = 0;
  private bytes = 0;
  /** Files left out as agent or git configuration (relative paths). */
  readonly dropped: string[] = [];
  private readonly stopped = new AbortController();
  /** Aborted when the client goes away or the unpacking fails: every write in flight stops. */
  private readonly signal: AbortSignal;

  constructor(
    private readonly target: string,
    private readonly limits: UnpackLimits,
    clientSignal: AbortSignal,
  ) {
    this.signal = AbortSignal.any([clientSignal, this.stopped.signal]);
  }

  stop(): void {
    this.stopped.abort();
  }

  /** Counts one entry and checks its declared size against what is left. */
  admit(declaredSize: number): void {
    if (this.signal.aborted) throw new AppError(499, 'client_closed', 'Unpacking was stopped.');
    if (++this.entries > this.limits.maxEntries) {
      throw new PayloadTooLarge(`The archive has more than ${this.limits.maxEntries} entries.`, 'archive_too_large');
    }
    if (this.bytes + declaredSize > this.limits.maxUnpackedBytes) throw this.tooLarge();
  }

  /** True when the entry is agent or git configuration: a file's content is then never written, and it is counted. */
  drops(name: string, folder = false): boolean {
    const relative = safeEntryPath(name);
    if (!relative || !agentConfigEntry(relative)) return false;
    if (!folder) this.dropped.push(relative);
    return true;
  }

  async directory(name: string): Promise<void> {
    const relative = safeEntryPath(name);
    if (this.drops(name, true)) return;
    if (relative) await this.fs(name, () => mkdir(path.join(this.target, relative), { recursive: true, mode: 0o755 }));
  }

  async file(name: string, content: Readable): Promise<void> {
    const relative = safeEntryPath(name);
    if (!relative) throw unsafeEntry(name, 'a file needs a name');
    const destination = path.join(this.target, relative);
    await this.fs(name, async () => {
      await mkdir(path.dirname(destination), { recursive: true, mode: 0o755 });
      // `wx`: a second entry with the same name never overwrites the first.
      await pipeline(content, this.counter(), createWriteStream(destination, { flags: 'wx', mode: 0o644 }), {
        signal: this.signal,
      });
    });
  }

  /** Moves a whole file in as one entry (the transcript case). */
  async adopt(name: string, source: string, size: number): Promise<void> {
    this.admit(size);
    const relative = safeEntryPath(name);
    await this.fs(name, () => rename(source, path.join(this.target, relative)));
  }

  private counter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        this.bytes += chunk.length;
        done(this.bytes > this.limits.maxUnpackedBytes ? this.tooLarge() : null, chunk);
      },
    });
  }

  private tooLarge(): AppError {
    return new PayloadTooLarge(`The archive unpacks to more than ${this.limits.maxUnpackedBytes} bytes.`, 'archive_too_large');
  }

  /** File-system clashes between entries (a file where a folder goes) are the archive's fault. */
  private async fs(name: string, action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
        throw new Unprocessable(`Archive entry "${name}" clashes with another entry.`, 'invalid_archive', { entry: name });
      }
      throw error;
    }
  }
}

/** The entry's path relative to the target, or '' for the target itself; throws for anything escaping. */
export function safeEntryPath(name: string): string {
  if (name.includes('\0')) throw unsafeEntry(name, 'contains a NUL byte');
  const unified = name.replace(/\\/g, '/');
  if (unified.startsWith('/') || /^[a-zA-Z]:/.test(unified)) throw unsafeEntry(name, 'is an absolute path');
  const parts = unified.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw unsafeEntry(name, 'points outside the archive');
  if (parts.some((part) => Buffer.byteLength(part) > 255) || unified.length > 4096) throw unsafeEntry(name, 'is too long');
  return parts.join('/');
}

function unsafeEntry(name: string, why: string): Unprocessable {
  return new Unprocessable(`Archive entry "${name.slice(0, 300)}" ${why}: nothing was extracted.`, 'unsafe_archive_entry', {
    entry: name.slice(0, 300),
  });
}

// ---- zip (yauzl) ----

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

async function unpackZip(file: string, writer: EntryWriter): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await promisify<string, yauzl.Options, yauzl.ZipFile>(yauzl.open)(file, {
      lazyEntries: true,
      autoClose: false,
      validateEntrySizes: true,
    });
  } catch (error) {
    throw zipError(error);
  }
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', (error) => reject(zipError(error)));
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        unpackZipEntry(zip, entry, writer).then(() => zip.readEntry(), reject);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

async function unpackZipEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, writer: EntryWriter): Promise<void> {
  const name = entry.fileName;
  // The upper 16 bits hold the Unix mode when the archive was made on Unix.
  const type = (entry.externalFileAttributes >>> 16) & S_IFMT;
  if (type === S_IFLNK) throw unsafeEntry(name, 'is a symbolic link');
  if (type !== 0 && type !== S_IFDIR && type !== S_IFREG) throw unsafeEntry(name, 'is not a regular file');
  writer.admit(entry.uncompressedSize);
  if (name.endsWith('/') || type === S_IFDIR) return writer.directory(name);
  if (writer.drops(name)) return;
  if (entry.isEncrypted()) throw new Unprocessable(`Archive entry "${name}" is encrypted.`, 'invalid_archive');
  const content = await promisify<yauzl.Entry, Readable>(zip.openReadStream.bind(zip))(entry).catch((error) => {
    throw zipError(error);
  });
  await writer.file(name, content).catch((error) => {
    throw error instanceof AppError ? error : zipError(error);
  });
}

function zipError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const message = (error as Error).message ?? String(error);
  // yauzl's own file-name checks catch zip slip before we see the entry.
  const unsafe = message.match(/^(?:absolute path|invalid relative path|invalid characters in fileName): (.*)$/);
  if (unsafe) return unsafeEntry(unsafe[1], 'points outside the archive');
  return new Unprocessable(`The zip archive is invalid: ${message}`, 'invalid_archive');
}

// ---- tar, plain or gzipped (node-tar's parser; entries are written by us, not by tar.x) ----

const TAR_FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

function unpackTar(file: string, writer: EntryWriter): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const source = createReadStream(file);
    const parser = new Parser({ strict: true });
    const pending = new Set<Promise<void>>();
    const open = new Set<ReadEntry>();
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      source.destroy();
      writer.stop();
      for (const entry of open) entry.resume();
      // Wait for every write to stop before the caller removes the directory.
      void Promise.allSettled([...pending]).then(() => reject(tarError(error)));
    };
    parser.on('entry', (entry: ReadEntry) => {
      if (failed) return entry.resume();
      open.add(entry);
      const task = unpackTarEntry(entry, writer)
        .catch((error) => {
          entry.resume();
          fail(error);
        })
        .finally(() => {
          open.delete(entry);
          pending.delete(task);
        });
      pending.add(task);
    });
    parser.on('error', fail);
    source.on('error', fail);
    parser.on('end', () => {
      void Promise.allSettled([...pending]).then(() => {
        if (!failed) resolve();
      });
    });
    source.pipe(parser);
  });
}

async function unpackTarEntry(entry: ReadEntry, writer: EntryWriter): Promise<void> {
  const name = entry.path;
  if (entry.type === 'SymbolicLink') throw unsafeEntry(name, 'is a symbolic link');
  if (entry.type === 'Link') throw unsafeEntry(name, 'is a hard link');
  if (entry.type === 'Directory') {
    writer.admit(0);
    entry.resume();
    return writer.directory(name);
  }
  if (!TAR_FILE_TYPES.has(entry.type)) throw unsafeEntry(name, `is a ${entry.type}, not a regular file`);
  writer.admit(entry.size ?? 0);
  if (writer.drops(name)) {
    entry.resume();
    return;
  }
  await writer.file(name, entry as unknown as Readable);
}

function tarError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const message = (error as Error).message ?? String(error);
  return new Unprocessable(`The tar archive is invalid: ${message}`, 'invalid_archive');
}

// ---- a lone JSONL transcript ----

const FIRST_LINE_PROBE = 1024 * 1024;

async function placeTranscript(file: string, filename: string, writer: EntryWriter): Promise<void> {
  const handle = await open(file, 'r');
  let size: number;
  let head: string;
  try {
    size = (await handle.stat()).size;
    const buffer = Buffer.alloc(Math.min(size, FIRST_LINE_PROBE));
    await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.toString('utf8');
  } finally {
    await handle.close();
  }
  const newline = head.indexOf('\n');
  // A first line longer than the probe is not checked: long tool outputs are normal.
  if (newline !== -1 || size <= FIRST_LINE_PROBE) {
    const firstLine = newline === -1 ? head : head.slice(0, newline);
    if (!isJsonLine(firstLine)) {
      throw new Unprocessable('The .jsonl file does not start with a JSON line.', 'invalid_archive');
    }
  }
  const base = path.basename(filename.replace(/\\/g, '/')).replace(/[^\w.-]/g, '_');
  await writer.adopt(/^[\w-][\w.-]*\.jsonl$/i.test(base) ? base : 'transcript.jsonl', file, size);
}

function isJsonLine(line: string): boolean {
  try {
    JSON.parse(line);
    return line.trim() !== '';
  } catch {
    return false;
  }
}
