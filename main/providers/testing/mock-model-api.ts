// A scripted model API on loopback so the real `claude` and `codex` CLIs run offline
// in tests. It speaks Anthropic Messages (claude) and OpenAI Responses (codex) as SSE,
// answers each model call with the next scripted turn, and records every request so a
// test can check what the CLI sent back (e.g. a tool's result).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type MockTurn =
  /** A text reply, streamed in `chunks` deltas, `delayMs` apart, optionally after some reasoning. */
  | { kind: 'text'; text: string; chunks?: number; delayMs?: number; thinking?: string }
  /** A tool call (Anthropic tool_use / Responses function_call), optionally after some text. */
  | { kind: 'tool'; name: string; input: Record<string, unknown>; text?: string; id?: string }
  /** Responses only: an apply_patch call (a custom tool), as codex edits files. */
  | { kind: 'patch'; patch: string; id?: string }
  /** An HTTP error status with the API's error body; `times` answers that many calls with it (a CLI's retries). */
  | { kind: 'error'; status: number; message?: string; times?: number }
  /** Starts streaming `text`, then cuts the connection before the message ends. */
  | { kind: 'cut'; text: string }
  /** Accepts the request and never answers (for kill mid-turn). */
  | { kind: 'hang' }
  /** Starts streaming `text` (its first delta), then goes silent with the connection open (a stalled stream). */
  | { kind: 'stall'; text?: string }
  /** A code review's final answer: codex's review output schema on the Responses wire, the
   *  JSON array the claude review prompt asks for (in a ```json block) on the Anthropic wire. */
  | { kind: 'review'; findings: MockReviewFinding[]; correct?: boolean; explanation?: string; confidence?: number };

export interface MockReviewFinding {
  title: string;
  body: string;
  /** Absolute for codex (as its schema asks); sent as given to claude. */
  file: string;
  line: number;
  endLine?: number;
  /** 0 (P0) to 3 (P3). */
  priority: 0 | 1 | 2 | 3;
  confidence?: number;
}

const SEVERITY_OF_PRIORITY = ['critical', 'high', 'medium', 'low'] as const;

