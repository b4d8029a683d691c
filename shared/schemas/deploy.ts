// Requests and replies of the deploy family: a ticket's dev server (detect, start, status,
// health, stop). Field names are the original web client's (repoPath, worktreePath, ticketId, pid).
import { z } from 'zod';

const UserPath = z
  .string()
  .trim()
  .min(1)
  .max(4096)
  .refine((value) => !value.includes('\0'), 'must not contain NUL');
/** The rules of ticketSlug (main/symphony/ticket-worktree.ts): nothing that could climb or look like an option. */
export const DeployTicketId = z
  .string()
  .trim()
  .min(1)
  .max(100)
  // eslint-disable-next-line no-control-regex
  .refine((value) => !/[\x00-\x1f\x7f/\\]/.test(value), 'must not contain / \\ or control characters')
  .refine((value) => !value.includes('..'), 'must not contain ..')
  .refine((value) => !/^[-.]/.test(value), "must not start with '-' or '.'");
const Pid = z.number().int().positive().max(4_194_304);
const Port = z.number().int().min(1).max(65535);
const Argv = z.array(z.string().min(1).max(4096).refine((w) => !w.includes('\0'), 'must not contain NUL')).min(1).max(200);
const CommandLine = z.string().trim().min(1).max(8192);

export const RepoPathBody = z.object({ repoPath: UserPath });
export const ExtractInfoBody = z.object({ repoPath: UserPath, ticketId: DeployTicketId.optional(), logs: z.unknown().optional() });

export const DeployStartBody = z.object({ ticketId: DeployTicketId, repoPath: UserPath, worktreePath: UserPath.optional() });
export const DeployHealthBody = z.object({ url: z.string().trim().min(1).max(2048) });
export const DeployKillBody = z
  .object({ pid: Pid.optional(), ticketId: DeployTicketId.optional(), repoPath: UserPath.optional() })
  .refine((body) => body.pid !== undefined || body.ticketId !== undefined, { message: 'give pid or ticketId', path: ['pid'] });
export const DeployTeardownBody = z.object({
  repoPath: UserPath,
  worktreePath: UserPath.optional(),
  ticketId: DeployTicketId.optional(),
  pid: Pid.optional(),
  port: Port.optional(),
  serviceId: z.unknown().optional(),
});
export const DeployCheckExistingBody = z.object({ repoPath: UserPath, worktreePath: UserPath.optional(), ticketId: DeployTicketId.optional() });
export const DeployStatusParams = z.object({ ticketId: DeployTicketId });
export const DeployStatusQuery = z.object({ repo: UserPath.optional(), pid: z.string().optional() });
export const DeployConfigQuery = z.object({ repoPath: UserPath });

/** A user's edit of a repository's deploy config: command lines are parsed once into argv (no shell syntax). */
export const DeployConfigBody = z
  .object({
    repoPath: UserPath,
    command: CommandLine.optional(),
    argv: Argv.optional(),
    installCommand: CommandLine.nullable().optional(),
    installArgv: Argv.nullable().optional(),
    teardownCommand: CommandLine.nullable().optional(),
    teardownArgv: Argv.nullable().optional(),
    port: Port.optional(),
    portFlag: z.string().regex(/^--?[A-Za-z][A-Za-z0-9-]*$/, 'a flag such as --port or -p').nullable().optional(),
    healthEndpoint: z.string().regex(/^\/[^\s]*$/, 'a path starting with /').max(2048).optional(),
    copyEnvLocal: z.boolean().optional(),
  })
  .strict();
export const DeploySettingsBody = z.object({ portRange: z.object({ from: Port, to: Port }).strict() }).strict();

export const DeployConfigView = z.object({
  type: z.string(),
  framework: z.string().nullable(),
  packageManager: z.string().nullable(),
  port: z.number(),
  portFlag: z.string().nullable(),
  healthEndpoint: z.string(),
  healthCheckUrl: z.string(),
  command: z.string(),
  argv: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  installCommand: z.string().nullable(),
  installArgv: z.array(z.string()).nullable(),
  teardownCommand: z.string().nullable(),
  teardownArgv: z.array(z.string()).nullable(),
  additionalPorts: z.array(z.number()),
  services: z.array(z.object({ name: z.string(), ports: z.array(z.object({ published: z.number(), target: z.number().nullable() })) })).optional(),
  runnable: z.boolean(),
  notes: z.array(z.string()),
});

export const DeployStatusResponse = z.object({
  status: z.enum(['running', 'completed', 'failed', 'not-started']),
  phase: z.string().nullable(),
  logs: z.string(),
  pid: z.number().nullable(),
  port: z.number().optional(),
  deployedUrl: z.string().optional(),
  error: z.string().optional(),
  progress: z.object({ step: z.enum(['install', 'start']).nullable(), installLines: z.number(), lastLine: z.string().nullable() }).optional(),
  command: z.string().optional(),
  worktreePath: z.string().optional(),
  /** The dev server's whole output (the status carries only its tail). */
  logFile: z.string().optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().nullable().optional(),
});

export const DeployStartResponse = z.object({
  success: z.literal(true),
  pid: z.number().nullable(),
  port: z.number(),
  url: z.string(),
  logFile: z.string(),
  deployCommand: z.string(),
  deployType: z.string(),
  repoName: z.string(),
  status: z.string(),
  phase: z.string(),
  alreadyRunning: z.boolean(),
  copiedEnvFiles: z.array(z.string()).optional(),
});

export type DeployStatusView = z.infer<typeof DeployStatusResponse>;
export type DeployStartView = z.infer<typeof DeployStartResponse>;
export type DeployConfigShape = z.infer<typeof DeployConfigView>;
