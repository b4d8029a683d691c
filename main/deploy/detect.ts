// What a folder's dev server is and how to start it, read from its files (nothing runs):
// package.json (framework, package manager, port), Python (Django, uvicorn, Flask),
// docker compose files, a Procfile. The first kind found wins, in that order.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { isAppError } from '../errors.js';
import { displayCommand, parseCommandLine, PORT_PLACEHOLDER } from './argv.js';
import { composeServices, type ComposeService } from './compose.js';

export type PackageManager = 'npm' | 'pnpm' | 'yarn' | 'bun';

/** The spec's `deployment` object, with argv arrays beside the display strings. */
export interface DeployConfig {
  /** Framework id, or `node`, `python`, `compose`, `procfile`, `custom`. */
  type: string;
  framework: string | null;
  packageManager: PackageManager | null;
  /** The port the app listens on by default (each deployment gets its own from the range). */
  port: number;
  /** How the port reaches the server besides PORT: a flag appended at start, or null (env only / in argv). */
  portFlag: string | null;
  healthEndpoint: string;
  healthCheckUrl: string;
  /** Shown to the user; `argv` is what runs. */
  command: string;
  argv: string[];
  env: Record<string, string>;
  installCommand: string | null;
  installArgv: string[] | null;
  teardownCommand: string | null;
  teardownArgv: string[] | null;
  additionalPorts: number[];
  /** Compose: services and the ports they publish (fixed by the file, not allocated). */
  services?: ComposeService[];
  /** A compose project needs `docker compose`; false when docker is not installed. */
  runnable: boolean;
  notes: string[];
}

export interface Detection {
  config: DeployConfig | null;
  /** Sources that were found but could not be used, and why. */
  problems: string[];
}

interface Framework {
  id: string;
  dependency: string;
  port: number;
  /** null: the framework reads PORT only. */
  flag: string | null;
}

// Most specific first: remix, sveltekit and astro projects also depend on vite.
const FRAMEWORKS: Framework[] = [
  { id: 'next', dependency: 'next', port: 3000, flag: '--port' },
  { id: 'nuxt', dependency: 'nuxt', port: 3000, flag: '--port' },
  { id: 'astro', dependency: 'astro', port: 4321, flag: '--port' },
  { id: 'remix', dependency: '@remix-run/dev', port: 3000, flag: null },
  { id: 'sveltekit', dependency: '@sveltejs/kit', port: 5173, flag: '--port' },
  { id: 'cra', dependency: 'react-scripts', port: 3000, flag: null },
  { id: 'vite', dependency: 'vite', port: 5173, flag: '--port' },
  { id: 'express', dependency: 'express', port: 3000, flag: null },
];

const LOCKFILES: Array<[string, PackageManager]> = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['bun.lockb', 'bun'],
  ['bun.lock', 'bun'],
  ['package-lock.json', 'npm'],
];

export const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];

export interface DetectOptions {
  /** Whether `docker` can be run here (compose projects need it). */
  dockerAvailable?: boolean;
}

export function detect(dir: string, options: DetectOptions = {}): Detection {
  const problems: string[] = [];
  for (const detector of [detectNode, detectPython, (d: string, p: string[]) => detectCompose(d, p, options), detectProcfile]) {
    const config = detector(dir, problems);
    if (config) return { config, problems };
  }
  return { config: null, problems };
}

function detectNode(dir: string, problems: string[]): DeployConfig | null {
  const pkg = readJson(path.join(dir, 'package.json'), problems);
  if (!pkg) return null;
  const scripts = record(pkg.scripts);
  const script = scripts.dev !== undefined ? 'dev' : scripts.start !== undefined ? 'start' : null;
  if (!script) {
    problems.push('package.json has neither a "dev" nor a "start" script.');
    return null;
  }
  const deps = { ...record(pkg.dependencies), ...record(pkg.devDependencies) };
  const framework = FRAMEWORKS.find((f) => deps[f.dependency] !== undefined) ?? null;
  const pm = packageManagerOf(dir, pkg.packageManager);
  const port = portInScript(scripts[script]) ?? framework?.port ?? 3000;
  const argv = [pm, 'run', script];
  const installArgv = [pm, 'install'];
  return base({
    type: framework?.id ?? 'node',
    framework: framework?.id ?? null,
    packageManager: pm,
    port,
    portFlag: framework?.flag ?? null,
    argv,
    installArgv,
    notes: [`Runs the "${script}" script of package.json with ${pm} (the package manager runs that script as it always does).`],
  });
}