/** The review as the model's text: what codex's review mode and our claude prompt each ask for. */
function reviewText(wire: Wire, turn: Extract<MockTurn, { kind: 'review' }>): string {
  if (wire === 'responses') {
    return JSON.stringify({
      findings: turn.findings.map((finding) => ({
        title: `[P${finding.priority}] ${finding.title}`, body: finding.body, confidence_score: finding.confidence ?? 0.8,
        priority: finding.priority, code_location: { absolute_file_path: finding.file, line_range: { start: finding.line, end: finding.endLine ?? finding.line } },
      })),
      overall_correctness: turn.correct === false ? 'patch is incorrect' : 'patch is correct',
      overall_explanation: turn.explanation ?? '',
      overall_confidence_score: turn.confidence ?? 0.8,
    });
  }
  const items = turn.findings.map((finding) => ({
    severity: SEVERITY_OF_PRIORITY[finding.priority], file: finding.file, line: finding.line, title: finding.title,
    description: finding.body, suggestion: null, confidence: finding.confidence ?? 0.8,
  }));
  return `${turn.explanation ?? 'Review done.'}\n\n\`\`\`json\n${JSON.stringify(items, null, 2)}\n\`\`\`\n`;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

type Wire = 'anthropic' | 'responses';

export class MockModelApi {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: MockTurn[] = [];
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];
  private readonly hanging = new Set<ServerResponse>();
  private counter = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<MockModelApi> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const api = new MockModelApi(server, (server.address() as AddressInfo).port);
    server.on('request', (req, res) => void api.handle(req, res));
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Queues the answers to the next model calls, in order. */
  script(...turns: MockTurn[]): void {
    this.queue.push(...turns);
  }

  /** Requests that were model calls (not probes). */
  modelRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST');
  }

  /** Resolves once `count` model calls have arrived; rejects after `timeoutMs` (a test must not hang). */
  waitForModelRequests(count: number, timeoutMs = 60_000): Promise<void> {
    if (this.modelRequests().length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`mock model api: ${this.modelRequests().length} of ${count} model calls after ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = req.url ?? '/';
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // Not JSON (e.g. a compressed body): recorded raw.
    }
    this.requests.push({ method: req.method ?? '', path, headers: req.headers, body });
    if (req.method !== 'POST') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    this.notifyWaiters();
    const wire: Wire | undefined = path.startsWith('/v1/messages')
      ? 'anthropic'
      : path.startsWith('/v1/responses')
        ? 'responses'
        : undefined;
    if (!wire) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const head = this.queue[0];
    // An error for several calls stays at the front until the CLI has retried it that often.
    const next =
      head?.kind === 'error' && (head.times ?? 1) > 1
        ? { ...head, times: (head.times = (head.times ?? 1) - 1) }
        : (this.queue.shift() ?? { kind: 'error', status: 500, message: 'mock model api: no scripted turn left' });
    const turn: Exclude<MockTurn, { kind: 'review' }> = next.kind === 'review' ? { kind: 'text', text: reviewText(wire, next) } : next;
    await this.answer(wire, turn, body as { stream?: boolean; model?: string } | undefined, res);
  }

  private notifyWaiters(): void {
    const count = this.modelRequests().length;
    for (const waiter of [...this.waiters]) {
      if (count >= waiter.count) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  private async answer(wire: Wire, turn: Exclude<MockTurn, { kind: 'review' }>, body: { stream?: boolean; model?: string } | undefined, res: ServerResponse) {
    if (turn.kind === 'hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if (turn.kind === 'stall') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      const start = { kind: 'cut' as const, text: turn.text ?? 'Working on it, one moment' };
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const events = wire === 'anthropic' ? anthropicEvents(++this.counter, body?.model ?? 'mock-model', start) : responsesEvents(++this.counter, body?.model ?? 'mock-model', start);
      for (const event of events) {
        if (event === CUT) return;
        res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      }
      return;
    }
    if (turn.kind === 'error') {
      const message = turn.message ?? `mock error ${turn.status}`;
      const errorBody =
        wire === 'anthropic'
          ? { type: 'error', error: { type: turn.status === 401 ? 'authentication_error' : 'api_error', message } }
          : { error: { message, type: 'server_error', code: null } };
      res.writeHead(turn.status, { 'content-type': 'application/json' }).end(JSON.stringify(errorBody));
      return;
    }
    const id = ++this.counter;
    const model = body?.model ?? 'mock-model';
    if (wire === 'anthropic' && body?.stream === false) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(anthropicMessage(id, model, turn)));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const events = wire === 'anthropic' ? anthropicEvents(id, model, turn) : responsesEvents(id, model, turn);
    const delayMs = turn.kind === 'text' ? (turn.delayMs ?? 0) : 0;
    for (const event of events) {
      if (res.destroyed) return;
      if (event === CUT) {
        res.destroy();
        return;
      }
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    res.end();
  }
}

const CUT = Symbol('cut');
type SseEvent = { type: string; [key: string]: unknown };

function splitText(text: string, chunks = 2): string[] {
  const size = Math.max(1, Math.ceil(text.length / chunks));
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts.length ? parts : [''];
}

const anthropicUsage = { input_tokens: 12, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

function anthropicEvents(id: number, model: string, turn: Exclude<MockTurn, { kind: 'error' | 'hang' | 'review' }>): Array<SseEvent | typeof CUT> {
  const events: Array<SseEvent | typeof CUT> = [
    {
      type: 'message_start',
      message: {
        id: `msg_mock_${id}`, type: 'message', role: 'assistant', model, content: [],
        stop_reason: null, stop_sequence: null, usage: { ...anthropicUsage, output_tokens: 1 },
      },
    },
  ];
  const text = turn.kind === 'patch' ? undefined : turn.text;
  let index = 0;
  if (turn.kind === 'text' && turn.thinking) {
    events.push(
      { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: turn.thinking } },
      { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: 'mock-signature' } },
      { type: 'content_block_stop', index },
    );
    index++;
  }
  if (text) {
    events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    const parts = splitText(text, turn.kind === 'text' ? turn.chunks : 2);
    parts.forEach((part, i) => {
      events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: part } });
      if (turn.kind === 'cut' && i === 0) events.push(CUT);
    });
    events.push({ type: 'content_block_stop', index });
    index++;
  }
  if (turn.kind === 'tool') {
    const json = JSON.stringify(turn.input);
    events.push({
      type: 'content_block_start', index,
      content_block: { type: 'tool_use', id: turn.id ?? `toolu_mock_${id}`, name: turn.name, input: {} },
    });
    for (const part of splitText(json, 2)) {
      events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part } });
    }
    events.push({ type: 'content_block_stop', index });
  }
  events.push(
    {
      type: 'message_delta',
      delta: { stop_reason: turn.kind === 'tool' ? 'tool_use' : 'end_turn', stop_sequence: null },
      usage: { output_tokens: anthropicUsage.output_tokens },
    },
    { type: 'message_stop' },
  );
  return events;
}

function anthropicMessage(id: number, model: string, turn: Exclude<MockTurn, { kind: 'error' | 'hang' | 'review' }>) {
  const content: unknown[] = [];
  if (turn.kind !== 'patch' && turn.text) content.push({ type: 'text', text: turn.text });
  if (turn.kind === 'tool') content.push({ type: 'tool_use', id: turn.id ?? `toolu_mock_${id}`, name: turn.name, input: turn.input });
  return {
    id: `msg_mock_${id}`, type: 'message', role: 'assistant', model, content,
    stop_reason: turn.kind === 'tool' ? 'tool_use' : 'end_turn', stop_sequence: null, usage: anthropicUsage,
  };
}

function responsesEvents(id: number, model: string, turn: Exclude<MockTurn, { kind: 'error' | 'hang' | 'review' }>): Array<SseEvent | typeof CUT> {
  const response = { id: `resp_mock_${id}`, object: 'response', created_at: Math.floor(Date.now() / 1000), model, status: 'in_progress', output: [] };
  const events: Array<SseEvent | typeof CUT> = [
    { type: 'response.created', response },
    { type: 'response.in_progress', response },
  ];
  const output: unknown[] = [];
  let outputIndex = 0;
  if (turn.kind === 'text' && turn.thinking) {
    const item = {
      type: 'reasoning', id: `rs_mock_${id}`,
      summary: [{ type: 'summary_text', text: turn.thinking }],
    };
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, summary: [] } });
    events.push({ type: 'response.output_item.done', output_index: outputIndex, item });
    output.push(item);
    outputIndex++;
  }
  if (turn.kind === 'patch') {
    const item = {
      type: 'custom_tool_call', id: `ctc_mock_${id}`, call_id: turn.id ?? `call_mock_${id}`, name: 'apply_patch',
      input: turn.patch, status: 'completed',
    };
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, input: '', status: 'in_progress' } });
    events.push({ type: 'response.output_item.done', output_index: outputIndex, item });
    output.push(item);
    outputIndex++;
  }
  const text = turn.kind === 'patch' ? undefined : turn.text;
  if (text) {
    const itemId = `msg_mock_${id}`;
    events.push({
      type: 'response.output_item.added', output_index: outputIndex,
      item: { type: 'message', id: itemId, role: 'assistant', status: 'in_progress', content: [] },
    });
    events.push({
      type: 'response.content_part.added', item_id: itemId, output_index: outputIndex, content_index: 0,
      part: { type: 'output_text', text: '', annotations: [] },
    });
    splitText(text, turn.kind === 'text' ? turn.chunks : 2).forEach((delta, i) => {
      events.push({ type: 'response.output_text.delta', item_id: itemId, output_index: outputIndex, content_index: 0, delta });
      if (turn.kind === 'cut' && i === 0) events.push(CUT);
    });
    events.push({ type: 'response.output_text.done', item_id: itemId, output_index: outputIndex, content_index: 0, text });
    const item = {
      type: 'message', id: itemId, role: 'assistant', status: 'completed',
      content: [{ type: 'output_text', text, annotations: [] }],
    };
    events.push({ type: 'response.output_item.done', output_index: outputIndex, item });
    output.push(item);
    outputIndex++;
  }
  if (turn.kind === 'tool') {
    const item = {
      type: 'function_call', id: `fc_mock_${id}`, call_id: turn.id ?? `call_mock_${id}`, name: turn.name,
      arguments: JSON.stringify(turn.input), status: 'completed',
    };
    events.push({ type: 'response.output_item.added', output_index: outputIndex, item: { ...item, arguments: '', status: 'in_progress' } });
    events.push({ type: 'response.function_call_arguments.delta', item_id: item.id, output_index: outputIndex, delta: item.arguments });
    events.push({ type: 'response.function_call_arguments.done', item_id: item.id, output_index: outputIndex, arguments: item.arguments });
    events.push({ type: 'response.output_item.done', output_index: outputIndex, item });
    output.push(item);
  }
  events.push({
    type: 'response.completed',
    response: {
      ...response, status: 'completed', output,
      usage: {
        input_tokens: 12, input_tokens_details: { cached_tokens: 0 },
        output_tokens: 7, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 19,
      },
    },
  });
  return events;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
