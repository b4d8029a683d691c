// Approval policy: allow, ask or deny per (caller kind, operation, read/write, action).
// Safe defaults, user overrides and "allow always" rules live in SQLite.
// Deny beats ask beats allow; a rule can turn an ask into an allow, never a deny;
// X-Desktop-Force-Approval turns an allow into an ask, rules notwithstanding.
import type { Logger } from 'pino';
import type { z } from 'zod';
import { PolicyEntry as PolicyEntrySchema, type RuleView } from '../../shared/schemas/gateway.js';
import { AGENT_OPERATIONS, OPERATION_IDS, type Access, type OperationId } from '../../shared/operations.js';
import { AppError, Forbidden, NotFound } from '../errors.js';
import { migrate, type Db } from '../store/database.js';
import type { AgentConfinement } from '../providers/confinement.js';
import type { ApprovalAnswer, ApprovalAsk, Provider } from '../providers/types.js';
import type { ApprovalOutcome, ApprovalQueue } from './approvals.js';
import type { Caller, CallerKind } from './caller.js';
import { newId } from './tokens.js';

export type Decision = 'allow' | 'ask' | 'deny';

export type PolicyEntry = z.infer<typeof PolicyEntrySchema>;

export interface AuthorizeRequest {
  operation: OperationId;
  caller: Caller;
  method: string;
  /** The route's path template, so rules match the route and not one URL. */
  path: string;
  access: Access;
  action: string | null;
  repoPath: string | null;
  /** What an agent start is about (a conversation's scope, e.g. `ticket:T-1`); "allow always" rules keep it. */
  scope?: string | null;
  /** An agent start that continues a conversation whose first turn was allowed: it does not ask again. */
  continuing?: boolean;
  args: unknown;
  forceApproval: boolean;
  claimedReason: string | null;
  signal: AbortSignal;
  /** Hears the person's decision when one was asked (the Activity trail records it). */
  onOutcome?: (outcome: ApprovalOutcome) => void;
}

export type Rule = z.infer<typeof RuleView>;

/** Whose agent asks, for what route: the start the tool calls belong to. */
export interface AgentStart {
  operation: OperationId;
  caller: Caller;
  /** The route's path template (and method, POST unless said). */
  path: string;
  method?: string;
  repoPath?: string | null;
  scope?: string | null;
  /** The request's connection, where the turn is tied to it; the turn's own stop always withdraws an ask. */
  signal?: AbortSignal;
  log?: Pick<Logger, 'info'>;
}

const RANK: Record<Decision, number> = { allow: 0, ask: 1, deny: 2 };
const strictest = (a: Decision, b: Decision): Decision => (RANK[b] > RANK[a] ? b : a);

/** The sub-action of every route that starts an agent (shared/operations.ts `agent`). */
export const AGENT_START = 'agent_start';
/** The sub-action of each tool call an agent asks about. */
export const TOOL_USE = 'tool_use';

/**
 * What a freshly paired origin may do: read freely; settings, repos, commits, branch
 * switches, pulls, pushes, worktrees, PRs, deploys, uploads and agent starts ask.
 * PAIRED_ORIGIN_PROMISE says the same to the user, and a test holds them together. The cloud
 * relay gets the same defaults: a command the web app sends through the cloud must not be
 * allowed more than the same request from its tab.
 */
const ORIGIN_DEFAULTS: Array<Omit<PolicyEntry, 'callerKind'>> = [
  { operation: 'binary_paths_settings', access: 'write', decision: 'ask' },
  { operation: 'repos_config', access: 'write', decision: 'ask' },
  { operation: 'git_pr', access: 'write', decision: 'ask' },
  { operation: 'deploy', access: 'write', decision: 'ask' },
  ...['push', 'commit', 'branch', 'pull', 'worktree-create', 'worktree-cleanup', 'worktree-delete', 'worktree-delete-force'].map(
    (action) => ({ operation: 'git_action' as const, access: 'write' as const, action, decision: 'ask' as const }),
  ),
  // Commits and pushes everything in the worktree: always asks a paired origin.
  { operation: 'git_local_commit_push', access: 'write', decision: 'ask' },
  { operation: 'filesystem', access: 'write', action: 'upload', decision: 'ask' },
  // The first turn of a conversation (a route's `conversation.started` lets later turns through),
  // and every tool call an agent asks about ("allow always" covers the conversation's scope).
  ...AGENT_OPERATIONS.flatMap((operation) =>
    [AGENT_START, TOOL_USE].map((action) => ({ operation, access: 'write' as const, action, decision: 'ask' as const })),
  ),
];

