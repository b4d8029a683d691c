// Path containment, the one way: by whole segments after resolution, case-insensitively
// where the file system usually is. Every "is this under that folder" check uses it.
import { promises as fs } from 'node:fs';
import path from 'node:path';

// macOS and Windows file systems are case-insensitive by default: ~/.SSH is ~/.ssh.
const CASE_INSENSITIVE = process.platform === 'darwin' || process.platform === 'win32';

/** Inside or equal, by whole segments: /root-evil is not inside /root, /root/..x is. */
export function isInside(child: string, parent: string): boolean {
  const c = CASE_INSENSITIVE ? child.toLowerCase() : child;
  const p = CASE_INSENSITIVE ? parent.toLowerCase() : parent;
  if (c === p) return true;
  const prefix = p.endsWith(path.sep) ? p : p + path.sep;
  return c.startsWith(prefix);
}

export class UnresolvablePath extends Error {}

/**
 * The realpath of `absolute`, or for a path that does not exist yet (a folder to create)
 * the realpath of its nearest existing parent with the missing tail appended. Throws
 * UnresolvablePath when it cannot be resolved, or goes through a dangling link (creating
 * through it would write at the link's target).
 */
export async function realpathOfNearestExisting(absolute: string): Promise<string> {
  const missing: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      const real = await fs.realpath(current);
      return missing.length === 0 ? real : path.join(real, ...missing.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UnresolvablePath('it cannot be resolved');
      if (await fs.lstat(current).then((s) => s.isSymbolicLink(), () => false)) {
        throw new UnresolvablePath('it goes through a symbolic link whose target does not exist');
      }
      const parent = path.dirname(current);
      if (parent === current) throw new UnresolvablePath('it cannot be resolved');
      missing.push(path.basename(current));
      current = parent;
    }
  }
}
