// Receives one uploaded file from a multipart body and streams it to disk, never
// holding it in memory; the size cap holds whatever Content-Length claims.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { AppError, BadRequest } from '../errors.js';

/** Room for the multipart boundaries and part headers around the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;
/** Past the cap, up to this much more is read and dropped so the client sees its 413. */
const DRAIN_LIMIT = 32 * 1024 * 1024;

/** busboy marks a file stream `truncated` when it stopped it at the size cap. */
type UploadStream = Readable & { truncated?: boolean };

export interface ReceivedFile {
  /** The file name the client gave (untrusted: only its extension is looked at). */
  filename: string;
  size: number;
}

/** Writes the first file part of `req` to `dest` (created 0600, must not exist). */
export async function receiveUpload(
  req: IncomingMessage,
  dest: string,
  maxBytes: number,
  signal: AbortSignal,
): Promise<ReceivedFile> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes + MULTIPART_OVERHEAD + DRAIN_LIMIT) throw tooLarge(maxBytes, true);
  try {
    return await streamFirstFile(req, dest, maxBytes, signal);
  } catch (error) {
    await rm(dest, { force: true });
    throw error;
  }
}

function streamFirstFile(req: IncomingMessage, dest: string, maxBytes: number, signal: AbortSignal): Promise<ReceivedFile> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes, fields: 16, fieldSize: 4096, parts: 32 } });
  } catch {
    throw new BadRequest('Send the run archive as multipart/form-data with one file field.', undefined, 'multipart_required');
  }
  return new Promise<ReceivedFile>((resolve, reject) => {
    let received: Promise<ReceivedFile> | null = null;
    let fileStream: UploadStream | null = null;
    let settled = false;
    let bodyBytes = 0;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      req.unpipe(parser);
      fileStream?.destroy(); // ends the write, so the partial file can be removed
      void Promise.allSettled([received]).then(() => reject(error));
    };
    const onAbort = () => fail(new AppError(499, 'client_closed', 'The client went away during the upload.'));
    signal.addEventListener('abort', onAbort, { once: true });

    req.on('data', (chunk: Buffer) => {
      bodyBytes += chunk.length;
      if (bodyBytes > maxBytes + MULTIPART_OVERHEAD + DRAIN_LIMIT) fail(tooLarge(maxBytes, true));
    });
    parser.on('file', (_field, stream, info) => {
      fileStream = stream;
      received = writeFile(stream, dest, info.filename ?? '', maxBytes);
      received.catch(() => stream.resume()); // keep draining after a failure, so the 413/500 is delivered
    });
    parser.on('error', () => fail(new BadRequest('The multipart body is malformed.', undefined, 'malformed_multipart')));
    parser.on('close', () => {
      if (!received) return fail(new BadRequest('Attach the run archive as a file field.', undefined, 'file_required'));
      received.then(
        (file) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          resolve(file);
        },
        fail,
      );
    });
    req.pipe(parser);
  });
}

async function writeFile(stream: UploadStream, dest: string, filename: string, maxBytes: number): Promise<ReceivedFile> {
  let size = 0;
  stream.on('data', (chunk: Buffer) => (size += chunk.length));
  await pipeline(stream, createWriteStream(dest, { flags: 'wx', mode: 0o600 }));
  // busboy stops the file at the cap and marks it truncated.
  if (stream.truncated) throw tooLarge(maxBytes, false);
  return { filename, size };
}

function tooLarge(maxBytes: number, closeConnection: boolean): AppError {
  return new AppError(
    413,
    'payload_too_large',
    `The upload is larger than ${maxBytes} bytes.`,
    undefined,
    closeConnection ? { Connection: 'close' } : undefined,
  );
}
