// Chat sessions (terminal, ticket, run-viewer, ticket-worktree and PR-comment chats): which provider and CLI session
// each one is on, its history, and the one turn that may run in it at a time. A turn
// streams the provider's normalized events through to the caller while its text and
// outcome are persisted; whatever ends it (done, kill, client gone, DELETE) ends here.
import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { NormalizedEvent, UsageTotals } from '../../shared/events.js';
import { Conflict, NotFound } from '../errors.js';
import type { AgentConfinement } from '../providers/confinement.js';
import { QueuePlaces } from '../providers/agent-slots.js';
import { seededPrompt } from '../providers/cli-turn.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { ProviderId, TranscriptEntry, Turn, TurnOptions } from '../providers/types.js';
import { migrate, type Db } from '../store/database.js';
import type { ReapListener } from '../supervisor/supervisor.js';

/** `symphony`: a ticket's conversation in its worktree; `comment`: a PR review comment's;
 *  `review`, `review_argue`, `review_finding`: a review's chat, a debate about a finding, a chat about a finding;
 *  `web`: the web app's chat panel (POST /chat), scoped by its chatKey. */
export type ChatKind = 'terminal' | 'ticket' | 'run_viewer' | 'symphony' | 'comment' | 'review' | 'review_argue' | 'review_finding' | 'web';
/** `interrupted`: the gateway died during a turn; `killed`: a turn was stopped. */
export type ChatState = 'idle' | 'running' | 'killed' | 'interrupted' | 'failed';
export type MessageStatus = 'complete' | 'running' | 'killed' | 'interrupted' | 'failed';

export interface ChatMessage {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  status: MessageStatus;
  createdAt: string;
  /** The id a client gave a message it stored itself (chat-history POST). */
  clientId?: string;
  sender?: string;
  /** Comment chats: the user has answered on the PR with this reply. */
  responded?: boolean;
  /** An assistant turn's text and tool calls in order (content joins the text parts). */
  parts?: MessagePart[];
}

/** One piece of an assistant turn, as the history keeps it. */
export type MessagePart =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; toolUseId: string; content: string; isError: boolean };

/** A tool's output kept in the history is capped: the agent's own log has the rest. */
const TOOL_RESULT_KEPT = 4000;
/** How often a running turn's partial reply is written down (a crash keeps what came so far). */
const PARTIAL_SAVE_MS = 500;

/** A message a client stores as is (no turn behind it). */
export interface StoredMessage {
  role: 'user' | 'assistant';
  content: string;
  clientId?: string;
  sender?: string;
  createdAt?: number;
}

/** Which conversation: whose, a kind, what it is about, and the agent. */
export interface ChatKey {
  kind: ChatKind;
  scope: string;
  provider: ProviderId;
  /** Whose conversation (auth/caller.ts callerKey); every route passes its caller's ('' is no caller's: code and tests). */
  caller?: string;
}

export interface ChatSession {
  id: string;
  kind: ChatKind;
  /** What the chat is about: '' (terminal), the ticket id, or the run directory. */
  scope: string;
  provider: ProviderId;
  cwd: string;
  cliSessionId: string | null;
  state: ChatState;
  /** What the kind keeps beside the messages (e.g. a comment chat's comment). */
  details: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

export interface ChatTurnRequest {
  kind: ChatKind;
  scope: string;
  provider: ProviderId;
  /** Whose conversation (see ChatKey). */
  caller?: string;
  /** The working directory of a new session; an existing one keeps its own (resume is cwd-bound). */
  cwd: string;
  message: string;
  model?: string;
  /** Sent ahead of the message when the CLI has no session yet (e.g. the ticket's context). */
  context?: string;
  /** Stored with the session (replacing what it had), e.g. the comment a comment chat is about. */
  details?: Record<string, unknown>;
  confinement: AgentConfinement;
  /** Said in the stream before the turn's events (e.g. that the agent runs read-only for this caller). */
  notice?: string | null;
  /** The client's connection: aborting stops the turn. */
  signal: AbortSignal;
  onApproval?: TurnOptions['onApproval'];
}

interface ActiveTurn {
  stop: AbortController;
  turn?: Turn;
}

interface SessionRow {
  id: string;
  caller: string;
  kind: ChatKind;
  scope: string;
  provider: ProviderId;
  cwd: string;
  cli_session_id: string | null;
  context: string | null;
  usage_totals: string | null;
  details: string | null;
  read_at: number | null;
  turns: number;
  state: ChatState;
  created_at: number;
  updated_at: number;
}

interface MessageRow {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  status: MessageStatus;
  created_at: number;
  client_id: string | null;
  sender: string | null;
  responded: number;
  parts: string | null;
}

const OWNER_PREFIX = 'chat:';

export class ChatService {
  private readonly active = new Map<string, ActiveTurn>();
  /** Compiled once: preparing a statement costs more than running it. */
  private readonly statements = new Map<string, Statement>();