/** What the pairing dialog promises; it must say exactly what ORIGIN_DEFAULTS does. */
export const PAIRED_ORIGIN_PROMISE =
  'By default the page may read repositories, branches, diffs, files in your workspace, runs and chat histories without asking. ' +
  'You are asked first before it starts an agent (each new chat, review, run or loop), commits, pushes, pulls, switches ' +
  'branches, creates or deletes worktrees, opens or comments on pull requests, uploads files, deploys, or changes ' +
  "repositories or binary-path settings; an agent's own edits and commands in a chat ask you too.";

const DEFAULT_RULE_TTL_SECONDS = 30 * 24 * 3600;

export class PolicyService {
  /** Overrides are read on every request and change only through replaceOverrides: keep them in memory. */
  private cachedOverrides: PolicyEntry[] | null = null;

  constructor(
    private readonly db: Db,
    private readonly approvals: ApprovalQueue,
    private readonly now: () => number = Date.now,
  ) {
    migrate(db, 'policy', [
      `CREATE TABLE policy_overrides (
        caller_kind TEXT NOT NULL,
        operation TEXT NOT NULL,
        access TEXT NOT NULL,
        action TEXT NOT NULL DEFAULT '',
        decision TEXT NOT NULL,
        PRIMARY KEY (caller_kind, operation, access, action)
      );
      CREATE TABLE approval_rules (
        id TEXT PRIMARY KEY,
        caller_kind TEXT NOT NULL,
        origin TEXT,
        operation TEXT NOT NULL,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        repo_path TEXT,
        expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );`,
      // A rule is for one action and access: "allow always" on a commit never covers a push.
      // Rules made before this have no action recorded ('-') and so no longer match anything.
      `ALTER TABLE approval_rules ADD COLUMN action TEXT NOT NULL DEFAULT '-';
       ALTER TABLE approval_rules ADD COLUMN access TEXT NOT NULL DEFAULT '-';`,
      // An agent start's rule covers one conversation scope (NULL: any, as every older rule).
      `ALTER TABLE approval_rules ADD COLUMN scope TEXT;`,
    ]);
  }

  /** The decision for a request before any person is asked. */
  decide(request: Omit<AuthorizeRequest, 'signal' | 'args' | 'claimedReason'>): Decision {
    let decision = this.baseDecision(request.caller.kind, request.operation, request.access, request.action);
    if (decision === 'ask' && request.action === AGENT_START && request.continuing) decision = 'allow';
    if (decision === 'ask' && this.matchingRule(request)) decision = 'allow';
    if (decision === 'allow' && request.forceApproval) decision = 'ask';
    return decision;
  }

  /** Resolves when the request may go on; throws 403 (deny) or 408 (nobody answered). */
  async authorize(request: AuthorizeRequest): Promise<void> {
    const decision = this.decide(request);
    if (decision === 'allow') return;
    if (decision === 'deny') throw denied(request.operation, 'The approval policy denies this operation.');
    const outcome = await this.approvals.wait(
      {
        operation: request.operation,
        method: request.method,
        path: request.path,
        access: request.access,
        action: request.action,
        caller: { kind: request.caller.kind, origin: request.caller.origin, claimedSource: request.caller.claimedSource },
        claimedReason: request.claimedReason,
        args: request.args,
        repoPath: request.repoPath,
        scope: request.scope ?? null,
      },
      request.signal,
    );
    request.onOutcome?.(outcome);
    this.applyOutcome(request, outcome);
  }

  /**
   * The one approver of every agent start's tool calls (claude's can_use_tool, codex's
   * command and patch requests): each is a write of the start's operation with action
   * `tool_use`, asked of a paired origin's user; a refusal, timeout or full queue is a deny.
   */
  toolApprover(start: AgentStart): (ask: ApprovalAsk, turnStopped: AbortSignal) => Promise<ApprovalAnswer> {
    return async (ask, turnStopped) => {
      try {
        await this.authorize({
          operation: start.operation, caller: start.caller, method: start.method ?? 'POST', path: start.path, access: 'write',
          action: TOOL_USE, repoPath: start.repoPath ?? null, scope: start.scope ?? null,
          args: { tool: ask.toolName, input: ask.input }, forceApproval: false, claimedReason: null,
          signal: start.signal ? AbortSignal.any([start.signal, turnStopped]) : turnStopped,
        });
        return 'allow';
      } catch (error) {
        start.log?.info({ tool: ask.toolName, operation: start.operation, err: (error as Error).message }, 'agent tool use not approved');
        return 'deny';
      }
    };
  }

