// Receives the file parts of a multipart body and streams each to disk, never holding
// one in memory; the caps hold whatever Content-Length claims. On any failure (a cap,
// a refused file, a malformed body, the client gone) every file written is removed.
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { AppError, BadRequest } from '../errors.js';
import { declaredTooLarge, watchBodySize } from '../http/body-limit.js';

/** Room for the multipart boundaries and part headers around each file. */
const MULTIPART_OVERHEAD = 64 * 1024;
/** Bytes of each file kept for the caller's content check (magic bytes). */
const HEAD_BYTES = 64;

/** busboy marks a file stream `truncated` when it stopped it at the size cap. */
type UploadStream = Readable & { truncated?: boolean };

export interface ReceivedFile {
  /** The file name the client gave (untrusted: only for display or its extension). */
  filename: string;
  size: number;
  /** Where it was written. */
  dest: string;
  /** Its first bytes. */
  head: Buffer;
}

export interface ReceiveOptions {
  /** What the files are, for the error messages ("the run archive", "image files"). */
  what: string;
  maxFiles: number;
  maxFileBytes: number;
  /** All files together (default: maxFiles × maxFileBytes). */
  maxTotalBytes?: number;
  /** More file parts than maxFiles: refused (400) or ignored. */
  extraFiles: 'refuse' | 'ignore';
  /** Where the next file goes (created 0600, must not exist). */
  destFor(index: number): string;
  /** Throws to refuse a file once written (e.g. its magic bytes are wrong). */
  check?(file: ReceivedFile): void;
  signal: AbortSignal;
}

/** Writes every file part of `req`; throws (having removed them all) when any fails. */
export async function receiveFiles(req: IncomingMessage, options: ReceiveOptions): Promise<ReceivedFile[]> {
  const bodyCap = requestCap(options);
  if (declaredTooLarge(req, bodyCap)) throw tooLarge(options, true);
  const written: string[] = [];
  try {
    return await streamFiles(req, options, bodyCap, written);
  } catch (error) {
    await Promise.all(written.map((dest) => rm(dest, { force: true })));
    throw error;
  }
}

/** The first file part of `req`, written to `dest` (further parts are ignored). */
export async function receiveUpload(req: IncomingMessage, dest: string, maxBytes: number, signal: AbortSignal): Promise<ReceivedFile> {
  const [file] = await receiveFiles(req, { what: 'the run archive', maxFiles: 1, maxFileBytes: maxBytes, extraFiles: 'ignore', destFor: () => dest, signal });
  return file;
}

function requestCap(options: ReceiveOptions): number {
  return (options.maxTotalBytes ?? options.maxFiles * options.maxFileBytes) + options.maxFiles * MULTIPART_OVERHEAD;
}

function streamFiles(req: IncomingMessage, options: ReceiveOptions, bodyCap: number, written: string[]): Promise<ReceivedFile[]> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      limits: { files: options.maxFiles, fileSize: options.maxFileBytes, fields: 16, fieldSize: 4096, parts: options.maxFiles + 32 },
    });
  } catch {
    throw new BadRequest(`Send ${options.what} as multipart/form-data with file fields.`, undefined, 'multipart_required');
  }
  const maxTotal = options.maxTotalBytes ?? Infinity;
  return new Promise<ReceivedFile[]>((resolve, reject) => {
    const files: Array<Promise<ReceivedFile>> = [];
    const sinks = new Set<WriteStream>();
    let current: UploadStream | null = null;
    let settled = false;
    let fileBytes = 0;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener('abort', onAbort);
      req.unpipe(parser);
      // Ends every write still going (a part busboy will never finish now), so the partial files can be removed.
      current?.destroy();
      for (const sink of sinks) if (!sink.writableFinished) sink.destroy();
      // Keep reading (and dropping) the body, so the client is still there to read its error.
      req.resume();
      void Promise.allSettled(files).then(() => reject(error));
    };
    const onAbort = () => fail(new AppError(499, 'client_closed', 'The client went away during the upload.'));
    options.signal.addEventListener('abort', onAbort, { once: true });

    watchBodySize(req, { cap: bodyCap, onTooLargeToDrain: () => fail(tooLarge(options, true)) });
    parser.on('file', (_field, stream: UploadStream, info) => {
      if (settled) return void stream.resume();
      const dest = options.destFor(files.length);
      written.push(dest);
      current = stream;
      stream.on('data', (chunk: Buffer) => {
        fileBytes += chunk.length;
        if (fileBytes > maxTotal) fail(tooLarge(options, false, true));
      });
      const file = writeFile(stream, dest, info.filename ?? '', options, sinks);
      files.push(file);
      file.catch((error: unknown) => {
        stream.resume(); // keep draining after a failure, so the 4xx is delivered
        fail(error);
      });
    });
    parser.on('filesLimit', () => {
      if (options.extraFiles === 'refuse') fail(new BadRequest(`Send at most ${options.maxFiles} files at once.`, { limit: options.maxFiles }, 'too_many_files'));
    });
    parser.on('error', () => fail(new BadRequest('The multipart body is malformed.', undefined, 'malformed_multipart')));
    parser.on('close', () => {
      if (files.length === 0) return fail(new BadRequest(`Attach ${options.what} as file fields.`, undefined, 'file_required'));
      Promise.all(files).then((received) => {
        if (settled) return;
        settled = true;
        options.signal.removeEventListener('abort', onAbort);
        resolve(received);
      }, fail);
    });
    req.pipe(parser);
  });
}

async function writeFile(stream: UploadStream, dest: string, filename: string, options: ReceiveOptions, sinks: Set<WriteStream>): Promise<ReceivedFile> {
  let size = 0;
  const head: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => {
    if (size < HEAD_BYTES) head.push(chunk.subarray(0, HEAD_BYTES - size));
    size += chunk.length;
  });
  const sink = createWriteStream(dest, { flags: 'wx', mode: 0o600 });
  sinks.add(sink);
  await pipeline(stream, sink);
  // busboy stops the file at the cap and marks it truncated.
  if (stream.truncated) throw tooLarge(options, false);
  const file: ReceivedFile = { filename, size, dest, head: Buffer.concat(head) };
  options.check?.(file);
  return file;
}

function tooLarge(options: ReceiveOptions, closeConnection: boolean, total = false): AppError {
  const mb = (bytes: number) => `${Math.round(bytes / (1024 * 1024))} MB`;
  const message = total
    ? `The upload is larger than ${mb(options.maxTotalBytes ?? 0)} in all.`
    : options.maxFiles === 1
      ? `The upload is larger than ${options.maxFileBytes} bytes.`
      : `File too large: each file may be at most ${mb(options.maxFileBytes)}.`;
  return new AppError(413, 'payload_too_large', message, { maxFileBytes: options.maxFileBytes }, closeConnection ? { Connection: 'close' } : undefined);
}
