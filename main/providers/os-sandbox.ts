// The outermost confinement layer: the filesystem view the whole agent process tree
// runs in. On Linux a bubblewrap namespace, on macOS a sandbox-exec (Seatbelt) profile
// with the same rules; on Windows nothing (the CLIs' own sandboxes only). Pure
// functions from a layout to argv: the supervisor runs what they build.
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { isExecutableFile } from '../supervisor/binaries.js';

export type OsSandboxKind = 'bubblewrap' | 'sandbox-exec' | 'none';

/** What the agent sees besides the system folders, each at its own host path. */
export interface SandboxLayout {
  /** Read-write for `write`, read-only for `read`. */
  root: string;
  writable: boolean;
  /** Seen read-only. */
  readRoots: readonly string[];
  /** Further folders with the root's own mode (read-write for `write`). */
  writeRoots?: readonly string[];
  /** The per-run temp folder on the host: the agent's /tmp. */
  tempDir: string;
  /** The agent's HOME: an empty folder in the view, apart from what is bound into it. */
  home: string;
  /** The CLI's config folders and files (sessions, logs, credentials): read-write. */
  configPaths: readonly string[];
  /** The CLI's install folders (and its interpreter's): read-only. */
  installPaths: readonly string[];
  /** The shared git folder of a worktree root (its `.git` file points there): the root's own mode. */
  gitCommonDirs: readonly string[];
  /** Secret folders inside a bound folder: hidden (an empty folder or an empty file over them). */
  masked: readonly string[];
  /** A folder inside tempDir holding the gateway's shims (claude's `npm`): seen read-only at SHIM_DIR_IN_VIEW. */
  shimDir?: string;
  /** The PATH in the view when it differs from the child's own (SHIM_DIR_IN_VIEW first). */
  path?: string;
}

/** Where the per-run shim folder is seen in the view: read-only over the view's writable /tmp. */
export const SHIM_DIR_IN_VIEW = '/tmp/.symphony-bin';

/** System folders seen read-only (each only if it exists). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc', '/opt', '/sys', '/nix/store', '/run/current-system', '/run/systemd/resolve'];
/** System files no agent needs, hidden even from an agent running as root. */
const SYSTEM_SECRETS = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/sudoers', '/etc/ssh/ssh_host_rsa_key', '/etc/ssh/ssh_host_ecdsa_key', '/etc/ssh/ssh_host_ed25519_key'];

export function osSandboxKind(platform: NodeJS.Platform = process.platform): OsSandboxKind {
  if (platform === 'linux') return 'bubblewrap';
  if (platform === 'darwin') return 'sandbox-exec';
  return 'none';
}

interface Mount {
  path: string;
  mode: 'ro' | 'rw' | 'mask';
  /** Config paths may not exist yet (bound when they do); the rest must. */
  optional?: boolean;
}

/**
 * Every bound path with its mode, parents before children (bubblewrap applies them in
 * order, so the deepest mount decides; for the same path the stricter purpose wins:
 * a mask over everything, the root's own mode over an install folder).
 */
function mounts(layout: SandboxLayout): Mount[] {
  const list: Mount[] = [
    ...layout.installPaths.map((path) => ({ path, mode: 'ro' as const })),
    ...layout.configPaths.map((path) => ({ path, mode: 'rw' as const, optional: true })),
    ...layout.readRoots.map((path) => ({ path, mode: 'ro' as const })),
    ...layout.gitCommonDirs.map((path) => ({ path, mode: layout.writable ? ('rw' as const) : ('ro' as const) })),
    { path: layout.root, mode: layout.writable ? ('rw' as const) : ('ro' as const) },
    ...(layout.writeRoots ?? []).map((path) => ({ path, mode: layout.writable ? ('rw' as const) : ('ro' as const) })),
    ...layout.masked.map((path) => ({ path, mode: 'mask' as const })),
  ];
  const byPath = new Map<string, Mount>();
  for (const mount of list) byPath.set(mount.path, mount);
  return [...byPath.values()].sort((a, b) => depth(a.path) - depth(b.path));
}

function depth(path: string): number {
  return path.split(sep).filter(Boolean).length;
}

/** bubblewrap argv (without the program): the view, then `--` and the command. */
export function bubblewrapArgs(layout: SandboxLayout, command: string, args: readonly string[], cwd: string): string[] {
  const out = ['--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'];
  for (const dir of SYSTEM_DIRS) out.push('--ro-bind-try', dir, dir);
  for (const file of SYSTEM_SECRETS) if (existsSync(file)) out.push('--ro-bind', '/dev/null', file);
  out.push('--proc', '/proc', '--dev', '/dev');
  out.push('--bind', layout.tempDir, '/tmp', '--dir', '/var', '--symlink', '../tmp', '/var/tmp');
  if (layout.shimDir) out.push('--ro-bind', layout.shimDir, SHIM_DIR_IN_VIEW);
  out.push('--tmpfs', layout.home);
  for (const mount of mounts(layout)) {
    if (mount.mode === 'mask') {
      if (isDirectory(mount.path)) out.push('--tmpfs', mount.path);
      else if (existsSync(mount.path)) out.push('--ro-bind', '/dev/null', mount.path);
    } else {
      const flag = mount.mode === 'rw' ? '--bind' : '--ro-bind';
      out.push(mount.optional ? `${flag}-try` : flag, mount.path, mount.path);
    }
  }
  if (layout.path !== undefined) out.push('--setenv', 'PATH', layout.path);
  out.push('--chdir', cwd, '--', command, ...args);
  return out;
}

