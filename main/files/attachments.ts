// A ticket's attachments (screenshots pasted into its chat): uploaded as multipart,
// kept in <ticket work folder>/attachments under generated names, served back only as
// inert bytes. A file's type comes from its first bytes, never from its name or the
// client's mime type, and nothing served can run script on the gateway's origin.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { UploadedFile } from '../../shared/schemas/symphony-chats.js';
import { AppError, BadRequest, Forbidden, NotFound } from '../errors.js';
import type { ReceivedFile } from './multipart-upload.js';

export interface AttachmentLimits {
  maxFileBytes: number;
  maxFiles: number;
  /** One request, all files together. */
  maxRequestBytes: number;
  /** Everything a ticket keeps. */
  ticketQuotaBytes: number;
}

export const DEFAULT_ATTACHMENT_LIMITS: AttachmentLimits = {
  maxFileBytes: 10 * 1024 * 1024,
  maxFiles: 20,
  maxRequestBytes: 50 * 1024 * 1024,
  ticketQuotaBytes: 200 * 1024 * 1024,
};

type ImageType = { mime: string; ext: string };

/** Image types by magic bytes; nothing else is accepted or served as an image. */
export function sniffImage(head: Buffer): ImageType | null {
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { mime: 'image/png', ext: 'png' };
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { mime: 'image/jpeg', ext: 'jpg' };
  const ascii = head.subarray(0, 12).toString('latin1');
  if (ascii.startsWith('GIF87a') || ascii.startsWith('GIF89a')) return { mime: 'image/gif', ext: 'gif' };
  if (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WEBP') return { mime: 'image/webp', ext: 'webp' };
  return null;
}

/** One path segment of an attachment: no dot files, no `..`, nothing encoded. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/;
const TEMP_PREFIX = '.upload-';
const STALE_TEMP_MS = 60 * 60_000;

export interface ServedAttachment {
  stream: Readable;
  contentType: string;
  headers: Record<string, string>;
}

export class TicketAttachments {
  constructor(
    private readonly deps: {
      /** The ticket's work folder, with the repository and ticket id validated. */
      workFolder(repoPath: string, ticketId: string, signal?: AbortSignal): Promise<string>;
      limits?: AttachmentLimits;
    },
  ) {}

  private get limits(): AttachmentLimits {
    return this.deps.limits ?? DEFAULT_ATTACHMENT_LIMITS;
  }

  async folder(repoPath: string, ticketId: string, signal?: AbortSignal): Promise<string> {
    return path.join(await this.deps.workFolder(repoPath, ticketId, signal), 'attachments');
  }

  /**
   * Opens one attachment (`relative` as the router decoded it, once). 403 for anything
   * that is not a plain relative path or whose real path leaves the folder; 404 when missing.
   */
  async open(repoPath: string, ticketId: string, relative: string, signal?: AbortSignal): Promise<ServedAttachment> {
    const segments = relative.split('/');
    if (!segments.every((segment) => SEGMENT.test(segment))) throw new Forbidden('Invalid path: name a file of the ticket\'s attachments.', 'path_not_allowed');
    const folder = await this.folder(repoPath, ticketId, signal);
    const [realFolder, realFile] = await Promise.all([realpath(folder).catch(() => null), realpath(path.join(folder, ...segments)).catch(() => null)]);
    if (!realFolder || !realFile) throw new NotFound('No such attachment.', 'attachment_not_found');
    if (!realFile.startsWith(realFolder + path.sep)) throw new Forbidden('Invalid path: it leads outside the ticket\'s attachments.', 'path_not_allowed');
    const handle = await open(realFile, 'r');
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new NotFound('No such attachment.', 'attachment_not_found');
      const head = Buffer.alloc(64);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      const image = sniffImage(head.subarray(0, bytesRead));
      const name = segments[segments.length - 1];
      const stream = handle.createReadStream({ start: 0, autoClose: true });
      return {
        stream,
        contentType: image?.mime ?? 'application/octet-stream',
        headers: {
          'Content-Length': String(info.size),
          'X-Content-Type-Options': 'nosniff',
          'Content-Security-Policy': "sandbox; default-src 'none'",
          // Only a sniffed raster image is shown inline; anything else (SVG, HTML named .png) is a download.
          'Content-Disposition': `${image ? 'inline' : 'attachment'}; filename="${name}"`,
          'Cache-Control': 'private, max-age=3600',
        },
      };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Receives the images of a multipart upload; all or nothing. */
  async upload(req: IncomingMessage, repoPath: string, ticketId: string, signal: AbortSignal): Promise<{ files: UploadedFile[] }> {
    const folder = await this.folder(repoPath, ticketId, signal);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const used = await this.usage(folder);
    const room = this.limits.ticketQuotaBytes - used;
    if (room <= 0) throw quotaFull(this.limits.ticketQuotaBytes);
    const { receiveFiles } = await import('./multipart-upload.js'); // busboy loads with the first upload
    const received = await receiveFiles(req, {
      what: 'image files (PNG, JPEG, GIF or WebP)',
      maxFiles: this.limits.maxFiles,
      maxFileBytes: this.limits.maxFileBytes,
      maxTotalBytes: Math.min(this.limits.maxRequestBytes, room),
      extraFiles: 'refuse',
      destFor: () => path.join(folder, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`),
      check: (file) => {
        if (!sniffImage(file.head)) {
          throw new BadRequest(
            `File type not allowed: ${displayName(file.filename)} is not a PNG, JPEG, GIF or WebP image (judged by its content).`,
            { file: displayName(file.filename) }, 'file_type_not_allowed',
          );
        }
      },
      signal,
    });
    return { files: await this.keep(folder, received, repoPath, ticketId) };
  }

  /** Gives each received file its generated name; a failure removes every one of them. */
  private async keep(folder: string, received: ReceivedFile[], repoPath: string, ticketId: string): Promise<UploadedFile[]> {
    const kept: string[] = [];
    try {
      const files: UploadedFile[] = [];
      for (const file of received) {
        const savedName = `chat-img-${Date.now()}-${randomBytes(4).toString('hex')}.${sniffImage(file.head)!.ext}`;
        const saved = path.join(folder, savedName);
        await rename(file.dest, saved);
        kept.push(saved);
        files.push({
          originalName: displayName(file.filename), savedName, path: saved, size: file.size,
          apiUrl: `/api/gateway/symphony/attachments/${encodeURIComponent(ticketId)}/${savedName}?repo=${encodeURIComponent(repoPath)}`,
        });
      }
      return files;
    } catch (error) {
      await Promise.all([...kept, ...received.map((f) => f.dest)].map((file) => rm(file, { force: true })));
      throw error;
    }
  }

  /** Bytes kept in the folder; removes temp files a crash left behind. */
  private async usage(folder: string): Promise<number> {
    let total = 0;
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = path.join(folder, entry.name);
      const info = await stat(file).catch(() => null);
      if (!info) continue;
      if (entry.name.startsWith(TEMP_PREFIX)) {
        if (Date.now() - info.mtimeMs > STALE_TEMP_MS) await rm(file, { force: true });
        continue;
      }
      total += info.size;
    }
    return total;
  }
}

function quotaFull(quota: number): AppError {
  return new AppError(413, 'quota_exceeded', `This ticket's attachments already use its ${Math.round(quota / (1024 * 1024))} MB; delete some first.`);
}

/** The client's file name for display only: no folders, no control characters, bounded. */
function displayName(filename: string): string {
  // eslint-disable-next-line no-control-regex
  return (filename.split(/[\\/]/).pop() ?? '').replace(/[\x00-\x1f\x7f"]/g, '').slice(0, 255) || 'upload';
}