  constructor(
    private readonly deps: {
      db: Db;
      providers: ProviderRegistry;
      log: Logger;
      supervisor?: { onReaped(listener: ReapListener): void };
    },
  ) {
    migrate(deps.db, 'chats', [
      `CREATE TABLE chat_sessions (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('terminal', 'ticket', 'run_viewer')),
        scope TEXT NOT NULL,
        provider TEXT NOT NULL,
        cwd TEXT NOT NULL,
        cli_session_id TEXT,
        context TEXT,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (kind, scope, provider)
      );
      CREATE TABLE chat_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX chat_messages_by_session ON chat_messages(session_id, id);`,
      // Running token totals of the CLI session, for CLIs that report totals instead of per-turn usage.
      `ALTER TABLE chat_sessions ADD COLUMN usage_totals TEXT`,
      // Kinds are checked in code, not by a CHECK (adding one meant rebuilding the table), and the
      // session key is an index so it can change without a rebuild. Rebuilt child-first, so the
      // cascade from chat_messages never fires with foreign keys on.
      `ALTER TABLE chat_messages RENAME TO chat_messages_old;
      CREATE TABLE chat_sessions_new (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        scope TEXT NOT NULL,
        provider TEXT NOT NULL,
        cwd TEXT NOT NULL,
        cli_session_id TEXT,
        context TEXT,
        usage_totals TEXT,
        details TEXT,
        read_at INTEGER,
        state TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      INSERT INTO chat_sessions_new (id, kind, scope, provider, cwd, cli_session_id, context, usage_totals, state, created_at, updated_at)
        SELECT id, kind, scope, provider, cwd, cli_session_id, context, usage_totals, state, created_at, updated_at FROM chat_sessions;
      CREATE TABLE chat_messages_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES chat_sessions_new(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        client_id TEXT,
        sender TEXT,
        responded INTEGER NOT NULL DEFAULT 0
      );
      INSERT INTO chat_messages_new (id, session_id, role, content, status, created_at)
        SELECT id, session_id, role, content, status, created_at FROM chat_messages_old;
      DROP TABLE chat_messages_old;
      DROP TABLE chat_sessions;
      ALTER TABLE chat_sessions_new RENAME TO chat_sessions;
      ALTER TABLE chat_messages_new RENAME TO chat_messages;
      CREATE UNIQUE INDEX chat_sessions_key ON chat_sessions(kind, scope, provider);
      CREATE INDEX chat_messages_by_session ON chat_messages(session_id, id);`,
      // Conversations belong to their caller (auth/caller.ts callerKey); older ones to '' (the local user).
      `ALTER TABLE chat_sessions ADD COLUMN caller TEXT NOT NULL DEFAULT '';
      DROP INDEX chat_sessions_key;
      CREATE UNIQUE INDEX chat_sessions_key ON chat_sessions(caller, kind, scope, provider);`,
      // Terminal, ticket and run-viewer chats are keyed by caller too: their older conversations were
      // the desktop's own. `turns` counts turns that ran (a first turn asks a paired origin), `parts`
      // keeps an assistant turn's tool calls beside its text.
      `ALTER TABLE chat_sessions ADD COLUMN turns INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE chat_messages ADD COLUMN parts TEXT;
      UPDATE chat_sessions SET turns = 1 WHERE EXISTS
        (SELECT 1 FROM chat_messages m WHERE m.session_id = chat_sessions.id AND m.role = 'assistant' AND m.client_id IS NULL);
      UPDATE chat_sessions SET caller = 'renderer' WHERE caller = '' AND kind IN ('terminal', 'ticket', 'run_viewer');`,
      // The review chats (review, argue, finding chats) are keyed by caller too; their older
      // conversations become the desktop's own, as the other kinds' did.
      `UPDATE chat_sessions SET caller = 'renderer' WHERE caller = '' AND kind IN ('review', 'review_argue', 'review_finding');`,
    ]);
    // This process has no turn yet, so any turn the database calls running died with
    // an earlier gateway; the supervisor reaps its process, we close its books.
    this.markInterrupted();
    deps.supervisor?.onReaped((reaped) => {
      for (const { record } of reaped) {
        if (record.owner?.startsWith(OWNER_PREFIX)) this.markInterrupted(record.owner.slice(OWNER_PREFIX.length));
      }
    });
  }