/** A Seatbelt profile with the same rules: system readable, home and other temp folders not, writes only under root and temp. */
export function seatbeltProfile(layout: SandboxLayout): string {
  const q = (path: string) => JSON.stringify(path);
  const extra = layout.writeRoots ?? [];
  const readable = [...layout.installPaths, ...layout.configPaths, ...layout.readRoots, ...layout.gitCommonDirs, layout.root, ...extra, layout.tempDir];
  const writable = [...layout.configPaths, layout.tempDir, ...(layout.writable ? [layout.root, ...extra, ...layout.gitCommonDirs] : [])];
  return [
    '(version 1)',
    '(allow default)',
    // Nothing of the home, the temp folders or other users' folders...
    `(deny file-read* (subpath ${q(layout.home)}) (subpath "/Users") (subpath "/private/tmp") (subpath "/private/var/folders") (subpath "/Volumes"))`,
    // ...but what the agent works with.
    `(allow file-read* ${readable.map((path) => `(subpath ${q(path)})`).join(' ')})`,
    ...(layout.masked.length ? [`(deny file-read* ${layout.masked.map((path) => `(subpath ${q(path)})`).join(' ')})`] : []),
    '(deny file-write*)',
    `(allow file-write* ${writable.map((path) => `(subpath ${q(path)})`).join(' ')} (literal "/dev/null") (regex #"^/dev/tty"))`,
  ].join('\n');
}

/** sandbox-exec argv (without the program). */
export function seatbeltArgs(layout: SandboxLayout, command: string, args: readonly string[]): string[] {
  return ['-p', seatbeltProfile(layout), command, ...args];
}

/**
 * A git worktree's `.git` is a file naming its folder inside the main repository's `.git`;
 * git needs that shared folder (objects, refs) to work in the worktree at all.
 */
export function gitCommonDir(root: string): string | null {
  let pointer: string;
  try {
    if (!statSync(join(root, '.git')).isFile()) return null;
    pointer = readFileSync(join(root, '.git'), 'utf8');
  } catch {
    return null;
  }
  const match = /^gitdir:\s*(.+?)\s*$/m.exec(pointer);
  if (!match) return null;
  const gitDir = resolve(root, match[1]);
  let common = gitDir;
  try {
    common = resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim());
  } catch {
    // No commondir file: the pointer names the shared folder itself.
  }
  return existsSync(common) ? realpathSync(common) : null;
}

/** `name` on `path` (a PATH value), or null. */
export function findOnPath(name: string, path: string | undefined): string | null {
  for (const dir of (path ?? '').split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/**
 * The folders a CLI needs to run, read-only: its package's node_modules (an npm install
 * keeps its native parts in sibling packages) or its own folder, and for a script the
 * interpreter's install prefix (node under ~/.nvm is otherwise hidden with the home).
 */
export function installPaths(file: string, childPath: string | undefined): { real: string; paths: string[] } {
  const real = realpathSync(file);
  const paths = [packageFolder(real)];
  const interpreter = shebangInterpreter(real, childPath);
  if (interpreter) paths.push(dirname(dirname(interpreter)));
  return { real, paths };
}

/** Whether a host path is seen in the view at the same path: inside a system folder or an install folder. */
export function seenInView(path: string, installPaths: readonly string[]): boolean {
  return [...SYSTEM_DIRS, ...installPaths].some((dir) => path === dir || path.startsWith(`${dir}/`));
}

function packageFolder(real: string): string {
  const parts = real.split(sep);
  const index = parts.lastIndexOf('node_modules');
  return index > 0 ? parts.slice(0, index + 1).join(sep) : dirname(real);
}

function shebangInterpreter(real: string, childPath: string | undefined): string | null {
  let head: string;
  try {
    // The first bytes only: a native CLI is hundreds of megabytes.
    const fd = openSync(real, 'r');
    const buffer = Buffer.alloc(200);
    try {
      head = buffer.subarray(0, readSync(fd, buffer, 0, 200, 0)).toString('latin1');
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
  const match = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(head);
  if (!match) return null;
  const program = match[1].endsWith('/env') && match[2] ? findOnPath(match[2], childPath) : match[1];
  if (!program || !existsSync(program)) return null;
  return realpathSync(program);
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