function detectPython(dir: string): DeployConfig | null {
  const requirements = [readText(path.join(dir, 'requirements.txt')), readText(path.join(dir, 'pyproject.toml'))].join('\n').toLowerCase();
  const notes = ['No install step: install the requirements into the environment python3 uses, or set an install command.'];
  if (existsSync(path.join(dir, 'manage.py'))) {
    return base({ type: 'django', framework: 'django', port: 8000, argv: ['python3', 'manage.py', 'runserver', `127.0.0.1:${PORT_PLACEHOLDER}`], notes });
  }
  const entry = ['main.py', 'app.py', 'server.py'].find((file) => existsSync(path.join(dir, file)));
  if (/\buvicorn\b|\bfastapi\b/.test(requirements) && entry) {
    const appVar = /^(\w+)\s*=\s*FastAPI\(/m.exec(readText(path.join(dir, entry)))?.[1] ?? 'app';
    return base({
      type: 'fastapi', framework: 'fastapi', port: 8000,
      argv: ['python3', '-m', 'uvicorn', `${entry.slice(0, -3)}:${appVar}`, '--host', '127.0.0.1', '--port', PORT_PLACEHOLDER],
      notes,
    });
  }
  if (/\bflask\b/.test(requirements) && entry) {
    return base({
      type: 'flask', framework: 'flask', port: 5000,
      argv: ['python3', '-m', 'flask', '--app', entry.slice(0, -3), 'run', '--host', '127.0.0.1', '--port', PORT_PLACEHOLDER],
      notes,
    });
  }
  return null;
}

function detectCompose(dir: string, problems: string[], options: DetectOptions): DeployConfig | null {
  const file = COMPOSE_FILES.find((name) => existsSync(path.join(dir, name)));
  if (!file) return null;
  const services = composeServices(readText(path.join(dir, file)));
  const ports = services.flatMap((service) => service.ports.map((p) => p.published));
  if (!ports.length) problems.push(`${file} publishes no port; set the port to health-check by hand.`);
  const runnable = options.dockerAvailable ?? false;
  return base({
    type: 'compose', framework: null, port: ports[0] ?? 8080,
    argv: ['docker', 'compose', '-f', file, 'up'],
    teardownArgv: ['docker', 'compose', '-f', file, 'down'],
    additionalPorts: ports.slice(1),
    services,
    runnable,
    notes: [
      'Compose publishes the ports its file names: two tickets of this repository cannot run at once.',
      ...(runnable ? [] : ['docker is not installed (or not on PATH): install Docker to start this project.']),
    ],
  });
}

function detectProcfile(dir: string, problems: string[]): DeployConfig | null {
  const text = readText(path.join(dir, 'Procfile'));
  if (!text) return null;
  const line = /^web:\s*(.+)$/m.exec(text)?.[1]?.trim();
  if (!line) {
    problems.push('The Procfile has no "web:" process.');
    return null;
  }
  try {
    const { argv, env } = parseCommandLine(line, 'Procfile web');
    return base({ type: 'procfile', framework: null, port: 5000, argv, env, notes: ['Runs the Procfile\'s "web" process.'] });
  } catch (error) {
    if (!isAppError(error)) throw error;
    problems.push(error.message);
    return null;
  }
}

type BaseInput = Pick<DeployConfig, 'type' | 'framework' | 'port' | 'argv'> &
  Partial<Omit<DeployConfig, 'command' | 'installCommand' | 'teardownCommand' | 'healthCheckUrl'>>;

/** Fills in the display strings and defaults from the argv arrays. */
export function base(input: BaseInput): DeployConfig {
  const env = input.env ?? {};
  const installArgv = input.installArgv ?? null;
  const teardownArgv = input.teardownArgv ?? null;
  return {
    type: input.type,
    framework: input.framework,
    packageManager: input.packageManager ?? null,
    port: input.port,
    portFlag: input.portFlag ?? null,
    healthEndpoint: input.healthEndpoint ?? '/',
    healthCheckUrl: `http://localhost:${input.port}${input.healthEndpoint ?? '/'}`,
    command: displayCommand(input.argv, env),
    argv: input.argv,
    env,
    installCommand: installArgv && displayCommand(installArgv),
    installArgv,
    teardownCommand: teardownArgv && displayCommand(teardownArgv),
    teardownArgv,
    additionalPorts: input.additionalPorts ?? [],
    ...(input.services ? { services: input.services } : {}),
    runnable: input.runnable ?? true,
    notes: input.notes ?? [],
  };
}

function packageManagerOf(dir: string, declared: unknown): PackageManager {
  const fromLock = LOCKFILES.find(([file]) => existsSync(path.join(dir, file)))?.[1];
  if (fromLock) return fromLock;
  const prefix = typeof declared === 'string' ? declared.split('@')[0] : '';
  return (['npm', 'pnpm', 'yarn', 'bun'] as const).find((pm) => pm === prefix) ?? 'npm';
}

/** `--port 4000`, `--port=4000`, `-p 4000`, `PORT=4000` in a script. */
export function portInScript(script: unknown): number | null {
  if (typeof script !== 'string') return null;
  const match = /(?:--port|-p|PORT=)[\s=]*(\d{2,5})\b/.exec(script);
  const port = match ? Number(match[1]) : NaN;
  return port >= 1 && port <= 65535 ? port : null;
}

function readJson(file: string, problems: string[]): Record<string, unknown> | null {
  const text = readText(file);
  if (!text) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  problems.push(`${path.basename(file)} is not a JSON object.`);
  return null;
}

const MAX_READ = 1024 * 1024;

function readText(file: string): string {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat?.isFile() || stat.size > MAX_READ) return '';
  return readFileSync(file, 'utf8');
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