  /** One caller's sessions of one kind (optionally one scope) with their history, oldest message first. */
  list(kind: ChatKind, scope?: string, caller = ''): Array<ChatSession & { messages: ChatMessage[] }> {
    const rows = (
      scope === undefined
        ? this.sql('SELECT * FROM chat_sessions WHERE caller = ? AND kind = ? ORDER BY updated_at DESC').all(caller, kind)
        : this.sql('SELECT * FROM chat_sessions WHERE caller = ? AND kind = ? AND scope = ? ORDER BY updated_at DESC').all(caller, kind, scope)
    ) as SessionRow[];
    return rows.map((row) => ({ ...toSession(row), messages: this.messages(row.id) }));
  }

  /** One conversation with its history, or null when it was never started. */
  get(key: ChatKey): (ChatSession & { messages: ChatMessage[] }) | null {
    const row = this.row(key);
    return row ? { ...toSession(row), messages: this.messages(row.id) } : null;
  }

  /** Whether a turn ran in this conversation already (a paired origin was asked on its first). */
  started(key: ChatKey): boolean {
    return (this.row(key)?.turns ?? 0) > 0;
  }

  /** Stores a message a client kept itself (no turn runs); starts the conversation if needed. */
  append(key: ChatKey, cwd: string, message: StoredMessage): ChatMessage {
    const session = this.findOrCreate({ ...key, cwd });
    const id = this.deps.db.transaction(() => {
      const now = Date.now();
      const inserted = this
        .sql('INSERT INTO chat_messages (session_id, role, content, status, created_at, client_id, sender) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(session.id, message.role, message.content, 'complete', message.createdAt ?? now, message.clientId ?? null, message.sender ?? null);
      this.sql('UPDATE chat_sessions SET updated_at = ? WHERE id = ?').run(now, session.id);
      return Number(inserted.lastInsertRowid);
    }).immediate();
    return this.messages(session.id).find((m) => m.id === id)!;
  }

  /**
   * Links the conversation to a CLI session the client knows of (it resumes from there). A CLI
   * session of another caller's conversation is 404 to everyone; `ownOnly` (a paired origin, the
   * relay) may link only one of its own conversations' sessions, never one the gateway did not
   * start for it (the local user's own terminal sessions among them).
   */
  linkCliSession(key: ChatKey, cwd: string, cliSessionId: string, options: { ownOnly?: boolean } = {}): void {
    const owners = (this.sql('SELECT DISTINCT caller FROM chat_sessions WHERE cli_session_id = ?').all(cliSessionId) as Array<{ caller: string }>)
      .map((row) => row.caller);
    const caller = key.caller ?? '';
    if (owners.some((owner) => owner !== caller) || (options.ownOnly && !owners.includes(caller))) {
      throw new NotFound('No conversation of yours has that CLI session.', 'cli_session_not_found');
    }
    const session = this.findOrCreate({ ...key, cwd });
    this.setCliSession(session.id, cliSessionId);
  }

  /** Removes the message at `index` (0 = oldest); 404 when there is none. Never during a turn. */
  removeMessage(key: ChatKey, index: number): void {
    const session = this.row(key);
    const message = session ? this.messages(session.id)[index] : undefined;
    if (!session || !message) throw new NotFound(`This conversation has no message at index ${index}.`, 'message_not_found');
    this.requireIdle(session.id);
    this.sql('DELETE FROM chat_messages WHERE id = ?').run(message.id);
  }

  /**
   * Marks a message as answered (or not): the one whose id or client id is `messageId`,
   * else the newest assistant message. 404 when there is no such message.
   */
  markResponded(key: ChatKey, messageId: string | undefined, responded: boolean): void {
    const session = this.row(key);
    const messages = session ? this.messages(session.id) : [];
    const target = messageId === undefined
      ? messages.filter((m) => m.role === 'assistant').at(-1)
      : messages.find((m) => String(m.id) === messageId || m.clientId === messageId);
    if (!target) throw new NotFound(messageId === undefined ? 'This conversation has no assistant message yet.' : `No message ${messageId} in this conversation.`, 'message_not_found');
    this.sql('UPDATE chat_messages SET responded = ? WHERE id = ?').run(responded ? 1 : 0, target.id);
  }

  /** Remembers that the conversation's caller has seen everything in it so far. */
  markRead(sessionId: string): void {
    this.sql('UPDATE chat_sessions SET read_at = ? WHERE id = ?').run(Date.now(), sessionId);
  }

  /** Conversations of a kind whose last message is a finished assistant reply newer than their last read. */
  unreadCount(kind: ChatKind, caller = ''): number {
    const row = this.sql(
      `SELECT COUNT(*) AS count FROM chat_sessions s
       JOIN chat_messages m ON m.id = (SELECT MAX(id) FROM chat_messages WHERE session_id = s.id)
       WHERE s.caller = ? AND s.kind = ? AND m.role = 'assistant' AND m.status <> 'running' AND m.content <> ''
         AND (s.read_at IS NULL OR s.updated_at > s.read_at)`,
    ).get(caller, kind) as { count: number };
    return row.count;
  }

  /**
   * Starts a turn and returns its events. Throws 409 `turn_in_progress` while the session
   * has one running, and the provider's error (e.g. 429 at the agent cap, 424 binary missing)
   * before any event: such a turn never started, so the history keeps nothing of it.
   */
  async send(request: ChatTurnRequest): Promise<AsyncIterable<NormalizedEvent>> {
    const before = this.row(request);
    if (before) this.requireIdle(before.id);
    // A copy: the turn changes its session (a move), `before` is what a turn that never starts puts back.
    const session = this.findOrCreate(request, before && { ...before });
    const entry: ActiveTurn = { stop: new AbortController() };
    this.active.set(session.id, entry);
    let begun: { userId: number; assistantId: number } | null = null;
    try {
      const movedFrom = this.moveIfNeeded(session, request.cwd);
      const transcript = this.transcript(session);
      begun = this.beginTurn(session.id, request.message);
      const { assistantId } = begun;
      const isNew = !session.cli_session_id;
      // A moved conversation starts a new CLI session in its new folder (resume is folder-bound), told what was said.
      const prompt = movedFrom !== null ? seededPrompt(transcript, request.message)
        : isNew && session.context ? `${session.context}\n\n${request.message}` : request.message;
      const signal = AbortSignal.any([request.signal, entry.stop.signal]);
      const queue = new QueuePlaces();
      const starting = this.deps.providers.get(session.provider).startTurn({
        prompt,
        cwd: session.cwd,
        model: request.model,
        resumeSessionId: session.cli_session_id ?? undefined,
        // Whose start it is: a remote caller's agents are capped, and a start past the cap waits in its queue.
        confinement: { ...request.confinement, caller: { key: request.caller ?? '', signal, onQueued: (position) => queue.push(position) } },
        transcript,
        priorUsageTotals: session.usage_totals ? (JSON.parse(session.usage_totals) as UsageTotals) : undefined,
        signal,
        onApproval: request.onApproval,
        owner: OWNER_PREFIX + session.id,
      });
      const mode = request.confinement.level;
      const notices = (turn: Turn): NormalizedEvent[] => [
        ...(request.notice ? [{ type: 'status' as const, status: 'notice', pid: turn.pid, mode, message: request.notice }] : []),
        ...(movedFrom === null ? [] : [{
          type: 'status' as const, status: 'moved', pid: turn.pid, mode,
          message: `This conversation moved from ${movedFrom} to ${session.cwd}; a new agent session started there with the stored history.`,
        }]),
      ];
      // Read below (or in afterQueue): a start that fails after it queued is reported in its stream.
      void starting.catch(() => {});
      // A start refused at once (429 queue full, 424 no binary) is the request's error; one that waits streams its place.
      const first = await Promise.race([starting, queue.first]);
      if (first === 'queued') return this.tiedToClient(this.afterQueue(session.id, assistantId, entry, starting, queue, mode, notices), request.signal);
      entry.turn = first;
      return this.tiedToClient(this.follow(session.id, assistantId, first, notices(first)), request.signal);
    } catch (error) {
      this.unsend(session.id, before, begun);
      throw error;
    }
  }

  /**
   * Takes back a turn that never started (its request fails as a whole): its two messages go,
   * and the conversation is as it was before the request (one the request created goes too).
   */
  private unsend(sessionId: string, before: SessionRow | undefined, begun: { userId: number; assistantId: number } | null): void {
    try {
      this.deps.db.transaction(() => {
        if (begun) this.sql('DELETE FROM chat_messages WHERE id IN (?, ?)').run(begun.userId, begun.assistantId);
        if (!before) {
          this.sql('DELETE FROM chat_sessions WHERE id = ?').run(sessionId);
          return;
        }
        this.sql(
          `UPDATE chat_sessions SET cwd = @cwd, cli_session_id = @cli_session_id, usage_totals = @usage_totals, details = @details,
             state = @state, turns = @turns, updated_at = @updated_at WHERE id = @id`,
        ).run(before);
      }).immediate();
    } catch (error) {
      this.deps.log.warn({ err: (error as Error).message, sessionId }, 'could not take back a chat turn that never started');
    } finally {
      this.active.delete(sessionId);
    }
  }

  /**
   * The folder comes with each request (checked by the caller against today's workspace): when
   * it differs from the conversation's, the conversation moves and its CLI session (bound to the
   * old folder) is dropped. Returns the old folder, or null.
   */
  private moveIfNeeded(session: SessionRow, cwd: string): string | null {
    if (session.cwd === cwd) return null;
    const from = session.cwd;
    this.sql('UPDATE chat_sessions SET cwd = ?, cli_session_id = NULL, usage_totals = NULL WHERE id = ?').run(cwd, session.id);
    Object.assign(session, { cwd, cli_session_id: null, usage_totals: null });
    this.deps.log.info({ sessionId: session.id, from, to: cwd }, 'chat conversation moved to another folder');
    return from;
  }

  /**
   * A reply nobody starts reading (the client left before the first byte) still ends its turn:
   * when the client goes, an unread stream is drained here, so the turn's child is killed and
   * the turn recorded as killed instead of running until the idle kill.
   */
  private tiedToClient(events: EventReader, signal: AbortSignal): EventReader {
    let claimed = false;
    let read = false;
    const drainUnread = () => {
      if (claimed) return;
      claimed = true;
      void (async () => {
        for await (const event of events) void event;
      })().catch((error: unknown) => this.deps.log.warn({ err: (error as Error).message }, 'draining an unread chat turn failed'));
    };
    if (signal.aborted) drainUnread();
    else signal.addEventListener('abort', drainUnread, { once: true });
    // The reader's calls go straight to the turn's events (no generator in between: one
    // layer less of promises per event); the first next() claims them from the drain.
    const done = (value?: unknown) => Promise.resolve({ done: true as const, value: value as undefined });
    const reader: EventReader = {
      next: () => {
        if (!claimed) {
          claimed = read = true;
          signal.removeEventListener('abort', drainUnread);
        }
        return read ? events.next() : done();
      },
      return: (value?: unknown) => (read ? events.return(value) : done(value)),
      throw: (error?: unknown) => (read ? events.throw(error) : Promise.reject(error)),
      [Symbol.asyncIterator]: () => reader,
    };
    return reader;
  }

  /** Ends the matching sessions (all providers unless one is named): stops their turns, forgets them. */
  async end(kind: ChatKind, scope: string, provider?: ProviderId, caller = ''): Promise<{ ended: number }> {
    const rows = this
      .sql('SELECT id FROM chat_sessions WHERE caller = ? AND kind = ? AND scope = ? AND (? IS NULL OR provider = ?)')
      .all(caller, kind, scope, provider ?? null, provider ?? null) as Array<{ id: string }>;
    await Promise.all(rows.map(({ id }) => this.stop(id)));
    const removed = this.deps.db.transaction(() =>
      rows.reduce((count, { id }) => count + this.sql('DELETE FROM chat_sessions WHERE id = ?').run(id).changes, 0),
    ).immediate();
    return { ended: removed };
  }

  /**
   * Stops every running turn (gateway shutdown) and waits, up to `drainMs`, until each
   * one's stream has sent its closing events (status killed, result, done) and recorded its end.
   */
  async close(drainMs = 5_000): Promise<void> {
    await Promise.all([...this.active.keys()].map((id) => this.stop(id)));
    const deadline = Date.now() + drainMs;
    while (this.active.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  private async stop(sessionId: string): Promise<void> {
    const entry = this.active.get(sessionId);
    if (!entry) return;
    entry.stop.abort();
    await entry.turn?.kill();
  }

  /**
   * The turn's events as the reader pulls them, each recorded on the way (the CLI session,
   * usage, the partial reply now and then), and the turn's end recorded once however it
   * ends: its last event, an error, or the reader leaving (`return`, which also ends the
   * turn's own events, killing the child). An iterator, not a generator: each event costs
   * one promise here rather than a generator's three.
   */
  private follow(sessionId: string, assistantId: number, turn: Turn, notices: NormalizedEvent[]): EventReader {
    const reply = new ReplyRecorder();
    let savedAt = Date.now();
    let outcome: Exclude<MessageStatus, 'running'> | null = null;
    let events: AsyncIterator<NormalizedEvent> | null = null;
    let ended = false;
    const pending = [...notices];
    const end = () => {
      if (ended) return;
      ended = true;
      // No result means the reader left mid-turn (the turn's own cleanup killed the child).
      this.endTurn(sessionId, assistantId, reply.snapshot(), outcome ?? 'killed');
    };
    const leave = async () => {
      try {
        if (!ended) await events?.return?.();
      } finally {
        end();
      }
    };
    const record = (event: NormalizedEvent) => {
      reply.add(event);
      if (event.type === 'sessionId') this.setCliSession(sessionId, event.sessionId);
      else if (event.type === 'usage' && event.totals) this.sql('UPDATE chat_sessions SET usage_totals = ? WHERE id = ?').run(JSON.stringify(event.totals), sessionId);
      else if (event.type === 'result') outcome = event.success ? 'complete' : event.reason === 'killed' ? 'killed' : 'failed';
      // What came so far is written down now and then, so a crash keeps the partial reply.
      if (event.type === 'tool_use' || event.type === 'tool_result' || (event.type === 'text' && Date.now() - savedAt > PARTIAL_SAVE_MS)) {
        savedAt = Date.now();
        this.savePartial(assistantId, reply.snapshot());
      }
    };
    const reader: EventReader = {
      next: () => {
        if (ended) return Promise.resolve({ done: true, value: undefined });
        const notice = pending.shift();
        if (notice) return Promise.resolve({ done: false, value: notice });
        events ??= turn.events[Symbol.asyncIterator]();
        return events.next().then(
          (result): IteratorResult<NormalizedEvent> | Promise<never> => {
            if (result.done) {
              end();
              return result;
            }
            try {
              record(result.value);
            } catch (error) {
              return leave().then(() => Promise.reject(error));
            }
            return result;
          },
          (error: unknown) => {
            end();
            throw error;
          },
        );
      },
      return: async (value?: unknown) => {
        await leave();
        return { done: true, value: value as undefined };
      },
      throw: async (error?: unknown) => {
        await leave();
        throw error;
      },
      [Symbol.asyncIterator]: () => reader,
    };
    return reader;
  }

  /** A turn waiting for an agent slot: `status queued {position}` as its place changes, then the turn, or why it never started. */
  private async *afterQueue(
    sessionId: string,
    assistantId: number,
    entry: ActiveTurn,
    starting: Promise<Turn>,
    queue: QueuePlaces,
    mode: string,
    notices: (turn: Turn) => NormalizedEvent[],
  ): AsyncGenerator<NormalizedEvent> {
    yield* queue.statusUntil(starting, mode);
    let turn: Turn;
    try {
      turn = await starting;
    } catch (error) {
      const left = entry.stop.signal.aborted || (error as { code?: string }).code === 'client_closed';
      this.endTurn(sessionId, assistantId, { text: '', parts: [] }, left ? 'killed' : 'failed');
      yield { type: 'error', message: error instanceof Error ? error.message : String(error) };
      yield { type: 'result', success: false, reason: left ? 'killed' : 'failed' };
      yield { type: 'done' };
      return;
    }
    entry.turn = turn;
    yield* this.follow(sessionId, assistantId, turn, notices(turn));
  }

  private savePartial(assistantId: number, reply: { text: string; parts: MessagePart[] }): void {
    this.sql('UPDATE chat_messages SET content = ?, parts = ? WHERE id = ?').run(reply.text, partsJson(reply.parts), assistantId);
  }

  private row(key: ChatKey): SessionRow | undefined {
    return this
      .sql('SELECT * FROM chat_sessions WHERE caller = ? AND kind = ? AND scope = ? AND provider = ?')
      .get(key.caller ?? '', key.kind, key.scope, key.provider) as SessionRow | undefined;
  }

  private requireIdle(sessionId: string): void {
    if (this.active.has(sessionId)) {
      throw new Conflict('A turn is already running in this chat; wait for it or stop it first.', 'turn_in_progress');
    }
  }

  private findOrCreate(request: ChatKey & { cwd: string; context?: string; details?: Record<string, unknown> }, existing = this.row(request)): SessionRow {
    const details = request.details === undefined ? undefined : JSON.stringify(request.details);
    if (existing) {
      if (details !== undefined && details !== existing.details) {
        this.sql('UPDATE chat_sessions SET details = ? WHERE id = ?').run(details, existing.id);
        return { ...existing, details };
      }
      return existing;
    }
    const now = Date.now();
    const row: SessionRow = {
      id: randomUUID(), caller: request.caller ?? '', kind: request.kind, scope: request.scope, provider: request.provider, cwd: request.cwd,
      cli_session_id: null, context: request.context ?? null, usage_totals: null, details: details ?? null, read_at: null, turns: 0,
      state: 'idle', created_at: now, updated_at: now,
    };
    this.sql(
      `INSERT INTO chat_sessions (id, caller, kind, scope, provider, cwd, cli_session_id, context, details, state, created_at, updated_at)
       VALUES (@id, @caller, @kind, @scope, @provider, @cwd, @cli_session_id, @context, @details, @state, @created_at, @updated_at)`,
    ).run(row);
    return row;
  }

  /** Records the user's message and an assistant message that fills in when the turn ends. */
  private beginTurn(sessionId: string, message: string): { userId: number; assistantId: number } {
    const db = this.deps.db;
    return db.transaction(() => {
      const now = Date.now();
      const insert = this.sql('INSERT INTO chat_messages (session_id, role, content, status, created_at) VALUES (?, ?, ?, ?, ?)');
      const user = insert.run(sessionId, 'user', message, 'complete', now);
      const assistant = insert.run(sessionId, 'assistant', '', 'running', now);
      this.sql("UPDATE chat_sessions SET state = 'running', turns = turns + 1, updated_at = ? WHERE id = ?").run(now, sessionId);
      return { userId: Number(user.lastInsertRowid), assistantId: Number(assistant.lastInsertRowid) };
    }).immediate();
  }

  private endTurn(sessionId: string, assistantId: number | null, reply: { text: string; parts: MessagePart[] }, outcome: Exclude<MessageStatus, 'running'>): void {
    const state: ChatState = outcome === 'complete' ? 'idle' : outcome;
    const db = this.deps.db;
    try {
      db.transaction(() => {
        if (assistantId !== null) {
          this.sql('UPDATE chat_messages SET content = ?, parts = ?, status = ? WHERE id = ?').run(reply.text, partsJson(reply.parts), outcome, assistantId);
        }
        this.sql('UPDATE chat_sessions SET state = ?, updated_at = ? WHERE id = ?').run(state, Date.now(), sessionId);
      }).immediate();
    } catch (error) {
      // The database may already be closed at shutdown; the next start marks the turn interrupted.
      this.deps.log.warn({ err: (error as Error).message, sessionId }, 'could not record the end of a chat turn');
    } finally {
      this.active.delete(sessionId);
    }
  }

  private setCliSession(sessionId: string, cliSessionId: string): void {
    // Another CLI session (a resume fell back to a new one) starts its own totals.
    this.sql(
      'UPDATE chat_sessions SET usage_totals = CASE WHEN cli_session_id IS ? THEN usage_totals END, cli_session_id = ? WHERE id = ?',
    ).run(cliSessionId, cliSessionId, sessionId);
  }

  /** Turns recorded as running that no live turn of ours is behind (all, or one session's). */
  private markInterrupted(sessionId?: string): void {
    const db = this.deps.db;
    const ids = (
      sessionId === undefined
        ? this.sql("SELECT id FROM chat_sessions WHERE state = 'running'").all()
        : this.sql("SELECT id FROM chat_sessions WHERE state = 'running' AND id = ?").all(sessionId)
    ) as Array<{ id: string }>;
    const stale = ids.filter(({ id }) => !this.active.has(id));
    db.transaction(() => {
      for (const { id } of stale) {
        this.sql("UPDATE chat_sessions SET state = 'interrupted', updated_at = ? WHERE id = ?").run(Date.now(), id);
        this.sql("UPDATE chat_messages SET status = 'interrupted' WHERE session_id = ? AND status = 'running'").run(id);
      }
    }).immediate();
    if (stale.length) this.deps.log.warn({ sessions: stale.map(({ id }) => id) }, 'chat turns interrupted by a gateway restart');
  }

  private sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.deps.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private messages(sessionId: string): ChatMessage[] {
    const rows = this
      .sql('SELECT id, role, content, status, created_at, client_id, sender, responded, parts FROM chat_messages WHERE session_id = ? ORDER BY id')
      .all(sessionId) as MessageRow[];
    return rows.map((row) => ({
      id: row.id, role: row.role, content: row.content, status: row.status, createdAt: new Date(row.created_at).toISOString(),
      ...(row.client_id === null ? {} : { clientId: row.client_id }),
      ...(row.sender === null ? {} : { sender: row.sender }),
      ...(row.responded ? { responded: true } : {}),
      ...(row.parts === null ? {} : { parts: JSON.parse(row.parts) as MessagePart[] }),
    }));
  }

  /** What a new CLI session needs to carry on: the context, then every finished exchange. */
  private transcript(session: SessionRow): TranscriptEntry[] {
    const entries: TranscriptEntry[] = session.context ? [{ role: 'user', content: session.context }] : [];
    for (const message of this.messages(session.id)) {
      if (message.content) entries.push({ role: message.role, content: message.content });
    }
    return entries;
  }
}

/** What reads a chat turn: its events, and `return`/`throw` to leave before the end. */
type EventReader = AsyncIterableIterator<NormalizedEvent> & Required<Pick<AsyncIterator<NormalizedEvent>, 'return' | 'throw'>>;

/** Builds an assistant turn's history entry from its events: text split around tool calls. */
class ReplyRecorder {
  private readonly parts: MessagePart[] = [];

  add(event: NormalizedEvent): void {
    if (event.type === 'text') {
      const last = this.parts.at(-1);
      if (last?.type === 'text') last.text += event.content;
      else this.parts.push({ type: 'text', text: event.content });
    } else if (event.type === 'tool_use') {
      this.parts.push({ type: 'tool_use', id: event.id, name: event.name, input: event.input });
    } else if (event.type === 'tool_result') {
      const content = event.content.length > TOOL_RESULT_KEPT ? `${event.content.slice(0, TOOL_RESULT_KEPT)}… (cut)` : event.content;
      this.parts.push({ type: 'tool_result', toolUseId: event.toolUseId, content, isError: event.isError });
    }
  }

  /** `text`: the text parts, separated where tool calls came between them. */
  snapshot(): { text: string; parts: MessagePart[] } {
    const texts = this.parts.flatMap((part) => (part.type === 'text' && part.text.trim() ? [part.text.trim()] : []));
    const plain = this.parts.every((part) => part.type === 'text');
    return { text: plain ? this.parts.map((part) => (part as { text: string }).text).join('') : texts.join('\n\n'), parts: [...this.parts] };
  }
}

/** Only a turn that used tools keeps parts: a plain reply is its content. */
function partsJson(parts: MessagePart[]): string | null {
  return parts.some((part) => part.type !== 'text') ? JSON.stringify(parts) : null;
}

function toSession(row: SessionRow): ChatSession {
  return {
    id: row.id, kind: row.kind, scope: row.scope, provider: row.provider, cwd: row.cwd, cliSessionId: row.cli_session_id,
    state: row.state, details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : null, createdAt: new Date(row.created_at).toISOString(), updatedAt: new Date(row.updated_at).toISOString(),
  };
}
