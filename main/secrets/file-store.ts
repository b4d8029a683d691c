// Secrets as files under <dataDir>/secrets/: one file per secret, mode 0600 in a
// 0700 directory, replaced atomically (temp file + fsync + rename) so a crash
// mid-write leaves either the old value or the new one, never half of one.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { SecretName, SecretStore } from './secret-store.js';

export class FileSecretStore implements SecretStore {
  readonly kind = 'file' as const;

  private constructor(readonly dir: string) {}

  static async open(dataDir: string): Promise<FileSecretStore> {
    const dir = path.join(dataDir, 'secrets');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // mkdir keeps the mode of a directory that already exists: tighten it.
    await chmod(dir, 0o700);
    return new FileSecretStore(dir);
  }

  async get(name: SecretName): Promise<string | null> {
    try {
      return await readFile(this.file(name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async set(name: SecretName, value: string): Promise<void> {
    const temp = path.join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(value, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, this.file(name));
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
    await syncDir(this.dir);
  }

  async delete(name: SecretName): Promise<void> {
    try {
      await unlink(this.file(name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  private file(name: SecretName): string {
    return path.join(this.dir, name);
  }
}

/** Makes the rename durable; not possible on Windows, where it is skipped. */
async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
