// The one log line per request, built by hand into the logger's own stream. pino's general
// path (merging, serializers, a key walk) allocates several KB per line; a request line has
// fixed, flat fields, so it is a template. The line is what `log.info(fields, 'request')`
// would write: same level, time, bindings and message key, so log readers see no difference.
// Into a destination that takes bytes (log-files.ts) the line is encoded in place into one
// reused buffer: the fixed parts copied, numbers written as digits, no string per line.
import { pino, type Logger } from 'pino';

export interface RequestRecord {
  requestId: string;
  operation: string;
  callerKind: string | null;
  /** The Origin header as the client sent it: escaped, never trusted. */
  origin: string | null;
  method: string;
  route: string | null;
  status: number;
  durationMs: number;
}

interface PinoInternals {
  [key: symbol]: unknown;
}

interface LineStream {
  write(line: string): unknown;
  writeBytes?(bytes: Uint8Array, length: number): void;
}

const { lsCacheSym, timeSym, chindingsSym, streamSym, messageKeySym } = pino.symbols;
/** Longer lines (a huge Origin header) are built as a string instead. */
const LINE_BUFFER_BYTES = 8 * 1024;

/** Whether JSON needs to escape something in it: a quote, a backslash, a control character, a surrogate half. */
function needsEscape(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) return true;
  }
  return false;
}

export function requestLogger(log: Logger): (record: RequestRecord) => void {
  const internals = log as unknown as PinoInternals;
  const stream = internals[streamSym] as LineStream | undefined;
  const time = internals[timeSym] as (() => string) | undefined;
  const level = log.levels.values.info;
  if (!stream || !time) return (record) => log.info(record, 'request');
  const head = (internals[lsCacheSym] as Record<number, string>)[level];
  const tail = `,${JSON.stringify(internals[messageKeySym] ?? 'msg')}:"request"}\n`;
  const asString = (r: RequestRecord): string =>
    `${head}${time()}${internals[chindingsSym] as string},"requestId":"${r.requestId}","operation":"${r.operation}",` +
    `"callerKind":${r.callerKind === null ? 'null' : `"${r.callerKind}"`},"origin":${r.origin === null ? 'null' : JSON.stringify(r.origin)},` +
    // The method is one Node's parser knows and the route a table path: neither needs escaping.
    `"method":"${r.method}","route":${r.route === null ? 'null' : `"${r.route}"`},` +
    `"status":${r.status},"durationMs":${r.durationMs}${tail}`;
  const writeBytes = stream.writeBytes;
  if (!writeBytes) {
    return (r) => {
      if (log.isLevelEnabled('info')) stream.write(asString(r));
    };
  }
  const line = new LineBuffer(LINE_BUFFER_BYTES);
  // pino's default time is `,"time":<epoch ms>`: written as digits, with no string made.
  const epochTime = time === pino.stdTimeFunctions.epochTime;
  return (r) => {
    if (!log.isLevelEnabled('info')) return;
    const { origin } = r;
    if (origin !== null && origin.length > LINE_BUFFER_BYTES / 8) return void stream.write(asString(r));
    line.start();
    line.text(head);
    if (epochTime) line.text(',"time":').integer(Date.now());
    else line.text(time());
    line.text(internals[chindingsSym] as string).text(',"requestId":"').text(r.requestId).text('","operation":"').text(r.operation);
    line.text('","callerKind":');
    if (r.callerKind === null) line.text('null');
    else line.text('"').text(r.callerKind).text('"');
    line.text(',"origin":');
    if (origin === null) line.text('null');
    else line.text(line.escaped(origin));
    line.text(',"method":"').text(r.method).text('","route":');
    if (r.route === null) line.text('null');
    else line.text('"').text(r.route).text('"');
    line.text(',"status":').integer(r.status).text(',"durationMs":').hundredths(r.durationMs).text(tail);
    // Writes stop at the buffer's end: a line that reached it is written as a string instead.
    if (line.length >= LINE_BUFFER_BYTES - 1) return void stream.write(asString(r));
    writeBytes.call(stream, line.bytes, line.length);
  };
}

/** One line's bytes, written in place. */
class LineBuffer {
  readonly bytes: Buffer;
  length = 0;
  private lastOrigin = '';
  private lastEscaped = '""';

  constructor(size: number) {
    this.bytes = Buffer.allocUnsafeSlow(size);
  }

  start(): void {
    this.length = 0;
  }

  text(value: string): this {
    this.length += this.bytes.write(value, this.length);
    return this;
  }

  /** A non-negative integer's digits, as String(n) writes them. */
  integer(value: number): this {
    let n = Math.floor(value);
    let digits = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    const end = this.length + digits;
    for (let at = end - 1; at >= this.length; at--) {
      this.bytes[at] = 48 + (n % 10);
      n = Math.floor(n / 10);
    }
    this.length = end;
    return this;
  }

  /** A value already rounded to hundredths (12.3, 0.42, 5), as String(n) writes it. */
  hundredths(value: number): this {
    const cents = Math.round(value * 100);
    this.integer(Math.floor(cents / 100));
    const fraction = cents % 100;
    if (fraction === 0) return this;
    this.bytes[this.length++] = 46; // .
    this.bytes[this.length++] = 48 + Math.floor(fraction / 10);
    if (fraction % 10 !== 0) this.bytes[this.length++] = 48 + (fraction % 10);
    return this;
  }

  /** The Origin as a JSON string; the last one is kept, as a page sends the same Origin every time. */
  escaped(origin: string): string {
    if (origin !== this.lastOrigin) {
      this.lastOrigin = origin;
      this.lastEscaped = needsEscape(origin) ? JSON.stringify(origin) : `"${origin}"`;
    }
    return this.lastEscaped;
  }
}