  /**
   * The tools of one agent start: its approver, the level it may run at, and whether its
   * writes are asked (`approveWrites`, for the confinement: where this caller's tool calls are
   * not simply allowed, every write and command must reach the approver). A provider that
   * cannot ask before a tool runs runs `read` where they would be asked, and `notice` says so.
   */
  agentTools(
    start: AgentStart,
    provider: Pick<Provider, 'id' | 'asksApproval'>,
    level: AgentConfinement['level'],
  ): { level: AgentConfinement['level']; onApproval: ReturnType<PolicyService['toolApprover']>; notice: string | null; approveWrites: boolean } {
    const onApproval = this.toolApprover(start);
    if (level === 'read') return { level, onApproval, notice: null, approveWrites: false };
    const toolCalls = this.decide({
      operation: start.operation, caller: start.caller, method: start.method ?? 'POST', path: start.path, access: 'write',
      action: TOOL_USE, repoPath: start.repoPath ?? null, scope: start.scope ?? null, forceApproval: false,
    });
    const approveWrites = toolCalls !== 'allow';
    if (!approveWrites || provider.asksApproval) return { level, onApproval, notice: null, approveWrites };
    return {
      level: 'read',
      onApproval,
      notice: `${provider.id} cannot ask before it runs a command or edits a file, and this caller's tool calls need approval: it runs read-only here.`,
      approveWrites,
    };
  }

  private applyOutcome(request: AuthorizeRequest, outcome: ApprovalOutcome): void {
    if (outcome.decision === 'deny') throw denied(request.operation, 'The request was denied on the desktop.');
    if (outcome.decision === 'allow_always') this.addRule(request, outcome.ruleExpiresInSeconds);
  }

  /** Every (caller kind, operation, access[, action]) with its effective decision and where it came from. */
  listPolicies(): Array<PolicyEntry & { source: 'default' | 'user' }> {
    const overrides = this.overrides();
    const entries: Array<PolicyEntry & { source: 'default' | 'user' }> = [];
    for (const callerKind of ['origin', 'relay', 'renderer', 'token'] as const) {
      for (const operation of OPERATION_IDS) {
        for (const access of ['read', 'write'] as const) {
          const actions = new Set<string | null>([null]);
          for (const entry of [...ORIGIN_DEFAULTS, ...overrides]) {
            if (entry.operation === operation && entry.access === access && entry.action) actions.add(entry.action);
          }
          for (const action of actions) {
            const user = overrides.find((o) => same(o, callerKind, operation, access, action));
            entries.push({
              callerKind,
              operation,
              access,
              action,
              decision: user?.decision ?? defaultDecision(callerKind, operation, access, action),
              source: user ? 'user' : 'default',
            });
          }
        }
      }
    }
    return entries;
  }

  /** Replaces the user's overrides (what differs from the defaults) in one transaction. */
  replaceOverrides(entries: PolicyEntry[]): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM policy_overrides').run();
      const insert = this.db.prepare(
        'INSERT OR REPLACE INTO policy_overrides (caller_kind, operation, access, action, decision) VALUES (?, ?, ?, ?, ?)',
      );
      for (const entry of entries) {
        if (entry.decision === defaultDecision(entry.callerKind, entry.operation, entry.access, entry.action ?? null)) continue;
        insert.run(entry.callerKind, entry.operation, entry.access, entry.action ?? '', entry.decision);
      }
    }).immediate();
    this.cachedOverrides = null;
  }

  listRules(): Rule[] {
    this.db.prepare('DELETE FROM approval_rules WHERE expires_at <= ?').run(this.now());
    const rows = this.db.prepare('SELECT * FROM approval_rules ORDER BY created_at DESC').all() as RuleRow[];
    return rows.map(toRule);
  }

  deleteRule(id: string): void {
    if (this.db.prepare('DELETE FROM approval_rules WHERE id = ?').run(id).changes === 0) {
      throw new NotFound('No rule with that id.', 'rule_not_found');
    }
  }

  /** The policy table's decision alone (overrides, then defaults), before rules and forced asks. */
  private baseDecision(callerKind: CallerKind, operation: OperationId, access: Access, action: string | null): Decision {
    const overrides = this.overrides();
    const defaults = defaultsOf(callerKind);
    const generic = tableDecision(overrides, defaults, callerKind, operation, access, null) ?? 'allow';
    const specific = action ? tableDecision(overrides, defaults, callerKind, operation, access, action) : undefined;
    return specific ? strictest(generic, specific) : generic;
  }

  /**
   * Whether the policy allows a request outright, from its table alone: what most requests
   * need to know, asked without building the request (`decide` has the whole rule set).
   */
  allowsOutright(callerKind: CallerKind, operation: OperationId, access: Access, action: string | null, forceApproval: boolean): boolean {
    return !forceApproval && this.baseDecision(callerKind, operation, access, action) === 'allow';
  }

  private overrides(): PolicyEntry[] {
    return (this.cachedOverrides ??= this.readOverrides());
  }

  private readOverrides(): PolicyEntry[] {
    const rows = this.db.prepare('SELECT * FROM policy_overrides').all() as Array<{
      caller_kind: CallerKind;
      operation: OperationId;
      access: Access;
      action: string;
      decision: Decision;
    }>;
    return rows.map((row) => ({
      callerKind: row.caller_kind,
      operation: row.operation,
      access: row.access,
      action: row.action || null,
      decision: row.decision,
    }));
  }

  private matchingRule(request: Omit<AuthorizeRequest, 'signal' | 'args' | 'claimedReason'>): boolean {
    const row = this.db
      .prepare(
        `SELECT id FROM approval_rules WHERE caller_kind = ? AND origin IS ? AND operation = ? AND method = ? AND path = ?
           AND action = ? AND access = ? AND (repo_path IS NULL OR repo_path = ?) AND (scope IS NULL OR scope = ?)
           AND expires_at > ? LIMIT 1`,
      )
      .get(
        request.caller.kind,
        request.caller.origin,
        request.operation,
        request.method,
        request.path,
        request.action ?? '',
        request.access,
        request.repoPath,
        request.scope ?? null,
        this.now(),
      );
    return row !== undefined;
  }

  private addRule(request: AuthorizeRequest, ttlSeconds = DEFAULT_RULE_TTL_SECONDS): void {
    const now = this.now();
    this.db
      .prepare(
        `INSERT INTO approval_rules (id, caller_kind, origin, operation, method, path, action, access, repo_path, scope, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        newId('rule'),
        request.caller.kind,
        request.caller.origin,
        request.operation,
        request.method,
        request.path,
        request.action ?? '',
        request.access,
        request.repoPath,
        request.scope ?? null,
        now + ttlSeconds * 1000,
        now,
      );
  }
}

interface RuleRow {
  id: string;
  caller_kind: CallerKind;
  origin: string | null;
  operation: OperationId;
  method: string;
  path: string;
  action: string;
  access: string;
  repo_path: string | null;
  scope: string | null;
  expires_at: number;
}

const toRule = (row: RuleRow): Rule => ({
  id: row.id,
  callerKind: row.caller_kind,
  origin: row.origin,
  operation: row.operation,
  method: row.method,
  path: row.path,
  action: row.action === '' || row.action === '-' ? null : row.action,
  access: row.access === 'read' || row.access === 'write' ? row.access : null,
  repoPath: row.repo_path,
  scope: row.scope,
  expiresAt: new Date(row.expires_at).toISOString(),
});

function same(entry: PolicyEntry, callerKind: CallerKind, operation: OperationId, access: Access, action: string | null) {
  return (
    entry.callerKind === callerKind && entry.operation === operation && entry.access === access && (entry.action ?? null) === action
  );
}

/**
 * The defaults a caller kind has: a paired origin all of ORIGIN_DEFAULTS; the relay the same
 * except agent starts (the cloud starts loops and chats nobody sits beside; their tool calls
 * still ask, and the user can make relay agent starts ask in the policy screen).
 */
function defaultsOf(callerKind: CallerKind): ReadonlyArray<Omit<PolicyEntry, 'callerKind'>> {
  if (callerKind === 'origin') return ORIGIN_DEFAULTS;
  return callerKind === 'relay' ? RELAY_DEFAULTS : NO_DEFAULTS;
}

const RELAY_DEFAULTS = ORIGIN_DEFAULTS.filter((entry) => entry.action !== AGENT_START);
const NO_DEFAULTS: ReadonlyArray<Omit<PolicyEntry, 'callerKind'>> = [];

/**
 * The user's override, else the default; for an action, only one the defaults name (undefined
 * otherwise), and a generic entry is allowed when nothing names it. Plain loops: this runs on
 * every request, and a callback per search would be allocated each time.
 */
function tableDecision(
  overrides: readonly PolicyEntry[],
  defaults: ReadonlyArray<Omit<PolicyEntry, 'callerKind'>>,
  callerKind: CallerKind,
  operation: OperationId,
  access: Access,
  action: string | null,
): Decision | undefined {
  for (let i = 0; i < overrides.length; i++) if (same(overrides[i], callerKind, operation, access, action)) return overrides[i].decision;
  for (let i = 0; i < defaults.length; i++) {
    const entry = defaults[i];
    if (entry.operation === operation && entry.access === access && (entry.action ?? null) === action) return entry.decision;
  }
  return action === null ? 'allow' : undefined;
}

function defaultDecision(callerKind: CallerKind, operation: OperationId, access: Access, action: string | null): Decision {
  return tableDecision([], defaultsOf(callerKind), callerKind, operation, access, action) ?? 'allow';
}

function denied(operation: OperationId, message: string): AppError {
  return new Forbidden(`${message} (operation ${operation})`, 'policy_denied', { operation });
}
